"""Routed questions in the core: routing, choosing, chasing once each, re-routing, away, restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlmodel import Session, select

from bot import audit, questions
from bot.away import handle_away
from bot.clock import ManualClock
from bot.config import EXAMPLE_PLAN
from bot.db import run_in_session
from bot.errors import BadCommand, CadenceError
from bot.models import OutboxMessage, Question
from bot.outbox import DeliveryWorker
from bot.plan import load_plan
from bot.studies import apply_plan, find_requester
from handlers.slack.notifier import SlackNotifier
from tests.payloads import BOT_TOKEN

MONDAY = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 09:00 in New York, 15:00 in Warsaw


@pytest.fixture
def fast(engine, study):
    """Safety reporting must be answered within 3 seconds."""
    text = EXAMPLE_PLAN.read_text().replace(
        "    answer_within: 4h       # tighter", "    answer_within: 3s       # tighter"
    )
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")


def as_person(engine, handle):
    return run_in_session(engine, find_requester, platform="console", user_id=handle, study_key="ACME-201")


def ask(engine, text, handle="ben", now=MONDAY):
    return run_in_session(engine, questions.ask, requester=as_person(engine, handle), text=text, now=now)


def act(engine, function, handle, question_id, now=MONDAY, **kwargs):
    return run_in_session(
        engine, function, requester=as_person(engine, handle), question_id=question_id, now=now, **kwargs
    )


def outbox_rows(engine, prefix) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.key.startswith(prefix))))


def chase(engine, now) -> int:
    return run_in_session(engine, questions.chase, now=now)


def test_a_question_about_an_sae_reaches_the_safety_owner_in_the_study_channel(engine, fast):
    asked = ask(engine, "Who reviews the SAE narrative for patient 12?")
    assert (asked.topic, asked.to.handle, asked.in_channel) == ("Safety reporting", "mei", "C0STUDY")
    assert asked.due_at == MONDAY + timedelta(seconds=3)
    [posted] = outbox_rows(engine, "ask:")
    assert posted.recipient == "C0STUDY" and posted.payload["to"]["handle"] == "mei"


def test_an_owner_who_prefers_dms_is_asked_directly(engine, study):
    text = EXAMPLE_PLAN.read_text().replace("slack: U02OMAR,", "slack: U02OMAR, prefers: dm,")
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")
    asked = ask(engine, "when is the EDC export due?")
    assert asked.in_channel is None and outbox_rows(engine, "ask:")[0].recipient_kind == "person"


def test_two_topics_that_fit_equally_let_the_asker_choose(engine, study):
    choice = ask(engine, "site")  # a keyword of Site monitoring … and nothing else; make a real tie:
    assert isinstance(choice, questions.Asked)
    tie = ask(engine, "kit invoice")  # one plain keyword of Product supply, one of Budget: a real tie
    assert isinstance(tie, questions.ChooseTopic) and tie.ambiguous
    assert {t.topic for t in tie.options} == {"Product supply", "Budget and invoices"}
    assert outbox_rows(engine, "ask:") == outbox_rows(
        engine, "ask:ACME-201:1"
    )  # nothing sent for the tie yet
    routed = act(engine, questions.choose_topic, "ben", tie.question_id, topic="Budget and invoices")
    assert routed.to.handle == "alice" and routed.topic == "Budget and invoices" and routed.own_topic


def test_a_question_that_fits_no_topic_offers_every_topic(engine, study):
    choice = ask(engine, "what colour is the sky")
    assert isinstance(choice, questions.ChooseTopic) and not choice.ambiguous and len(choice.options) == 8
    with pytest.raises(CadenceError):
        act(engine, questions.choose_topic, "mei", choice.question_id, topic="Recruitment")  # not the asker
    assert (
        act(engine, questions.choose_topic, "ben", choice.question_id, topic="recruitment").to.handle == "raj"
    )


def test_an_empty_question_is_refused(engine, study):
    with pytest.raises(BadCommand):
        ask(engine, "   ")


def test_no_answer_reminds_the_owner_then_brings_in_the_backup_once_each(engine, fast):
    asked = ask(engine, "SAE follow-up for patient 12?")
    question_id = int(asked.ref.rsplit("Q", 1)[1])
    assert chase(engine, MONDAY + timedelta(seconds=2)) == 0
    assert chase(engine, MONDAY + timedelta(seconds=4)) == 1  # the owner, reminded
    assert chase(engine, MONDAY + timedelta(seconds=5)) == 0
    assert chase(engine, MONDAY + timedelta(seconds=7)) == 2  # the backup, and the asker told
    assert chase(engine, MONDAY + timedelta(seconds=9)) == 0
    [reminder] = outbox_rows(engine, "ask-reminder:")
    [backup] = outbox_rows(engine, "ask-backup:")
    [told] = outbox_rows(engine, "ask-backup-asker:")
    assert reminder.payload["ref"] == asked.ref and backup.payload["backup"]["handle"] == "raj"
    assert told.recipient == str(as_person(engine, "ben").person_id)
    with Session(engine) as session:
        assert session.get(Question, question_id).state == "open"


def test_answered_stops_all_chasing(engine, fast, fake_slack):
    clock = ManualClock(MONDAY)
    asked = ask(engine, "SAE follow-up for patient 12?")
    question_id = int(asked.ref.rsplit("Q", 1)[1])
    chase(engine, clock.advance(seconds=4))  # the reminder is queued …
    act(engine, questions.mark_answered, "mei", question_id, now=clock.now())  # … and then it is answered
    DeliveryWorker(engine, SlackNotifier(WebClient(token=BOT_TOKEN, base_url=fake_slack.url)), clock).drain()
    assert not any((k or "").startswith("ask-reminder") for k in fake_slack.posted_keys())
    assert chase(engine, clock.advance(seconds=10)) == 0
    assert outbox_rows(engine, "ask-answered:")[0].payload["by"] == "Mei Lin"  # the asker is told


def test_only_those_concerned_may_close_a_question(engine, fast):
    asked = ask(engine, "SAE follow-up?")
    question_id = int(asked.ref.rsplit("Q", 1)[1])
    with pytest.raises(CadenceError, match="Only the person asked"):
        act(engine, questions.mark_answered, "omar", question_id)
    assert act(engine, questions.mark_answered, "ben", question_id).by == "Ben Okafor"  # the asker may


def test_not_mine_reroutes_to_the_backup_and_is_recorded(engine, fast):
    asked = ask(engine, "SAE follow-up?")
    question_id = int(asked.ref.rsplit("Q", 1)[1])
    with pytest.raises(CadenceError):
        act(engine, questions.not_mine, "omar", question_id)  # not theirs to pass on
    rerouted = act(engine, questions.not_mine, "mei", question_id)
    assert rerouted.to.handle == "raj"
    assert [r.recipient for r in outbox_rows(engine, "ask:")] == ["C0STUDY", "C0STUDY"]
    assert outbox_rows(engine, "ask-update:")[0].payload["passed_on_by"] == "Mei Lin"
    with Session(engine) as session:
        actions = [e.action for e in audit.events_for(session, study_id=1) if e.action.startswith("question")]
        assert actions == ["question.routed", "question.routed"]
    # Passed back and forth: the admins hear that ownership is unclear.
    act(engine, questions.not_mine, "raj", question_id)
    assert {r.key for r in outbox_rows(engine, "ask-unclear:")} == {
        f"ask-unclear:ACME-201:{question_id}:alice",
        f"ask-unclear:ACME-201:{question_id}:raj",
    }


def test_with_the_owner_away_the_question_goes_straight_to_the_cover(engine, fast):
    run_in_session(
        engine,
        handle_away,
        requester=as_person(engine, "mei"),
        text="until 2026-12-04 backup @omar",
        now=MONDAY,
    )
    asked = ask(engine, "SAE narrative?")
    assert asked.to.handle == "omar" and asked.covering_for.handle == "mei"


def test_business_day_deadlines_skip_the_weekend(engine, study):
    friday_afternoon = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)  # Friday 15:00 in New York, 21:00 in Warsaw
    asked = ask(engine, "when is the next EDC export?", now=friday_afternoon)  # Data management: 1bd default
    # A business day of Omar's, who must answer (Warsaw, 09:00-18:00): his Friday is over, so it is his
    # whole Monday, to 18:00 Warsaw (it was Monday 15:00 New York when business days were the study's).
    assert asked.due_at.astimezone(UTC) == datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # Monday, not Saturday


def test_list_shows_mine_and_those_waiting_on_me(engine, fast):
    ask(engine, "SAE follow-up?")
    ask(engine, "EDC lock date?", handle="mei")
    mine = run_in_session(
        engine,
        questions.list_questions,
        requester=as_person(engine, "mei"),
        now=MONDAY + timedelta(seconds=10),
    )
    assert [q.text for q in mine.mine] == ["EDC lock date?"]
    assert [q.text for q in mine.waiting_on_me] == ["SAE follow-up?"] and mine.waiting_on_me[0].overdue


def test_nothing_is_sent_twice_after_a_restart(engine, fast, fake_slack):
    clock = ManualClock(MONDAY)
    ask(engine, "SAE follow-up?")
    notifier = SlackNotifier(WebClient(token=BOT_TOKEN, base_url=fake_slack.url))
    for _life in range(3):  # three lives of the bot, each chasing and delivering
        clock.advance(seconds=4)
        chase(engine, clock.now())
        DeliveryWorker(engine, notifier, clock).drain()
    # Ben, the asker, is told of the backup at his 09:00 (Chicago), not at 08:00: a fourth life then.
    clock.set(MONDAY + timedelta(hours=1))
    DeliveryWorker(engine, notifier, clock).drain()
    keys = [k for k in fake_slack.posted_keys()]
    assert len(keys) == len(set(keys)) == 4  # the question, one reminder, the backup, the asker told


def test_away_after_being_asked_the_reminder_goes_to_the_cover_and_lists_show_it(engine, fast):
    ask(engine, "SAE follow-up?")
    run_in_session(
        engine,
        handle_away,
        requester=as_person(engine, "mei"),
        text="until 2026-12-04 backup @omar",
        now=MONDAY,
    )
    chase(engine, MONDAY + timedelta(seconds=4))
    [reminder] = outbox_rows(engine, "ask-reminder:")
    assert reminder.recipient == str(as_person(engine, "omar").person_id)
    mine = run_in_session(engine, questions.list_questions, requester=as_person(engine, "ben"), now=MONDAY)
    assert mine.mine[0].who == "Mei Lin (away until 04 Dec; Omar Haddad covers)"
