"""The served web pages with both ways of signing in, against a fake OpenID provider."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from bot.db import run_in_session
from bot.plan import load_plan
from bot.studies import apply_plan
from tests.fake_oidc import FakeOpenID
from tests.web.serving import (
    PLAN,
    SLACK_CLIENT,
    SLACK_SECRET,
    TEAMS_CLIENT,
    TEAMS_SECRET,
    serve_web,
    sign_in_settings,
)


@pytest.fixture
def provider() -> Iterator[FakeOpenID]:
    fake = FakeOpenID(client_secrets={SLACK_CLIENT: SLACK_SECRET, TEAMS_CLIENT: TEAMS_SECRET}).start()
    yield fake
    fake.stop()


@pytest.fixture
def public_url() -> str | None:
    """CADENCE_PUBLIC_URL: none, the pages reached at their loopback address (a test module may say one)."""
    return None


@pytest.fixture
def site(engine: Engine, provider: FakeOpenID, public_url: str | None) -> Iterator[str]:
    plan = load_plan(PLAN)
    run_in_session(engine, apply_plan, plan=plan, actor="test")
    settings = sign_in_settings(provider.url, public_url=public_url)
    url, stop = serve_web(settings, engine)
    yield url
    stop()
