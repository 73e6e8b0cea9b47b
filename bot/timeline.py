"""The study's timeline: when it began (the plan's `study.start`, else the day its plan was first applied)
and when it ends (`study.end`, the last day of the study, if the plan gives one).

Reports, reviews, KPIs and their trends cover nothing before the start. Cadence's own cadence (check-ins,
the pulse, the reminders, chases and asks it starts) runs from the start to the end: after the end only
lookups are answered, and the close-out review is posted once (bot/partnership.py).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col

from bot.models import OutboxMessage, Study

# What Cadence sends of its own cadence: what it would still send of these after the end is dropped.
# Answers to what people do (a question routed, an escalation climbing, minutes posted) are not cadence.
CADENCE_KINDS = (
    "checkin_prompt",
    "checkin_reminder",
    "pulse_request",
    "pulse_reminder",
    "action_reminder",
    "minutes_chase",
    "minutes_chase_admins",
    "milestone_ask",
    "milestone_silent",
    "ownership_review",
    "ownership_unconfirmed",
    "report",
    "report_chart",
)


def start_day(row: Study) -> date:
    """The study's first day: the plan's `study.start`, else the day (study time) it was first applied."""
    given = ((row.plan or {}).get("study") or {}).get("start")
    if given:
        return date.fromisoformat(given)
    return row.created_at.astimezone(ZoneInfo(row.timezone)).date()


def end_day(row: Study) -> date | None:
    """The study's last day, when the plan gives one."""
    given = ((row.plan or {}).get("study") or {}).get("end")
    return date.fromisoformat(given) if given else None


def began(row: Study) -> datetime:
    """The moment the study began: midnight of its first day, in the study's timezone."""
    return datetime.combine(start_day(row), time(0), tzinfo=ZoneInfo(row.timezone))


def ends(row: Study) -> datetime | None:
    """The moment the study ends: the midnight after its last day, in the study's timezone."""
    last = end_day(row)
    if last is None:
        return None
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=ZoneInfo(row.timezone))


def is_over(row: Study, now: datetime) -> bool:
    end = ends(row)
    return end is not None and now >= end


def _cadence_starts(row: Study) -> datetime | None:
    """When the cadence starts: the plan's `study.start`. Without one the study began when its plan was
    first applied, and the cadence runs from whenever that was."""
    return began(row) if ((row.plan or {}).get("study") or {}).get("start") else None


def in_progress(row: Study, now: datetime) -> bool:
    """Whether Cadence runs the study's cadence at `now`: from its start to its end."""
    starts = _cadence_starts(row)
    return (starts is None or starts <= now) and not is_over(row, now)


def within(row: Study, moment: datetime | None) -> datetime | None:
    """A next moment of the cadence as the timeline allows it: not before the start, none after the end."""
    if moment is None or is_over(row, moment):
        return None
    starts = _cadence_starts(row)
    return moment if starts is None else max(moment, starts)


def since_start(row: Study, start: datetime) -> datetime:
    """The start of a period a report covers, moved up to the study's start when it lies before it."""
    return max(start, began(row))


def drop_cadence_after_end(session: Session, row: Study) -> int:
    """Cancel what the study's cadence still has queued for after its end (a reminder queued before it)."""
    end = ends(row)
    if end is None:
        return 0
    dropped = session.exec(  # type: ignore[call-overload]
        update(OutboxMessage)
        .where(
            col(OutboxMessage.study_id) == row.id,
            col(OutboxMessage.state) == "pending",
            col(OutboxMessage.due_at) >= end,
            col(OutboxMessage.notice_kind).in_(CADENCE_KINDS),
        )
        .values(state="cancelled", last_error="the study had ended")
    )
    return dropped.rowcount
