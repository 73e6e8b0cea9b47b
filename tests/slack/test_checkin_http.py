"""The check-in over signed Slack HTTP against the fake Web API, with remind_after 3s and close_after 6s."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from sqlmodel import Session, select

from bot import checkins
from bot.clock import ManualClock
from bot.config import EXAMPLE_PLAN
from bot.db import run_in_session
from bot.models import CheckinAnswer
from bot.outbox import DeliveryWorker
from bot.plan import load_plan
from bot.studies import apply_plan
from handlers.server import build_asgi
from handlers.slack.app import build_app
from tests.conftest import serve_in_thread
from tests.payloads import ALICE, BEN, post, post_command, sign, trigger_id
from tests.test_outbox import notifier_for

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday 09:00 in New York, 15:00 in Warsaw


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def fast_url(settings, engine, study, clock):
    text = (
        EXAMPLE_PLAN.read_text()
        .replace("remind_after: 4h", "remind_after: 3s")
        .replace("close_after: 1d", "close_after: 6s")
    )
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")
    url, stop = serve_in_thread(build_asgi(build_app(settings, engine, clock=clock), engine))
    yield url
    stop()


def deliver(engine, fake_slack, clock):
    DeliveryWorker(engine, notifier_for(fake_slack), clock).drain()


def interaction(url: str, payload: dict) -> int:
    body = urlencode({"payload": json.dumps(payload)})
    return post(f"{url}/slack/events", body, sign(body), "application/x-www-form-urlencoded").status


def press(url: str, fake_slack, user: str, action_id: str, value: str) -> int:
    return interaction(
        url,
        {
            "type": "block_actions",
            "user": {"id": user, "team_id": "T0SPONSOR"},
            "api_app_id": "A0CADENCE",
            "trigger_id": trigger_id(),
            "team": {"id": "T0SPONSOR"},
            "channel": {"id": "D" + user[1:]},
            "container": {"type": "message", "message_ts": "1800000000.000001", "channel_id": "D" + user[1:]},
            "response_url": f"{fake_slack.url}response/{action_id}",
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "checkin",
                    "value": value,
                    "type": "button",
                    "action_ts": "1800000000.1",
                }
            ],
        },
    )


def submit(url: str, user: str, values: dict, metadata: str):
    payload = {
        "type": "view_submission",
        "user": {"id": user, "team_id": "T0SPONSOR"},
        "api_app_id": "A0CADENCE",
        "team": {"id": "T0SPONSOR"},
        "trigger_id": trigger_id(),
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": "checkin_answer",
            "private_metadata": metadata,
            "state": {"values": values},
        },
    }
    body = urlencode({"payload": json.dumps(payload)})
    return post(f"{url}/slack/events", body, sign(body), "application/x-www-form-urlencoded")


def modal_values(status: str | None, *answers: str) -> dict:
    values = {
        "status": {
            "value": {"type": "static_select", "selected_option": {"value": status} if status else None}
        }
    }
    for i, answer in enumerate(answers):
        values[f"q{i}"] = {"value": {"type": "plain_text_input", "value": answer}}
    return values


def test_a_whole_round_over_slack(fast_url, engine, fake_slack, clock):
    # An hour after NOW: 09:00 in Chicago, so Ben's prompt is not held for his working hours (it was 08:00
    # for him at NOW, fine before working calendars).
    clock.set(NOW + timedelta(hours=1))
    refused = post_command(fast_url, "/checkin", "now", user_id=BEN)
    assert "Only the plan's admins can open a check-in round." in refused.text

    opened = post_command(fast_url, "/checkin", "now", user_id=ALICE)
    assert "Opened the check-in for week 2026-W48: 7 people are being asked." in opened.text
    deliver(engine, fake_slack, clock)
    prompted = sorted(p.channel for p in fake_slack.posted)
    assert prompted == ["D01ALICE", "D01BEN", "D01CARLA", "D02MEI", "D02OMAR", "D02RAJ", "D02SOFIA"]
    buttons = fake_slack.posted[0].blocks[-2]["elements"]
    assert [b["action_id"] for b in buttons] == ["checkin_answer", "checkin_snooze"]

    # Answer opens a modal with one field per question and the status.
    assert press(fast_url, fake_slack, BEN, "checkin_answer", "ACME-201|2026-W48") == 200
    [opened_view] = fake_slack.calls_to("views.open")
    view = (
        opened_view.params["view"]
        if isinstance(opened_view.params["view"], dict)
        else json.loads(opened_view.params["view"])
    )
    assert [b["block_id"] for b in view["blocks"]] == ["status", "q0", "q1", "q2"]
    assert view["private_metadata"] == "ACME-201|2026-W48"

    # A form without a status is sent back with the problem on it; nothing is stored.
    refused_form = submit(fast_url, BEN, modal_values(None, "a", "b", "c"), view["private_metadata"])
    assert refused_form.json() == {
        "response_action": "errors",
        "errors": {"status": "Choose how it is going."},
    }
    answered = submit(
        fast_url,
        BEN,
        modal_values("at_risk", "site 3 activated", "SIV site 4", "IRB letter <!channel>"),
        view["private_metadata"],
    )
    assert answered.status == 200 and answered.body == ""
    with Session(engine) as session:
        [stored] = session.exec(select(CheckinAnswer)).all()
        assert stored.status == "at_risk" and stored.answers[0] == "site 3 activated"

    # After remind_after, only the silent are reminded — once.
    clock.advance(seconds=4)
    run_in_session(engine, checkins.do_due_work, now=clock.now())
    run_in_session(engine, checkins.do_due_work, now=clock.now())
    deliver(engine, fake_slack, clock)
    reminded = sorted(p.channel for p in fake_slack.posted if (p.key or "").startswith("checkin-reminder:"))
    assert reminded == ["D01ALICE", "D01CARLA", "D02MEI", "D02OMAR", "D02RAJ", "D02SOFIA"]

    # After close_after, the digest in the study channel has the answer and names the silent.
    clock.advance(seconds=3)
    run_in_session(engine, checkins.do_due_work, now=clock.now())
    deliver(engine, fake_slack, clock)
    [digest] = [p for p in fake_slack.posted if p.channel == "C0STUDY"]
    text = (
        "\n".join(b.get("text", {}).get("text", "") for b in digest.blocks)
        + digest.blocks[-1]["elements"][0]["text"]
    )
    assert "<@U01BEN>" in text and "site 3 activated" in text and "At risk" in text
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert "No answer from: Alice Chen, Carla Rossi, Mei Lin, Omar Haddad, Raj Patel, Sofia Novak" in text

    # The same week again: no second round.
    again = post_command(fast_url, "/checkin", "now", user_id=ALICE)
    assert "This week's check-in (2026-W48) is already closed; no second round was opened." in again.text


def test_remind_me_in_two_hours(fast_url, engine, fake_slack, clock):
    post_command(fast_url, "/checkin", "now", user_id=ALICE)
    assert press(fast_url, fake_slack, BEN, "checkin_snooze", "ACME-201|2026-W48") == 200
    assert press(fast_url, fake_slack, BEN, "checkin_snooze", "ACME-201|2026-W48") == 200  # a double click
    [confirmation, _] = fake_slack.calls_to("checkin_snooze")
    assert "I'll ask again" in confirmation.params["text"]
    from tests.test_outbox import rows

    snoozes = [k for k in rows(engine) if ":snooze:" in k]
    assert len(snoozes) == 1 and rows(engine)[snoozes[0]].due_at == NOW + timedelta(hours=2)
