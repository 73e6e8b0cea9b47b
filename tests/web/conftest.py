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


PUBLIC_URL = None  # the pages are reached at their loopback address


@pytest.fixture
def site(engine: Engine, provider: FakeOpenID) -> Iterator[str]:
    plan = load_plan(PLAN)
    run_in_session(engine, apply_plan, plan=plan, actor="test")
    settings = sign_in_settings(provider.url, public_url=PUBLIC_URL)
    url, stop = serve_web(settings, engine)
    yield url
    stop()
