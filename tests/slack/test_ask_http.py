"""/ask over signed Slack HTTP against the fake Web API, with answer_within 3s for Safety reporting."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from sqlmodel import Session, select

from bot import questions
from bot.clock import ManualClock
from bot.config import EXAMPLE_PLAN
from bot.db import run_in_session
from bot.models import OutboxMessage, Question, Responsibility
from bot.plan import load_plan
from bot.studies import apply_plan
from handlers.server import build_asgi
from handlers.slack.app import build_app
from tests.conftest import serve_in_thread
from tests.payloads import ALICE, BEN, MEI, post, post_command, sign, trigger_id
from tests.slack.test_checkin_http import deliver, press

# Monday 10:00 in New York, 09:00 in Chicago, 16:00 in Warsaw: everyone at work. (It was 14:00 UTC, 08:00 for
# Ben in Chicago, before working calendars held his messages until his 09:00.)
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def url(settings, engine, study, clock):
    text = EXAMPLE_PLAN.read_text().replace(
        "    answer_within: 4h       # tighter", "    answer_within: 3s       # tighter"
    )
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")
    url, stop = serve_in_thread(build_asgi(build_app(settings, engine, clock=clock), engine))
    yield url
    stop()


def question_id(answer) -> int:
    return int(re.search(r"-Q(\d+)", answer.text).group(1))


def said(call) -> str:
    """What a response_url message says: its fallback and its blocks' text."""
    blocks = call.params.get("blocks") or []
    return call.params["text"] + json.dumps(blocks)


def posted(fake_slack, prefix):
    return [p for p in fake_slack.posted if (p.key or "").startswith(prefix)]


def test_an_sae_question_is_chased_once_each_until_answered(url, engine, fake_slack, clock):
    answer = post_command(url, "/ask", "Is the SAE narrative for patient 12 filed?", user_id=BEN)
    assert "went to <@U02MEI>" in answer.text and "in <#C0STUDY>" in answer.text
    deliver(engine, fake_slack, clock)
    [question] = posted(fake_slack, "ask:")
    assert question.channel == "C0STUDY" and "<@U02MEI>" in question.blocks[0]["text"]["text"]
    assert [b["action_id"] for b in question.blocks[1]["elements"]] == [
        "question_answered",
        "question_not_mine",
    ]

    for seconds in (4, 5, 7, 8):
        clock.set(NOW + timedelta(seconds=seconds))
        run_in_session(engine, questions.chase, now=clock.now())
        deliver(engine, fake_slack, clock)
    assert [p.channel for p in posted(fake_slack, "ask-reminder:")] == ["D02MEI"]
    assert [p.channel for p in posted(fake_slack, "ask-backup:")] == ["D02RAJ"]
    assert [p.channel for p in posted(fake_slack, "ask-backup-asker:")] == ["D01BEN"]

    from tests.slack.test_escalate_http import submit_view

    assert press(url, fake_slack, MEI, "question_answered", str(question_id(answer))) == 200
    [opened] = fake_slack.calls_to("views.open")  # Answered asks for the answer's words
    view = (
        opened.params["view"]
        if isinstance(opened.params["view"], dict)
        else json.loads(opened.params["view"])
    )
    assert view["callback_id"] == "question_answer"
    words = {
        "note": {"value": {"type": "plain_text_input", "value": "Reconciled Friday; 2 discrepancies open"}}
    }
    assert submit_view(url, MEI, "question_answer", view["private_metadata"], words).status == 200
    deliver(engine, fake_slack, clock)
    [told] = posted(fake_slack, "ask-answered:")
    assert told.channel == "D01BEN" and "Reconciled Friday; 2 discrepancies open" in json.dumps(told.blocks)
    assert "Mei Lin answered your question" in json.dumps(told.blocks)
    before = len(fake_slack.posted)
    clock.advance(seconds=30)
    run_in_session(engine, questions.chase, now=clock.now())
    deliver(engine, fake_slack, clock)
    assert len(fake_slack.posted) == before  # no more chasing
    assert [c.params["ts"] for c in fake_slack.calls_to("chat.update")] == [question.ts]


def test_not_mine_reroutes_to_the_backup(url, engine, fake_slack, clock):
    answer = post_command(url, "/ask", "SAE reconciliation status?", user_id=BEN)
    assert press(url, fake_slack, "U02OMAR", "question_not_mine", str(question_id(answer))) == 200
    [refusal] = fake_slack.calls_to("question_not_mine")
    assert "Only the person" in said(refusal)  # Omar was not asked, and is no admin
    assert press(url, fake_slack, MEI, "question_not_mine", str(question_id(answer))) == 200
    deliver(engine, fake_slack, clock)
    routed = posted(fake_slack, "ask:")
    assert len(routed) == 2 and "<@U02RAJ>" in routed[1].blocks[0]["text"]["text"]


def test_with_the_owner_away_the_question_goes_to_the_cover(url, engine, fake_slack, clock):
    post_command(url, "/away", "until 2026-12-04 backup <@U02OMAR|omar>", user_id=MEI)
    answer = post_command(url, "/ask", "SAE narrative for patient 12?", user_id=BEN)
    assert "went to <@U02OMAR>, covering for <@U02MEI> who is away" in answer.text


def test_a_question_that_fits_two_topics_offers_buttons(url, fake_slack):
    answer = post_command(url, "/ask", "kit invoice?", user_id=BEN)  # one plain keyword of each
    actions = next(b for b in answer.json()["blocks"] if b["type"] == "actions")
    assert sorted(e["text"]["text"] for e in actions["elements"]) == ["Budget and invoices", "Product supply"]
    value = next(e["value"] for e in actions["elements"] if e["text"]["text"] == "Product supply")
    assert press(url, fake_slack, BEN, "question_topic_0", value) == 200
    [routed] = fake_slack.calls_to("question_topic_0")
    # Ben owns Product supply himself: his question goes to its backup, and he is told why.
    assert "which you look after yourself, so it went to <@U02RAJ>" in said(routed)


def thread_message(event_id: str, user: str, thread_ts: str, ts: str, subtype: str | None = None) -> str:
    event = {"type": "message", "channel": "C0STUDY", "user": user, "text": "Filed yesterday.",
             "ts": ts, "thread_ts": thread_ts, "channel_type": "channel"}  # fmt: skip
    return json.dumps({
        "type": "event_callback", "team_id": "T0SPONSOR", "api_app_id": "A0CADENCE", "event_id": event_id,
        "event_time": 1800000000, "event": event | ({"subtype": subtype} if subtype else {}),
    })  # fmt: skip


def test_a_reply_in_the_thread_asks_the_asker_to_confirm(url, engine, fake_slack, clock):
    from tests.payloads import post, sign

    answer = post_command(url, "/ask", "Is the SAE narrative for patient 12 filed?", user_id=BEN)
    deliver(engine, fake_slack, clock)
    [question] = posted(fake_slack, "ask:")
    for event_id, user, ts in (("Ev1", BEN, "1.1"), ("Ev2", MEI, "1.2"), ("Ev3", MEI, "1.3")):
        body = thread_message(event_id, user, question.ts, ts)
        assert post(f"{url}/slack/events", body, sign(body), "application/json").status == 200
    deliver(engine, fake_slack, clock)
    [asked] = posted(fake_slack, "ask-replied:")  # once, and not for the asker's own reply
    assert asked.channel == "D01BEN" and "Mei Lin replied to your question" in asked.blocks[0]["text"]["text"]
    assert asked.blocks[-1]["elements"][0]["value"] == str(question_id(answer))


def test_an_owner_confirms_their_topics_with_one_click(url, fake_slack):
    from tests.slack.test_checkin_http import interaction

    payload = {
        "type": "block_actions", "user": {"id": BEN, "team_id": "T0SPONSOR"}, "api_app_id": "A0CADENCE",
        "trigger_id": trigger_id(), "team": {"id": "T0SPONSOR"}, "channel": {"id": "D01BEN"},
        "response_url": f"{fake_slack.url}response/ownership",
        "actions": [{"action_id": "ownership_confirm", "block_id": "ownership", "value": "ACME-201",
                     "type": "button", "action_ts": "1.1"}],
    }  # fmt: skip
    assert interaction(url, payload) == 200
    [reply] = fake_slack.calls_to("ownership")
    assert "confirmed: Budget and invoices, Product supply" in said(reply)


def test_a_typed_answer_reaches_the_asker_and_stays_with_the_question(url, engine, fake_slack, clock):
    from bot import export

    answer = post_command(url, "/ask", "How many patients are screened so far?", user_id=BEN)
    ref = f"ACME-201-Q{question_id(answer)}"
    assert "went to <@U02RAJ>" in answer.text  # "screened" is evidence for the keyword "screening"
    closed = post_command(
        url, "/ask", f"answered {ref} 42 screened, 30 randomized as of Monday", user_id="U02RAJ"
    )
    assert ref in closed.text
    deliver(engine, fake_slack, clock)
    [told] = posted(fake_slack, "ask-answered:")
    assert told.channel == "D01BEN" and "42 screened, 30 randomized as of Monday" in json.dumps(told.blocks)
    exported = run_in_session(
        engine, export.export_study, study_key="ACME-201", start=clock.now().date(), end=clock.now().date()
    )
    assert any(name.startswith(ref) for name in exported.files)
    # And /ask list shows it to the asker with its words, beside what is still open.
    listed = post_command(url, "/ask", "list", user_id=BEN).text
    assert "Answered lately" in listed and "42 screened, 30 randomized as of Monday" in listed
    assert "Raj Patel" in listed


def test_a_replayed_not_mine_click_posts_nothing_again(url, engine, fake_slack, clock):
    answer = post_command(url, "/ask", "SAE reconciliation status?", user_id=BEN)
    payload = {
        "type": "block_actions", "user": {"id": MEI, "team_id": "T0CRO"}, "api_app_id": "A0CADENCE",
        "trigger_id": trigger_id(), "team": {"id": "T0CRO"}, "channel": {"id": "C0STUDY"},
        "response_url": f"{fake_slack.url}response/not-mine",
        "actions": [{"action_id": "question_not_mine", "value": str(question_id(answer)), "type": "button",
                     "action_ts": "1800000000.2"}],
    }  # fmt: skip
    body = urlencode({"payload": json.dumps(payload)})
    headers = sign(body)
    for _ in range(3):  # the click, then copies of its signed bytes
        assert post(f"{url}/slack/events", body, headers, "application/x-www-form-urlencoded").status == 200
    [told] = fake_slack.calls_to("not-mine")
    assert "Only the person" not in said(told)
    deliver(engine, fake_slack, clock)
    assert len(posted(fake_slack, "ask:")) == 2  # routed to Mei, then once to Raj


@pytest.fixture
def long_url(settings, engine, study, clock):
    """The example study with a topic of 200 characters (owned by Ben, backed up by Mei)."""
    from tests.plans import with_long_topic

    run_in_session(engine, apply_plan, plan=load_plan(with_long_topic()), actor="test")
    url, stop = serve_in_thread(build_asgi(build_app(settings, engine, clock=clock), engine))
    yield url
    stop()


def choose(url: str, fake_slack, user: str, action_id: str, value: str) -> int:
    """Pick an option of a menu (Slack sends the choice as `selected_option`)."""
    from tests.slack.test_checkin_http import interaction

    return interaction(url, {
        "type": "block_actions", "user": {"id": user, "team_id": "T0SPONSOR"}, "api_app_id": "A0CADENCE",
        "trigger_id": trigger_id(), "team": {"id": "T0SPONSOR"}, "channel": {"id": "D" + user[1:]},
        "response_url": f"{fake_slack.url}response/{action_id}",
        "actions": [{"action_id": action_id, "block_id": "question_topic", "type": "static_select",
                     "selected_option": {"text": {"type": "plain_text", "text": "…"}, "value": value},
                     "action_ts": "1800000000.3"}],
    })  # fmt: skip


def test_a_topic_of_200_characters_is_chosen_from_the_menu_by_its_id(long_url, engine, fake_slack, clock):
    from tests.plans import LONG_TOPIC

    answer = post_command(long_url, "/ask", "hello?", user_id=ALICE)
    assert "No topic fits your question" in answer.text
    [menu] = [e for b in answer.json()["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert len(menu["options"]) == 9 and all(len(o["value"]) <= 150 for o in menu["options"])
    [long] = [o for o in menu["options"] if LONG_TOPIC.startswith(o["text"]["text"].rstrip("…"))]
    assert long["value"].startswith(f"{question_id(answer)}|#")  # the topic's id, not its name
    assert choose(long_url, fake_slack, ALICE, "question_topic_select", long["value"]) == 200
    [routed] = fake_slack.calls_to("question_topic_select")
    assert "went to <@U01BEN>" in said(routed) and LONG_TOPIC in said(routed)
    # A menu choice of an older message, which named the topic, still works where the name is whole.
    again = post_command(long_url, "/ask", "what now?", user_id=ALICE)
    value = f"{question_id(again)}|Budget and invoices"
    assert choose(long_url, fake_slack, ALICE, "question_topic_select", value) == 200
    assert "went to <@U01BEN>" in said(fake_slack.calls_to("question_topic_select")[1])


def test_a_choice_naming_a_topic_id_of_another_study_or_none_changes_nothing(long_url, engine, fake_slack):
    answer = post_command(long_url, "/ask", "hello?", user_id=ALICE)
    for value in (f"{question_id(answer)}|#999", f"{question_id(answer)}|#x1", f"{question_id(answer)}|#"):
        assert choose(long_url, fake_slack, ALICE, "question_topic_select", value) == 200
    replies = [said(c) for c in fake_slack.calls_to("question_topic_select")]
    assert "no longer in the study's plan" in replies[0]
    assert all("no longer valid, so nothing was changed" in r for r in replies[1:])
    with Session(engine) as session:
        assert session.get(Question, question_id(answer)).state == "choosing"


def test_the_review_hands_over_a_topic_of_200_characters(long_url, engine, fake_slack, clock):
    from bot import reviews
    from tests.plans import LONG_TOPIC

    with Session(engine) as session:
        applied = max(r.confirmed_at for r in session.exec(select(Responsibility)))
    run_in_session(engine, reviews.ask_owners_to_confirm, now=applied + timedelta(days=90))
    with Session(engine) as session:
        due = session.exec(
            select(OutboxMessage).where(OutboxMessage.key.startswith("confirm:ACME-201:ben"))
        ).one()
    clock.set(due.due_at)
    deliver(engine, fake_slack, clock)
    [review] = posted(fake_slack, "confirm:ACME-201:ben")
    buttons = [e for b in review.blocks if b["type"] == "actions" for e in b["elements"]]
    [hand_over] = [b for b in buttons if b["action_id"] == "ownership_handover_2"]
    assert hand_over["value"].startswith("ACME-201|#") and len(hand_over["value"]) < 20
    assert press(long_url, fake_slack, BEN, hand_over["action_id"], hand_over["value"]) == 200
    [reply] = fake_slack.calls_to(hand_over["action_id"])
    assert f"will name a new owner for *{LONG_TOPIC}*" in said(reply)
    # A button of an older review carried the name, cut at 150 characters: it still names the topic.
    assert press(long_url, fake_slack, BEN, "ownership_handover_0", f"ACME-201|{LONG_TOPIC}"[:150]) == 200
    assert f"new owner for *{LONG_TOPIC}*" in said(fake_slack.calls_to("ownership_handover_0")[0])
    with Session(engine) as session:
        handovers = session.exec(select(OutboxMessage).where(OutboxMessage.key.startswith("handover:"))).all()
        assert {h.payload["topic"] for h in handovers} == {LONG_TOPIC}


@pytest.mark.parametrize("subtype", ["thread_broadcast", "file_share"])
def test_a_reply_also_sent_to_the_channel_or_with_a_file_counts(url, engine, fake_slack, clock, subtype):
    post_command(url, "/ask", "Is the SAE narrative for patient 12 filed?", user_id=BEN)
    deliver(engine, fake_slack, clock)
    [question] = posted(fake_slack, "ask:")
    for n, ignored in enumerate(("message_changed", "bot_message", "channel_join", "message_replied")):
        body = thread_message(f"Ev{n}", MEI, question.ts, f"1.{n}", subtype=ignored)
        assert post(f"{url}/slack/events", body, sign(body), "application/json").status == 200
    deliver(engine, fake_slack, clock)
    assert posted(fake_slack, "ask-replied:") == []  # edits, bots and joins are not replies
    body = thread_message("Ev9", MEI, question.ts, "1.9", subtype=subtype)
    assert post(f"{url}/slack/events", body, sign(body), "application/json").status == 200
    deliver(engine, fake_slack, clock)
    [asked] = posted(fake_slack, "ask-replied:")
    assert asked.channel == "D01BEN" and "Mei Lin replied to your question" in asked.blocks[0]["text"]["text"]


def test_a_question_no_topic_fits_offers_every_one_of_many_topics_in_groups(
    settings, engine, study, fake_slack
):
    from tests.plans import with_many_topics

    run_in_session(engine, apply_plan, plan=load_plan(with_many_topics(120)), actor="test")
    url, stop = serve_in_thread(build_asgi(build_app(settings, engine), engine))
    try:
        answer = post_command(url, "/ask", "what now?", user_id=ALICE)
        [menu] = [e for b in answer.json()["blocks"] if b["type"] == "actions" for e in b["elements"]]
        groups = menu["option_groups"]
        assert [len(g["options"]) for g in groups] == [100, 28] and groups[1]["label"][
            "text"
        ] == "Topics 101–128"
        value = groups[1]["options"][-1]["value"]
        assert choose(url, fake_slack, ALICE, "question_topic_select", value) == 200
        assert "went to <@U02OMAR> (Work package 120)" in said(
            fake_slack.calls_to("question_topic_select")[0]
        )
    finally:
        stop()
