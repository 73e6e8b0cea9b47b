"""Charts published for Teams to fetch: served by `cadence serve` at an unguessable address until they
expire, and only there."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.db import run_in_session
from bot.models import PublishedFile
from bot.published import KEPT, PNG, chart_address, publish
from handlers.server import build_asgi
from tests.conftest import serve_in_thread

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
CHART = b"\x89PNG\r\n\x1a\n" + b"chart" * 100


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def served(engine, clock):
    url, stop = serve_in_thread(build_asgi(None, engine, clock=clock))
    yield url
    stop()


def fetch(url: str, method: str = "GET") -> tuple[int, Any, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_a_published_chart_is_served_as_a_png_until_it_expires(engine, clock, served):
    token = run_in_session(
        engine, publish, key="report:1:chart", content=CHART, content_type=PNG, now=clock.now()
    )
    address = chart_address(served, token)

    status, headers, body = fetch(address)
    assert (status, headers["Content-Type"], body) == (200, "image/png", CHART)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert fetch(address, "HEAD")[:1] == (200,) and fetch(address, "HEAD")[2] == b""
    assert fetch(address, "POST")[0] == 405

    clock.advance(days=KEPT.days, seconds=1)
    assert fetch(address)[0] == 404


def test_only_the_token_opens_it(engine, clock, served):
    token = run_in_session(
        engine, publish, key="report:1:chart", content=CHART, content_type=PNG, now=clock.now()
    )
    assert len(token) == 43
    altered = ("B" if token[0] != "B" else "C") + token[1:]  # one character off, never the token itself
    for path in (f"/charts/{altered}.png", f"/charts/{token}.PNG", f"/charts/{token}", "/charts/1.png",
                 f"/charts/../charts/{token}.png", "/charts/"):  # fmt: skip
        assert fetch(served + path)[0] == 404, path
    assert fetch(served + "/healthz")[0] == 200  # the other routes are as they were


def test_a_retried_send_keeps_its_address_and_expired_charts_are_deleted(engine, clock):
    first = run_in_session(
        engine, publish, key="report:1:chart", content=CHART, content_type=PNG, now=clock.now()
    )
    again = run_in_session(
        engine, publish, key="report:1:chart", content=CHART, content_type=PNG, now=clock.now()
    )
    other = run_in_session(
        engine, publish, key="report:2:chart", content=CHART, content_type=PNG, now=clock.now()
    )
    assert first == again != other

    clock.advance(days=KEPT.days + 1)
    run_in_session(engine, publish, key="report:3:chart", content=CHART, content_type=PNG, now=clock.now())
    with Session(engine) as session:
        assert session.exec(select(PublishedFile.key)).all() == ["report:3:chart"]
