"""Odd input over signed HTTP gets a clear answer and changes nothing: ids no database could hold,
digits from other scripts, severities misspelled or named another way; commands with the word "payload"
in them, buttons refused in the App Home, and signed events and interactive payloads of shapes Slack
never sends."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from sqlmodel import Session, select

from bot.models import Escalation
from tests import test_fuzz
from tests.payloads import BEN, MEI, RAJ, post, post_command, sign, slash_command, trigger_id
from tests.slack.test_ask_http import said
from tests.slack.test_checkin_http import interaction
from tests.test_fuzz import counts


@pytest.mark.parametrize(
    ("command", "text", "said"),
    [
        ("/ask", "answered 99999999999999999999999", "is not an id Cadence gave"),
        ("/escalate", "show 99999999999999999999999", "is not an id Cadence gave"),
        ("/minutes", "post 99999999999999999999999", "is not an id Cadence gave"),
        ("/actions", "done 99999999999999999999999", "is not an id Cadence gave"),
        ("/decisions", "change 99999999999999999999999 x", "is not an id Cadence gave"),
    ],
)
def test_an_id_too_long_for_any_record_is_answered_plainly(slack_url, command, text, said):
    answer = post_command(slack_url, command, text, user_id=RAJ)
    assert answer.status == 200 and said in answer.text and "went wrong" not in answer.text


@pytest.mark.parametrize(
    ("command", "text"), [("/checkin", "stats ²"), ("/cadence", "report ²"), ("/checkin", "stats ١٢")]
)
def test_digits_of_other_scripts_are_not_taken_for_a_number(slack_url, command, text):
    answer = post_command(slack_url, command, text, user_id=RAJ)
    assert answer.status == 200 and "went wrong" not in answer.text


@pytest.mark.parametrize(
    ("typed", "meant"), [("critcal", "critical"), ("hgh", "high"), ("Crtical:", "critical")]
)  # sev1 and p0 are people's words for critical now: filed at once (tests/slack/test_escalate_http.py)
def test_a_misspelled_severity_is_asked_about_and_nothing_is_filed(slack_url, engine, typed, meant):
    answer = post_command(slack_url, "/escalate", f"{typed} Freezer failure at site 3")
    assert answer.status == 200 and f"Did you mean {meant}? Nothing was filed." in answer.text
    assert f"/escalate {meant} Freezer failure at site 3" in answer.text
    with Session(engine) as session:
        assert session.exec(select(Escalation)).all() == []


def test_a_summary_that_starts_with_a_word_like_a_severity_is_filed(slack_url, engine):
    answer = post_command(slack_url, "/escalate", "How do we ship kits during the strike?")
    assert answer.status == 200 and "Raised" in answer.text


def press(url: str, fake_slack, action_id: str, value, tag: str) -> int:
    action = {"action_id": action_id, "block_id": "x", "type": "button", "action_ts": "1.1"}
    if value is not None:
        action["value"] = value
    return interaction(url, {
        "type": "block_actions", "user": {"id": RAJ, "team_id": "T0CRO"}, "api_app_id": "A0CADENCE",
        "trigger_id": trigger_id(), "team": {"id": "T0CRO"}, "channel": {"id": "C0STUDY"},
        "response_url": f"{fake_slack.url}response/{tag}", "actions": [action],
    })  # fmt: skip


@pytest.mark.parametrize(
    ("action_id", "value"),
    [
        ("esc_ack", "abc"), ("esc_ack", ""), ("esc_ack", None), ("esc_ack", "99999999999999999999"),
        ("esc_resolve", "x"), ("question_topic_0", "7"), ("question_answered", "-1"), ("action_cant", "xyz"),
        ("action_done", "1.5"), ("checkin_answer", "garbage"), ("checkin_snooze", "x"), ("minutes_post", "²"),
    ],
)  # fmt: skip
def test_a_button_value_cadence_did_not_write_is_refused_plainly(
    slack_url, fake_slack, engine, action_id, value
):
    tag = f"odd-{action_id}"
    assert press(slack_url, fake_slack, action_id, value, tag) == 200
    answers = [said(call) for call in fake_slack.calls if call.method == tag]
    assert answers and "no longer valid, so nothing was changed" in answers[0]
    assert not any("went wrong" in a for a in answers)


log = test_fuzz.log  # the fixture: what Cadence logged, its tracebacks


def signed_form(url: str, fields: dict[str, str]):
    body = urlencode(fields)
    return post(f"{url}/slack/events", body, sign(body), "application/x-www-form-urlencoded")


@pytest.mark.parametrize(
    ("text", "channel_name", "domain"),
    [("SAE payload", "acme-201", "acme"), ("SAE", "payload-team", "acme"), ("SAE", "acme-201", "payloadco")],
)
def test_a_command_with_the_word_payload_in_it_is_still_a_command(slack_url, text, channel_name, domain):
    fields = slash_command("/who-owns", text, user_id=BEN)
    fields |= {"channel_name": channel_name, "team_domain": domain}
    answer = signed_form(slack_url, fields)
    assert answer.status == 200 and "*Safety reporting* is owned by" in answer.text


def test_a_refused_button_in_the_app_home_is_told_in_a_direct_message(slack_url, fake_slack, engine, log):
    payload = {
        "type": "block_actions", "user": {"id": MEI, "team_id": "T0CRO"}, "api_app_id": "A0CADENCE",
        "trigger_id": trigger_id(), "team": {"id": "T0CRO"}, "view": {"id": "VHOME", "type": "home"},
        "actions": [{"action_id": "action_done", "value": "not-ours", "type": "button", "action_ts": "1.1"}],
    }  # fmt: skip
    assert interaction(slack_url, payload) == 200
    [told] = [c for c in fake_slack.calls_to("chat.postMessage") if c.params.get("channel") == MEI]
    assert "no longer valid, so nothing was changed" in said(told)
    assert not log.tracebacks


def event(inner: object, **outer: object) -> str:
    return json.dumps({
        "token": "legacy", "team_id": "T0SPONSOR", "api_app_id": "A0CADENCE", "type": "event_callback",
        "event_id": f"Ev{trigger_id()[-12:]}", "event_time": 1800000000, "event": inner,
    } | outer)  # fmt: skip


ODD_EVENTS = [
    {"type": "app_mention", "user": 12, "channel": "C0STUDY", "text": "who-owns SAE", "ts": "1.1"},
    {"type": "app_mention", "user": BEN, "channel": 7, "text": "who-owns SAE", "ts": "1.1"},
    {"type": "app_mention", "user": BEN, "channel": "C0STUDY", "text": ["who-owns"], "ts": "1.1"},
    {"type": "app_mention", "user": BEN, "text": "who-owns SAE"},
    {"type": "message", "user": {"id": BEN}, "channel": "D01BEN", "channel_type": "im", "text": "who-owns"},
    {"type": "message", "user": BEN, "channel": "C0STUDY", "thread_ts": 1.5, "ts": "2.0", "text": "x"},
    {"type": "app_home_opened", "user": None, "tab": "home"},
    {"type": "app_home_opened", "user": BEN, "tab": 3},
    {"type": "tokens_revoked", "tokens": "all"},
    {"type": "tokens_revoked", "tokens": {"bot": "UBOT"}},
    {"type": 5},
    "app_mention",
    None,
]


@pytest.mark.parametrize("inner", ODD_EVENTS)
def test_a_signed_event_of_an_odd_shape_is_answered_cleanly(slack_url, engine, log, inner):
    before = counts(engine)
    body = event(inner)
    answer = post(f"{slack_url}/slack/events", body, sign(body), "application/json")
    assert answer.status < 500 and not log.tracebacks
    assert counts(engine) == before


@pytest.mark.parametrize(
    "body",
    [
        event({"type": "app_home_opened", "user": BEN, "tab": "home"}) + "garbage",
        event({"type": "app_home_opened", "user": BEN, "tab": "home"}) + '{"more": 1}',
        "[1, 2]",
        '{"type": "event_callback", "event": {"type": "app_mention"}, "team_id": ["T0SPONSOR"]}',
    ],
)
def test_signed_json_with_trailing_data_or_not_an_object_is_refused(slack_url, fake_slack, log, body):
    answer = post(f"{slack_url}/slack/events", body, sign(body), "application/json")
    assert 200 <= answer.status < 500 and not log.tracebacks
    assert not fake_slack.calls_to("views.publish")


def clicked(**changes: object) -> dict:
    payload = {
        "type": "block_actions", "user": {"id": RAJ, "team_id": "T0CRO"}, "api_app_id": "A0CADENCE",
        "trigger_id": trigger_id(), "team": {"id": "T0CRO"}, "channel": {"id": "C0STUDY"},
        "response_url": "http://127.0.0.1:9/response",
        "actions": [{"action_id": "esc_ack", "value": "1", "type": "button", "action_ts": "1.1"}],
    }  # fmt: skip
    return payload | changes


ODD_INTERACTIONS = [
    clicked(actions=[{"action_id": None, "value": "1", "type": "button", "action_ts": "1.1"}]),
    clicked(actions=[{"action_id": 5, "value": "1"}]),
    clicked(channel="C0STUDY"),
    clicked(channel=12),
    clicked(user="U02RAJ"),
    clicked(team="T0CRO"),
    clicked(container=["x"]),
    clicked(type="interactive_message", actions=None),
    clicked(type="interactive_message", actions=[]),
    {"type": "view_submission", "user": {"id": RAJ}, "view": {"id": "V1", "callback_id": "escalate"}},
    {"type": "view_submission", "user": {"id": RAJ}, "view": {"callback_id": "escalate", "state": {}}},
    {"type": "view_submission", "user": {"id": RAJ}, "view": {"callback_id": "escalate", "state": "x"}},
    {"type": "view_submission", "user": {"id": RAJ}, "view": {"callback_id": 5, "state": {"values": {}}}},
    {"type": "view_submission", "user": {"id": RAJ}, "view": {"callback_id": "escalate", "state": {"values": {"a": 1}}}},
    {"type": "view_closed", "user": {"id": RAJ}, "view": {"callback_id": "escalate"}},
    {"type": "shortcut", "user": {"id": RAJ}, "callback_id": 3},
]  # fmt: skip


@pytest.mark.parametrize("payload", ODD_INTERACTIONS)
def test_a_signed_interactive_payload_of_an_odd_shape_is_answered_cleanly(
    slack_url, fake_slack, engine, log, payload
):
    before = counts(engine)
    assert interaction(slack_url, payload) < 500
    assert not log.tracebacks and counts(engine) == before
    assert not [c for c in fake_slack.calls if "went wrong" in json.dumps(c.params)]  # no apology
