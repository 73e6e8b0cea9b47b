"""Calendar feeds (iCalendar, RFC 5545): every date Cadence knows, in the calendar people already read.

Each person has a private feed — the meetings they attend, every milestone's due date (and its forecast
while it differs), their own action items' due dates and the days of the weekly check-in they are asked
in (their away weeks left out) — and may have the study's feed: every meeting, milestone, dated action
item and check-in day. A feed is served at `<CADENCE_PUBLIC_URL>/calendar/<token>.ics`; Cadence keeps only
a hash of the token, and `/cadence calendar reset` revokes it.

Each event keeps its UID (`<kind>-<id>@<study>.cadence`) whatever happens to it, so a calendar app updates
it in place. What an event last said is kept as a fingerprint (`calendar_event`): when it says something
else (a date moved, a meeting's time changed, an action done), it is served with SEQUENCE one higher, and
its DTSTAMP and LAST-MODIFIED are the moment Cadence first served the change. A done action item and a
done or accepted milestone stay in the calendar, marked so in their title (they happened: the calendar
keeps the record); a milestone's forecast disappears once the milestone is done, and an action item
dropped by a corrected set of minutes disappears.

This module is not bot/calendars.py, which is each person's *working* calendar (hours, holidays, away).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import update
from sqlmodel import Session, col, select

from bot import audit, checkins, directory, outbox, timeline
from bot.db import insert_once
from bot.directory import Contact, StudyView
from bot.errors import WebNotServed
from bot.models import ActionItem, CalendarEvent, CalendarToken, Milestone, OutboxMessage, Person, Study
from bot.replies import Attachment, Notice
from bot.studies import Requester
from bot.timing import DAYS, parse_duration, parse_schedule

PERSON, STUDY = "person", "study"
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32): 256 random bits
ICS = "text/calendar; charset=utf-8"
PRODID = "-//Cadence//Communication plan calendar//EN"
_BYDAY = {day: day[:2].upper() for day in DAYS}  # mon -> MO
TIMEZONE_YEARS = 10  # a VTIMEZONE's transitions from the study's start: studies run for years, not decades
_LONGEST_AWAY = 800  # days of an away period looked at for check-in days (an away of years is rare)


@dataclass(frozen=True)
class CalendarAddressSent:
    """A feed address was made and is on its way by direct message."""

    scope: str
    study_key: str
    reset: bool  # the earlier address of that feed stopped working


@dataclass(frozen=True)
class CalendarAddressHeld:
    """The person has a working address already; it was sent to them by direct message then."""

    scope: str
    study_key: str
    since: datetime


@dataclass(frozen=True)
class FeedEvent:
    """One event as a feed describes it, before it is written as iCalendar."""

    uid: str
    summary: str
    start: date | datetime  # a date: an all-day event
    end: date | datetime
    description: str = ""
    weekly_on: tuple[str, ...] = ()  # repeats weekly on these days (mon, thu, …)
    until: date | None = None
    skipped: tuple[date | datetime, ...] = ()  # EXDATE
    free: bool = False  # shown free (TRANSP:TRANSPARENT): a done item, a day to remember
    categories: tuple[str, ...] = ()


# --- the addresses ----------------------------------------------------------------------------------


def feed_address(web_url: str, token: str) -> str:
    """Where the feed of `token` is fetched from."""
    return f"{web_url.rstrip('/')}/calendar/{token}.ics"


def _hashed(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def send_address(
    session: Session, *, requester: Requester, scope: str, reset: bool, now: datetime, web_url: str | None
) -> CalendarAddressSent | CalendarAddressHeld:
    """`/cadence calendar [study] [reset]`: a new address of the person's (or the study's) feed by direct
    message; with `reset`, the one they had stops working. Without `reset`, a person who has one already
    is told when it came: only its hash is kept here, so Cadence does not show it again."""
    if not web_url:
        raise WebNotServed("Calendar feeds are")
    held = _active(session, requester.person_id, scope)
    if held and not reset:
        return CalendarAddressHeld(scope, requester.study_key, held[0].created_at)
    for row in held:
        row.revoked_at = now
        session.add(row)
    token = secrets.token_urlsafe(32)
    row = CalendarToken(
        study_id=requester.study_id,
        person_id=requester.person_id,
        scope=scope,
        token_hash=_hashed(token),
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        action="calendar.address_reset" if held else "calendar.address_made",
        actor=requester.actor,
        study_id=requester.study_id,
        subject=f"{requester.handle}:{scope}",
        detail={"scope": scope, "revoked": len(held)},
    )
    outbox.enqueue(
        session,
        key=f"calendar:{requester.study_key}:{requester.handle}:{scope}:{row.id}",
        to=outbox.Destination.person(requester.person_id),
        now=now,
        study_id=requester.study_id,
        at_once=True,  # the address they asked for
        notice=Notice(
            "calendar_address",
            {
                "url": feed_address(web_url, token),
                "scope": scope,
                "study_key": requester.study_key,
                "study_name": requester.study_name,
                "reset": bool(held),
            },
        ),
    )
    return CalendarAddressSent(scope, requester.study_key, reset=bool(held))


def _active(session: Session, person_id: int, scope: str) -> list[CalendarToken]:
    query = select(CalendarToken).where(
        CalendarToken.person_id == person_id,
        CalendarToken.scope == scope,
        col(CalendarToken.revoked_at).is_(None),
    )
    return list(session.exec(query.order_by(col(CalendarToken.id))))


# --- serving ----------------------------------------------------------------------------------------


def feed_for_token(session: Session, *, token: str, now: datetime) -> bytes | None:
    """The feed the token opens, as iCalendar bytes; None for a token that is unknown, revoked, or of
    someone no longer in the study's plan (the same None for each: nothing tells them apart)."""
    if not TOKEN.fullmatch(token):
        return None
    row = session.exec(
        select(CalendarToken).where(
            CalendarToken.token_hash == _hashed(token), col(CalendarToken.revoked_at).is_(None)
        )
    ).first()
    study_row = session.get(Study, row.study_id) if row else None
    study = directory.current(session).studies.get(row.study_id) if row else None
    person = study.person(row.person_id) if study else None
    if row is None or study_row is None or study is None or person is None:
        return None
    if row.scope == STUDY:
        events = study_events(session, study_row, study)
        name = f"{study.key} (Cadence)"
    else:
        events = person_events(session, study_row, study, person)
        name = f"{study.key}: {person.name} (Cadence)"
    first = timeline.start_day(study_row)
    span = (date(first.year, 1, 1), date(first.year + TIMEZONE_YEARS, 1, 1))
    return render(name, events, _stamps(session, study.id, events, now), zone=study.timezone, span=span)


def person_events(session: Session, row: Study, study: StudyView, person: Contact) -> list[FeedEvent]:
    """What the person's own feed shows: their meetings, the milestones, their actions, their check-ins."""
    events = [e for m in _meetings(row) if _attends(m, person) for e in _meeting_events(row, study, m)]
    events += _milestone_events(session, row, study)
    events += _action_events(session, study, owner_id=person.id)
    plan = checkins.checkin_plan(row)
    if plan is not None and person.handle in plan.participants:
        events += _checkin_events(session, row, study, plan, person)
    return events


def study_events(session: Session, row: Study, study: StudyView) -> list[FeedEvent]:
    """What the study's feed shows: every meeting, milestone, dated action item and check-in day."""
    events = [e for m in _meetings(row) for e in _meeting_events(row, study, m)]
    events += _milestone_events(session, row, study)
    events += _action_events(session, study, owner_id=None)
    plan = checkins.checkin_plan(row)
    if plan is not None:
        events += _checkin_events(session, row, study, plan, None)
    return events


# --- the events -------------------------------------------------------------------------------------


def _uid(kind: str, ident: str | int, study: StudyView) -> str:
    return f"{kind}-{ident}@{_slug(study.key)}.cadence"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "x"


def _meetings(row: Study) -> list[dict]:
    return [m for m in (row.plan or {}).get("meetings") or [] if m.get("name") and m.get("schedule")]


def _attends(meeting: dict, person: Contact) -> bool:
    """A meeting's attendees and its note taker; a meeting naming no attendees is everyone's."""
    attendees = meeting.get("attendees") or []
    return not attendees or person.handle in attendees or meeting.get("note_taker") == person.handle


def _first_day(days: Iterable[str], start: date) -> date:
    """The first of the schedule's days on or after `start`."""
    wanted = {DAYS.index(d) for d in days}
    return next(
        start + timedelta(days=n) for n in range(7) if (start + timedelta(days=n)).weekday() in wanted
    )


def _meeting_events(row: Study, study: StudyView, meeting: dict) -> list[FeedEvent]:
    """The meeting as one repeating event at its time in the study's timezone, its `skip:` dates out."""
    schedule = parse_schedule(meeting["schedule"])
    zone = ZoneInfo(study.timezone)
    first = _first_day(schedule.days, timeline.start_day(row))
    length = (
        parse_duration(meeting["duration"]).as_timedelta() if meeting.get("duration") else timedelta(hours=1)
    )
    starts = datetime.combine(first, schedule.at, tzinfo=zone)
    skipped = sorted(date.fromisoformat(d) for d in meeting.get("skip") or [])
    people = [study.people[h].name for h in meeting.get("attendees") or [] if h in study.people]
    note_taker = study.people.get(meeting.get("note_taker") or "")
    lines = [f"Attendees: {', '.join(people)}." if people else "Attendees: the study team."]
    if note_taker:
        lines.append(f"Minutes: {note_taker.name} posts them with /minutes.")
    if skipped:
        lines.append(f"Not held on {', '.join(d.isoformat() for d in skipped)}.")
    return [
        FeedEvent(
            uid=_uid("meeting", _slug(meeting["name"]), study),
            summary=meeting["name"],
            start=starts,
            end=starts + length,
            description="\n".join(lines),
            weekly_on=schedule.days,
            until=timeline.end_day(row),
            skipped=tuple(datetime.combine(d, schedule.at, tzinfo=zone) for d in skipped if d >= first),
            categories=("Meeting",),
        )
    ]


def _milestone_events(session: Session, row: Study, study: StudyView) -> list[FeedEvent]:
    """Each milestone on its due date, and its forecast on another date while it is open."""
    rows = {m.key: m for m in session.exec(select(Milestone).where(Milestone.study_id == study.id))}
    events = []
    for spec in (row.plan or {}).get("milestones") or []:
        if not spec.get("name") or not spec.get("due"):
            continue
        name, due_on = spec["name"], date.fromisoformat(spec["due"])
        state = rows.get(name.casefold())
        status = state.status if state else "on-track"
        owner = study.people.get(spec.get("owner") or "")
        owned = f"Owner: {owner.name}." if owner else "No owner in the plan."
        ident = _slug(name)
        shown = {"accepted": "Accepted: ", "done": "Done, awaiting acceptance: "}.get(status, "Due: ")
        events.append(
            FeedEvent(
                uid=_uid("milestone", ident, study),
                summary=f"{shown}{name}",
                start=due_on,
                end=due_on + timedelta(days=1),
                description=f"Milestone of {study.key}. {owned} Status: {status}. /milestones lists them.",
                free=status in {"done", "accepted"},
                categories=("Milestone",),
            )
        )
        forecast = state.forecast if state else None
        if forecast and forecast != due_on and status not in {"done", "accepted"}:
            events.append(
                FeedEvent(
                    uid=_uid("forecast", ident, study),
                    summary=f"Forecast: {name} (due {due_on:%d %b %Y})",
                    start=forecast,
                    end=forecast + timedelta(days=1),
                    description=f"{owned} Status: {status}. The forecast its owner last gave.",
                    categories=("Milestone",),
                )
            )
    return events


def _action_events(session: Session, study: StudyView, *, owner_id: int | None) -> list[FeedEvent]:
    """Dated action items (one person's, or all of them) on their due date; a done one says so."""
    query = select(ActionItem).where(
        ActionItem.study_id == study.id,
        col(ActionItem.due_on).is_not(None),
        col(ActionItem.state).in_(("open", "done")),
    )
    if owner_id is not None:
        query = query.where(ActionItem.owner_id == owner_id)
    names = {p.id: p.name for p in _everyone(session, study)}
    events = []
    for item in session.exec(query.order_by(col(ActionItem.id))):
        assert item.due_on is not None and item.id is not None
        owner = names.get(item.owner_id, "needs an owner") if item.owner_id else "needs an owner"
        done = item.state == "done"
        events.append(
            FeedEvent(
                uid=_uid("action", item.id, study),
                summary=f"{'Done: ' if done else ''}A{item.id} {item.text} ({owner})",
                start=item.due_on,
                end=item.due_on + timedelta(days=1),
                description=f"Action item {study.key}-A{item.id}, due {item.due_on:%a %d %b %Y}. "
                + (f"Done by {item.done_by}." if done else f"/actions done A{item.id} when it is done."),
                free=done,
                categories=("Action item",),
            )
        )
    return events


def _everyone(session: Session, study: StudyView) -> list[Person]:
    """Everyone the study ever had: an action's owner may have left the plan since."""
    return list(session.exec(select(Person).where(Person.study_id == study.id)))


def _checkin_events(
    session: Session, row: Study, study: StudyView, plan: checkins.CheckinPlan, person: Contact | None
) -> list[FeedEvent]:
    """The check-in days as one repeating all-day event: the skipped days out and, in a person's own feed,
    the days they are away (Cadence does not ask them then)."""
    first = _first_day(plan.schedule.days, timeline.start_day(row))
    skipped = set(checkins.skipped_days(session, study.id, plan))
    if person is not None:
        skipped |= _away_days(study, person, plan.schedule.days)
    at = f"{plan.schedule.at:%H:%M}"
    when = (
        f"Cadence asks at {at} your time" if person else f"Cadence asks each participant at {at} their time"
    )
    return [
        FeedEvent(
            uid=_uid("checkin", person.handle if person else "study", study),
            summary=f"Weekly check-in ({study.key})",
            start=first,
            end=first + timedelta(days=1),
            description=f"{when}; answer in the direct message, or with /checkin answer.",
            weekly_on=plan.schedule.days,
            until=timeline.end_day(row),
            skipped=tuple(sorted(d for d in skipped if d >= first)),
            free=True,  # a day's reminder, not a meeting: it does not make anyone busy
            categories=("Check-in",),
        )
    ]


def _away_days(study: StudyView, person: Contact, days: tuple[str, ...]) -> set[date]:
    """The schedule's days within the person's away periods."""
    wanted = {DAYS.index(d) for d in days}
    found: set[date] = set()
    for away in study.away:
        if away.handle != person.handle:
            continue
        span = min((away.until - away.starts_on).days, _LONGEST_AWAY)
        days_away = (away.starts_on + timedelta(days=n) for n in range(span + 1))
        found |= {d for d in days_away if d.weekday() in wanted}
    return found


# --- the minutes' e-mail ----------------------------------------------------------------------------


@outbox.attaches_to_email("minutes_actions")
def new_due_dates(session: Session, row: OutboxMessage) -> tuple[Attachment, ...]:
    """The e-mail telling an owner of their new action items carries those with a due date as an .ics
    (METHOD:PUBLISH): the feed's own events, UIDs and SEQUENCE, so a calendar that imports it and later
    subscribes to the feed shows each once."""
    study = directory.current(session).studies.get(row.study_id or -1)
    study_row = session.get(Study, row.study_id) if row.study_id is not None else None
    if study is None or study_row is None:
        return ()
    wanted = {_uid("action", a["id"], study) for a in row.payload.get("actions") or [] if a.get("id")}
    events = [e for e in _action_events(session, study, owner_id=None) if e.uid in wanted]
    if not events:
        return ()
    first = timeline.start_day(study_row)
    span = (date(first.year, 1, 1), date(first.year + TIMEZONE_YEARS, 1, 1))
    stamps = _stamps(session, study.id, events, row.created_at)
    ics = render(
        f"{study.key}: action items", events, stamps, zone=study.timezone, span=span, method="PUBLISH"
    )
    attachment = Attachment(
        filename=f"{_slug(study.key)}-action-items.ics",
        content_type="text/calendar; method=PUBLISH",
        content=ics,
        title="Your new due dates, for your calendar",
    )
    return (attachment,)


# --- writing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stamp:
    sequence: int
    changed_at: datetime


def _component(event: FeedEvent) -> icalendar.Event:
    """The event's own content: what its fingerprint covers (no SEQUENCE, no stamps)."""
    component = icalendar.Event()
    component.add("uid", event.uid)
    component.add("summary", event.summary)
    component.add("dtstart", event.start)
    component.add("dtend", event.end)
    if event.description:
        component.add("description", event.description)
    if event.weekly_on:
        rule: dict = {"freq": "weekly", "byday": [_BYDAY[d] for d in event.weekly_on]}
        if event.until is not None:
            rule["until"] = _until(event)
        component.add("rrule", rule)
    if event.skipped:
        component.add("exdate", list(event.skipped))
    component.add("status", "CONFIRMED")
    component.add("transp", "TRANSPARENT" if event.free else "OPAQUE")
    if event.categories:
        component.add("categories", list(event.categories))
    return component


def _until(event: FeedEvent) -> date | datetime:
    """The last day's end as RRULE's UNTIL: a date for an all-day event, UTC for a timed one (RFC 5545)."""
    assert event.until is not None
    if not isinstance(event.start, datetime):
        return event.until
    last = datetime.combine(event.until, time(23, 59, 59), tzinfo=event.start.tzinfo)
    return last.astimezone(UTC)


def _fingerprint(event: FeedEvent) -> str:
    return hashlib.sha256(_component(event).to_ical()).hexdigest()


def _stamps(session: Session, study_id: int, events: list[FeedEvent], now: datetime) -> dict[str, Stamp]:
    """Each event's SEQUENCE and the moment it last changed: kept per study, so a person's feed and the
    study's agree. A changed event goes up by one, once, whoever fetches it first (the update holds only
    while the old fingerprint is still there)."""
    known = {e.uid: e for e in session.exec(select(CalendarEvent).where(CalendarEvent.study_id == study_id))}
    for event in events:
        fingerprint = _fingerprint(event)
        seen = known.get(event.uid)
        if seen is None:
            values = {
                "study_id": study_id,
                "uid": event.uid,
                "fingerprint": fingerprint,
                "sequence": 0,
                "changed_at": now,
            }
            insert_once(session, CalendarEvent, values, unique=("study_id", "uid"))
        elif seen.fingerprint != fingerprint:
            session.execute(
                update(CalendarEvent)
                .where(col(CalendarEvent.id) == seen.id, col(CalendarEvent.fingerprint) == seen.fingerprint)
                .values(fingerprint=fingerprint, sequence=CalendarEvent.sequence + 1, changed_at=now)
            )
    session.flush()
    session.expire_all()
    rows = session.exec(select(CalendarEvent).where(CalendarEvent.study_id == study_id))
    return {r.uid: Stamp(r.sequence, r.changed_at) for r in rows}


def render(
    name: str,
    events: list[FeedEvent],
    stamps: dict[str, Stamp],
    *,
    zone: str,
    span: tuple[date, date],
    method: str | None = None,
) -> bytes:
    """The feed as iCalendar: the events with their SEQUENCE, DTSTAMP and LAST-MODIFIED, and a VTIMEZONE
    for every zone a timed event names, with its rules over the years of `span`."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", zone)
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for event in events:
        component = _component(event)
        stamp = stamps[event.uid]
        component.add("sequence", stamp.sequence)
        component.add("dtstamp", stamp.changed_at.astimezone(UTC))
        component.add("last-modified", stamp.changed_at.astimezone(UTC))
        calendar.add_component(component)
    calendar.add_missing_timezones(first_date=span[0], last_date=span[1])
    return calendar.to_ical()
