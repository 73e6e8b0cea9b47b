"""Routed questions: /ask puts a question in front of the topic's owner and sees that it is answered.

A question is posted in the study channel mentioning whoever answers for the topic (the owner, or
their cover while they are away), or sent to them directly where they prefer a DM. Past the topic's
`answer_within` they are reminded once; past twice that, the backup is brought in and the asker
told. Every message is an outbox row keyed by the question, so nothing goes out twice.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlmodel import Session, col, or_, select

from bot import audit, calendars, directory, due, evidence, outbox, ownership
from bot.directory import Contact, StudyView, TopicOwners
from bot.errors import BadCommand, CadenceError, UnknownTopic
from bot.models import OutboxMessage, Question, Responsibility, Study
from bot.replies import Notice
from bot.studies import Requester
from bot.timing import parse_duration

DEFAULT_ANSWER_WITHIN = "1bd"
UNCLEAR_AFTER = 2  # re-routes of one question that tell the admins ownership is unclear


@dataclass(frozen=True)
class Asked:
    """Where the question went, for the asker."""

    ref: str
    topic: str
    to: Contact
    in_channel: str | None  # the channel it was posted in; None when sent by direct message
    due_at: datetime
    covering_for: Contact | None = None  # the owner, when `to` covers for them while they are away
    own_topic: bool = False  # the asker owns the topic (or covers it): it went to someone else of it


@dataclass(frozen=True)
class ChooseTopic:
    """The question fits several topics, or none: the asker picks."""

    ref: str
    question_id: int
    text: str
    options: tuple[TopicOwners, ...]
    ambiguous: bool  # True: these fit equally; False: nothing fit, here is every topic


@dataclass(frozen=True)
class QuestionClosed:
    ref: str
    by: str


@dataclass(frozen=True)
class Rerouted:
    ref: str
    topic: str
    to: Contact


@dataclass(frozen=True)
class QuestionLine:
    ref: str
    text: str
    topic: str | None
    who: str  # the asker's or the assignee's name, by list
    age_hours: float
    overdue: bool


@dataclass(frozen=True)
class AnsweredLine:
    ref: str
    text: str
    by: str
    answer: str | None
    answered_at: datetime


@dataclass(frozen=True)
class WaitingQuestion:
    """A routed question not yet answered, as the study sees it: on whom it waits, since when."""

    ref: str
    text: str
    topic: str | None
    asker: str
    assignee_id: int | None
    on: str  # the assignee's name
    asked_at: datetime
    due_at: datetime | None
    overdue: bool


@dataclass(frozen=True)
class QuestionList:
    mine: tuple[QuestionLine, ...]
    waiting_on_me: tuple[QuestionLine, ...]
    answered: tuple[AnsweredLine, ...] = ()  # my questions answered lately, newest first, with the words


RECENTLY = timedelta(days=14)  # how far back /ask list shows answers to my questions
RECENT_ANSWERS = 5


def reference(study_key: str, question_id: int) -> str:
    return f"{study_key}-Q{question_id}"


def ask(session: Session, *, requester: Requester, text: str, now: datetime) -> Asked | ChooseTopic:
    """Route a question to the owner of the topic it is about, or ask the asker to choose the topic."""
    text = " ".join(text.split())
    if not text:
        raise BadCommand(
            "What would you like to ask?", hint="For example: /ask who reviews the SAE narrative?"
        )
    study = _study(session, requester)
    question = Question(study_id=study.id, asker_id=requester.person_id, text=text, asked_at=now)
    session.add(question)
    session.flush()
    ranked = evidence.weigh(text, study.topics)
    found = evidence.best(ranked)
    if found is not None:
        return _route(session, study, question, found.topic, requester, now)
    ties = evidence.ties(ranked)
    audit.record(
        session,
        action="question.asked",
        actor=requester.actor,
        study_id=study.id,
        subject=reference(study.key, question.id),
        detail={"text": text, "routed": False},
    )
    return ChooseTopic(reference(study.key, question.id), question.id, text, ties or study.topics, bool(ties))


def choose_topic(
    session: Session,
    *,
    requester: Requester,
    question_id: int,
    now: datetime,
    topic: str = "",
    topic_id: int | None = None,
) -> Asked:
    """The asker picked the topic of a question that fitted several, or none: by the topic's id (a
    button or menu) or by its name (typed, or a button of an older message)."""
    study = _study(session, requester)
    question = _question(session, study, question_id)
    if question.asker_id != requester.person_id:
        raise CadenceError("Only the person who asked can choose the topic.")
    if question.state != "choosing":
        raise CadenceError(f"{reference(study.key, question.id)} went to its owner already.")
    if topic_id is not None:
        chosen = next((t for t in study.topics if t.id == topic_id), None)
        if chosen is None:
            raise UnknownTopic(
                "That topic is no longer in the study's plan.",
                hint=f"Pick another: /ask topic {reference(study.key, question.id)} <topic>.",
            )
    else:
        chosen = next((t for t in study.topics if t.topic.casefold() == topic.strip().casefold()), None)
    if chosen is None:
        ranked = ownership.rank_topics(topic, list(study.topics))
        if not ranked or ranked[0].score < ownership.CONFIDENT:
            raise UnknownTopic(f"No topic is called '{topic}'.", hint="Pick one of the study's topics.")
        chosen = ranked[0].topic
    routed = _route(session, study, question, chosen, requester, now)
    _learn(session, study, question, chosen, requester, toward=True)
    return routed


def _route(
    session: Session,
    study: StudyView,
    question: Question,
    topic: TopicOwners,
    requester: Requester | None,
    now: datetime,
    *,
    to: Contact | None = None,
    reason: str = "asked",
) -> Asked:
    owner = to or topic.owner
    stand_in = study.stand_in(owner, now, fallback=topic.backup if owner == topic.owner else None)
    answerer = stand_in or owner
    own_topic = answerer.id == question.asker_id
    if own_topic:  # nobody is asked their own question: the topic's other person is
        answerer = _other_than_asker(study, topic, question, now)
    question.topic, question.assignee_id, question.state = topic.topic, answerer.id, "open"
    question.routes += 1
    # The answerer's working time: an answer is not due on their night, weekend or public holiday.
    question.due_at = calendars.of(study, answerer).add(
        now, parse_duration(_answer_within(session, study, topic))
    )
    ref = reference(study.key, question.id)
    asker = study.member(question.asker_id)
    in_channel = (
        study.channel and answerer.prefers != "dm" and directory.reachable_in(answerer, study.channel)
    )
    channel = study.channel if in_channel else None
    notice = Notice("question", {
        "ref": ref, "question_id": question.id, "text": question.text, "topic": topic.topic,
        "asker": _who(asker), "to": _who(answerer), "covering_for": _who(owner) if stand_in else None,
        "due_at": question.due_at.isoformat(), "reason": reason, "study": study.key,
    })  # fmt: skip
    destination = outbox.Destination.channel(channel) if channel else outbox.Destination.person(answerer.id)
    outbox.enqueue(
        session, key=_key("ask", study, question), to=destination, notice=notice, now=now, study_id=study.id
    )
    audit.record(
        session,
        action="question.routed",
        actor=requester.actor if requester else "cadence",
        study_id=study.id,
        subject=ref,
        detail={"topic": topic.topic, "to": answerer.handle, "reason": reason, "route": question.routes},
    )
    covering = owner if stand_in and not own_topic else None
    return Asked(ref, topic.topic, answerer, channel, question.due_at, covering, own_topic)


def _other_than_asker(study: StudyView, topic: TopicOwners, question: Question, now: datetime) -> Contact:
    others = [p for p in (topic.backup, topic.owner) if p is not None and p.id != question.asker_id]
    if not others:
        raise CadenceError(
            f"You own {topic.topic}, and it has no backup to ask.",
            hint=f"An admin can name one: /who-owns set {topic.topic} backup @person.",
        )
    return study.stand_in(others[0], now) or others[0]


def _learn(
    session: Session,
    study: StudyView,
    question: Question,
    topic: TopicOwners,
    requester: Requester,
    *,
    toward: bool,
) -> None:
    """The question's words count for the topic its asker picked, or against the one it was passed on
    from, next time (per study; audited; /who-owns <topic> shows them)."""
    row = session.exec(
        select(Responsibility)
        .where(Responsibility.study_id == study.id, Responsibility.topic == topic.topic)
        .with_for_update()
    ).one()
    before = dict(row.learned or {})
    after = evidence.learned(before, question.text, plan_stems=evidence.plan_stems(topic), toward=toward)
    if after == before:
        return
    row.learned = after
    directory.revised(session, study.id)
    audit.record(
        session,
        action="routing.learned",
        actor=requester.actor,
        study_id=study.id,
        subject=topic.topic,
        detail={
            "question": reference(study.key, question.id),
            "toward": toward,
            "words": sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)),
        },
    )


def mark_answered(
    session: Session, *, requester: Requester, question_id: int, now: datetime, answer: str = ""
) -> QuestionClosed:
    """The assignee, the asker, the topic's owner or an admin says it is answered: chasing stops, and the
    answer's words (when given) go to the asker and stay with the question."""
    study = _study(session, requester)
    question = _question(session, study, question_id)
    ref = reference(study.key, question.id)
    if question.state == "answered":
        return QuestionClosed(ref, question.answered_by or "")
    allowed = {question.assignee_id, question.asker_id, *_owner_ids(study, question)}
    if requester.person_id not in allowed and not requester.is_admin:
        raise CadenceError(
            f"Only the person asked, the asker or an admin can close {ref}.",
            hint="Reply in its thread instead; the asker can then mark it answered.",
        )
    question.state, question.answered_at, question.answered_by = "answered", now, requester.name
    question.answer = answer.strip() or None
    hours = round((now - question.asked_at).total_seconds() / 3600, 2)
    audit.record(
        session,
        action="question.answered",
        actor=requester.actor,
        study_id=study.id,
        subject=ref,
        detail={"by": requester.handle, "hours": hours, "answer": question.answer},
    )
    _update_posted(session, study, question, now, answered_by=requester.name, answer=question.answer or "")
    if requester.person_id != question.asker_id:
        asker = study.member(question.asker_id)
        outbox.enqueue(
            session,
            key=_key("ask-answered", study, question),
            to=outbox.Destination.person(asker.id),
            notice=Notice(
                "question_answered",
                {"ref": ref, "text": question.text, "by": requester.name, "answer": question.answer or ""},
            ),
            now=now,
            study_id=study.id,
        )
    return QuestionClosed(ref, requester.name)


def not_mine(session: Session, *, requester: Requester, question_id: int, now: datetime) -> Rerouted:
    """Whoever was asked says it is not theirs: it goes to the topic's backup, and the turn is recorded."""
    study = _study(session, requester)
    question = _question(session, study, question_id)
    ref = reference(study.key, question.id)
    if question.state != "open":
        raise CadenceError(f"{ref} is not waiting on anyone.")
    if requester.person_id != question.assignee_id and not requester.is_admin:
        raise CadenceError(f"Only the person {ref} went to can pass it on.")
    topic = next(t for t in study.topics if t.topic == question.topic)
    passed_on = {question.assignee_id, question.asker_id}
    candidates = [p for p in (topic.backup, topic.owner) if p and p.id not in passed_on]
    if not candidates:
        raise CadenceError(
            f"{question.topic} has nobody else to ask.",
            hint="An admin can name a backup: /who-owns set <topic> backup @person.",
        )
    _update_posted(session, study, question, now, passed_on_by=requester.name)
    _learn(session, study, question, topic, requester, toward=False)
    routed = _route(session, study, question, topic, requester, now, to=candidates[0], reason="not mine")
    if question.routes > UNCLEAR_AFTER:
        _tell_admins(session, study, question, now)
    return Rerouted(ref, topic.topic, routed.to)


def thread_reply(session: Session, *, channel: str, message_id: str, user_id: str, now: datetime) -> bool:
    """Someone replied in the thread of the message `message_id` (the chat's id for it): when it is a
    routed question, ask the asker, once per route, whether that answers it."""
    posted = session.exec(
        select(OutboxMessage).where(
            OutboxMessage.platform_channel == channel, OutboxMessage.platform_message_id == message_id,
            col(OutboxMessage.key).startswith("ask:"),
        )
    ).first()  # fmt: skip
    if posted is None:
        return False
    question = session.get(Question, posted.payload["question_id"])
    study = directory.current(session).studies.get(question.study_id) if question else None
    if question is None or study is None or question.state != "open":
        return False
    asker = study.member(question.asker_id)
    if asker.slack_id == user_id:
        return False  # the asker's own follow-up is not an answer
    replier = next((p for p in study.people.values() if p.slack_id == user_id), None)
    data = {
        "ref": reference(study.key, question.id),
        "question_id": question.id,
        "text": question.text,
        "by": replier.name if replier else "someone",
    }
    return outbox.enqueue(
        session,
        key=_key("ask-replied", study, question),
        to=outbox.Destination.person(asker.id),
        notice=Notice("question_replied", data),
        now=now,
        study_id=study.id,
    )


def list_questions(session: Session, *, requester: Requester, now: datetime) -> QuestionList:
    """My open questions, and those waiting on me."""
    study = _study(session, requester)
    rows = session.exec(
        select(Question).where(
            Question.study_id == study.id, Question.state != "answered",
            or_(Question.asker_id == requester.person_id, Question.assignee_id == requester.person_id),
        ).order_by(col(Question.asked_at))
    )  # fmt: skip

    def line(q: Question, who_id: int | None) -> QuestionLine:
        who = study.member(who_id).name if who_id else "nobody yet: choose a topic"
        away = study.away_on(study.member(who_id).handle, now) if who_id else None
        if away is not None:
            cover = study.people.get(away.cover) if away.cover else None
            who += f" (away until {away.until:%d %b}" + (f"; {cover.name} covers)" if cover else ")")
        overdue = q.due_at is not None and q.due_at < now
        age = (now - q.asked_at).total_seconds() / 3600
        return QuestionLine(reference(study.key, q.id), q.text, q.topic, who, age, overdue)

    rows = list(rows)
    mine = tuple(line(q, q.assignee_id) for q in rows if q.asker_id == requester.person_id)
    waiting = tuple(
        line(q, q.asker_id) for q in rows if q.assignee_id == requester.person_id and q.state == "open"
    )
    answered = session.exec(
        select(Question)
        .where(
            Question.study_id == study.id,
            Question.asker_id == requester.person_id,
            Question.state == "answered",
            col(Question.answered_at) >= now - RECENTLY,
        )
        .order_by(col(Question.answered_at).desc())
        .limit(RECENT_ANSWERS)
    )
    recent = tuple(
        AnsweredLine(reference(study.key, q.id), q.text, q.answered_by or "", q.answer, q.answered_at)
        for q in answered
        if q.answered_at is not None
    )
    return QuestionList(mine, waiting, recent)


def waiting_in_study(session: Session, *, study: StudyView, now: datetime) -> tuple[WaitingQuestion, ...]:
    """Every routed question of the study still waiting for its answer, oldest first (App Homes, the
    dashboard)."""
    rows = session.exec(
        select(Question)
        .where(Question.study_id == study.id, Question.state == "open")
        .order_by(col(Question.asked_at), col(Question.id))
    )
    return tuple(
        WaitingQuestion(
            reference(study.key, q.id),
            q.text,
            q.topic,
            getattr(study.person(q.asker_id), "name", "someone"),
            q.assignee_id,
            getattr(study.person(q.assignee_id), "name", "someone no longer in the plan"),
            q.asked_at,
            q.due_at,
            q.due_at is not None and q.due_at < now,
        )
        for q in rows
    )


@due.work(order=30)
def chase(session: Session, *, now: datetime) -> int:
    """Remind whoever was asked once past the deadline; past twice the deadline bring in the backup."""
    view = directory.current(session)
    queued = 0
    for question in session.exec(select(Question).where(Question.state == "open", Question.due_at <= now)):
        study = view.studies.get(question.study_id)
        if study is None or question.due_at is None:
            continue
        ref = reference(study.key, question.id)
        assignee = study.member(question.assignee_id)
        topic = next((t for t in study.topics if t.topic == question.topic), None)
        # Away since it was asked: the reminder goes to whoever covers.
        reminded = study.stand_in(assignee, now, fallback=topic.backup if topic else None) or assignee
        queued += outbox.enqueue(
            session,
            key=_key("ask-reminder", study, question),
            to=outbox.Destination.person(reminded.id),
            notice=Notice(
                "question_reminder",
                {
                    "ref": ref,
                    "text": question.text,
                    "topic": question.topic,
                    "asker": _who(study.member(question.asker_id)),
                },
            ),
            now=now,
            study_id=study.id,
        )
        if now >= _backup_at(session, study, question):
            queued += _bring_in_backup(session, study, question, now)
    return queued


@due.next_due_of(chase)
def next_chase(session: Session, *, now: datetime) -> datetime | None:
    """When an open question next passes its deadline (the reminder) or twice it (the backup)."""
    view = directory.current(session)
    moments = []
    for question in session.exec(
        select(Question).where(Question.state == "open", col(Question.due_at).is_not(None))
    ):
        study = view.studies.get(question.study_id)
        if study is None or question.due_at is None:
            continue
        moments += [m for m in (question.due_at, _backup_at(session, study, question)) if m > now]
    return min(moments, default=None)


def _backup_at(session: Session, study: StudyView, question: Question) -> datetime:
    """When the backup is brought in: once more the answer window past the deadline, in the working time
    of whoever was asked (a window that ran over a weekend does not count the weekend twice)."""
    assert question.due_at is not None
    assignee = study.person(question.assignee_id)
    topic = next((t for t in study.topics if t.topic == question.topic), None)
    if assignee is None or topic is None:
        return question.due_at + (question.due_at - _routed_at(session, study, question))
    window = parse_duration(_answer_within(session, study, topic))
    # Not their away days: the backup is what covers an absence.
    return replace(calendars.of(study, assignee), away=()).add(question.due_at, window)


def _bring_in_backup(session: Session, study: StudyView, question: Question, now: datetime) -> int:
    topic = next((t for t in study.topics if t.topic == question.topic), None)
    backup = topic.backup if topic and topic.backup and topic.backup.id != question.assignee_id else None
    if backup is None:
        return 0
    ref = reference(study.key, question.id)
    data = {
        "ref": ref,
        "text": question.text,
        "topic": question.topic,
        "backup": _who(backup),
        "asker": _who(study.member(question.asker_id)),
        "assignee": _who(study.member(question.assignee_id)),
    }
    queued = outbox.enqueue(
        session,
        key=_key("ask-backup", study, question),
        to=outbox.Destination.person(backup.id),
        notice=Notice("question_backup", data),
        now=now,
        study_id=study.id,
    )
    if queued:
        queued += outbox.enqueue(
            session,
            key=_key("ask-backup-asker", study, question),
            to=outbox.Destination.person(question.asker_id),
            notice=Notice("question_backup_asker", data),
            now=now,
            study_id=study.id,
        )
        audit.record(
            session,
            action="question.backup_brought_in",
            actor="cadence",
            study_id=study.id,
            subject=ref,
            detail={"backup": backup.handle},
        )
    return queued


@outbox.cancel_unless_still_wanted("question_replied")
@outbox.cancel_unless_still_wanted("question_reminder")
@outbox.cancel_unless_still_wanted("question_backup")
@outbox.cancel_unless_still_wanted("question_backup_asker")
def _still_open(session: Session, row: OutboxMessage) -> str | None:
    question = session.get(Question, row.payload.get("question_id") or _id_from_ref(row.payload["ref"]))
    return None if question is not None and question.state == "open" else "answered meanwhile"


# --- helpers -------------------------------------------------------------------------------------


def _key(kind: str, study: StudyView, question: Question) -> str:
    # The route number keeps a re-routed question's messages apart from the first route's.
    return f"{kind}:{study.key}:{question.id}:{question.routes}"


def _id_from_ref(ref: str) -> int:
    return int(ref.rsplit("-Q", 1)[1])


def _routed_at(session: Session, study: StudyView, question: Question) -> datetime:
    row = outbox.message(session, _key("ask", study, question))
    return row.created_at if row else question.asked_at


def _update_posted(
    session: Session, study: StudyView, question: Question, now: datetime, **change: str
) -> None:
    """Show on the posted question that it is answered, or passed on, without its buttons."""
    original = outbox.message(session, _key("ask", study, question))
    if original is None:
        return
    outbox.enqueue(
        session,
        key=f"{_key('ask-update', study, question)}:{question.state}",
        now=now,
        to=outbox.Destination.update(original.key),
        study_id=study.id,
        notice=Notice("question", {**original.payload, **change}),
    )


def _tell_admins(session: Session, study: StudyView, question: Question, now: datetime) -> None:
    ref = reference(study.key, question.id)
    audit.record(
        session,
        action="question.ownership_unclear",
        actor="cadence",
        study_id=study.id,
        subject=ref,
        detail={"topic": question.topic, "routes": question.routes},
    )
    data = {"ref": ref, "text": question.text, "topic": question.topic, "routes": question.routes}
    outbox.tell_admins(
        session,
        study,
        key=f"ask-unclear:{study.key}:{question.id}",
        notice=Notice("question_unclear", data),
        now=now,
    )


def _answer_within(session: Session, study: StudyView, topic: TopicOwners) -> str:
    if topic.answer_within:
        return topic.answer_within
    plan = (session.get(Study, study.id) or Study(key="", name="", timezone="UTC")).plan or {}
    return ((plan.get("cadence") or {}).get("answer_within")) or DEFAULT_ANSWER_WITHIN


def _owner_ids(study: StudyView, question: Question) -> set[int]:
    topic = next((t for t in study.topics if t.topic == question.topic), None)
    return {topic.owner.id} if topic else set()


def _study(session: Session, requester: Requester) -> StudyView:
    return directory.current(session).studies[requester.study_id]


def _question(session: Session, study: StudyView, question_id: int) -> Question:
    question = session.get(Question, question_id)
    if question is None or question.study_id != study.id:
        raise BadCommand(
            f"There is no question {reference(study.key, question_id)}.", hint="/ask list shows yours."
        )
    return question


def _who(person: Contact) -> dict[str, str | None]:
    return person.carried()
