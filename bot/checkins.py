"""Weekly check-ins: a round per study and ISO week, prompts at each participant's local time,
one reminder to the silent, a digest at closing that names who answered and who did not.

Everything due lives in the database: a round row says who is prompted when and when it closes,
and every message is an outbox row under a key (`checkin:ACME-201:2026-W48:raj`). Whoever notices
that something is due — a schedule's job on time, the tick after a restart, a second instance —
does the same idempotent work, so each round opens once and each message goes out once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot import audit, calendars, directory, due, minutes, outbox, timeline
from bot.dates import in_words, read_date
from bot.db import insert_once
from bot.directory import Contact, StudyView
from bot.errors import BadCommand, NotAnAdmin
from bot.models import CheckinAnswer, CheckinRound, CheckinSkip, OutboxMessage, Study
from bot.replies import Notice
from bot.studies import Requester, typists_day
from bot.timing import DAYS, Duration, Schedule, add_duration, parse_duration, parse_schedule

DEFAULT_GRACE = timedelta(hours=12)
DEFAULT_CLOSE_AFTER = parse_duration("1d")
SNOOZE = timedelta(hours=2)
STATUSES = {"on_track": "On track", "at_risk": "At risk", "off_track": "Off track"}
_STATUS_WORDS = {
    "on track": "on_track", "on_track": "on_track", "green": "on_track", "ok": "on_track",
    "at risk": "at_risk", "at_risk": "at_risk", "amber": "at_risk", "yellow": "at_risk",
    "off track": "off_track", "off_track": "off_track", "red": "off_track",
}  # fmt: skip


@dataclass(frozen=True)
class CheckinPlan:
    schedule: Schedule
    participants: tuple[str, ...]
    questions: tuple[str, ...]
    skip: frozenset[date]
    grace: timedelta
    remind_after: Duration | None
    close_after: Duration


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
        remind_after=parse_duration(config["remind_after"]) if config.get("remind_after") else None,
        close_after=parse_duration(config["close_after"])
        if config.get("close_after")
        else DEFAULT_CLOSE_AFTER,
    )


def week_of(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def round_day(schedule: Schedule, week: str) -> date:
    """The day a week's round opens: the schedule's first day in that ISO week."""
    year, number = (int(part) for part in week.split("-W"))
    return date.fromisocalendar(year, number, DAYS.index(schedule.days[0]) + 1)


def prompt_time(schedule: Schedule, week: str, zone: str) -> datetime:
    """When a person in `zone` is prompted in `week`: the schedule's time on the round's day, locally."""
    return datetime.combine(round_day(schedule, week), schedule.at, tzinfo=ZoneInfo(zone))


def key(kind: str, study_key: str, week: str, handle: str | None = None, *more: object) -> str:
    """The idempotency keys of the check-in's messages: `checkin:ACME-201:2026-W48:raj`."""
    return ":".join(str(part) for part in (kind, study_key, week, handle, *more) if part is not None)


# --- due work: open, remind, close -------------------------------------------------------------


@due.each_study(order=20)
def do_due_work(session: Session, study_view: StudyView, *, now: datetime) -> int:
    """Open the rounds whose time has come, remind the silent, close and digest; returns messages queued.
    Rounds open and reminders go only while the study runs; a round open at its end still closes with its
    digest, so the answers given are not lost."""
    study = session.get(Study, study_view.id)
    plan = checkin_plan(study) if study else None
    queued = 0
    if study is not None and timeline.in_progress(study, now):
        queued += _open_scheduled_rounds(session, study_view, plan, now) if plan is not None else 0
        queued += _remind_the_silent(session, study_view, now)
    return queued + _close_due_rounds(session, study_view, now)


@due.next_for_study(do_due_work)
def next_checkin_work(session: Session, study_view: StudyView, *, now: datetime) -> datetime | None:
    """The next prompt of a round not yet open, reminder to someone silent, or closing."""
    moments: list[datetime] = []
    study = session.get(Study, study_view.id)
    plan = checkin_plan(study) if study else None
    if plan is not None:
        moments += _coming_prompts(session, study_view, plan, now)
    for round_ in _open_rounds(session, study_view.id):
        moments += _coming_reminders(session, study_view, round_, now)
    if study is not None:  # prompts and reminders only while the study runs
        moments = [m for m in (timeline.within(study, m) for m in moments) if m is not None]
    moments += [round_.closes_at for round_ in _open_rounds(session, study_view.id)]
    return min((m for m in moments if m > now), default=None)


def _coming_prompts(session: Session, study: StudyView, plan: CheckinPlan, now: datetime) -> list[datetime]:
    skipped = plan.skip | _skips_from_chat(session, study.id)
    weeks = sorted({week_of(now + timedelta(days=d)) for d in range(-1, 9)})
    return [
        prompt_time(plan.schedule, week, study.people[h].timezone)
        for week in weeks
        if round_day(plan.schedule, week) not in skipped and _round(session, study.id, week) is None
        for h in plan.participants
        if h in study.people
    ]


def _coming_reminders(
    session: Session, study: StudyView, round_: CheckinRound, now: datetime
) -> list[datetime]:
    """When each silent person's reminder may go: past `remind_after`, in their working day, not away."""
    if not round_.remind_after:
        return []
    after = parse_duration(round_.remind_after)
    answered = _answered_handles(session, round_, study)
    moments = []
    for handle, at in round_.prompts.items():
        person = study.people.get(handle)
        if person is None or handle in answered:
            continue
        if outbox.message(session, key("checkin-reminder", study.key, round_.week, handle)) is not None:
            continue
        # Look again when they are next at work (not on a holiday, nor while away).
        calendar = calendars.of(study, person)
        moments.append(calendar.next_working_moment(max(_reminder_due(round_, at, after, calendar), now)))
    return moments


def _weeks_around(now: datetime) -> list[str]:
    # Somewhere on Earth it is already the next day, or still the previous one.
    return sorted({week_of(now + timedelta(days=d)) for d in (-1, 0, 1)})


def _open_scheduled_rounds(session: Session, study: StudyView, plan: CheckinPlan, now: datetime) -> int:
    queued = 0
    skipped = plan.skip | _skips_from_chat(session, study.id)
    for week in _weeks_around(now):
        if round_day(plan.schedule, week) in skipped or _round(session, study.id, week) is not None:
            continue
        people = [study.people[h] for h in plan.participants if h in study.people]
        times = {p.handle: prompt_time(plan.schedule, week, p.timezone) for p in people}
        times = {h: at for h, at in times.items() if not study.away_on(h, at)}  # away: not asked this week
        if not times or min(times.values()) > now:
            continue  # nobody's moment has come yet
        # Someone whose moment passed more than the grace ago (Cadence was down) is left out, not nagged late.
        due = {handle: at for handle, at in times.items() if at >= now - plan.grace}
        if due:
            queued += _open(session, study, plan, week, due, opened_by="schedule", now=now)
    return queued


def _open(
    session: Session,
    study: StudyView,
    plan: CheckinPlan,
    week: str,
    times: dict[str, datetime],
    *,
    opened_by: str,
    now: datetime,
) -> int:
    remind_after = str(plan.remind_after) if plan.remind_after else None
    opened = open_once(
        session, CheckinRound, study, ("week", week), times, plan.questions, plan.close_after,
        action="checkin.opened", opened_by=opened_by, now=now, remind_after=remind_after,
    )  # fmt: skip
    if opened is None:
        return 0  # another instance opened it a moment ago
    queued = 0
    for handle, at in times.items():
        person = study.people[handle]
        queued += outbox.enqueue(
            session,
            key=key("checkin", study.key, week, handle),
            to=outbox.Destination.person(person.id),
            notice=_prompt_notice("checkin_prompt", study, week, person, plan.questions),
            now=now,
            study_id=study.id,
            due_at=at,
        )
    return queued


def open_once(
    session: Session,
    model: type,
    study: StudyView,
    period: tuple[str, str],
    times: dict[str, datetime],
    questions: tuple[str, ...],
    close_after: Duration,
    *,
    action: str,
    opened_by: str,
    now: datetime,
    **more: object,
) -> datetime | None:
    """A round (of check-ins by week, of the pulse by month: `period` is the field and its value) opened
    once, whichever instance gets there first, asking each person at their time in `times` and closing
    `close_after` the last of them; audited with who is asked. When it closes, or None when another
    instance opened it already."""
    closes_at = add_duration(max(times.values()), close_after, ZoneInfo(study.timezone))
    values = {
        "study_id": study.id, period[0]: period[1], "state": "open", "opened_by": opened_by, "opened_at": now,
        "prompts": {h: t.isoformat() for h, t in times.items()}, "questions": list(questions),
        "closes_at": closes_at, **more,
    }  # fmt: skip
    if not insert_once(session, model, values, unique=("study_id", period[0])):
        return None
    audit.record(
        session,
        action=action,
        actor=opened_by,
        study_id=study.id,
        subject=period[1],
        detail={"participants": sorted(times), "closes_at": closes_at.isoformat()},
    )
    return closes_at


def _prompt_notice(kind: str, study: StudyView, week: str, person: Contact, questions) -> Notice:
    return Notice(kind, {
        "study": study.key, "study_name": study.name, "channel": study.channel, "week": week,
        "name": person.name, "questions": list(questions),
    })  # fmt: skip


def _remind_the_silent(session: Session, study: StudyView, now: datetime) -> int:
    queued = 0
    for round_ in _open_rounds(session, study.id):
        if not round_.remind_after:
            continue
        after = parse_duration(round_.remind_after)
        answered = _answered_handles(session, round_, study)
        for handle, at in round_.prompts.items():
            person = study.people.get(handle)
            if person is None or handle in answered or study.away_on(handle, now):
                continue
            calendar = calendars.of(study, person)
            if _reminder_due(round_, at, after, calendar) > now or not calendar.working_at(now):
                continue
            queued += outbox.enqueue(
                session,
                key=key("checkin-reminder", study.key, round_.week, handle),
                to=outbox.Destination.person(person.id),
                notice=_prompt_notice("checkin_reminder", study, round_.week, person, round_.questions),
                now=now,
                study_id=study.id,
            )
    return queued


def _reminder_due(
    round_: CheckinRound, prompted_at: str, after: Duration, calendar: calendars.WorkingCalendar
) -> datetime:
    # Counted from when the prompt could go out: a round opened late (Cadence was down) waits too.
    return calendar.add(max(datetime.fromisoformat(prompted_at), round_.opened_at), after)


def _close_due_rounds(session: Session, study: StudyView, now: datetime) -> int:
    queued = 0
    for round_ in _open_rounds(session, study.id):
        if round_.closes_at > now:
            continue
        closed = session.exec(  # type: ignore[call-overload]
            update(CheckinRound)
            .where(col(CheckinRound.id) == round_.id, col(CheckinRound.state) == "open")
            .values(state="closed", closed_at=now)
        )
        if closed.rowcount != 1:
            continue  # another instance closed it
        digest = build_digest(session, round_, study)
        audit.record(
            session,
            action="checkin.closed",
            actor="schedule",
            study_id=study.id,
            subject=round_.week,
            detail={"answered": len(digest["answered"]), "silent": digest["silent"]},
        )
        if study.channel:
            queued += outbox.enqueue(
                session,
                key=key("checkin-digest", study.key, round_.week),
                to=outbox.Destination.channel(study.channel),
                notice=Notice("checkin_digest", digest),
                now=now,
                study_id=study.id,
            )
    return queued


@outbox.cancel_unless_still_wanted("checkin_reminder")
def _reminder_still_wanted(session: Session, row: OutboxMessage) -> str | None:
    """A reminder or a snoozed prompt is pointless once the person has answered or the round closed."""
    _, study_key, week, handle, *_ = row.key.split(":")
    study = directory.current(session).study_by_key(study_key)
    round_ = _round(session, study.id, week) if study else None
    if round_ is None or round_.state != "open":
        return "the round has closed"
    if study and handle in _answered_handles(session, round_, study):
        return "already answered"
    return None


# --- answering ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerForm:
    study_key: str
    week: str
    questions: tuple[str, ...]
    answers: tuple[str, ...]
    status: str | None
    closed: bool


@dataclass(frozen=True)
class AnswerSaved:
    week: str
    status: str
    edited: bool
    late: bool


def answer_form(session: Session, *, requester: Requester, week: str | None = None) -> AnswerForm:
    """What the Answer modal shows: the round's questions and the person's answer so far."""
    round_ = _round_for(session, requester, week)
    answer = _answer(session, round_, requester.person_id)
    return AnswerForm(
        study_key=requester.study_key,
        week=round_.week,
        questions=tuple(round_.questions),
        answers=tuple(answer.answers) if answer else (),
        status=answer.status if answer else None,
        closed=round_.state == "closed",
    )


def save_answer(
    session: Session,
    *,
    requester: Requester,
    status: str,
    answers: list[str],
    now: datetime,
    week: str | None = None,
) -> AnswerSaved:
    """Store (or edit) the person's answer; once the round has closed it is late, added under the digest."""
    round_ = _round_for(session, requester, week)
    status = parse_status(status)
    answers = [a.strip() for a in answers][: len(round_.questions)]
    answers += [""] * (len(round_.questions) - len(answers))
    answer = _answer(session, round_, requester.person_id)
    late = round_.state == "closed"
    if answer is None:
        answer = CheckinAnswer(
            round_id=round_.id,
            person_id=requester.person_id,
            answers=answers,
            status=status,
            late=late,
            submitted_at=now,
            updated_at=now,
        )
        session.add(answer)
    else:
        answer.answers, answer.status, answer.updated_at = answers, status, now
        answer.version += 1
        answer.late = answer.late or late
    session.flush()
    audit.record(
        session,
        action="checkin.answered",
        actor=requester.actor,
        study_id=requester.study_id,
        subject=round_.week,
        detail={"by": requester.handle, "status": status, "late": late, "version": answer.version},
    )
    study = directory.current(session).studies[requester.study_id]
    if not late:
        # The prompt itself shows that the answer is in, and still offers to edit it.
        outbox.enqueue(
            session,
            key=key("checkin-answered", requester.study_key, round_.week, requester.handle, answer.version),
            to=outbox.Destination.update(key("checkin", requester.study_key, round_.week, requester.handle)),
            notice=Notice(
                "checkin_prompt",
                {
                    **_prompt_notice(
                        "checkin_prompt", study, round_.week, study.people[requester.handle], round_.questions
                    ).data,
                    "answered": status,
                },
            ),
            now=now,
            study_id=requester.study_id,
        )
    else:
        outbox.enqueue(
            session,
            key=key("checkin-late", requester.study_key, round_.week, requester.handle, answer.version),
            to=outbox.Destination.thread(key("checkin-digest", requester.study_key, round_.week)),
            notice=Notice(
                "checkin_late_answer", {**_entry(study.people[requester.handle], answer, round_.questions)}
            ),
            now=now,
            study_id=requester.study_id,
        )
    return AnswerSaved(round_.week, status, edited=answer.version > 1, late=late)


def parse_status(text: str) -> str:
    status = _STATUS_WORDS.get(" ".join(text.replace("-", " ").casefold().split()))
    if status is None:
        raise BadCommand(f"'{text}' is not a status.", hint="Say on track, at risk or off track.")
    return status


def snooze(
    session: Session, *, requester: Requester, now: datetime, token: str, week: str | None = None
) -> datetime:
    """Prompt the person again in two hours, unless they answer first; one snooze per prompt message."""
    round_ = _round_for(session, requester, week)
    if round_.state != "open":
        raise BadCommand(
            "This week's check-in has closed.", hint="You can still answer: it is added to the digest."
        )
    study = directory.current(session).studies[requester.study_id]
    person = study.people[requester.handle]
    at = now + SNOOZE
    outbox.enqueue(
        session,
        key=key("checkin-reminder", requester.study_key, round_.week, requester.handle, "snooze", token),
        to=outbox.Destination.person(person.id),
        notice=_prompt_notice("checkin_reminder", study, round_.week, person, round_.questions),
        now=now,
        study_id=requester.study_id,
        due_at=at,
    )
    return at


# --- commands: now, status, skip, stats ----------------------------------------------------------


@dataclass(frozen=True)
class RoundOpened:
    week: str
    prompted: tuple[str, ...]
    closes_at: datetime
    already: str | None = None  # "open" or "closed" when the week's round existed already


@dataclass(frozen=True)
class RoundStatus:
    week: str | None
    state: str | None
    answered: tuple[tuple[str, str], ...]  # (name, status)
    waiting: tuple[str, ...]
    closes_at: datetime | None
    timezone: str


@dataclass(frozen=True)
class SkipAdded:
    day: date
    added: bool


@dataclass(frozen=True)
class PersonStats:
    name: str
    side: str
    answered: int
    asked: int
    streak: int


@dataclass(frozen=True)
class Participation:
    weeks: tuple[str, ...]
    people: tuple[PersonStats, ...]
    sides: tuple[tuple[str, int, int], ...]  # (side, answered, asked)


def open_round_now(session: Session, *, requester: Requester, now: datetime) -> RoundOpened:
    """Open this week's round at once (admins only); a week has one round, however often this is run."""
    _require_admin(requester, "open a check-in round")
    study = directory.current(session).studies[requester.study_id]
    plan = _plan_of(session, requester)
    week = week_of(now.astimezone(ZoneInfo(study.timezone)))
    existing = _round(session, study.id, week)
    if existing is None:
        people = [
            study.people[h] for h in plan.participants if h in study.people and not study.away_on(h, now)
        ]
        _open(session, study, plan, week, {p.handle: now for p in people}, opened_by=requester.actor, now=now)
        existing = _round(session, study.id, week)
        assert existing is not None
        return RoundOpened(week, tuple(sorted(existing.prompts)), existing.closes_at)
    return RoundOpened(week, tuple(sorted(existing.prompts)), existing.closes_at, already=existing.state)


def round_status(session: Session, *, requester: Requester) -> RoundStatus:
    """Who has answered the latest round so far, and who has not."""
    study = directory.current(session).studies[requester.study_id]
    round_ = session.exec(
        select(CheckinRound)
        .where(CheckinRound.study_id == study.id)
        .order_by(col(CheckinRound.opened_at).desc())
    ).first()
    if round_ is None:
        return RoundStatus(None, None, (), (), None, study.timezone)
    answers = _answers_by_handle(session, round_, study)
    answered = tuple((study.people[h].name, a.status) for h, a in answers.items() if h in study.people)
    waiting = tuple(study.people[h].name for h in round_.prompts if h not in answers and h in study.people)
    return RoundStatus(round_.week, round_.state, answered, waiting, round_.closes_at, study.timezone)


def add_skip(session: Session, *, requester: Requester, text: str, now: datetime) -> SkipAdded:
    """No round on this date (admins only); a round already opened that day stays open."""
    _require_admin(requester, "skip a check-in")
    today, month_first = typists_day(session, requester, now)
    day = read_date(text, today, month_first=month_first)
    if day is None:
        raise BadCommand(
            f"'{text}' is not a date.", hint="For example: /checkin skip Dec 28, or next Monday."
        )
    if day < today:
        raise BadCommand(f"{in_words(day)} has passed.", hint="Skip a date that is still to come.")
    plan = _plan_of(session, requester)
    round_ = _round(session, requester.study_id, week_of(datetime.combine(day, time(12))))
    if round_ is not None and round_day(plan.schedule, round_.week) == day:
        raise BadCommand(f"The round of {day} has already opened.", hint="It stays open; skip a later date.")
    added = insert_once(
        session,
        CheckinSkip,
        {"study_id": requester.study_id, "day": day, "added_by": requester.actor, "added_at": now},
        unique=("study_id", "day"),
    )
    if added:
        audit.record(
            session,
            action="checkin.skip_added",
            actor=requester.actor,
            study_id=requester.study_id,
            subject=day.isoformat(),
            detail={"by": requester.handle},
        )
    return SkipAdded(day, added)


def participation(session: Session, *, requester: Requester, weeks: int = 8) -> Participation:
    """Response rate and current streak per person, and response rate per side, over the last rounds."""
    study = directory.current(session).studies[requester.study_id]
    rounds = list(session.exec(
        select(CheckinRound).where(CheckinRound.study_id == study.id).order_by(col(CheckinRound.week).desc())
        .limit(weeks)
    ))  # fmt: skip
    answered_in = {r.id: set(_answers_by_handle(session, r, study)) for r in rounds}
    people = []
    for person in study.people.values():
        asked = [r for r in rounds if person.handle in r.prompts]
        if not asked:
            continue
        answered = [r for r in asked if person.handle in answered_in[r.id]]
        streak = 0
        for round_ in asked:  # newest first
            if person.handle not in answered_in[round_.id]:
                break
            streak += 1
        people.append(PersonStats(person.name, person.side, len(answered), len(asked), streak))
    sides = tuple(
        (
            side,
            sum(p.answered for p in people if p.side == side),
            sum(p.asked for p in people if p.side == side),
        )
        for side in ("sponsor", "cro")
        if any(p.side == side for p in people)
    )
    return Participation(tuple(r.week for r in rounds), tuple(people), sides)


# --- the digest ---------------------------------------------------------------------------------


def build_digest(session: Session, round_: CheckinRound, study: StudyView) -> dict:
    """The digest's content: answers by side, off-track, at-risk and blocked first; the silent by name."""
    answers = _answers_by_handle(session, round_, study)
    blocker = _blocker_question(round_.questions)
    entries = [_entry(study.people[h], a, round_.questions) for h, a in answers.items() if h in study.people]
    for entry in entries:
        entry["blocked"] = blocker is not None and _says_something(entry["answers"][blocker])
    order = {"off_track": 0, "at_risk": 1, "on_track": 2}
    entries.sort(key=lambda e: (order[e["status"]], not e["blocked"], e["name"]))
    groups = [
        {"side": side, "entries": [e for e in entries if e["side"] == side]}
        for side in ("sponsor", "cro")
        if any(e["side"] == side for e in entries)
    ]
    silent = sorted(study.people[h].name for h in round_.prompts if h not in answers and h in study.people)
    overdue = minutes.overdue_items(session, study_id=study.id, on=round_.closes_at.date())
    return {
        "overdue": overdue,
        "study": study.key, "week": round_.week, "questions": list(round_.questions), "groups": groups,
        "answered": sorted(e["name"] for e in entries), "silent": silent, "blocker": blocker,
    }  # fmt: skip


def _entry(person: Contact, answer: CheckinAnswer, questions) -> dict:
    return {
        "name": person.name, "handle": person.handle, "slack_id": person.slack_id, "side": person.side,
        "role": person.role, "status": answer.status, "answers": list(answer.answers),
        "questions": list(questions), "late": answer.late,
    }  # fmt: skip


def _blocker_question(questions) -> int | None:
    for i, question in enumerate(questions):
        if re.search(r"block|risk|issue|problem", question, re.I):
            return i
    return None


def _says_something(text: str) -> bool:
    return bool(text.strip()) and text.strip().casefold().rstrip(".!") not in {
        "none",
        "no",
        "n/a",
        "na",
        "-",
        "nothing",
    }


# --- helpers -------------------------------------------------------------------------------------


def _round(session: Session, study_id: int, week: str) -> CheckinRound | None:
    return session.exec(
        select(CheckinRound).where(CheckinRound.study_id == study_id, CheckinRound.week == week)
    ).first()


def _open_rounds(session: Session, study_id: int) -> list[CheckinRound]:
    return list(
        session.exec(
            select(CheckinRound).where(CheckinRound.study_id == study_id, CheckinRound.state == "open")
        )
    )


def _round_for(session: Session, requester: Requester, week: str | None) -> CheckinRound:
    """The round the person is asked in: the named week's, or their latest."""
    query = select(CheckinRound).where(CheckinRound.study_id == requester.study_id)
    if week:
        query = query.where(CheckinRound.week == week)
    for round_ in session.exec(query.order_by(col(CheckinRound.opened_at).desc())):
        if requester.handle in round_.prompts:
            return round_
    raise BadCommand("You have no check-in to answer.", hint="Check-ins open at the plan's schedule.")


def _answer(session: Session, round_: CheckinRound, person_id: int) -> CheckinAnswer | None:
    return session.exec(
        select(CheckinAnswer).where(CheckinAnswer.round_id == round_.id, CheckinAnswer.person_id == person_id)
    ).first()


def _answers_by_handle(session: Session, round_: CheckinRound, study: StudyView) -> dict[str, CheckinAnswer]:
    handles = {p.id: p.handle for p in study.people.values()}
    answers = session.exec(select(CheckinAnswer).where(CheckinAnswer.round_id == round_.id))
    return {handles[a.person_id]: a for a in answers if a.person_id in handles}


def _answered_handles(session: Session, round_: CheckinRound, study: StudyView) -> set[str]:
    return set(_answers_by_handle(session, round_, study))


def skipped_days(session: Session, study_id: int, plan: CheckinPlan) -> frozenset[date]:
    """The days without a round: the plan's `skip` and those added from chat."""
    return plan.skip | _skips_from_chat(session, study_id)


def next_prompt(
    study: StudyView, plan: CheckinPlan, person: Contact, now: datetime, skipped: frozenset[date]
) -> datetime | None:
    """When the person is next asked: the first round to come not skipped and not while they are away."""
    for weeks_ahead in range(0, 27):
        week = week_of(now + timedelta(weeks=weeks_ahead))
        at = prompt_time(plan.schedule, week, person.timezone)
        if (
            at > now
            and round_day(plan.schedule, week) not in skipped
            and not study.away_on(person.handle, at)
        ):
            return at
    return None


def next_round_at(session: Session, study: StudyView, *, now: datetime) -> datetime | None:
    """When the study's next check-in round begins: the first of its participants' next prompts (each
    asked at their own local time), or None for a study without a weekly check-in."""
    row = session.get(Study, study.id)
    plan = checkin_plan(row) if row is not None else None
    if plan is None or timeline.is_over(row, now):
        return None
    skipped = skipped_days(session, study.id, plan)
    prompts = (
        next_prompt(study, plan, study.people[h], now, skipped)
        for h in plan.participants
        if h in study.people
    )
    return min((at for at in prompts if at is not None), default=None)


def _skips_from_chat(session: Session, study_id: int) -> frozenset[date]:
    return frozenset(session.exec(select(CheckinSkip.day).where(CheckinSkip.study_id == study_id)))


def _plan_of(session: Session, requester: Requester) -> CheckinPlan:
    study = session.get(Study, requester.study_id)
    plan = checkin_plan(study) if study else None
    if plan is None:
        raise BadCommand(
            f"{requester.study_key}'s plan has no weekly check-in.",
            hint="Add cadence.checkin (schedule, participants, questions) to the plan and apply it.",
        )
    return plan


def _require_admin(requester: Requester, what: str) -> None:
    if not requester.is_admin:
        raise NotAnAdmin(
            f"Only the plan's admins can {what}.", hint="/checkin status shows who has answered."
        )


def checkin_timezones(session: Session) -> list[tuple[Schedule, str, timedelta]]:
    """Every (schedule, timezone) a check-in opens in, whatever the studies sharing it, with the longest
    grace of theirs: one scheduler job each."""
    found: dict[tuple[str, str], tuple[Schedule, str, timedelta]] = {}
    for study_view in directory.current(session).studies.values():
        study = session.get(Study, study_view.id)
        plan = checkin_plan(study) if study else None
        if plan is None:
            continue
        for zone in {study_view.people[h].timezone for h in plan.participants if h in study_view.people}:
            known = found.get((str(plan.schedule), zone))
            grace = max(plan.grace, known[2]) if known else plan.grace
            found[(str(plan.schedule), zone)] = (plan.schedule, zone, grace)
    return [found[k] for k in sorted(found)]
