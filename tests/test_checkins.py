"""Weekly check-ins in the core, with a moved clock: rounds, prompts at local 09:00, reminders, digest."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk import WebClient
from sqlmodel import Session, select

from bot import checkins
from bot.clock import ManualClock
from bot.config import EXAMPLE_PLAN
from bot.db import make_engine, run_in_session
from bot.errors import BadCommand, NotAnAdmin
from bot.models import CheckinRound, OutboxMessage
from bot.outbox import DeliveryWorker
from bot.plan import load_plan
from bot.studies import apply_plan, find_requester
from handlers.slack.notifier import SlackNotifier
from schedules import jobs
from tests.payloads import BOT_TOKEN

EVERYONE = {"alice", "ben", "carla", "raj", "mei", "omar", "sofia"}
WARSAW_0900 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 in Warsaw, Rome and Prague (CET)
NEW_YORK_0900 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday 09:00 in New York (EST)
CHICAGO_0900 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def apply(engine, **replacements) -> None:
    text = EXAMPLE_PLAN.read_text()
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")


@pytest.fixture
def fast_plan(engine, study):
    """The example with a fast round: remind after 3 s, close after 6 s (as in the acceptance check)."""
    apply(engine, **{"remind_after: 4h": "remind_after: 3s", "close_after: 1d": "close_after: 6s"})


def prompts(engine, kind="checkin") -> dict[str, OutboxMessage]:
    with Session(engine) as session:
        found = session.exec(select(OutboxMessage).where(OutboxMessage.key.startswith(f"{kind}:")))
        return {(r.key.split(":") + [""])[3]: r for r in found}


def due_work(engine, moment) -> int:
    return run_in_session(engine, checkins.do_due_work, now=moment)


def as_person(engine, handle):
    return run_in_session(engine, find_requester, platform="console", user_id=handle, study_key="ACME-201")


def answer(engine, handle, moment, status="on track", answers=("moved", "planned", "none")):
    return run_in_session(
        engine,
        checkins.save_answer,
        requester=as_person(engine, handle),
        status=status,
        answers=list(answers),
        now=moment,
    )


def worker(engine, fake_slack, clock) -> DeliveryWorker:
    return DeliveryWorker(
        engine, SlackNotifier(WebClient(token=BOT_TOKEN, base_url=fake_slack.url, retry_handlers=[])), clock
    )


def test_prompts_are_due_at_each_participants_local_nine(engine, study):
    assert due_work(engine, WARSAW_0900 - timedelta(minutes=1)) == 0  # nobody's 09:00 yet: no round
    due_work(engine, WARSAW_0900)
    due = prompts(engine)
    assert set(due) == EVERYONE  # the round opens once, with every prompt at its own local time
    assert due["raj"].due_at == WARSAW_0900 and due["sofia"].due_at == WARSAW_0900
    assert due["alice"].due_at == NEW_YORK_0900 and due["ben"].due_at == CHICAGO_0900
    assert due["raj"].key == "checkin:ACME-201:2026-W48:raj"


def test_tokyo_new_york_and_warsaw_each_get_their_own_nine(engine, study):
    apply(engine, **{"timezone: Europe/Prague": "timezone: Asia/Tokyo"})  # sofia moves to Tokyo
    due_work(engine, datetime(2026, 11, 23, 0, 0, tzinfo=UTC))  # Monday 09:00 in Tokyo
    due = prompts(engine)
    # Monday 23 November is Labour Thanksgiving Day in Japan: Sofia's prompt waits for her Tuesday 09:00
    # (before working calendars it went out on the holiday, at 2026-11-23 00:00 UTC).
    assert due["sofia"].due_at == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
    assert due["raj"].due_at == WARSAW_0900 and due["alice"].due_at == NEW_YORK_0900


def test_the_week_of_a_daylight_saving_change(engine, study):
    # Europe left summer time on Sunday 2026-10-25; New York does on 2026-11-01. The study began before.
    text = EXAMPLE_PLAN.read_text().replace(
        "  admins: [alice, raj]", "  start: 2026-10-01\n  admins: [alice, raj]"
    )
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")
    due_work(engine, datetime(2026, 10, 26, 8, 0, tzinfo=UTC))
    due = prompts(engine)
    assert due["raj"].due_at == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert due["alice"].due_at == datetime(2026, 10, 26, 13, 0, tzinfo=UTC)  # 09:00 EDT, still summer time


def test_a_round_opens_once_however_often_it_is_looked_at(engine, study):
    for moment in (WARSAW_0900, WARSAW_0900, NEW_YORK_0900, CHICAGO_0900):
        due_work(engine, moment)
    with Session(engine) as session:
        assert len(session.exec(select(CheckinRound)).all()) == 1
    assert len(prompts(engine)) == 7


def test_a_bot_down_at_nine_sends_the_prompts_once_when_back(engine, study, fake_slack):
    back = ManualClock(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))  # noon in New York, 18:00 in Warsaw
    jobs.configure(jobs.Runtime(engine=engine, worker=worker(engine, fake_slack, back), clock=back))
    jobs.tick()
    jobs.tick()
    with Session(engine) as session:  # alone, or in a digest with what else fell due for them meanwhile
        sent = session.exec(select(OutboxMessage).where(OutboxMessage.state == "sent")).all()
    prompts_sent = [r.key for r in sent if r.key.startswith("checkin:")]
    assert sorted(prompts_sent) == sorted(f"checkin:ACME-201:2026-W48:{h}" for h in EVERYONE)
    posted = fake_slack.posted_keys()
    assert len(posted) == len(set(posted))
    assert all((r.digest or r.key) in posted for r in sent if r.key.startswith("checkin:"))


def test_who_was_missed_beyond_the_grace_is_left_out(engine, study):
    due_work(
        engine, datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    )  # 15.5 h after Warsaw's 09:00, 9.5 h after NY's
    assert set(prompts(engine)) == {"alice", "ben"}  # Europe's 09:00 is more than the 12 h grace ago
    due_work(engine, datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    assert set(prompts(engine)) == {"alice", "ben"}


def test_skipped_dates_open_no_round(engine, study):
    apply(engine, **{"skip: [2026-12-28, 2027-01-04]": "skip: [2026-11-23]"})
    assert due_work(engine, NEW_YORK_0900) == 0
    run_in_session(
        engine, checkins.add_skip, requester=as_person(engine, "raj"), text="2026-11-30", now=NEW_YORK_0900
    )
    assert due_work(engine, NEW_YORK_0900 + timedelta(days=7)) == 0
    assert due_work(engine, NEW_YORK_0900 + timedelta(days=14)) > 0


def test_skip_is_for_admins_and_takes_a_real_date(engine, study):
    with pytest.raises(NotAnAdmin):
        run_in_session(
            engine,
            checkins.add_skip,
            requester=as_person(engine, "ben"),
            text="2026-12-07",
            now=NEW_YORK_0900,
        )
    with pytest.raises(BadCommand):
        run_in_session(
            engine,
            checkins.add_skip,
            requester=as_person(engine, "raj"),
            text="some monday",
            now=NEW_YORK_0900,
        )
    due_work(engine, NEW_YORK_0900)
    with pytest.raises(BadCommand, match="already opened"):
        run_in_session(
            engine,
            checkins.add_skip,
            requester=as_person(engine, "raj"),
            text="2026-11-23",
            now=NEW_YORK_0900,
        )


def test_only_the_silent_are_reminded_once_and_only_in_their_working_day(engine, fast_plan):
    opened = run_in_session(
        engine, checkins.open_round_now, requester=as_person(engine, "alice"), now=NEW_YORK_0900
    )
    assert opened.already is None and set(opened.prompted) == EVERYONE
    answer(engine, "raj", NEW_YORK_0900 + timedelta(seconds=1))
    due_work(engine, NEW_YORK_0900 + timedelta(seconds=2))
    assert prompts(engine, "checkin-reminder") == {}
    due_work(engine, NEW_YORK_0900 + timedelta(seconds=4))
    due_work(engine, NEW_YORK_0900 + timedelta(seconds=5))
    reminded = set(prompts(engine, "checkin-reminder"))
    # 09:00 in New York is 15:00 in Warsaw and Rome: in their working hours. Raj answered. It is 08:00 in
    # Chicago, before Ben's working day (09:00-18:00 by default; it was 08:00-19:00 before working
    # calendars), so his reminder waits.
    assert reminded == EVERYONE - {"raj", "ben"}


def test_a_reminder_waits_for_the_morning(engine, fast_plan):
    evening_in_warsaw = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)  # 19:30 in Warsaw, 13:30 in New York
    run_in_session(
        engine, checkins.open_round_now, requester=as_person(engine, "alice"), now=evening_in_warsaw
    )
    due_work(engine, evening_in_warsaw + timedelta(seconds=4))
    reminded = set(prompts(engine, "checkin-reminder"))
    assert {"alice", "ben"} <= reminded and not reminded & {"raj", "mei", "omar", "carla", "sofia"}


def test_a_reminder_queued_before_an_answer_is_cancelled(engine, fast_plan, fake_slack):
    clock = ManualClock(NEW_YORK_0900)
    run_in_session(engine, checkins.open_round_now, requester=as_person(engine, "alice"), now=clock.now())
    due_work(engine, clock.advance(seconds=4))
    answer(engine, "mei", clock.now())  # after the reminder was queued, before it was sent
    worker(engine, fake_slack, clock).drain()
    assert "checkin-reminder:ACME-201:2026-W48:mei" not in fake_slack.posted_keys()
    assert prompts(engine, "checkin-reminder")["mei"].state == "cancelled"


def test_closing_posts_a_digest_by_side_with_trouble_first_and_the_silent_named(engine, fast_plan):
    run_in_session(engine, checkins.open_round_now, requester=as_person(engine, "alice"), now=NEW_YORK_0900)
    answer(engine, "raj", NEW_YORK_0900, "on track", ("site 3 activated", "SIV site 4", "none"))
    answer(engine, "omar", NEW_YORK_0900, "off track", ("queries", "lock prep", "EDC vendor outage"))
    answer(engine, "mei", NEW_YORK_0900, "on track", ("2 SAEs filed", "", "awaiting narratives"))
    answer(engine, "alice", NEW_YORK_0900, "at risk", ("amendment", "IRB", "none"))
    due_work(engine, NEW_YORK_0900 + timedelta(seconds=7))
    digest = prompts(engine, "checkin-digest")
    [row] = digest.values()
    assert row.recipient == "C0STUDY"
    data = row.payload
    assert [g["side"] for g in data["groups"]] == ["sponsor", "cro"]
    cro = [e["handle"] for e in data["groups"][1]["entries"]]
    assert cro == ["omar", "mei", "raj"]  # off track first, then the blocked, then the rest
    assert data["silent"] == ["Ben Okafor", "Carla Rossi", "Sofia Novak"]
    with Session(engine) as session:
        assert session.exec(select(CheckinRound)).one().state == "closed"


def test_a_late_answer_is_accepted_and_added_under_the_digest(engine, fast_plan):
    run_in_session(engine, checkins.open_round_now, requester=as_person(engine, "alice"), now=NEW_YORK_0900)
    due_work(engine, NEW_YORK_0900 + timedelta(seconds=7))
    saved = answer(engine, "ben", NEW_YORK_0900 + timedelta(minutes=5))
    assert saved.late
    late = prompts(engine, "checkin-late")["ben"]
    assert late.recipient_kind == "thread" and late.thread_of == "checkin-digest:ACME-201:2026-W48"


def test_answers_can_be_edited_until_the_round_closes(engine, fast_plan):
    run_in_session(engine, checkins.open_round_now, requester=as_person(engine, "alice"), now=NEW_YORK_0900)
    assert not answer(engine, "ben", NEW_YORK_0900, "at risk").edited
    edited = answer(engine, "ben", NEW_YORK_0900, "on track")
    assert edited.edited and not edited.late
    form = run_in_session(engine, checkins.answer_form, requester=as_person(engine, "ben"))
    assert form.status == "on_track" and form.answers == ("moved", "planned", "none")


def test_checkin_now_opens_one_round_a_week_and_only_for_admins(engine, study):
    with pytest.raises(NotAnAdmin):
        run_in_session(engine, checkins.open_round_now, requester=as_person(engine, "ben"), now=NEW_YORK_0900)
    first = run_in_session(
        engine, checkins.open_round_now, requester=as_person(engine, "raj"), now=NEW_YORK_0900
    )
    again = run_in_session(
        engine, checkins.open_round_now, requester=as_person(engine, "alice"), now=NEW_YORK_0900
    )
    assert first.already is None and again.already == "open"
    assert len(prompts(engine)) == 7


def test_status_and_participation_with_streaks(engine, fast_plan):
    for week in range(3):
        start = NEW_YORK_0900 + timedelta(days=7 * week)
        run_in_session(engine, checkins.open_round_now, requester=as_person(engine, "alice"), now=start)
        answer(engine, "raj", start)
        if week != 1:
            answer(engine, "mei", start)
        due_work(engine, start + timedelta(seconds=7))
    status = run_in_session(engine, checkins.round_status, requester=as_person(engine, "ben"))
    assert status.state == "closed" and ("Raj Patel", "on_track") in status.answered
    stats = run_in_session(engine, checkins.participation, requester=as_person(engine, "ben"))
    people = {p.name: p for p in stats.people}
    assert (people["Raj Patel"].answered, people["Raj Patel"].asked, people["Raj Patel"].streak) == (3, 3, 3)
    assert (people["Mei Lin"].answered, people["Mei Lin"].streak) == (2, 1)
    assert dict((side, (a, n)) for side, a, n in stats.sides)["cro"] == (5, 12)


def test_two_instances_open_one_round_and_send_one_prompt_each(database_url, study, fake_slack):
    clock = ManualClock(CHICAGO_0900)
    engines = [make_engine(database_url) for _ in range(2)]

    def instance(engine):
        for _ in range(3):
            run_in_session(engine, checkins.do_due_work, now=clock.now())
            worker(engine, fake_slack, clock).drain()

    threads = [threading.Thread(target=instance, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    keys = fake_slack.posted_keys()
    assert len(keys) == 7 and len(set(keys)) == 7
    for engine in engines:
        engine.dispose()
