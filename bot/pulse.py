"""The two-way pulse: once a month each participant rates, 1 to 5, how well the other side communicated,
with a comment if they like; shown only as each side's average of the other, never who gave what.

A round per study and month (`2026-12`; one an admin starts once that month's is over is `2026-12#2`)
says who is asked when and when it closes; every request and reminder is an outbox row under its key
(`pulse:ACME-201:2026-12:raj`), so whichever instance or tick finds it due does it once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot import audit, calendars, directory, due, outbox, timeline
from bot.checkins import open_once
from bot.db import insert_once
from bot.directory import Contact, StudyView
from bot.errors import BadCommand, CadenceError, NotAnAdmin
from bot.models import OutboxMessage, PulseAnswer, PulseRound, Study
from bot.plan import SIDES
from bot.replies import Notice
from bot.studies import Requester
from bot.timing import Duration, MonthlySchedule, add_duration, parse_duration, parse_monthly

DEFAULT_SCHEDULE = parse_monthly("first mon 10:00")
DEFAULT_QUESTIONS = ("How well did {other} communicate with you this month?",)
DEFAULT_REMIND_AFTER = parse_duration("3d")
DEFAULT_CLOSE_AFTER = parse_duration("7d")
DEFAULT_FIRST_AFTER = parse_duration("4w")  # a month of working together before the first rating of it
GRACE = timedelta(days=1)  # a request whose moment passed longer ago than this (Cadence was down) is not sent
FEWEST = 3  # a side with fewer answers shows none of them: a rating of two people is nearly a name
SCORES = range(1, 6)
OTHER = {"sponsor": "the CRO", "cro": "the sponsor"}


@dataclass(frozen=True)
class PulsePlan:
    schedule: MonthlySchedule | None  # None: only the rounds an admin starts
    questions: tuple[str, ...]
    participants: tuple[str, ...]
    remind_after: Duration
    close_after: Duration
    first_after: Duration = DEFAULT_FIRST_AFTER


def pulse_plan(study: StudyView, row: Study | None) -> PulsePlan:
    """The plan's `pulse:` with its defaults: the first Monday at 10:00, everyone of both sides."""
    config = ((row.plan if row else None) or {}).get("pulse") or {}
    schedule = config.get("schedule")
    return PulsePlan(
        schedule=None if schedule == "off" else (parse_monthly(schedule) if schedule else DEFAULT_SCHEDULE),
        questions=tuple(config.get("questions") or DEFAULT_QUESTIONS),
        participants=tuple(config.get("participants") or study.people),
        remind_after=parse_duration(config["remind_after"])
        if config.get("remind_after")
        else DEFAULT_REMIND_AFTER,
        close_after=parse_duration(config["close_after"])
        if config.get("close_after")
        else DEFAULT_CLOSE_AFTER,
        first_after=parse_duration(config["first_after"])
        if config.get("first_after")
        else DEFAULT_FIRST_AFTER,
    )


def asked_of(question: str, side: str) -> str:
    """A question as someone of `side` reads it: {other} is the other side."""
    return question.replace("{other}", OTHER.get(side, "the other side"))


def key(kind: str, study_key: str, period: str, handle: str | None = None) -> str:
    return ":".join(part for part in (kind, study_key, period, handle) if part)


# --- due work: open on schedule, close ----------------------------------------------------------------


@due.each_study(order=55)
def run_pulse(session: Session, study: StudyView, *, now: datetime) -> int:
    """Open the study's monthly round when its first request is due; close its round when its time is up."""
    row = session.get(Study, study.id)
    plan = pulse_plan(study, row)
    queued = _open_scheduled(session, study, row, plan, now) if plan.schedule is not None and row else 0
    for round_ in session.exec(
        select(PulseRound).where(
            PulseRound.study_id == study.id, PulseRound.state == "open", col(PulseRound.closes_at) <= now
        )
    ).all():
        _close(session, round_, now)
    return queued


@due.next_for_study(run_pulse)
def next_pulse_work(session: Session, study: StudyView, *, now: datetime) -> datetime | None:
    moments = list(
        session.exec(
            select(PulseRound.closes_at).where(PulseRound.study_id == study.id, PulseRound.state == "open")
        ).all()
    )
    row = session.get(Study, study.id)
    plan = pulse_plan(study, row)
    # Before the first round may come, look at the months around that moment, not around now.
    after = max(now, _first_round(study, row, plan)) if row else now
    for month in _months_around(after, study.timezone, ahead=True) if plan.schedule and row else ():
        times = _askable(study, row, plan, month, now)
        if times and _round(session, study.id, month) is None:
            moments.append(max(min(times.values()), now))
            break
    return min(moments, default=None)


def _months_around(now: datetime, zone: str, *, ahead: bool = False) -> list[str]:
    """This month in the study's time, and the last (a round near a month's turn); with `ahead`, the next."""
    local = now.astimezone(ZoneInfo(zone)).date().replace(day=1)
    before = (local - timedelta(days=1)).replace(day=1)
    after = (local + timedelta(days=32)).replace(day=1)
    months = [before, local, after] if ahead else [before, local]
    return [f"{m:%Y-%m}" for m in months]


def _times(study: StudyView, plan: PulsePlan, month: str) -> dict[str, datetime]:
    """When each participant is asked in `month`: the schedule's day and time in their own zone."""
    assert plan.schedule is not None
    year, number = (int(part) for part in month.split("-"))
    day = plan.schedule.day_in(year, number)
    return {
        h: datetime.combine(day, plan.schedule.at, tzinfo=ZoneInfo(study.people[h].timezone))
        for h in plan.participants
        if h in study.people
    }


def _askable(study: StudyView, row: Study, plan: PulsePlan, month: str, now: datetime) -> dict[str, datetime]:
    """Who is asked in `month`, when: not someone away then, nor someone whose moment passed more than
    a day ago (Cadence was down): they are left out, not asked late. Nobody in a month whose round would
    come before a full period of working together (`first_after` from the study's start), or after the
    study's end."""
    times = _times(study, plan, month)
    first = _first_round(study, row, plan)
    if times and (min(times.values()) < first or timeline.within(row, max(times.values())) is None):
        return {}
    return {h: at for h, at in times.items() if at >= now - GRACE and not study.away_on(h, at)}


def _first_round(study: StudyView, row: Study, plan: PulsePlan) -> datetime:
    """The earliest a scheduled round may come: a full period of working together after the start."""
    return add_duration(timeline.began(row), plan.first_after, ZoneInfo(study.timezone))


def _open_scheduled(session: Session, study: StudyView, row: Study, plan: PulsePlan, now: datetime) -> int:
    for month in _months_around(now, study.timezone):
        times = _askable(study, row, plan, month, now)
        if times and min(times.values()) <= now and _round(session, study.id, month) is None:
            return _open(session, study, plan, month, times, opened_by="schedule", now=now)
    return 0


def _open(
    session: Session,
    study: StudyView,
    plan: PulsePlan,
    period: str,
    times: dict[str, datetime],
    *,
    opened_by: str,
    now: datetime,
) -> int:
    closes_at = open_once(
        session, PulseRound, study, ("period", period), times, plan.questions, plan.close_after,
        action="pulse.opened", opened_by=opened_by, now=now,
    )  # fmt: skip
    if closes_at is None:
        return 0  # another instance opened it a moment ago
    round_ = _round(session, study.id, period)
    assert round_ is not None and round_.id is not None
    queued = 0
    for handle, at in times.items():
        person = study.people[handle]
        me = outbox.Destination.person(person.id)
        data = _request(study, round_, person)
        queued += outbox.enqueue(
            session,
            key=key("pulse", study.key, period, handle),
            to=me,
            notice=Notice("pulse_request", data),
            now=now,
            study_id=study.id,
            due_at=at,
        )
        calendar = calendars.of(study, person)
        reminded = calendar.next_working_moment(calendar.add(at, plan.remind_after))
        if reminded < closes_at:
            queued += outbox.enqueue(
                session,
                key=key("pulse-reminder", study.key, period, handle),
                to=me,
                notice=Notice("pulse_reminder", data | {"reminder": True}),
                now=now,
                study_id=study.id,
                due_at=reminded,
            )
    return queued


def _request(study: StudyView, round_: PulseRound, person: Contact) -> dict:
    return {
        "study": study.key,
        "round": round_.id,
        "period": round_.period,
        "name": person.name,
        "other": OTHER.get(person.side, "the other side"),
        "questions": [asked_of(q, person.side) for q in round_.questions],
        "closes_at": round_.closes_at.isoformat(),
    }


@outbox.cancel_unless_still_wanted("pulse_reminder")
def _reminder_still_wanted(session: Session, row: OutboxMessage) -> str | None:
    """A reminder is for the silent of an open round only."""
    round_ = session.get(PulseRound, row.payload.get("round"))
    if round_ is None or round_.state != "open":
        return "the round has closed"
    if row.recipient_kind == "person" and _answer(session, round_.id, int(row.recipient)) is not None:
        return "already answered"
    return None


def _close(session: Session, round_: PulseRound, now: datetime) -> bool:
    closed = session.exec(  # type: ignore[call-overload]
        update(PulseRound)
        .where(col(PulseRound.id) == round_.id, col(PulseRound.state) == "open")
        .values(state="closed", closed_at=now)
    )
    if closed.rowcount != 1:
        return False  # another instance closed it
    session.refresh(round_)
    answers = len(_answers(session, round_.id))
    audit.record(
        session,
        action="pulse.closed",
        actor="schedule",
        study_id=round_.study_id,
        subject=round_.period,
        detail={"asked": len(round_.prompts), "answered": answers},
    )
    return True


# --- starting and answering ----------------------------------------------------------------------


@dataclass(frozen=True)
class PulseStarted:
    study_key: str
    asked: int
    closes_at: datetime


@dataclass(frozen=True)
class PulseRated:
    study_key: str
    question: str
    score: int
    previous: int | None  # the person's rating before this click, if they had one
    closes_at: datetime
    round_id: int


@dataclass(frozen=True)
class PulseCommented:
    study_key: str
    closes_at: datetime


def start_now(session: Session, *, requester: Requester, now: datetime) -> PulseStarted:
    """`/cadence pulse now` (admins): a round at once, to every participant who is not away today."""
    if not requester.is_admin:
        raise NotAnAdmin(
            "Only the plan's admins can start a pulse round.", hint="/cadence pulse shows the last ones."
        )
    study = directory.current(session).studies[requester.study_id]
    already = _open_round(session, study.id)
    if already is not None:
        until = already.closes_at.astimezone(ZoneInfo(study.timezone))
        raise CadenceError(
            f"A pulse round is open already, until {until:%a %d %b %H:%M} ({study.timezone}).",
            hint="/cadence pulse shows how it stands.",
        )
    plan = pulse_plan(study, session.get(Study, study.id))
    times = {h: now for h in plan.participants if h in study.people and not study.away_on(h, now)}
    if not times:
        raise CadenceError("Everyone the pulse asks is away today, so nobody was asked.")
    month = f"{now.astimezone(ZoneInfo(study.timezone)):%Y-%m}"
    taken = {p for p in session.exec(select(PulseRound.period).where(PulseRound.study_id == study.id))}
    period = next(p for n in range(1, 100) if (p := month if n == 1 else f"{month}#{n}") not in taken)
    _open(session, study, plan, period, times, opened_by=requester.actor, now=now)
    round_ = _round(session, study.id, period)
    assert round_ is not None
    return PulseStarted(study.key, len(times), round_.closes_at)


def rate(
    session: Session, *, requester: Requester, round_id: int, question: int, score: int, now: datetime
) -> PulseRated:
    """A rating button: the person's rating of the question; a second click changes it, not the count."""
    if score not in SCORES:
        raise BadCommand(f"'{score}' is not a rating.", hint="Rate from 1 (poorly) to 5 (very well).")
    round_, me = _answerable(session, requester, round_id)
    if not 0 <= question < len(round_.questions):
        raise BadCommand("That question is not in the round.")
    answer = _answer_row(session, round_, me, now)
    previous = answer.scores.get(str(question))
    answer.scores = answer.scores | {str(question): score}
    answer.updated_at = now
    audit.record(  # who answered when, never what: the ratings stay unattributed
        session,
        action="pulse.answered",
        actor=requester.actor,
        study_id=round_.study_id,
        subject=round_.period,
    )
    return PulseRated(
        requester.study_key,
        asked_of(round_.questions[question], me.side),
        score,
        previous,
        round_.closes_at,
        round_id,
    )


def comment(
    session: Session, *, requester: Requester, round_id: int, text: str, now: datetime
) -> PulseCommented:
    """The comment form: a few words for the other side, shown without the name; a second replaces it."""
    if not text.strip():
        raise BadCommand(
            "Write a few words, or close the form.", hint="Your comment is shown without your name."
        )
    round_, me = _answerable(session, requester, round_id)
    answer = _answer_row(session, round_, me, now)
    answer.comment, answer.updated_at = text.strip()[:1000], now
    return PulseCommented(requester.study_key, round_.closes_at)


_TYPED = re.compile(r"^(?:q(?P<q>[0-9]{1,2})\s+)?(?P<score>[0-9]{1,2})(?:\s+(?P<comment>.+))?$", re.I | re.S)


def answer_typed(session: Session, *, requester: Requester, text: str, now: datetime) -> PulseRated:
    """`/cadence pulse answer [q2] <1-5> [comment]`: what the buttons do, typed (the console, Teams)."""
    match = _TYPED.match(text.strip())
    if match is None:
        raise BadCommand(
            "Give your rating from 1 to 5.", hint="For example: /cadence pulse answer 4 quick answers"
        )
    round_ = _open_round(session, requester.study_id)
    if round_ is None or requester.handle not in round_.prompts:
        raise CadenceError("There is no pulse round open for you to answer.")
    assert round_.id is not None
    rated = rate(
        session,
        requester=requester,
        round_id=round_.id,
        question=int(match["q"] or 1) - 1,
        score=int(match["score"]),
        now=now,
    )
    if match["comment"]:
        comment(session, requester=requester, round_id=round_.id, text=match["comment"], now=now)
    return rated


def _answerable(session: Session, requester: Requester, round_id: int) -> tuple[PulseRound, Contact]:
    round_ = session.get(PulseRound, round_id)
    study = directory.current(session).studies[requester.study_id]
    if round_ is None or round_.study_id != study.id:
        raise CadenceError(
            "That pulse round is not this study's.", hint="/cadence pulse shows the last ones."
        )
    if requester.handle not in round_.prompts:
        raise CadenceError("You were not asked in this pulse round, so there is nothing to answer.")
    if round_.state != "open":
        raise CadenceError(
            f"This pulse round closed on {round_.closed_at or round_.closes_at:%a %d %b}; nothing changed.",
            hint="The next round comes next month.",
        )
    return round_, study.people[requester.handle]


def _answer_row(session: Session, round_: PulseRound, me: Contact, now: datetime) -> PulseAnswer:
    values = {
        "round_id": round_.id,
        "person_id": me.id,
        "side": me.side,
        "scores": {},
        "answered_at": now,
        "updated_at": now,
    }
    insert_once(session, PulseAnswer, values, unique=("round_id", "person_id"))
    answer = _answer(session, round_.id, me.id)
    assert answer is not None
    return answer


# --- what it says ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SideRating:
    side: str  # who rated: the CRO's rating of the sponsor is side "cro"
    average: float | None  # None: too few answers to show
    answers: int


@dataclass(frozen=True)
class RoundSummary:
    period: str
    opened_at: datetime
    closes_at: datetime
    open: bool
    asked: dict[str, int]  # side -> how many were asked
    questions: tuple[tuple[str, tuple[SideRating, ...]], ...]  # each question, and each side's rating
    comments: dict[str, tuple[str, ...]]  # side -> its comments (none for a side with too few answers)

    def as_data(self) -> dict:
        return {
            "period": self.period,
            "opened_at": self.opened_at.isoformat(),
            "closes_at": self.closes_at.isoformat(),
            "open": self.open,
            "asked": self.asked,
            "questions": [
                {"text": text, "sides": [vars(r) for r in ratings]} for text, ratings in self.questions
            ],
            "comments": {side: list(words) for side, words in self.comments.items()},
        }


@dataclass(frozen=True)
class PulseShown:
    study_key: str
    rounds: tuple[RoundSummary, ...]  # the latest first, then the one before


def summary(session: Session, *, requester: Requester) -> PulseShown:
    """`/cadence pulse`: the latest round and the one before, each side's rating of the other."""
    study = directory.current(session).studies[requester.study_id]
    return PulseShown(
        study.key, tuple(summarize(session, study, r) for r in last_rounds(session, study.id, 2))
    )


def last_rounds(
    session: Session, study_id: int, count: int, *, before: datetime | None = None
) -> list[PulseRound]:
    query = select(PulseRound).where(PulseRound.study_id == study_id)
    if before is not None:
        query = query.where(PulseRound.opened_at < before)
    return list(
        session.exec(query.order_by(col(PulseRound.opened_at).desc(), col(PulseRound.id).desc()).limit(count))
    )


def rounds_between(session: Session, study_id: int, start: datetime, end: datetime) -> list[PulseRound]:
    return list(
        session.exec(
            select(PulseRound)
            .where(PulseRound.study_id == study_id, PulseRound.opened_at >= start, PulseRound.opened_at < end)
            .order_by(col(PulseRound.opened_at))
        )
    )


def summarize(session: Session, study: StudyView, round_: PulseRound) -> RoundSummary:
    """Averages with one decimal and counts by the raters' side; comments sorted, so their order tells
    nothing of who answered when; a side with fewer than three answers shows neither."""
    answers = _answers(session, round_.id)
    asked = {side: 0 for side in SIDES}
    for handle in round_.prompts:
        if handle in study.people:
            asked[study.people[handle].side] = asked.get(study.people[handle].side, 0) + 1
    questions = []
    for number, text in enumerate(round_.questions):
        ratings = []
        for side in SIDES:
            given = [a.scores[str(number)] for a in answers if a.side == side and str(number) in a.scores]
            shown = len(given) >= FEWEST
            ratings.append(SideRating(side, round(sum(given) / len(given), 1) if shown else None, len(given)))
        questions.append((text, tuple(ratings)))
    comments = {}
    for side in SIDES:
        mine = [a for a in answers if a.side == side]
        if sum(1 for a in mine if a.scores) >= FEWEST:
            comments[side] = tuple(sorted(a.comment for a in mine if a.comment))
    return RoundSummary(
        round_.period,
        round_.opened_at,
        round_.closes_at,
        round_.state == "open",
        asked,
        tuple(questions),
        comments,
    )


# --- helpers ----------------------------------------------------------------------------------------


def study_of_round(session: Session, round_id: int) -> str | None:
    """The key of the study a round is of (a comment form says only its round), if it is still there."""
    round_ = session.get(PulseRound, round_id)
    study = directory.current(session).studies.get(round_.study_id) if round_ else None
    return study.key if study else None


def _round(session: Session, study_id: int, period: str) -> PulseRound | None:
    return session.exec(
        select(PulseRound).where(PulseRound.study_id == study_id, PulseRound.period == period)
    ).first()


def _open_round(session: Session, study_id: int) -> PulseRound | None:
    return session.exec(
        select(PulseRound).where(PulseRound.study_id == study_id, PulseRound.state == "open")
    ).first()


def _answer(session: Session, round_id: int | None, person_id: int | None) -> PulseAnswer | None:
    return session.exec(
        select(PulseAnswer).where(PulseAnswer.round_id == round_id, PulseAnswer.person_id == person_id)
    ).first()


def _answers(session: Session, round_id: int | None) -> list[PulseAnswer]:
    return list(session.exec(select(PulseAnswer).where(PulseAnswer.round_id == round_id)))
