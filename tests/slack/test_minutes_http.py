"""Minutes over signed Slack HTTP against the fake Web API: the form, posting, Done, /actions, reminders."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot import minutes
from bot.clock import ManualClock
from bot.db import run_in_session
from handlers.server import build_asgi
from handlers.slack.app import build_app
from tests.conftest import serve_in_thread
from tests.payloads import BEN, RAJ, post_command, trigger_id
from tests.slack.test_ask_http import said
from tests.slack.test_checkin_http import deliver, interaction
from tests.slack.test_escalate_http import submit_view

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
OMAR, SOFIA = "U02OMAR", "U02SOFIA"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def url(settings, engine, study, clock):
    url, stop = serve_in_thread(build_asgi(build_app(settings, engine, clock=clock), engine))
    yield url
    stop()


def press(url, fake_slack, user, action_id, value, tag):
    return interaction(url, {
        "type": "block_actions", "user": {"id": user, "team_id": "T0CRO"}, "api_app_id": "A0CADENCE",
        "trigger_id": trigger_id(), "team": {"id": "T0CRO"}, "channel": {"id": "D" + user[1:]},
        "response_url": f"{fake_slack.url}response/{tag}",
        "actions": [{"action_id": action_id, "block_id": "minutes", "value": value, "type": "button",
                     "action_ts": "1.1"}],
    })  # fmt: skip


def test_minutes_from_the_form_to_done(url, engine, fake_slack, clock):
    # /minutes alone opens the form; its submission shows the parsed result for confirmation.
    assert post_command(url, "/minutes", "", user_id=RAJ).status == 200
    [opened] = fake_slack.calls_to("views.open")
    form = (
        opened.params["view"]
        if isinstance(opened.params["view"], dict)
        else json.loads(opened.params["view"])
    )
    assert [b["block_id"] for b in form["blocks"]] == [
        "meeting",
        "held_on",
        "attendees",
        "notes",
        "decisions",
        "actions",
    ]
    values = {
        "meeting": {"value": {"type": "static_select", "selected_option": {"value": "Weekly sponsor–CRO call"}}},
        "held_on": {"value": {"type": "datepicker", "selected_date": "2026-11-23"}},
        "attendees": {"value": {"type": "multi_users_select", "selected_users": ["U01ALICE", RAJ, OMAR, SOFIA]}},
        "notes": {"value": {"type": "plain_text_input", "value": "Recruitment on track."}},
        "decisions": {"value": {"type": "plain_text_input", "value": "Screening window extended to 21 days"}},
        "actions": {"value": {"type": "plain_text_input",
                              "value": "@omar close the open EDC queries by 2026-12-05\n"
                                       "Sofia to send the monitoring visit report by Friday"}},
    }  # fmt: skip
    preview = submit_view(url, RAJ, "minutes_form", "ACME-201", values).json()
    assert preview["response_action"] == "update" and preview["view"]["callback_id"] == "minutes_confirm"
    shown = json.dumps(preview["view"]["blocks"])
    assert "<@U02OMAR> \\u2014 Close the open EDC queries" in shown and "Screening window" in shown

    assert submit_view(url, RAJ, "minutes_confirm", preview["view"]["private_metadata"], {}).status == 200
    deliver(engine, fake_slack, clock)
    [posted] = [p for p in fake_slack.posted if p.channel == "C0STUDY"]
    text = json.dumps(posted.blocks)
    assert (
        "Weekly sponsor\\u2013CRO call" in text
        and "<@U02SOFIA> \\u2014 Send the monitoring visit report" in text
    )
    assert "due Sat 05 Dec 2026" in text and "due Fri 27 Nov 2026" in text and "Screening window" in text
    dms = sorted(p.channel for p in fake_slack.posted if (p.key or "").startswith("minutes-actions:"))
    assert dms == ["D02OMAR", "D02SOFIA"]

    # Done: refused for anyone but the owner; the owner closes it and the thread hears of it.
    omar_items = next(p for p in fake_slack.posted if p.channel == "D02OMAR")
    item_id = omar_items.blocks[2]["elements"][0]["value"]
    assert press(url, fake_slack, BEN, "action_done", item_id, "ben") == 200
    assert "Only Omar Haddad" in said(fake_slack.calls_to("ben")[0])
    assert press(url, fake_slack, OMAR, "action_done", item_id, "omar") == 200
    assert "Done" in said(fake_slack.calls_to("omar")[0])
    deliver(engine, fake_slack, clock)
    [thread] = [p for p in fake_slack.posted if p.thread_ts == posted.ts]
    assert "Done: Close the open EDC queries" in thread.text

    listed = post_command(url, "/actions", "all", user_id=BEN).text
    assert "Send the monitoring visit report" in listed and "Close the open EDC queries" not in listed

    # A moved clock: Sofia's reminders (a business day before, on the day) go out once each.
    for day in (26, 26, 27, 27):
        clock.set(datetime(2026, 11, day, 8, 30, tzinfo=UTC))
        run_in_session(engine, minutes.remind_actions, now=clock.now())
        deliver(engine, fake_slack, clock)
    reminders = [p for p in fake_slack.posted if (p.key or "").startswith("action-reminder:")]
    assert [p.key.rsplit(":", 1)[1] for p in reminders] == ["before", "due"]


def test_the_note_taker_chase_happens_once(url, engine, fake_slack, clock):
    clock.set(datetime(2026, 11, 27, 21, 5, tzinfo=UTC))  # a day after Thursday's call ended
    for _ in range(3):
        run_in_session(engine, minutes.chase_note_takers, now=clock.now())
        deliver(engine, fake_slack, clock)
    # Friday 22:05 in Warsaw: the chase waits for Raj's Monday 09:00 (before working calendars it went out
    # at once), and goes out once then.
    assert not [p for p in fake_slack.posted if (p.key or "").startswith("minutes-chase:")]
    monday = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # 16:00 in Warsaw, 10:00 in New York
    clock.set(monday)
    deliver(engine, fake_slack, clock)
    chased = [p for p in fake_slack.posted if (p.key or "").startswith("minutes-chase:")]
    assert [p.channel for p in chased] == ["D02RAJ"]
    run_in_session(engine, minutes.chase_note_takers, now=clock.now())  # a day later still: the admins
    deliver(engine, fake_slack, clock)
    chased = [p.channel for p in fake_slack.posted if (p.key or "").startswith("minutes-chase:")]
    assert sorted(chased) == [
        "D01ALICE",
        "D02RAJ",
        "D02RAJ",
    ]  # raj as note taker, then raj and alice as admins


def test_pasted_notes_are_previewed_with_post_and_discard_buttons(url, engine, fake_slack, clock):
    answer = post_command(
        url,
        "/minutes",
        "ACTION: Ben to confirm the kit shipment by Dec 2\nDECISION: keep 8 sites",
        user_id=RAJ,
    )
    data = answer.json()
    assert "Here is what Cadence read" in answer.text
    buttons = next(b for b in data["blocks"] if b["type"] == "actions")["elements"]
    assert [b["action_id"] for b in buttons] == ["minutes_post", "minutes_cancel"]
    assert press(url, fake_slack, RAJ, "minutes_post", buttons[0]["value"], "post") == 200
    assert "Posted *ACME-201-M1*" in said(fake_slack.calls_to("post")[0])
    decisions = post_command(url, "/decisions", "", user_id=BEN).text
    assert "keep 8 sites" in decisions
