"""APScheduler (3.x) wiring: the tick, a job per study schedule and timezone, and prompt delivery.

Jobs have explicit ids and `replace_existing`, explicit timezones and day names, coalesce missed
runs into one, and allow a generous misfire grace. Nothing depends on the scheduler's memory:
what is due lives in the database, and the tick catches up after a restart.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import checkins, directory
from bot.db import run_in_session
from bot.outbox import DeliveryReport
from schedules import jobs

log = logging.getLogger("cadence.scheduler")
TICK_JOB = "tick"
DELIVER_SOON_JOB = "deliver-soon"


def checkin_trigger(schedule, timezone: str) -> CronTrigger:
    """The cron trigger of a check-in schedule in one timezone, e.g. mon 09:00 Europe/Warsaw."""
    return CronTrigger(
        day_of_week=schedule.day_of_week, hour=schedule.at.hour, minute=schedule.at.minute, timezone=timezone
    )


class Schedules:
    """The scheduler of one Cadence process; any number of processes may run one each."""

    def __init__(self, runtime: jobs.Runtime, tick_seconds: float):
        jobs.configure(runtime)
        runtime.after_delivery.append(self._deliver_again_when_due)
        self.runtime = runtime
        self.tick_seconds = tick_seconds
        self.scheduler = BackgroundScheduler(
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600}
        )
        self._synced: list | None = None
        self._seen: object = None  # the directory's view the jobs were last synced with

    def start(self) -> None:
        self.sync_study_jobs()
        self.scheduler.add_job(
            self._tick,
            IntervalTrigger(seconds=self.tick_seconds, timezone=UTC),
            id=TICK_JOB,
            replace_existing=True,
            next_run_time=datetime.now(UTC),
        )
        for index in range(len(self.runtime.hourly)):
            self.scheduler.add_job(
                jobs.run_hourly,
                IntervalTrigger(hours=1, timezone=UTC),
                args=[index],
                id=f"hourly:{index}",
                replace_existing=True,
            )
        # One standing job that a wake brings forward: a one-shot job under a fixed id races APScheduler's
        # own removal of it after it ran (JobLookupError in the scheduler's thread).
        self.scheduler.add_job(
            jobs.deliver,
            IntervalTrigger(days=1, timezone=UTC),
            id=DELIVER_SOON_JOB,
            replace_existing=True,
            next_run_time=None,
            max_instances=4,  # a wake during a drain: jobs.deliver tells that drain to look again, at once
        )
        self.scheduler.start()
        log.info("scheduler started: due work every %gs", self.tick_seconds)

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def wake(self) -> None:
        """Deliver now rather than at the next tick (after a request enqueued a message)."""
        self._deliver_at(datetime.now(UTC))

    def sync_study_jobs(self) -> None:
        """One cron job per check-in schedule and participant timezone, shared by the studies that have
        them (a thousand studies meeting Monday 09:00 in Warsaw have one), replaced when plans change;
        looked at again only when the studies' people or plans did."""
        view = run_in_session(self.runtime.engine, directory.current)
        if view is self._seen:
            return
        wanted = run_in_session(self.runtime.engine, checkins.checkin_timezones)
        self._seen = view
        if wanted == self._synced:
            return
        current = {job.id for job in self.scheduler.get_jobs() if job.id.startswith("checkin:")}
        keep = set()
        for schedule, timezone, grace in wanted:
            job_id = f"checkin:{schedule}:{timezone}"
            keep.add(job_id)
            self.scheduler.add_job(
                jobs.run_checkin_schedule,
                checkin_trigger(schedule, timezone),
                id=job_id,
                replace_existing=True,
                misfire_grace_time=int(grace.total_seconds()),
                coalesce=True,
            )
        for job_id in current - keep:
            self.scheduler.remove_job(job_id)
        self._synced = wanted

    def _tick(self) -> None:
        try:
            self.sync_study_jobs()
        except Exception:
            log.exception("syncing the study schedules failed")
        jobs.tick()

    def _deliver_again_when_due(self, report: DeliveryReport) -> None:
        # Retry-After and backoff deadlines often fall before the next tick: come back for them then.
        if report.next_due is None:
            return
        # Due times are on the runtime's clock, the scheduler's jobs on the wall clock: compare the waits.
        # (A clock set in the past, as in tests, made a message held for Monday morning look overdue to
        # the wall clock, and delivery came back for it at once, again and again.)
        wait = report.next_due - self.runtime.clock.now()
        if wait < timedelta(seconds=self.tick_seconds):
            self._deliver_at(datetime.now(UTC) + max(wait, timedelta(0)))

    def _deliver_at(self, moment: datetime) -> None:
        if not self.scheduler.running:
            return
        try:
            job = self.scheduler.get_job(DELIVER_SOON_JOB)
            if job is not None and (job.next_run_time is None or moment < job.next_run_time):
                job.modify(next_run_time=moment)
        except JobLookupError:
            pass  # the scheduler is shutting down: the next start delivers what is due
