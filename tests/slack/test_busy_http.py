"""Inside Slack's three seconds, or not at all: a request that cannot have the database soon does nothing
and says so; an outage is logged once when it starts and once when it ends."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, func, select

from bot.clock import ManualClock
from bot.db import make_engine
from bot.models import Escalation
from handlers.server import build_asgi
from handlers.slack.app import build_app
from tests.conftest import serve_in_thread
from tests.payloads import post_command

BUSY = "Cadence is busy, nothing was done — try again in a moment."
SOFIA = "U02SOFIA"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))


@pytest.fixture
def url(settings, engine, study, clock):
    url, stop = serve_in_thread(build_asgi(build_app(settings, engine, clock=clock), engine))
    yield url
    stop()


@contextmanager
def held_elsewhere(database_url: str):
    """Another connection holds the write lock (SQLite) or a lock on the escalations (PostgreSQL)."""
    other = make_engine(database_url)
    connection = other.connect()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("LOCK TABLE escalation IN EXCLUSIVE MODE")
    try:
        yield
    finally:
        connection.rollback()
        connection.close()
        other.dispose()


def escalations(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Escalation)).one()


def test_a_command_that_cannot_have_the_database_soon_says_busy_and_stores_nothing(
    url, engine, database_url, caplog
):
    with held_elsewhere(database_url):
        answer = post_command(url, "/escalate", "high Temperature excursion on kit shipment", user_id=SOFIA)
    assert answer.status == 200 and BUSY in answer.text
    assert escalations(engine) == 0
    assert not [r for r in caplog.records if r.exc_info]
    again = post_command(url, "/escalate", "high Temperature excursion on kit shipment", user_id=SOFIA)
    assert BUSY not in again.text and escalations(engine) == 1


def test_a_lookup_is_answered_while_the_database_is_held(url, database_url):
    with held_elsewhere(database_url):
        answer = post_command(url, "/who-owns", "safety", user_id=SOFIA, team_id="T0NEWPLACE")
    assert "Safety reporting: owner Mei Lin" in answer.text
