"""A study in simulated time: the live bot's tick, check-in schedules and outbox, with a clock that jumps
from one due moment to the next and a script of what people type.

Nothing here is a model of Cadence: the same jobs run as under `cadence serve` (schedules.jobs), the
check-in schedules fire by the same APScheduler triggers, and messages leave through the outbox into
whichever Notifier the composition root gave the runtime (a recorder, for `cadence simulate`). What is
simulated is only time, and the people, who say nothing unless the script has them type a command.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import calendars, checkins, due
from bot.calendars import WorkingCalendar
from bot.clock import ManualClock
from bot.db import run_in_session
from bot.plan import Plan
from schedules import jobs
from schedules.scheduler import checkin_trigger

_SCRIPT_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{1,2}:\d{2})\s+@(\S+)\s+(/\S.*)$")


@dataclass(frozen=True)
class ScriptLine:
    number: int
    at: datetime  # UTC
    handle: str
    command: str  # as typed in the console, e.g. "/escalate high Freezer failure"


class ScriptProblem(Exception):
    """A script line that cannot be run, with its number and the reason in plain words."""

    def __init__(self, number: int, reason: str):
        super().__init__(f"line {number}: {reason}")
        self.number = number
        self.reason = reason


@dataclass(frozen=True)
class Simulated:
    received: list  # what each recipient got, in time order (the recorder's records)
    moments: int  # how many moments the clock stopped at


NOT_STARTED_BY_ANYONE_ELSE = {"reply", "home"}  # a command's own answer, an App Home: not messages to count


@dataclass(frozen=True)
class PersonStats:
    """What one person received directly (DMs, digests, files; not answers to their own commands)."""

    to: str  # @handle
    messages: int
    per_week: float
    busiest_week: int  # the most in one week of the run (7 days from its start)
    most_at_once: int  # the most at one moment (one minute)
    outside_hours: int  # outside their own working calendar: hours, days, public and study holidays

    def as_json(self) -> dict[str, object]:
        return {
            "to": self.to,
            "messages": self.messages,
            "per_week": self.per_week,
            "busiest_week": self.busiest_week,
            "most_at_once": self.most_at_once,
            "outside_working_hours": self.outside_hours,
        }


def working_calendars(plan: Plan) -> dict[str, WorkingCalendar]:
    """Each person's working calendar as the plan gives it (without `/away`, which a run's script sets)."""
    return {
        handle: calendars.from_spec(
            person.timezone, calendars.calendar_spec(vars(person), plan.data["study"])
        )
        for handle, person in plan.people.items()
    }


def person_stats(
    received: Iterable, *, calendars_of: dict[str, WorkingCalendar], start: datetime, days: int
) -> list[PersonStats]:
    """Per person of the plan (`calendars_of` by handle), from what `Simulation.run` recorded (records
    with at, to, kind)."""
    mine: dict[str, list] = {f"@{handle}": [] for handle in calendars_of}
    for record in received:
        if record.to in mine and record.kind not in NOT_STARTED_BY_ANYONE_ELSE:
            mine[record.to].append(record)
    return [_stats_of(to, records, calendars_of[to[1:]], start, days) for to, records in mine.items()]


def _stats_of(to: str, records: list, calendar: WorkingCalendar, start: datetime, days: int) -> PersonStats:
    moments = Counter(r.at.replace(second=0, microsecond=0) for r in records)
    weeks = Counter((r.at - start) // timedelta(days=7) for r in records)
    outside = sum(not calendar.working_at(r.at) for r in records)
    return PersonStats(
        to,
        len(records),
        round(len(records) * 7 / days, 1),
        max(weeks.values(), default=0),
        max(moments.values(), default=0),
        outside,
    )


class DueWorkFailed(Exception):
    """Cadence's own due work raised while the study ran (logged by the jobs, which carry on)."""


def parse_script(text: str, *, zones: dict[str, str], start: datetime, end: datetime) -> list[ScriptLine]:
    """`YYYY-MM-DD HH:MM @handle /command …` a line, in that person's own time. A line starting with `#`
    is a comment, and so is the rest of a line after ` # ` (a `#` inside words, as in `issue #5`, is text)."""
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = "" if raw.lstrip().startswith("#") else raw.split(" # ", 1)[0].strip()
        if not line:
            continue
        match = _SCRIPT_LINE.match(line)
        if match is None:
            raise ScriptProblem(number, "expected 'YYYY-MM-DD HH:MM @handle /command …'")
        when, handle, command = match.groups()
        if handle not in zones:
            raise ScriptProblem(number, f"'@{handle}' is not in the plan")
        try:
            local = datetime.strptime(when, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(zones[handle]))
        except ValueError:
            raise ScriptProblem(number, f"'{when}' is not a date and time") from None
        if local < start:
            raise ScriptProblem(number, f"{when} in @{handle}'s time is before the simulation starts")
        if local >= end:
            raise ScriptProblem(number, f"{when} in @{handle}'s time is after the simulation ends")
        lines.append(ScriptLine(number, local.astimezone(UTC), handle, command.strip()))
    return sorted(lines, key=lambda s: (s.at, s.number))


class Simulation:
    """Runs `jobs` (already configured with this clock and a recording notifier) from `start` to `end`."""

    def __init__(self, runtime: jobs.Runtime, clock: ManualClock, run_line: Callable[[ScriptLine], None]):
        self.runtime = runtime
        self.clock = clock
        self.run_line = run_line  # raises ScriptProblem when the command fails
        self.moments = 0

    def run(
        self,
        start: datetime,
        end: datetime,
        script: Iterable[ScriptLine] = (),
        *,
        max_step: timedelta | None = None,
    ) -> None:
        """Move the clock from each due moment to the next (and at least every `max_step`, as the live
        bot's ticks do: a check that jumping skips nothing), doing at each what the live bot would."""
        jobs.configure(self.runtime)
        pending = sorted(script, key=lambda s: (s.at, s.number))
        fires = self._schedule_fires(start - timedelta(seconds=1))
        failures = _Failures()
        logging.getLogger("cadence").addHandler(failures)
        try:
            moment: datetime | None = start
            while moment is not None and moment < end:
                self.clock.set(moment)
                self.moments += 1
                while pending and pending[0].at <= moment:
                    self.run_line(pending.pop(0))
                if any(at <= moment for at in fires.values()):
                    jobs.run_checkin_schedule()
                fires = self._schedule_fires(moment)
                jobs.tick()
                failures.raise_any(moment)
                following = self._next_moment(moment, pending, fires)
                if max_step is not None:
                    following = min(following or end, moment + max_step)
                moment = following
        finally:
            logging.getLogger("cadence").removeHandler(failures)

    def _next_moment(
        self, now: datetime, pending: list[ScriptLine], fires: dict[str, datetime]
    ) -> datetime | None:
        candidates = [
            run_in_session(self.runtime.engine, due.next_moment, now=now),
            self.runtime.worker.next_due(),
            pending[0].at if pending else None,
            min(fires.values(), default=None),
        ]
        return min((c for c in candidates if c is not None and c > now), default=None)

    def _schedule_fires(self, after: datetime) -> dict[str, datetime]:
        """The next firing of each check-in job (one a schedule and timezone, as the scheduler has)."""
        soonest: dict[str, datetime] = {}
        for schedule, timezone, _grace in run_in_session(self.runtime.engine, checkins.checkin_timezones):
            fire = checkin_trigger(schedule, timezone).get_next_fire_time(None, after + timedelta(seconds=1))
            if fire is not None:
                soonest[f"{schedule}:{timezone}"] = fire
        return soonest


class _Failures(logging.Handler):
    """What the jobs logged as failed while a moment ran: the live bot carries on, a simulation stops."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        reason = f": {record.exc_info[1]!r}" if record.exc_info else ""
        self.messages.append(record.getMessage() + reason)

    def raise_any(self, moment: datetime) -> None:
        if self.messages:
            raise DueWorkFailed(f"at {moment:%Y-%m-%d %H:%M} UTC, {'; '.join(self.messages)}")
