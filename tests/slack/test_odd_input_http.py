"""Odd input over signed HTTP gets a clear answer and changes nothing: ids no database could hold,
digits from other scripts, severities misspelled or named another way."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.models import Escalation
from tests.payloads import RAJ, post_command, trigger_id
from tests.slack.test_ask_http import said
from tests.slack.test_checkin_http import interaction


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
    ("typed", "meant"), [("critcal", "critical"), ("hgh", "high"), ("sev1", "critical"), ("p0", "critical")]
)
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
