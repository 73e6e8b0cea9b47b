"""Every command without a slash, over signed Slack HTTP: `@Cadence <command>` in the shared channel and
`<command>` in a direct message, as the CRO's people type them from their own workspace (Slack sends
slash commands only to an app installed in the typist's workspace)."""

from __future__ import annotations

import json
import time

from sqlmodel import Session, select

from bot.clock import SystemClock
from bot.models import Escalation, Question
from tests.payloads import CRO_TEAM, post, sign, trigger_id
from tests.slack.test_checkin_http import deliver, interaction

OMAR = "U02OMAR"  # the CRO's data manager
_EVENTS = iter(range(1, 10_000))


def event(text: str, *, user: str = OMAR, channel: str = "C0STUDY", kind: str = "app_mention", event_id=None):
    number = next(_EVENTS)
    inner = {
        "type": kind,
        "user": user,
        "user_team": CRO_TEAM,
        "text": text,
        "ts": f"1800000000.{number:06d}",
        "channel": channel,
        "event_ts": f"1800000000.{number:06d}",
    }
    if kind == "message":
        inner["channel_type"] = "im"
    return json.dumps({
        "token": "legacy", "team_id": CRO_TEAM, "api_app_id": "A0CADENCE", "type": "event_callback",
        "event_id": event_id or f"Ev{number:08d}", "event_time": int(time.time()), "event": inner,
        "authorizations": [{"team_id": "T0SPONSOR", "user_id": "UBOTCADENCE", "is_bot": True}],
        "is_ext_shared_channel": True, "context_team_id": CRO_TEAM,
    })  # fmt: skip


def send(url: str, body: str, **headers: str) -> int:
    return post(f"{url}/slack/events", body, sign(body) | headers, "application/json").status


def answers(fake_slack) -> list[dict]:
    calls = fake_slack.calls_to("chat.postEphemeral") + fake_slack.calls_to("chat.postMessage")
    return [c.params for c in calls if "metadata" not in c.params]  # not the outbox's own posts


def said(params: dict) -> str:
    blocks = params.get("blocks")
    return params["text"] + (blocks if isinstance(blocks, str) else json.dumps(blocks, ensure_ascii=False))


def test_at_cadence_ask_routes_a_question_and_answers_the_asker_in_the_thread(slack_url, engine, fake_slack):
    body = event("<@UBOTCADENCE> ask Is the SAE narrative for subject 104 due?")
    assert send(slack_url, body) == 200
    with Session(engine) as session:
        [question] = session.exec(select(Question)).all()
        assert question.topic == "Safety reporting" and question.text.startswith("Is the SAE narrative")
    [answer] = answers(fake_slack)
    assert answer["thread_ts"] == json.loads(body)["event"]["ts"] and answer["user"] == OMAR  # ephemeral
    assert "went to <@U02MEI>" in said(answer)
    deliver(engine, fake_slack, SystemClock())
    assert any((p.key or "").startswith("ask:") and p.channel == "C0STUDY" for p in fake_slack.posted)


def test_at_cadence_escalate_raises_an_escalation_and_its_card(slack_url, engine, fake_slack):
    assert send(slack_url, event("<@UBOTCADENCE> escalate high Freezer failure at site 104")) == 200
    with Session(engine) as session:
        [issue] = session.exec(select(Escalation)).all()
        assert (issue.severity, issue.summary) == ("high", "Freezer failure at site 104")
    assert "Raised *ACME-201-E1*" in said(answers(fake_slack)[0])
    deliver(engine, fake_slack, SystemClock())
    assert [p.channel for p in fake_slack.posted if (p.key or "").startswith("esc-card:")] == ["C0STUDY"]


def test_a_command_typed_in_a_direct_message_is_answered_there(slack_url, fake_slack):
    assert send(slack_url, event("who-owns database lock", kind="message", channel="D0OMAR")) == 200
    [answer] = answers(fake_slack)
    assert answer["channel"] == "D0OMAR" and "thread_ts" not in answer
    assert "*Data management* is owned by <@U02OMAR>" in said(answer)


def test_a_retried_event_runs_the_command_once_and_answers_once(slack_url, engine, fake_slack):
    body = event("<@UBOTCADENCE> ask when is the next EDC export?", event_id="Ev0RETRIED")
    assert send(slack_url, body) == 200
    assert send(slack_url, body, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}) == 200
    with Session(engine) as session:
        assert len(session.exec(select(Question)).all()) == 1
    assert len(answers(fake_slack)) == 1


def test_free_words_keep_the_who_owns_answer_and_anything_else_gets_the_help(slack_url, fake_slack):
    send(slack_url, event("<@UBOTCADENCE> who owns temperature excursions?"))
    send(slack_url, event("<@UBOTCADENCE> hello there"))
    owner, helped = answers(fake_slack)
    assert "*Product supply* is owned by <@U01BEN>" in said(owner)
    assert "*/ask* — Ask the owner of a topic" in said(helped)


def test_a_command_that_takes_a_form_offers_a_button_that_opens_it(slack_url, fake_slack):
    send(slack_url, event("<@UBOTCADENCE> escalate"))
    [offer] = answers(fake_slack)
    button = json.loads(offer["blocks"])[1]["elements"][0] if isinstance(offer["blocks"], str) else None
    button = button or offer["blocks"][1]["elements"][0]
    assert button["action_id"] == "command_form" and button["value"] == "/escalate"
    assert "Or type: /escalate" in said(offer)
    click = {
        "type": "block_actions", "user": {"id": OMAR, "team_id": CRO_TEAM}, "api_app_id": "A0CADENCE",
        "trigger_id": trigger_id(), "team": {"id": CRO_TEAM}, "channel": {"id": "C0STUDY"},
        "container": {"type": "message", "message_ts": "1800000000.000001", "channel_id": "C0STUDY"},
        "response_url": f"{fake_slack.url}response/form", "actions": [button | {"action_ts": "1800000000.1"}],
    }  # fmt: skip
    assert interaction(slack_url, click) == 200
    [opened] = fake_slack.calls_to("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "escalation_form"


def test_a_stranger_typing_to_cadence_is_told_politely_and_nothing_changes(slack_url, engine, fake_slack):
    send(slack_url, event("ask anything?", user="U09NOBODY", kind="message", channel="D0NOBODY"))
    [answer] = answers(fake_slack)
    assert "You are not in any study's communication plan yet." in said(answer)
    with Session(engine) as session:
        assert session.exec(select(Question)).all() == []
