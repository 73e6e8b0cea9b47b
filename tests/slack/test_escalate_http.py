"""/escalate over signed Slack HTTP against the fake Web API, with level 1 acknowledging within 3s."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot import escalation
from bot.clock import ManualClock
from bot.config import EXAMPLE_PLAN
from bot.db import run_in_session
from bot.plan import load_plan
from bot.studies import apply_plan
from handlers.server import build_asgi
from handlers.slack.app import build_app
from tests.conftest import serve_in_thread
from tests.payloads import ALICE, BEN, post_command, trigger_id
from tests.slack.test_ask_http import said
from tests.slack.test_checkin_http import deliver, interaction

# Monday 10:00 in New York, 09:00 in Chicago, 16:00 in Warsaw: everyone at work. (It was 14:00 UTC, 08:00 for
# Ben in Chicago, before working calendars held his messages until his 09:00.)
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
SOFIA, TOM, OMAR = "U02SOFIA", "U02TOM", "U02OMAR"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def url(settings, engine, study, clock):
    text = EXAMPLE_PLAN.read_text().replace(
        "who: [raj, ben],  ack_within: 4h", "who: [raj, ben],  ack_within: 3s"
    )
    text = text.replace("high:     {start_level: 1, ack_factor: 0.5}", "high:     {start_level: 1}")
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")
    url, stop = serve_in_thread(build_asgi(build_app(settings, engine, clock=clock), engine))
    yield url
    stop()


def press(url, fake_slack, user, action_id, value, tag):
    return interaction(url, {
        "type": "block_actions", "user": {"id": user, "team_id": "T0CRO"}, "api_app_id": "A0CADENCE",
        "trigger_id": trigger_id(), "team": {"id": "T0CRO"}, "channel": {"id": "C0STUDY"},
        "response_url": f"{fake_slack.url}response/{tag}",
        "actions": [{"action_id": action_id, "block_id": "escalation", "value": value, "type": "button",
                     "action_ts": "1.1"}],
    })  # fmt: skip


def sent_to(fake_slack, prefix):
    return sorted(p.channel for p in fake_slack.posted if (p.key or "").startswith(prefix))


def test_an_issue_climbs_until_a_second_level_person_acknowledges(url, engine, fake_slack, clock):
    answer = post_command(url, "/escalate", "high Temperature excursion on kit shipment", user_id=SOFIA)
    assert "Raised *ACME-201-E1*" in answer.text
    deliver(engine, fake_slack, clock)
    [card] = [p for p in fake_slack.posted if p.channel == "C0STUDY"]
    assert "Temperature excursion on kit shipment" in card.blocks[0]["text"]["text"]
    assert "acknowledge within 3s" in card.blocks[0]["text"]["text"]
    assert [e["action_id"] for e in card.blocks[1]["elements"]] == ["esc_ack", "esc_resolve", "esc_climb"]
    assert sent_to(fake_slack, "esc-notify:ACME-201:1:L1") == ["D01BEN", "D02RAJ"]

    # Nobody acknowledges: a tick after the deadline, the second level is notified.
    clock.advance(seconds=4)
    run_in_session(engine, escalation.climb_overdue, now=clock.now())
    deliver(engine, fake_slack, clock)
    assert sent_to(fake_slack, "esc-notify:ACME-201:1:L2") == ["D01ALICE", "D02TOM"]
    assert sent_to(fake_slack, "esc-moved:") == ["D01BEN", "D02RAJ"]

    # Someone outside the path: a polite refusal, nothing changes.
    assert press(url, fake_slack, OMAR, "esc_ack", "1", "omar") == 200
    assert "Only Study leads" in said(fake_slack.calls_to("omar")[0])
    # A second-level person acknowledges: the climb stops; a double click changes nothing.
    assert press(url, fake_slack, TOM, "esc_ack", "1", "tom") == 200
    assert press(url, fake_slack, TOM, "esc_ack", "1", "tom-again") == 200
    assert "acknowledged" in said(fake_slack.calls_to("tom")[0])
    assert "already" in said(fake_slack.calls_to("tom-again")[0])
    clock.advance(days=3)
    run_in_session(engine, escalation.climb_overdue, now=clock.now())
    deliver(engine, fake_slack, clock)
    assert sent_to(fake_slack, "esc-notify:ACME-201:1:L3") == []  # nothing to the third level

    # Resolve asks for a note in a modal; the note is recorded.
    assert press(url, fake_slack, TOM, "esc_resolve", "1", "resolve") == 200
    [opened] = fake_slack.calls_to("views.open")
    view = (
        opened.params["view"]
        if isinstance(opened.params["view"], dict)
        else json.loads(opened.params["view"])
    )
    assert view["callback_id"] == "escalation_resolve"
    payload_values = {
        "note": {"value": {"type": "plain_text_input", "value": "Kits quarantined, new shipment out"}}
    }
    body = submit_view(url, TOM, "escalation_resolve", "1", payload_values)
    assert body.status == 200
    history = run_in_session(engine, escalation.show, requester=_requester(engine, "ben"), issue_id=1)
    assert history.issue.resolution == "Kits quarantined, new shipment out"
    deliver(engine, fake_slack, clock)
    updated = fake_slack.calls_to("chat.update")[-1]
    assert "Resolved by Tom Becker" in json.dumps(updated.params["blocks"])


def test_a_critical_issue_starts_where_the_plan_says(url, engine, fake_slack, clock):
    answer = post_command(url, "/escalate", "critical Unblinding risk at site 2", user_id=ALICE)
    assert "Study leads" in answer.text
    deliver(engine, fake_slack, clock)
    # Alice is a study lead herself: she raised it, so only Tom is asked to pick it up.
    assert sent_to(fake_slack, "esc-notify:ACME-201:1:L2") == ["D02TOM"]
    assert sent_to(fake_slack, "esc-notify:ACME-201:1:L1") == []


def test_escalate_alone_opens_the_form_and_its_submission_raises_the_issue(url, engine, fake_slack):
    assert post_command(url, "/escalate", "", user_id=BEN).status == 200
    [opened] = fake_slack.calls_to("views.open")
    view = (
        opened.params["view"]
        if isinstance(opened.params["view"], dict)
        else json.loads(opened.params["view"])
    )
    assert [b["block_id"] for b in view["blocks"]] == ["summary", "severity", "topic", "impact", "tried"]
    values = {
        "summary": {"value": {"type": "plain_text_input", "value": "EDC down since 9am"}},
        "severity": {"value": {"type": "static_select", "selected_option": {"value": "high"}}},
        "topic": {"value": {"type": "static_select", "selected_option": {"value": "Data management"}}},
        "impact": {"value": {"type": "plain_text_input", "value": "No data entry at 4 sites"}},
        "tried": {"value": {"type": "plain_text_input", "value": "Vendor ticket opened"}},
    }
    assert submit_view(url, BEN, "escalation_form", "ACME-201", values).status == 200
    listed = post_command(url, "/escalate", "list", user_id=BEN).text
    assert "ACME-201-E1" in listed and "EDC down since 9am" in listed


def submit_view(url, user, callback_id, metadata, values):
    from urllib.parse import urlencode

    from tests.payloads import post, sign

    payload = {
        "type": "view_submission",
        "user": {"id": user, "team_id": "T0SPONSOR"},
        "api_app_id": "A0CADENCE",
        "team": {"id": "T0SPONSOR"},
        "view": {
            "id": "V1",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": metadata,
            "state": {"values": values},
        },
    }
    body = urlencode({"payload": json.dumps(payload)})
    return post(f"{url}/slack/events", body, sign(body), "application/x-www-form-urlencoded")


def _requester(engine, handle):
    from bot.studies import find_requester

    return run_in_session(engine, find_requester, platform="console", user_id=handle, study_key="ACME-201")


def test_whoever_climbs_an_issue_is_not_told_of_their_own_step(url, engine, fake_slack, clock):
    post_command(url, "/escalate", "high Freezer failure at site 104", user_id=BEN)
    deliver(engine, fake_slack, clock)
    assert sent_to(fake_slack, "esc-notify:ACME-201:1:L1") == ["D02RAJ"]  # Ben raised it himself
    climbed = post_command(url, "/escalate", "up E1 the freezer vendor is not answering", user_id=BEN)
    assert "Study leads" in climbed.text
    deliver(engine, fake_slack, clock)
    assert sent_to(fake_slack, "esc-moved:") == ["D02RAJ"]  # not Ben: he moved it
    assert sent_to(fake_slack, "esc-reporter:") == []  # Ben is the reporter and did it himself
    assert sent_to(fake_slack, "esc-notify:ACME-201:1:L2") == ["D01ALICE", "D02TOM"]


def filed(engine) -> list[tuple[str, str]]:
    from sqlmodel import Session, col, select

    from bot.models import Escalation

    with Session(engine) as session:
        return [
            (e.severity, e.summary) for e in session.exec(select(Escalation).order_by(col(Escalation.id)))
        ]


def test_severities_in_peoples_words_are_filed_at_their_level_or_asked_about(url, engine):
    for words in (
        "urgent two panelists with severe erythema",
        "HIGH: Day 14 imaging room unavailable",
        "Sev1 unblinding risk at site 3",
        "[P4] label typo on the diary card",
        "Blocker: IRB approval letter missing",
        "minor - courier late by a day",
        "severity: medium kit count differs",
    ):
        assert "Raised *ACME-201-E" in post_command(url, "/escalate", words, user_id=SOFIA).text, words
    assert filed(engine) == [
        ("high", "two panelists with severe erythema"),
        ("high", "Day 14 imaging room unavailable"),
        ("critical", "unblinding risk at site 3"),
        ("low", "label typo on the diary card"),
        ("critical", "IRB approval letter missing"),
        ("low", "courier late by a day"),
        ("medium", "kit count differs"),
    ]
    # Words that look like a severity Cadence does not know are asked about; nothing is filed.
    for words, asked in (
        ("critcal temperature excursion", "Did you mean critical? Nothing was filed."),
        ("sev7 temperature excursion", "sev7 is not a severity this study knows, so nothing was filed."),
        ("severity: huge temperature excursion", "'huge' is not a severity this study knows"),
        ("p1-ish temperature excursion", "'p1-ish' is not a severity this study knows"),
    ):
        assert asked in post_command(url, "/escalate", words, user_id=SOFIA).text, words
    assert len(filed(engine)) == 7


def test_the_plan_adds_its_own_severity_words(url, engine):
    text = EXAMPLE_PLAN.read_text().replace(
        "high:     {start_level: 1, ack_factor: 0.5}",
        "high:     {start_level: 1, ack_factor: 0.5, words: [p1-ish, Hot]}",
    )
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")
    for words in ("p1-ish temperature excursion", "HOT: kit shipment stuck at customs"):
        assert "Raised *ACME-201-E" in post_command(url, "/escalate", words, user_id=SOFIA).text
    assert [severity for severity, _ in filed(engine)] == ["high", "high"]
