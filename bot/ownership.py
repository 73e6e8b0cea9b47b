"""Ownership: who owns a topic, found by name, keyword or a typo of either; admins reassign it."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from rapidfuzz import fuzz, process
from sqlmodel import Session, select

from bot import audit, directory, evidence, outbox
from bot.directory import Contact, StudyView, TopicOwners
from bot.errors import BadCommand, NotAnAdmin, UnknownPerson, UnknownTopic
from bot.models import Person, Responsibility, Study, utcnow
from bot.replies import Notice
from bot.studies import Requester

CONFIDENT = 85  # a score at or above this is an answer; below it, a suggestion
_WORDS = re.compile(r"[^\w\s-]+")
SENTENCE = 4  # a query of this many words or more is a question: its words are weighed (bot.evidence)
# Words that ask about a person rather than name anyone: "what does Arjun own?", "who is the CRO PM?".
_ASKING = frozenset(
    """own owns owned owner owners topic topics responsible responsibility responsibilities handle handles
    look looks looking after cover covers backup backs role roles side team people person anyone someone
    somebody whose who's what's charge""".split()
)
_ASKS_ABOUT_PERSON = re.compile(
    r"^\s*(?:what|which(?:\s+topics?)?)\s+(?:does|do)\s+@?(?P<name>[^\W\d_][\w.'’-]*(?:\s+[^\W\d_][\w.'’-]*)?)"
    r"\s+(?:own|handle|look\s+after|cover|back\s+up)\b",
    re.IGNORECASE,
)
_SIDES = {"sponsor": "sponsor", "sponsors": "sponsor", "cro": "cro", "cros": "cro"}


@dataclass(frozen=True)
class Cover:
    """The owner is away: until when, and who answers meanwhile (their named cover, else the backup)."""

    until: date
    person: Contact | None


@dataclass(frozen=True)
class OwnerFound:
    query: str
    topic: TopicOwners
    matched: str  # what in the plan the query matched: the topic or one of its keywords
    exact: bool  # False when the match was typo-tolerant
    also: tuple[TopicOwners, ...] = ()  # other topics that fit just as well
    cover: Cover | None = None  # set when the owner is away


@dataclass(frozen=True)
class TopicsListed:
    study_key: str
    study_name: str
    topics: tuple[TopicOwners, ...]
    away: dict[str, Cover] = field(default_factory=dict)  # owner handle -> cover, for owners away now


@dataclass(frozen=True)
class NoTopicFound:
    query: str
    closest: tuple[TopicOwners, ...]
    examples: tuple[str, ...]  # keywords worth trying


@dataclass(frozen=True)
class PersonsTopics:
    """`/who-owns mei`: what a person owns and backs up ("what does Mei own?")."""

    person: Contact
    owns: tuple[TopicOwners, ...]
    backs_up: tuple[TopicOwners, ...]
    cover: Cover | None = None  # set when they are away


@dataclass(frozen=True)
class PeopleFound:
    """`/who-owns CRO`, `/who-owns who is the CRO project manager?`: the people of a side or a role, and
    what each owns and backs up."""

    query: str
    side: str | None  # the side named ("sponsor" or "cro"), if one was
    role: str | None  # the role named, as the plan writes it, if one was
    people: tuple[PersonsTopics, ...]


@dataclass(frozen=True)
class OwnershipChanged:
    topic: TopicOwners
    role: str  # "owner" or "backup"
    previous: Contact | None
    changed: bool
    swapped: bool = False  # the new owner was the backup, and the previous owner became the backup
    posted: bool = False  # the change is posted in the study channel for everyone to see


@dataclass(frozen=True)
class _Scored:
    topic: TopicOwners
    score: float
    matched: str


@functools.lru_cache(maxsize=4096)
def _normalize(text: str) -> str:
    return " ".join(_WORDS.sub(" ", text.casefold()).split())


def list_topics(session: Session, *, study_id: int) -> list[TopicOwners]:
    """The study's current responsibilities in plan order, with their people."""
    study = directory.current(session).studies.get(study_id)
    return list(study.topics) if study else []


def _score(query: str, candidate: str) -> float:
    if query == candidate:
        return 100
    padded_query, padded_candidate = f" {query} ", f" {candidate} "
    if len(candidate) >= 3 and padded_candidate in padded_query:
        return 95  # "who handles SAE reports" names the keyword "SAE"
    if len(query) >= 4 and padded_query in padded_candidate:
        return 90  # "lock" is part of "database lock"
    if len(query) < 4:
        return min(70.0, fuzz.ratio(query, candidate))  # too short to guess a typo from: suggest only
    # A typo of the whole candidate, or of one of its words ("monitorng" in "site monitoring").
    fuzzy = max(
        fuzz.ratio(query, candidate),
        fuzz.token_sort_ratio(query, candidate),
        max(fuzz.ratio(query, word) for word in candidate.split()),
    )
    if len(query) >= 5 and any(evidence.one_typo_away(query, w) for w in (candidate, *candidate.split())):
        fuzzy = max(fuzzy, 88.0)  # one slip of the keyboard, "saftey", "budjet": an answer, not a guess
    return min(89.0, fuzzy)  # typo-tolerant, but ranked below a whole-word match (90 and up)


def rank_topics(query: str, topics: list[TopicOwners]) -> list[_Scored]:
    """Score every topic by its name and keywords against the query, best first."""
    wanted = _normalize(query)
    ranked = []
    for topic in topics:
        best, matched = 0.0, topic.topic
        for candidate in (topic.topic, *topic.keywords):
            score = _score(wanted, _normalize(candidate))
            if score > best:
                best, matched = score, candidate
        ranked.append(_Scored(topic, best, matched))
    return sorted(ranked, key=lambda s: -s.score)


def find_owner(
    session: Session, *, requester: Requester, query: str, now: datetime | None = None
) -> OwnerFound | NoTopicFound | TopicsListed | PersonsTopics | PeopleFound:
    """Answer `/who-owns [topic, person, role or side]`: the owner of the best-matching topic, all
    topics, what a person owns ("what does Arjun own?"), who holds a role or is on a side ("who is the
    CRO project manager?", "CRO"), or the closest topics."""
    now = now or utcnow()
    study = directory.current(session).studies[requester.study_id]
    topics = list(study.topics)
    query = query.strip()
    if not query:
        away = {t.owner.handle: c for t in topics if (c := cover_for(study, t, now))}
        return TopicsListed(requester.study_key, requester.study_name, tuple(topics), away)
    asked = _asked_about(query)
    named = _person_named(study, query) or (_person_named(study, " ".join(asked)) if asked else None)
    if named is not None:
        return _persons_topics(study, named, now)
    ranked = rank_topics(query, topics)
    exact_topic = bool(ranked) and ranked[0].score == 100
    people = None if exact_topic else _people_in_role(study, query, asked, whole_role=True, now=now)
    if people is not None:
        return people
    weighed = evidence.best(evidence.weigh(query, topics))  # a whole question: "…screened so far?"
    if weighed is not None and len(evidence.words(query)) >= SENTENCE:
        return _weighed(study, query, weighed, now)  # a sentence's words, weighed, over a word of it
    if not ranked or ranked[0].score < CONFIDENT:
        found = _people_in_role(study, query, asked, whole_role=False, now=now)
        if found is not None:
            return found
        close = _person_close(study, asked)
        if close is not None:
            return _persons_topics(study, close, now)
        if weighed is not None:
            return _weighed(study, query, weighed, now)
        _refuse_unknown_person(study, query)
        return NoTopicFound(
            query=query,
            closest=tuple(s.topic for s in ranked[:3] if s.score >= 40),
            examples=tuple(t.keywords[0] for t in topics[:3] if t.keywords),
        )
    best = ranked[0]
    ties = tuple(s.topic for s in ranked[1:] if s.score >= CONFIDENT and s.score == best.score)
    return OwnerFound(
        query=query,
        topic=best.topic,
        matched=best.matched,
        exact=best.score >= 90,
        also=ties,
        cover=cover_for(study, best.topic, now),
    )


def _weighed(study: StudyView, query: str, weighed: evidence.Evidence, now: datetime) -> OwnerFound:
    return OwnerFound(
        query=query,
        topic=weighed.topic,
        matched=weighed.terms[0],
        exact=True,
        cover=cover_for(study, weighed.topic, now),
    )


def _persons_topics(study: StudyView, person: Contact, now: datetime) -> PersonsTopics:
    away = study.away_on(person.handle, now)
    return PersonsTopics(
        person,
        tuple(t for t in study.topics if t.owner.id == person.id),
        tuple(t for t in study.topics if t.backup and t.backup.id == person.id),
        Cover(away.until, study.stand_in(person, now)) if away else None,
    )


def _asked_about(query: str) -> list[str]:
    """The words of a question that may name someone or a role: "what does Arjun own?" -> ["arjun"]."""
    found = []
    for word in evidence.words(query.replace("@", " ")):
        folded = re.sub(r"['’]s$", "", word.casefold())  # "Arjun's topics"
        if folded not in evidence.STOP_WORDS and folded not in _ASKING:
            found.append(folded)
    return found


def _people_in_role(
    study: StudyView, query: str, asked: list[str], *, whole_role: bool, now: datetime
) -> PeopleFound | None:
    """The people a side or a role names: "CRO" (a side alone), "the CRO project manager", "PM". With
    `whole_role`, every word of the role must be asked ("project manager"); without, the words asked need
    only be the role's ("lead CRA" of "Lead CRA (monitoring)")."""
    sides = {_SIDES[w] for w in asked if w in _SIDES}
    rest = [evidence.stem(w) for w in asked if w not in _SIDES]
    if len(sides) > 1 or not (sides or rest):
        return None  # both sides named, or nothing
    side = next(iter(sides), None)
    people = [p for p in study.people.values() if side is None or p.side == side]
    if not rest:
        return _people_found(study, query, side, None, people, now)
    fits = [p for p in people if _holds_role(p.role, rest, whole_role=whole_role)]
    if not fits:
        return None
    roles = {p.role for p in fits}
    return _people_found(study, query, side, roles.pop() if len(roles) == 1 else None, fits, now)


def _holds_role(role: str, wanted: list[str], *, whole_role: bool) -> bool:
    """Whether the stems asked name the role, or its initials ("PM" for "Project Manager")."""
    words = [w for w in evidence.words(role) if w.casefold() not in evidence.STOP_WORDS]
    initials = "".join(w[0] for w in words).casefold()
    if len(wanted) == 1 and len(initials) >= 2 and wanted[0] == initials:
        return True
    stems = {evidence.stem(w) for w in words}
    return set(wanted) <= stems and (not whole_role or stems <= set(wanted))


def _people_found(
    study: StudyView, query: str, side: str | None, role: str | None, people: list[Contact], now: datetime
) -> PeopleFound:
    return PeopleFound(query, side, role, tuple(_persons_topics(study, p, now) for p in people))


def _refuse_unknown_person(study: StudyView, query: str) -> None:
    """A question such as "what does Maria own?" about nobody in the plan: say so, and who is in it."""
    asked = _ASKS_ABOUT_PERSON.match(query)
    if asked is None or any(w.casefold() in evidence.STOP_WORDS for w in asked["name"].split()):
        return  # "what do we own?", "what does the budget cover?": not a name
    people = ", ".join(f"{p.name} (@{p.handle})" for p in study.people.values())
    raise UnknownPerson(
        f"Nobody called '{asked['name']}' is in {study.key}'s plan.", hint=f"People: {people}."
    )


def _person_close(study: StudyView, asked: list[str]) -> Contact | None:
    """The one person a few words name with a slip of the keyboard ("Arjn", "Arjun Mehat")."""
    wanted = " ".join(asked)
    if not wanted or len(asked) > 3:
        return None
    close = set()
    for person in study.people.values():
        names = {person.handle.casefold(), _normalize(person.name), *(_normalize(person.name).split()[:1])}
        if any(
            fuzz.ratio(wanted, name) >= 85 or (len(wanted) >= 3 and evidence.one_typo_away(wanted, name))
            for name in names
        ):
            close.add(person)
    return close.pop() if len(close) == 1 else None


def _person_named(study: StudyView, query: str) -> Contact | None:
    """The person a query names outright: @handle, handle, full name, or a first name only one has."""
    wanted = _normalize(query.strip().lstrip("@"))
    people = list(study.people.values())
    exact = [p for p in people if wanted in {p.handle.casefold(), _normalize(p.name)}]
    if exact:
        return exact[0]
    first = [p for p in people if p.name.split() and _normalize(p.name.split()[0]) == wanted]
    return first[0] if len(first) == 1 else None


def cover_for(study: StudyView, topic: TopicOwners, now: datetime) -> Cover | None:
    """When the topic's owner is away: until when, and who stands in (their cover, else the backup)."""
    away = study.away_on(topic.owner.handle, now)
    if away is None:
        return None
    return Cover(away.until, study.stand_in(topic.owner, now, fallback=topic.backup))


def resolve_topic(session: Session, *, study_id: int, query: str) -> Responsibility:
    """The one topic `query` names confidently; UnknownTopic (with the closest ones) otherwise."""
    topics = list_topics(session, study_id=study_id)
    ranked = rank_topics(query, topics)
    confident = [s for s in ranked if s.score >= CONFIDENT]
    if not confident or (len(confident) > 1 and confident[1].score == confident[0].score):
        names = [s.topic.topic for s in (confident or ranked)[:3]]
        hint = f"Closest topics: {', '.join(names)}." if names else "This study has no topics yet."
        raise UnknownTopic(f"No single topic matches '{query}'.", hint=hint)
    return session.exec(
        select(Responsibility).where(
            Responsibility.study_id == study_id, Responsibility.topic == confident[0].topic.topic
        )
    ).one()


def resolve_person(session: Session, *, study_id: int, reference: str) -> Contact:
    """A person of the study named by `@handle`, handle, name or e-mail (adapters turn their chat's
    mentions into @handles)."""
    reference = reference.strip()
    people = list(directory.current(session).studies[study_id].people.values())
    wanted = reference.lstrip("@").casefold()
    for person in people:
        if wanted in {
            person.handle.casefold(),
            person.name.casefold(),
            (person.email or "").casefold(),
        }:
            return person
    best = process.extractOne(wanted, [p.handle for p in people], score_cutoff=70)
    hint = (
        f"Did you mean {best[0]}?" if best else "Name someone from the plan's people by @mention or handle."
    )
    raise UnknownPerson(f"'{reference}' is not in this study's plan.", hint=hint)


def study_admins(session: Session, *, study_id: int) -> list[Contact]:
    """The people who may change the study's plan."""
    study = directory.current(session).studies[study_id]
    return [study.people[handle] for handle in study.admins if handle in study.people]


def change_ownership(
    session: Session,
    *,
    requester: Requester,
    topic_query: str,
    role: str,
    person_reference: str,
    now: datetime | None = None,
) -> OwnershipChanged:
    """Make someone the owner or backup of a topic (admins only); audit who changed what, and post it in
    the study channel."""
    now = now or utcnow()
    if not requester.is_admin:
        admins = " or ".join(p.name for p in study_admins(session, study_id=requester.study_id))
        raise NotAnAdmin(
            "Only the plan's admins can change who owns a topic.",
            hint=f"Ask {admins or 'an admin'}; they can run /who-owns set <topic> {role} @person.",
        )
    row = resolve_topic(session, study_id=requester.study_id, query=topic_query)
    clearing = role == "backup" and person_reference.strip().casefold() in {"none", "nobody", "-"}
    person = (
        None if clearing else resolve_person(session, study_id=requester.study_id, reference=person_reference)
    )
    before = {"owner": row.owner_id, "backup": row.backup_id}
    swapped = _assign(row, role, person)
    if row.owner_id != before["owner"]:
        row.confirmed_at = now
    after = {"owner": row.owner_id, "backup": row.backup_id}
    changed = before != after
    if changed:
        study = session.get(Study, requester.study_id)
        assert study is not None
        study.revision += 1
        study.updated_at = now
        directory.changed(session)
        handles = {
            p.id: p.handle for p in session.exec(select(Person).where(Person.study_id == requester.study_id))
        }
        audit.record(
            session,
            action="ownership.changed",
            actor=requester.actor,
            study_id=requester.study_id,
            subject=row.topic,
            detail={
                "by": requester.handle,
                "role": role,
                "before": {k: handles.get(v) for k, v in before.items()},
                "after": {k: handles.get(v) for k, v in after.items()},
            },
        )
        session.flush()
    view = directory.current(session).studies[requester.study_id]
    topic = next(t for t in view.topics if t.topic == row.topic)
    previous = next((p for p in view.people.values() if p.id == before[role]), None)
    result = OwnershipChanged(topic, role, previous, changed, swapped)
    if changed and view.channel:
        result = replace(result, posted=_post_change(session, view, requester, result, now))
    return result


def _post_change(
    session: Session, study: StudyView, requester: Requester, change: OwnershipChanged, now: datetime
) -> bool:
    """Tell the study channel, so both sides know whom to ask from now on (typed in a DM or not)."""
    topic = change.topic
    placed = topic.owner if change.role == "owner" else topic.backup
    return outbox.enqueue(
        session,
        key=f"ownership:{study.key}:{topic.topic}:{change.role}:{now.isoformat()}",
        to=outbox.Destination.channel(study.channel or ""),
        notice=Notice(
            "ownership_changed",
            {
                "study": study.key,
                "topic": topic.topic,
                "role": change.role,
                "person": placed.carried() if placed else None,
                "previous": change.previous.carried() if change.previous else None,
                "backup": topic.backup.carried() if change.swapped and topic.backup else None,
                "by": requester.name,
            },
        ),
        now=now,
        study_id=study.id,
    )


def _assign(row: Responsibility, role: str, person: Contact | None) -> bool:
    """Put `person` in the role; returns True when owner and backup swapped places."""
    if role == "owner":
        assert person is not None
        if person.id == row.owner_id:
            return False
        swapped = person.id == row.backup_id
        if swapped:
            row.backup_id = row.owner_id
        row.owner_id = person.id
        return swapped
    if person is not None and person.id == row.owner_id:
        raise BadCommand(
            f"{person.name} owns {row.topic}; the backup must be someone else.",
            hint=f"To hand the topic over, run /who-owns set {row.topic} owner @person.",
        )
    row.backup_id = person.id if person else None
    return False
