"""A database outage, as the tick and requests meet it: one line when it starts, one when it ends, and a
person told Cadence is busy — never a traceback per request or per tick."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient

from bot import directory
from bot.clock import ManualClock
from bot.db import make_engine
from bot.errors import DatabaseBusy
from bot.outbox import DeliveryWorker, run_then_wake
from handlers.slack.notifier import SlackNotifier
from schedules import jobs
from tests.payloads import BOT_TOKEN


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nobody listens there once the probe is closed


def test_an_outage_is_one_line_when_it_starts_and_one_when_it_ends(engine, study, fake_slack, caplog):
    clock = ManualClock(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))
    notifier = SlackNotifier(
        WebClient(token=BOT_TOKEN, base_url=fake_slack.url, retry_handlers=[], timeout=5)
    )
    down = make_engine(f"postgresql://postgres@127.0.0.1:{closed_port()}/test?connect_timeout=2")
    caplog.set_level(logging.INFO)
    jobs.configure(jobs.Runtime(engine=down, worker=DeliveryWorker(down, notifier, clock), clock=clock))
    for _ in range(3):
        jobs.tick()
        with pytest.raises(DatabaseBusy) as refused:
            run_then_wake(down, lambda: None, lambda session: directory.current(session))
        assert refused.value.message == "Cadence is busy, nothing was done — try again in a moment."
    jobs.configure(jobs.Runtime(engine=engine, worker=DeliveryWorker(engine, notifier, clock), clock=clock))
    jobs.tick()
    down.dispose()
    assert not [r for r in caplog.records if r.exc_info]
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "cadence.db"]
    assert len(said) == 2, said
    assert said[0][0] == "ERROR" and said[0][1].startswith("the database cannot be reached (")
    assert said[1][0] == "WARNING" and said[1][1].startswith("the database is back after")
