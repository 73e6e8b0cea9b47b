"""Check-in prompts: each participant's local 09:00, once per week, caught up after downtime within the grace."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from slack_sdk import WebClient
from sqlmodel import Session, select

from bot.checkins import enqueue_due_prompts, last_occurrence
from bot.clock import ManualClock
from bot.db import make_engine, run_in_session
from bot.models import OutboxMessage
from bot.outbox import DeliveryWorker
from bot.timing import parse_schedule
from handlers.slack.notifier import SlackNotifier
from schedules import jobs
from tests.payloads import BOT_TOKEN

WARSAW_0900 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 in Warsaw (CET, UTC+1)
NEW_YORK_0900 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday 09:00 in New York (EST, UTC-5)
CRO_IN_WARSAW = {"raj", "mei", "omar"}


def prompted(engine) -> dict[str, OutboxMessage]:
    with Session(engine) as session:
        return {
            r.key.rsplit(":", 1)[1]: r
            for r in session.exec(select(OutboxMessage))
            if r.key.startswith("checkin:")
        }


def enqueue_at(engine, moment) -> int:
    return run_in_session(engine, enqueue_due_prompts, now=moment)


def worker(engine, fake_slack, clock) -> DeliveryWorker:
    client = WebClient(token=BOT_TOKEN, base_url=fake_slack.url, retry_handlers=[], timeout=5)
    return DeliveryWorker(engine, SlackNotifier(client), clock)


def test_the_last_occurrence_follows_daylight_saving():
    schedule = parse_schedule("mon 09:00")
    from zoneinfo import ZoneInfo

    warsaw = ZoneInfo("Europe/Warsaw")
    summer = last_occurrence(schedule, warsaw, datetime(2026, 10, 19, 12, 0, tzinfo=UTC))
    winter = last_occurrence(schedule, warsaw, datetime(2026, 10, 26, 12, 0, tzinfo=UTC))
    assert summer.astimezone(UTC).hour == 7 and winter.astimezone(UTC).hour == 8  # 09:00 local both times
    assert last_occurrence(schedule, warsaw, datetime(2026, 11, 22, 12, 0, tzinfo=UTC)).day == 16


def test_prompts_go_out_at_each_participants_local_nine(engine, study):
    assert enqueue_at(engine, datetime(2026, 11, 23, 7, 59, tzinfo=UTC)) == 0  # 08:59 in Warsaw, Rome, Prague
    assert enqueue_at(engine, WARSAW_0900) == 5
    assert set(prompted(engine)) == {"carla", "sofia"} | CRO_IN_WARSAW
    enqueue_at(engine, NEW_YORK_0900)
    assert "alice" in prompted(engine) and "ben" not in prompted(engine)  # Ben is in Chicago: an hour later
    enqueue_at(engine, NEW_YORK_0900.replace(hour=15))
    assert set(prompted(engine)) == {"alice", "ben", "carla", "raj", "mei", "omar", "sofia"}
    assert prompted(engine)["alice"].due_at == NEW_YORK_0900
    assert prompted(engine)["raj"].key == "checkin:ACME-201:2026-W48:raj"
    assert "dev" not in prompted(engine)  # not a participant


def test_running_it_again_in_the_same_week_adds_nothing(engine, study):
    enqueue_at(engine, NEW_YORK_0900.replace(hour=15))
    assert enqueue_at(engine, NEW_YORK_0900.replace(hour=15)) == 0
    assert enqueue_at(engine, NEW_YORK_0900.replace(hour=18)) == 0
    assert len(prompted(engine)) == 7


def test_a_bot_that_was_down_at_nine_catches_up_within_the_grace_once(engine, study, fake_slack):
    back_at_noon = ManualClock(
        datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    )  # 12:00 in New York, 18:00 in Warsaw
    jobs.configure(
        jobs.Runtime(engine=engine, worker=worker(engine, fake_slack, back_at_noon), clock=back_at_noon)
    )
    jobs.tick()
    jobs.tick()
    keys = fake_slack.posted_keys()
    assert sorted(keys) == sorted(
        f"checkin:ACME-201:2026-W48:{h}" for h in ("alice", "ben", "carla", "raj", "mei", "omar", "sofia")
    )


def test_prompts_older_than_the_grace_are_not_sent(engine, study):
    tuesday_noon = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)  # 27 hours after New York's Monday 09:00
    assert enqueue_at(engine, tuesday_noon) == 0


def test_skipped_dates_send_no_prompt(engine, study):
    christmas = datetime(2026, 12, 21, 15, 0, tzinfo=UTC)  # a Monday, not in the skip list
    assert enqueue_at(engine, christmas) == 7
    from bot.config import EXAMPLE_PLAN
    from bot.plan import load_plan
    from bot.studies import apply_plan

    text = EXAMPLE_PLAN.read_text().replace("skip: [2026-12-25, 2027-01-01]", "skip: [2026-12-28]")
    run_in_session(engine, apply_plan, plan=load_plan(text), actor="test")
    assert enqueue_at(engine, datetime(2026, 12, 28, 15, 0, tzinfo=UTC)) == 0


def test_the_prompt_names_the_questions_and_where_to_answer(engine, study, fake_slack):
    clock = ManualClock(NEW_YORK_0900)
    enqueue_at(engine, NEW_YORK_0900)
    worker(engine, fake_slack, clock).drain()
    alice = next(p for p in fake_slack.posted if p.channel == "D01ALICE")
    text = (
        " ".join(b["text"]["text"] for b in alice.blocks if "text" in b)
        + alice.blocks[-1]["elements"][0]["text"]
    )
    assert "Hi Alice, it's check-in time for *ACME-201* (week 2026-W48)" in text
    assert "1. What moved since last week?" in text and "<#C0STUDY>" in text


def test_two_instances_running_the_same_schedule_send_one_prompt_per_person(database_url, study, fake_slack):
    clock = ManualClock(NEW_YORK_0900.replace(hour=15))
    engines = [make_engine(database_url) for _ in range(2)]

    def instance(engine):
        for _ in range(3):
            run_in_session(engine, enqueue_due_prompts, now=clock.now())
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
