"""Due work at scale: the tick runs a study's work only when the study's moment has come or something in
it changed, so an idle tick reads a few indexed rows whatever the number of studies; a change made while
a tick works on the study is never hidden by the moment that tick computed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session, select

from bench.tick_scale import copy_of_example
from bot import due
from bot.clock import ManualClock, process_clock
from bot.db import run_in_session, session_scope
from bot.models import OutboxMessage, StudyDue
from bot.plan import load_plan
from bot.studies import apply_plan
from schedules import jobs
from tests.conftest import STUDY_APPLIED
from tests.test_checkins import worker

WEDNESDAY = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)  # nothing of the example plan due
MONDAY_IN_WARSAW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # 09:00 there: the check-ins open


def _apply(engine, numbers) -> None:
    with process_clock(ManualClock(STUDY_APPLIED)):  # set up before the moments the tests pick
        for number in numbers:
            run_in_session(engine, apply_plan, plan=load_plan(copy_of_example(number)), actor="test")


def _due_rows(engine, work: str) -> dict[str, datetime | None]:
    with Session(engine) as session:
        rows = session.exec(select(StudyDue).where(StudyDue.work == work)).all()
        return {str(r.study_id): r.due_at for r in rows}


def test_an_idle_tick_runs_no_studys_work_and_a_change_makes_that_study_alone_due(engine, fake_slack):
    _apply(engine, range(3))
    clock = ManualClock(WEDNESDAY)
    jobs.configure(jobs.Runtime(engine=engine, worker=worker(engine, fake_slack, clock), clock=clock))
    jobs.tick()  # every study once: homes published, each study's next moment kept
    jobs.tick()  # what the first tick queued made its studies due once more; now each is settled
    homes = _due_rows(engine, "reports.refresh_homes")
    assert all(at is not None and at > WEDNESDAY for at in homes.values())  # each person's next midnight
    published = len(fake_slack.posted) + len(fake_slack.calls_to("views.publish"))
    jobs.tick()
    assert len(fake_slack.posted) + len(fake_slack.calls_to("views.publish")) == published

    # The plan of one study applied again (a change: audited) makes its works due at once; the others wait.
    run_in_session(engine, apply_plan, plan=load_plan(copy_of_example(1) + "\n# a comment\n"), actor="test")
    after = _due_rows(engine, "reports.refresh_homes")
    changed = [study for study, at in after.items() if at == due.AT_ONCE]
    assert len(changed) == 1 and all(after[s] == homes[s] for s in homes if s not in changed)
    assert run_in_session(engine, due.next_moment, now=clock.now()) == datetime(
        2026, 12, 2, 20, 0, 1, tzinfo=UTC
    )


def test_the_moment_a_tick_computed_does_not_hide_a_change_made_meanwhile(engine):
    _apply(engine, range(1))  # applying it made the study's works due at once
    [work] = [w for w in due.registered() if w.name == "checkins.do_due_work"]

    def a_change_meanwhile(session, study, *, now):
        with session_scope(engine) as other:  # a command in the same study, committed while the tick works
            due.make_due_now(other, {study.id})
        return 0

    racing = due.DueWork(
        work.name, work.order, work.run, work.next_due, a_change_meanwhile, work.next_of_study
    )
    with session_scope(engine) as session:
        due._run_due_studies(session, racing, WEDNESDAY)
    assert list(_due_rows(engine, work.name).values()) == [due.AT_ONCE]  # still due: the change is seen
    with session_scope(engine) as session:
        due._run_due_studies(session, work, WEDNESDAY)
    [settled] = _due_rows(engine, work.name).values()
    assert settled == datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # Warsaw's Monday 09:00, the first prompt


def test_a_busy_monday_opens_every_studys_round_once_however_many_ticks_and_instances(engine, fake_slack):
    _apply(engine, range(4))
    clock = ManualClock(MONDAY_IN_WARSAW)
    jobs.configure(jobs.Runtime(engine=engine, worker=worker(engine, fake_slack, clock), clock=clock))
    for _ in range(3):
        jobs.tick()
    with Session(engine) as session:
        prompts = session.exec(
            select(OutboxMessage.key).where(OutboxMessage.key.startswith("checkin:"))
        ).all()
    assert len(prompts) == len(set(prompts)) == 4 * 7  # every participant of every study, once


def test_a_study_whose_work_fails_is_tried_again_and_holds_up_no_other(engine, caplog):
    _apply(engine, range(3))
    [work] = [w for w in due.registered() if w.name == "checkins.do_due_work"]
    with Session(engine) as session:
        first = min(r.study_id for r in session.exec(select(StudyDue).where(StudyDue.work == work.name)))

    def failing_for_the_first(session, study, *, now):
        if study.id == first:
            raise RuntimeError("a bug in one study's data")
        return work.run_study(session, study, now=now)

    breaking = due.DueWork(
        work.name, work.order, work.run, work.next_due, failing_for_the_first, work.next_of_study
    )
    with session_scope(engine) as session:
        due._run_due_studies(session, breaking, WEDNESDAY)
    moments = _due_rows(engine, work.name)
    assert moments.pop(str(first)) == due.AT_ONCE  # tried again at the next tick
    assert set(moments.values()) == {MONDAY_IN_WARSAW}  # the others done, their next moment kept
    assert "checkins.do_due_work failed for study STUDY-00000" in caplog.text
