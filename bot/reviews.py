"""Owners confirm the map: every `cadence.confirm_every` (default 90 days) each owner is asked to
confirm their topics with one click or hand one over; what stays unconfirmed is flagged to admins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot import audit, directory, due, outbox
from bot.directory import Contact, StudyView
from bot.errors import BadCommand
from bot.models import OutboxMessage, Responsibility, Study
from bot.replies import Notice
from bot.studies import Requester
from bot.timing import Duration, parse_duration

DEFAULT_EVERY = "90d"
FLAG_AFTER = timedelta(days=7)  # unconfirmed this long after the request: the admins hear of it
CUT_NAME = 100  # words this long that start one topic's name name it (older buttons cut names at 150)


@dataclass(frozen=True)
class TopicsConfirmed:
    topics: tuple[str, ...]


@dataclass(frozen=True)
class HandedOver:
    topic: str
    admins: tuple[str, ...]


@due.each_study(order=60, cadence=True)
def ask_owners_to_confirm(session: Session, study: StudyView, *, now: datetime) -> int:
    """Ask each owner whose topics are due for review, once per review; flag the long unconfirmed."""
    queued = 0
    every = _review_every(session, study)
    due_by_owner: dict[int, list[Responsibility]] = {}
    for topic in _topics(session, study.id):
        if topic.confirmed_at is None or topic.confirmed_at + every.as_timedelta() <= now:
            due_by_owner.setdefault(topic.owner_id, []).append(topic)
    for owner_id, topics in due_by_owner.items():
        owner = study.person(owner_id)
        if owner is not None:
            queued += _ask(session, study, owner, topics, every.as_timedelta(), now)
    return queued


@due.next_for_study(ask_owners_to_confirm)
def next_review(session: Session, study: StudyView, *, now: datetime) -> datetime | None:
    """When a confirmed topic next falls due for review, or its review goes unanswered long enough to flag."""
    moments = []
    every = _review_every(session, study).as_timedelta()
    for topic in _topics(session, study.id):
        if topic.confirmed_at is not None:
            due_on = topic.confirmed_at + every
            moments += [m for m in (due_on, due_on + FLAG_AFTER) if m > now]
    return min(moments, default=None)


def _review_every(session: Session, study: StudyView) -> Duration:
    row = session.get(Study, study.id)
    return parse_duration(
        ((row.plan if row else {}).get("cadence") or {}).get("confirm_every") or DEFAULT_EVERY
    )


def _ask(
    session: Session,
    study: StudyView,
    owner: Contact,
    topics: list[Responsibility],
    every: timedelta,
    now: datetime,
) -> int:
    # The review is named by when it fell due, so each is asked (and flagged) once.
    due = min((t.confirmed_at + every) if t.confirmed_at else now for t in topics)
    names = [t.topic for t in topics]
    data = {
        "study": study.key, "owner": owner.name, "handle": owner.handle, "topics": names,
        "topic_ids": [t.id for t in topics],  # what the Hand over buttons carry
    }  # fmt: skip
    queued = outbox.enqueue(
        session,
        key=f"confirm:{study.key}:{owner.handle}:{due.date()}",
        to=outbox.Destination.person(owner.id),
        notice=Notice("ownership_review", data),
        now=now,
        study_id=study.id,
    )
    if now >= due + FLAG_AFTER:
        queued += outbox.tell_admins(
            session,
            study,
            key=f"confirm-overdue:{study.key}:{owner.handle}:{due.date()}",
            notice=Notice("ownership_unconfirmed", data),
            now=now,
            besides=owner.id,  # an admin who owns these topics was just asked: not told of their own silence
        )
    return queued


@outbox.cancel_unless_still_wanted("ownership_review")
@outbox.cancel_unless_still_wanted("ownership_unconfirmed")
def _review_still_open(session: Session, row: OutboxMessage) -> str | None:
    """A review waiting for someone's working hours is pointless once the owner has confirmed."""
    study = directory.current(session).study_by_key(row.payload.get("study", ""))
    owner = study.people.get(row.payload.get("handle", "")) if study else None
    if owner is None:
        return None
    mine = [t for t in _topics(session, study.id) if t.owner_id == owner.id]
    if mine and all(t.confirmed_at and t.confirmed_at >= row.created_at for t in mine):
        return "the owner confirmed meanwhile"
    return None


def confirm_topics(session: Session, *, requester: Requester, now: datetime) -> TopicsConfirmed:
    """The requester confirms every topic they own."""
    topics = [t for t in _topics(session, requester.study_id) if t.owner_id == requester.person_id]
    if not topics:
        raise BadCommand("You own no topics in this study.", hint="/who-owns shows who owns what.")
    for topic in topics:
        topic.confirmed_at = now
    audit.record(
        session,
        action="ownership.confirmed",
        actor=requester.actor,
        study_id=requester.study_id,
        subject=requester.handle,
        detail={"topics": [t.topic for t in topics]},
    )
    return TopicsConfirmed(tuple(t.topic for t in topics))


def hand_over(
    session: Session, *, requester: Requester, now: datetime, topic: str = "", topic_id: int | None = None
) -> HandedOver:
    """The owner says a topic is no longer theirs: the admins are asked to name a new owner. The topic is
    named by its id (the review's button) or its words (typed, or a button of an older review)."""
    mine = [t for t in _topics(session, requester.study_id) if t.owner_id == requester.person_id]
    if topic_id is not None:
        row = next((t for t in mine if t.id == topic_id), None)
    else:
        row = _named_among(mine, topic)
    if row is None:
        owned = ", ".join(t.topic for t in mine) or "none"
        named = f"called '{topic}'" if topic_id is None else "by that button"
        raise BadCommand(f"You do not own a topic {named}.", hint=f"Your topics: {owned}.")
    study = directory.current(session).studies[requester.study_id]
    audit.record(
        session,
        action="ownership.handover_requested",
        actor=requester.actor,
        study_id=study.id,
        subject=row.topic,
        detail={"by": requester.handle},
    )
    outbox.tell_admins(
        session,
        study,
        key=f"handover:{study.key}:{row.id}:{requester.handle}:{now.date()}",
        notice=Notice(
            "ownership_handover", {"study": study.key, "topic": row.topic, "owner": requester.name}
        ),
        now=now,
        besides=requester.person_id,
    )
    others = tuple(study.people[h].name for h in study.admins if h in study.people and h != requester.handle)
    return HandedOver(row.topic, others)


def _named_among(topics: list[Responsibility], words: str) -> Responsibility | None:
    """The topic the words name: its whole name, or a word of it ("protocol" for "Protocol and study
    design") when only one of these topics has that word."""
    wanted = words.strip().casefold()
    whole = [t for t in topics if t.topic.casefold() == wanted]
    if whole:
        return whole[0]
    # A review's button of an older message carried the name cut at 150 characters.
    cut = [t for t in topics if len(wanted) >= CUT_NAME and t.topic.casefold().startswith(wanted)]
    if len(cut) == 1:
        return cut[0]
    named = [t for t in topics if wanted and set(wanted.split()) <= set(t.topic.casefold().split())]
    return named[0] if len(named) == 1 else None


def _topics(session: Session, study_id: int) -> list[Responsibility]:
    return list(session.exec(
        select(Responsibility).where(Responsibility.study_id == study_id, Responsibility.active == True)  # noqa: E712
        .order_by(col(Responsibility.position))
    ))  # fmt: skip
