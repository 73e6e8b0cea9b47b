"""Away: a person marks themselves away until a date, optionally naming who covers. /who-owns then
names the cover, check-ins skip them, and every period is kept as a record."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import update
from sqlmodel import Session, col

from bot import audit, directory, ownership
from bot.dates import in_words, read_date
from bot.directory import Away, Contact
from bot.errors import BadCommand
from bot.models import AwayPeriod, Study, utcnow
from bot.studies import Requester, typists_day

_SET = re.compile(
    r"^(?:until\s+)?(?P<until>\S.*?)(?:\s+(?:backup|cover(?:ed by)?)\s+(?P<cover>\S.*))?$", re.I | re.S
)


@dataclass(frozen=True)
class AwaySet:
    until: date
    cover: Contact | None


@dataclass(frozen=True)
class AwayEnded:
    was_away: bool


@dataclass(frozen=True)
class AwayShown:
    away: Away | None
    cover: Contact | None


def handle_away(
    session: Session, *, requester: Requester, text: str, now: datetime
) -> AwaySet | AwayEnded | AwayShown:
    """`/away until <date> [backup @person]`, `/away off`, or `/away` to see where things stand."""
    text = text.strip()
    if not text:
        return show_away(session, requester=requester, now=now)
    if text.casefold() in {"off", "back", "end", "stop"}:
        return end_away(session, requester=requester, now=now)
    match = _SET.match(text)
    if not match:
        raise BadCommand(
            "Say until when you are away.", hint="For example: /away until 2026-12-24 backup @raj"
        )
    return set_away(session, requester=requester, until=match["until"], cover=match["cover"], now=now)


def set_away(
    session: Session, *, requester: Requester, until: str, cover: str | None, now: datetime
) -> AwaySet:
    """Mark the requester away from today until `until` (inclusive), covered by `cover` if named."""
    study = directory.current(session).studies[requester.study_id]
    me = study.people[requester.handle]
    today, month_first = typists_day(session, requester, now)
    last_day = read_date(until, today, month_first=month_first)
    if last_day is None:
        raise BadCommand(
            f"'{until}' is not a date.", hint="For example: /away until Dec 24, or /away until next Friday"
        )
    if last_day < today:
        raise BadCommand(f"{in_words(last_day)} has passed.", hint="Name your last day away, today or later.")
    covering = ownership.resolve_person(session, study_id=study.id, reference=cover) if cover else None
    if covering is not None and covering.id == me.id:
        raise BadCommand("You cannot cover for yourself.", hint="Name someone else, or leave the backup out.")
    _end_open_periods(session, requester, now)
    session.add(
        AwayPeriod(
            study_id=study.id,
            person_id=me.id,
            starts_on=today,
            until=last_day,
            cover_id=covering.id if covering else None,
            set_by=requester.actor,
            created_at=now,
        )
    )
    audit.record(
        session,
        action="away.set",
        actor=requester.actor,
        study_id=study.id,
        subject=me.handle,
        detail={"until": last_day.isoformat(), "cover": covering.handle if covering else None},
    )
    _changed(session, requester)
    return AwaySet(last_day, covering)


def end_away(session: Session, *, requester: Requester, now: datetime) -> AwayEnded:
    """The requester is back: their open away periods end now."""
    ended = _end_open_periods(session, requester, now)
    if ended:
        audit.record(
            session,
            action="away.ended",
            actor=requester.actor,
            study_id=requester.study_id,
            subject=requester.handle,
        )
        _changed(session, requester)
    return AwayEnded(bool(ended))


def show_away(session: Session, *, requester: Requester, now: datetime) -> AwayShown:
    study = directory.current(session).studies[requester.study_id]
    away = study.away_on(requester.handle, now)
    cover = study.people.get(away.cover) if away and away.cover else None
    return AwayShown(away, cover)


def _end_open_periods(session: Session, requester: Requester, now: datetime) -> int:
    result = session.exec(  # type: ignore[call-overload]
        update(AwayPeriod)
        .where(col(AwayPeriod.person_id) == requester.person_id, col(AwayPeriod.ended_at).is_(None))
        .values(ended_at=now)
    )
    return result.rowcount


def _changed(session: Session, requester: Requester) -> None:
    study = session.get(Study, requester.study_id)
    assert study is not None
    study.revision += 1
    study.updated_at = utcnow()
    directory.changed(session)
