"""The scheduler's jobs: explicit ids, timezones and day names; triggers checked on fixed dates, never by sleeping."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from apscheduler.triggers.cron import CronTrigger
from slack_sdk import WebClient

from bot.clock import ManualClock
from bot.outbox import DeliveryWorker
from bot.timing import parse_schedule
from handlers.slack.notifier import SlackNotifier
from schedules.jobs import Runtime
from schedules.scheduler import TICK_JOB, Schedules, checkin_trigger
from tests.payloads import BOT_TOKEN


def test_a_checkin_trigger_fires_at_nine_local_through_daylight_saving():
    trigger = checkin_trigger(parse_schedule("mon 09:00"), "Europe/Warsaw")

    def next_fire_utc(after: datetime) -> datetime:
        return trigger.get_next_fire_time(None, after).astimezone(UTC)

    assert next_fire_utc(datetime(2026, 10, 13, tzinfo=UTC)) == datetime(
        2026, 10, 19, 7, 0, tzinfo=UTC
    )  # CEST
    assert next_fire_utc(datetime(2026, 10, 20, tzinfo=UTC)) == datetime(
        2026, 10, 26, 8, 0, tzinfo=UTC
    )  # CET
    assert next_fire_utc(datetime(2026, 3, 17, tzinfo=UTC)) == datetime(2026, 3, 23, 8, 0, tzinfo=UTC)  # CET
    assert next_fire_utc(datetime(2026, 3, 24, tzinfo=UTC)) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # CEST


def test_several_days_and_a_range_are_day_names():
    trigger = checkin_trigger(parse_schedule("mon,thu 15:00"), "America/New_York")
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 24, tzinfo=UTC))  # a Tuesday
    assert fire.strftime("%a %H:%M") == "Thu 15:00"


def _schedules(engine, fake_slack) -> Schedules:
    clock = ManualClock(datetime(2026, 11, 21, tzinfo=UTC))
    notifier = SlackNotifier(WebClient(token=BOT_TOKEN, base_url=fake_slack.url, retry_handlers=[]))
    return Schedules(
        Runtime(engine=engine, worker=DeliveryWorker(engine, notifier, clock), clock=clock), 3600
    )


def test_starting_registers_the_tick_and_one_job_per_study_timezone(engine, study, fake_slack):
    schedules = _schedules(engine, fake_slack)
    schedules.start()
    try:
        ids = {job.id for job in schedules.scheduler.get_jobs()}
        assert ids >= {
            TICK_JOB,
            "checkin:mon 09:00:America/New_York",
            "checkin:mon 09:00:America/Chicago",
            "checkin:mon 09:00:Europe/Warsaw",
            "checkin:mon 09:00:Europe/Rome",
            "checkin:mon 09:00:Europe/Prague",
        }
        job = schedules.scheduler.get_job("checkin:mon 09:00:Europe/Warsaw")
        assert isinstance(job.trigger, CronTrigger) and str(job.trigger.timezone) == "Europe/Warsaw"
        assert job.coalesce and job.misfire_grace_time == 12 * 3600 and job.args == ()
        schedules.sync_study_jobs()  # unchanged plans: nothing replaced
        assert (
            schedules.scheduler.get_job("checkin:mon 09:00:Europe/Warsaw").next_run_time == job.next_run_time
        )
    finally:
        schedules.stop()


def test_studies_meeting_at_one_time_in_one_timezone_share_its_job(engine, study, fake_slack):
    from bench.tick_scale import copy_of_example
    from bot.db import run_in_session
    from bot.plan import load_plan
    from bot.studies import apply_plan

    for number in range(3):
        run_in_session(engine, apply_plan, plan=load_plan(copy_of_example(number)), actor="test")
    schedules = _schedules(engine, fake_slack)
    schedules.start()
    try:
        jobs = [job.id for job in schedules.scheduler.get_jobs() if job.id.startswith("checkin:")]
        assert len(jobs) == 5  # four studies, one schedule, five timezones: five jobs, not twenty
    finally:
        schedules.stop()


def test_a_wake_just_before_a_stop_leaves_no_error_in_the_schedulers_thread(engine, study, fake_slack):
    """A wake used to add a one-shot job under a fixed id, which APScheduler removes after running it; a
    stop in between emptied the job store first, and the scheduler's thread died with JobLookupError (the
    console printed its traceback on /quit)."""
    clock = ManualClock(datetime(2026, 11, 21, tzinfo=UTC))
    notifier = SlackNotifier(WebClient(token=BOT_TOKEN, base_url=fake_slack.url, retry_handlers=[]))
    runtime = Runtime(engine=engine, worker=DeliveryWorker(engine, notifier, clock), clock=clock)
    died: list[BaseException] = []
    before, threading.excepthook = threading.excepthook, lambda args: died.append(args.exc_value)
    try:
        for _ in range(60):
            schedules = Schedules(runtime, 3600)
            schedules.start()
            for _ in range(20):
                schedules.wake()
            time.sleep(0.002)
            schedules.stop()
    finally:
        threading.excepthook = before
    assert died == []
