"""Weekly check-ins: the prompt goes out at the plan's schedule, in each participant's own timezone.

A prompt is an outbox row keyed by study, ISO week and person (`checkin:ACME-201:2026-W48:raj`),
so whoever notices that it is due — the schedule's job on time, the tick after a restart, a second
instance — enqueues the same row, and it is sent once. A prompt older than the grace is not sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import directory, outbox
from bot.models import Study
from bot.replies import Notice
from bot.timing import DAYS, Schedule, parse_duration, parse_schedule

DEFAULT_GRACE = timedelta(hours=12)


@dataclass(frozen=True)
class CheckinPlan:
    schedule: Schedule
    participants: tuple[str, ...]
    questions: tuple[str, ...]
    skip: frozenset[date]
    grace: timedelta


def checkin_plan(study: Study) -> CheckinPlan | None:
    """The study's check-in settings from its applied plan, or None when it has none."""
    config = ((study.plan or {}).get("cadence") or {}).get("checkin")
    if not config or not config.get("schedule"):
        return None
    grace = config.get("grace")
    return CheckinPlan(
        schedule=parse_schedule(config["schedule"]),
        participants=tuple(config.get("participants") or ()),
        questions=tuple(config.get("questions") or ()),
        skip=frozenset(date.fromisoformat(d) for d in config.get("skip") or ()),
        grace=parse_duration(grace).as_timedelta() if grace else DEFAULT_GRACE,
    )


def last_occurrence(schedule: Schedule, zone: ZoneInfo, now: datetime) -> datetime:
    """The latest scheduled moment at or before `now`, in `zone` (daylight saving included)."""
    local_now = now.astimezone(zone)
    for days_back in range(8):
        day = local_now.date() - timedelta(days=days_back)
        if DAYS[day.weekday()] not in schedule.days:
            continue
        moment = datetime.combine(day, schedule.at, tzinfo=zone)
        if moment <= local_now:
            return moment
    raise ValueError(f"schedule {schedule} has no day")


def week_of(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def prompt_key(study_key: str, week: str, handle: str) -> str:
    return f"checkin:{study_key}:{week}:{handle}"


def enqueue_due_prompts(session: Session, *, now: datetime, study_key: str | None = None) -> int:
    """Enqueue the prompts whose local time has come, within the grace; returns how many are new."""
    view = directory.current(session)
    new = 0
    for study_view in view.studies.values():
        if study_key and study_view.key != study_key:
            continue
        study = session.get(Study, study_view.id)
        plan = checkin_plan(study) if study else None
        if plan is None:
            continue
        for handle in plan.participants:
            person = study_view.people.get(handle)
            if person is None:
                continue
            moment = last_occurrence(plan.schedule, ZoneInfo(person.timezone), now)
            if now - moment > plan.grace or moment.date() in plan.skip:
                continue
            week = week_of(moment)
            notice = Notice(
                "checkin_prompt",
                {
                    "study": study_view.key,
                    "study_name": study_view.name,
                    "channel": study_view.channel,
                    "week": week,
                    "name": person.name,
                    "questions": list(plan.questions),
                },
            )
            new += outbox.enqueue(
                session,
                key=prompt_key(study_view.key, week, handle),
                to=outbox.Destination.person(person.id),
                notice=notice,
                now=now,
                study_id=study_view.id,
                due_at=moment,
            )
    return new


def checkin_timezones(session: Session) -> list[tuple[str, Schedule, str, timedelta]]:
    """Every (study, schedule, timezone, grace) a check-in fires in: one scheduler job each."""
    view = directory.current(session)
    found = []
    for study_view in view.studies.values():
        study = session.get(Study, study_view.id)
        plan = checkin_plan(study) if study else None
        if plan is None:
            continue
        zones = sorted({study_view.people[h].timezone for h in plan.participants if h in study_view.people})
        found.extend((study_view.key, plan.schedule, zone, plan.grace) for zone in zones)
    return found
