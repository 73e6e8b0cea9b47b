"""The study's timeline over signed Slack HTTP: a review of a study that began on Monday 7 December never
reads a date before it, a milestone past its due date reads late (the list, the App Home), and after the
study's end the tick sends nothing of the cadence, posts the close-out review once, and `/who-owns` still
answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from bot.clock import ManualClock
from bot.config import EXAMPLE_PLAN
from bot.db import run_in_session
from bot.models import OutboxMessage
from bot.plan import load_plan
from bot.studies import apply_plan
from handlers.server import build_asgi
from handlers.slack.app import build_app
from schedules import jobs
from tests.conftest import serve_in_thread
from tests.payloads import ALICE, BEN, post_command
from tests.test_checkins import worker

BEGAN = datetime(2026, 12, 14, 14, 0, tzinfo=UTC)  # Monday 14 December, 09:00 in New York


def plan_text(timeline: str) -> str:
    return EXAMPLE_PLAN.read_text().replace("  admins: [alice, raj]", f"{timeline}\n  admins: [alice, raj]")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(BEGAN)


@pytest.fixture
def url(settings, engine, study, clock, fake_slack):
    # Set up on 1 November (the `study` fixture), the study itself began on 7 December and ends on 8 January.
    run_in_session(
        engine, apply_plan, plan=load_plan(plan_text("  start: 2026-12-07\n  end: 2027-01-08")), actor="t"
    )
    jobs.configure(jobs.Runtime(engine=engine, worker=worker(engine, fake_slack, clock), clock=clock))
    url, stop = serve_in_thread(build_asgi(build_app(settings, engine, clock=clock), engine))
    yield url
    stop()


def shown(post) -> str:
    return post.text + json.dumps(post.blocks, ensure_ascii=False)


def test_a_review_never_reads_a_date_before_the_study_began(url):
    whole = post_command(url, "/cadence", "review", user_id=BEN).text
    assert "Partnership review — ACME-201, Mon 07 Dec 2026 to Mon 14 Dec 2026" in whole
    typed = post_command(url, "/cadence", "review 2026-11-16 2026-12-14", user_id=BEN).text
    assert "Mon 07 Dec 2026 to Mon 14 Dec 2026" in typed and "16 Nov" not in typed
    kpis = post_command(url, "/cadence", "kpis 4", user_id=BEN).text
    assert "KPIs of ACME-201, Mon 07 Dec 2026 to Mon 14 Dec 2026" in kpis
    before = post_command(url, "/cadence", "review 2026-11-01 2026-11-30", user_id=BEN).text
    assert "The study began on Mon 07 Dec 2026: there is nothing to review before it." in before


def test_a_milestone_past_its_due_date_reads_late(url, clock, fake_slack):
    clock.set(datetime(2027, 1, 6, 14, 0, tzinfo=UTC))  # First patient in was due Friday 15 January
    listed = post_command(url, "/milestones", user_id=BEN).text
    assert "<@U02RAJ> (CRO): on track, due Fri 15 Jan 2027" in listed
    clock.set(datetime(2027, 1, 18, 14, 0, tzinfo=UTC))
    late = post_command(url, "/milestones", user_id=BEN).text
    assert "<@U02RAJ> (CRO): late, due Fri 15 Jan 2027 :hourglass: (last said: on track)" in late
    assert "on track, due Fri 15 Jan" not in late
    home = post_command(url, "/cadence", "home", user_id=ALICE).text
    assert "First patient in — Fri 15 Jan 2027, Raj Patel: late" in home


def test_after_the_end_nothing_of_the_cadence_goes_and_the_close_out_review_is_posted_once(
    url, clock, fake_slack
):
    clock.set(datetime(2027, 1, 9, 5, 0, tzinfo=UTC))  # Saturday 00:00 in New York: the study has ended
    jobs.tick()
    assert not [p for p in fake_slack.posted if (p.key or "").startswith("close-out:")]  # not at night
    for _ in range(10 * 24):  # ten days, an hour at a time: a Monday's check-in, its report, reminders
        clock.advance(hours=1)
        jobs.tick()
    sent = [p for p in fake_slack.posted if p.key]
    [closing] = [p for p in sent if p.key.startswith("close-out:")]
    assert closing.channel == "C0STUDY"
    text = shown(closing)
    assert "Close-out review — ACME-201, the whole study: Mon 07 Dec 2026 to Fri 08 Jan 2027" in text
    assert "What went well" in text and "What to improve" in text and "Check-ins answered" in text
    cadence = ("checkin:", "checkin-reminder:", "pulse", "report:", "ms-", "minutes-chase", "action-reminder")
    assert not [p.key for p in sent if p.key.startswith(cadence)]
    assert (
        "*Safety reporting* is owned by <@U02MEI>"
        in post_command(url, "/who-owns", "safety", user_id=BEN).text
    )
    clock.advance(days=1)
    jobs.tick()
    assert len([p for p in fake_slack.posted if (p.key or "").startswith("close-out:")]) == 1


def test_before_a_study_starts_no_check_in_goes_out(settings, engine, study, clock, fake_slack):
    # (28 December and 4 January are the example plan's skipped check-in days: a Monday before the start
    # that is not skipped, then the start's.)
    run_in_session(engine, apply_plan, plan=load_plan(plan_text("  start: 2027-01-11")), actor="t")
    jobs.configure(jobs.Runtime(engine=engine, worker=worker(engine, fake_slack, clock), clock=clock))
    for monday in (datetime(2026, 12, 21, 7, 0, tzinfo=UTC), datetime(2027, 1, 11, 7, 0, tzinfo=UTC)):
        clock.set(monday)  # 08:00 in Warsaw, then an hour at a time to 10:00 there
        for _ in range(3):
            clock.advance(hours=1)
            jobs.tick()
    with Session(engine) as session:  # each alone, or in a digest with what else fell due then
        prompts = [
            r.key
            for r in session.exec(select(OutboxMessage).where(col(OutboxMessage.key).startswith("checkin:")))
            if r.state == "sent"
        ]
    assert prompts and all(":2027-W02:" in key for key in prompts)  # none in the weeks before the start


def test_before_the_end_the_cadence_runs(url, engine, clock, fake_slack):
    clock.set(datetime(2026, 12, 21, 7, 59, tzinfo=UTC))  # Monday 21 December, before 09:00 in Warsaw
    for _ in range(3):
        clock.advance(hours=1)
        jobs.tick()
    with Session(engine) as session:  # alone, or in a digest with what else fell due for Raj then
        prompt = session.exec(
            select(OutboxMessage).where(OutboxMessage.key == "checkin:ACME-201:2026-W52:raj")
        ).one()
    assert prompt.state == "sent" and (prompt.digest or prompt.key) in fake_slack.posted_keys()
    assert clock.now() - BEGAN < timedelta(weeks=2)
