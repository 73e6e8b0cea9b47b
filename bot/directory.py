"""An in-process, read-only copy of every study's people and topics, for answering commands fast.

The database stays the truth. A copy is trusted for at most `max_age` seconds; after that one cheap
query compares the studies' revision counters and reloads only when one moved. Every write that
changes people or topics bumps its study's revision and calls `changed()`, so this process sees its
own writes at once, and other instances see them within `max_age`.
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.calendars import WorkingCalendar, from_spec
from bot.errors import CadenceError
from bot.models import AwayPeriod, Person, Responsibility, Study

MAX_AGE_SECONDS = 1.0


@dataclass(frozen=True)
class Contact:
    id: int
    handle: str
    name: str
    side: str
    role: str
    slack_id: str | None
    teams_id: str | None
    email: str | None
    prefers: str | None
    timezone: str
    slack_team: str | None = None  # the Slack workspace they write from (their organisation's)
    calendar: WorkingCalendar | None = field(default=None, hash=False, compare=False)  # see calendars.of

    def carried(self) -> dict[str, str | None]:
        """The person as a notice's data carries them, for views to mention (views.who)."""
        return {"name": self.name, "handle": self.handle, "slack_id": self.slack_id}


@dataclass(frozen=True)
class TopicOwners:
    topic: str
    keywords: tuple[str, ...]
    owner: Contact
    backup: Contact | None
    answer_within: str | None
    # Words people taught Cadence for this topic (stem -> weight; negative: "Not mine" led away from it).
    learned: dict[str, float] = field(default_factory=dict, hash=False, compare=False)
    id: int = 0  # the responsibility's row: what a button or menu choice names, whatever the topic's length


@dataclass(frozen=True)
class Away:
    handle: str
    starts_on: date
    until: date  # the last day away
    cover: str | None  # the handle of who covers, when the person named someone


@dataclass(frozen=True)
class StudyView:
    id: int
    key: str
    name: str
    timezone: str
    channel: str | None
    admins: tuple[str, ...]
    people: dict[str, Contact]  # active people by handle, in plan order
    topics: tuple[TopicOwners, ...]  # active responsibilities, in plan order
    away: tuple[Away, ...] = ()  # away periods not yet ended

    def person(self, person_id: int | None) -> Contact | None:
        """The active person with this id, if they are still in the plan."""
        return next((p for p in self.people.values() if p.id == person_id), None)

    def member(self, person_id: int | None) -> Contact:
        """The active person with this id; a clear error when they have left the plan."""
        found = self.person(person_id)
        if found is None:
            raise CadenceError("That person is no longer in the study's plan.")
        return found

    def away_on(self, handle: str, moment: datetime) -> Away | None:
        """The person's away period covering `moment` (a day in their own timezone), if any."""
        person = self.people.get(handle)
        if person is None:
            return None
        day = moment.astimezone(ZoneInfo(person.timezone)).date()
        return next((a for a in self.away if a.handle == handle and a.starts_on <= day <= a.until), None)

    def stand_in(self, contact: Contact, moment: datetime, fallback: Contact | None = None) -> Contact | None:
        """Who answers for `contact` at `moment`: their named cover, else `fallback`, when they are away."""
        away = self.away_on(contact.handle, moment)
        if away is None:
            return None
        named = self.people.get(away.cover) if away.cover else None
        return named or fallback


@dataclass(frozen=True)
class DirectoryView:
    studies: dict[int, StudyView] = field(default_factory=dict)

    def __post_init__(self) -> None:
        by_channel = {s.channel: s for s in self.studies.values() if s.channel}
        by_key = {s.key: s for s in self.studies.values()}
        object.__setattr__(self, "_by_channel", by_channel)
        object.__setattr__(self, "_by_key", by_key)
        members: dict[tuple[str, str], list[tuple[StudyView, Contact]]] = {}
        for study in sorted(self.studies.values(), key=lambda s: s.key):
            for person in study.people.values():
                for platform, ident in (
                    ("slack", person.slack_id),
                    ("teams", person.teams_id),  # the plan's, or bound from their e-mail (bot.identities)
                    ("console", person.handle),
                    ("email", (person.email or "").lower()),  # a link in Cadence's e-mail (bot.action_links)
                ):
                    if ident:
                        members.setdefault((platform, ident), []).append((study, person))
        object.__setattr__(self, "_members", members)

    def study_in_channel(self, channel_id: str) -> StudyView | None:
        return self._by_channel.get(channel_id)  # type: ignore[attr-defined]

    def study_by_key(self, key: str) -> StudyView | None:
        return self._by_key.get(key)  # type: ignore[attr-defined]

    def memberships(self, platform: str, user_id: str) -> list[tuple[StudyView, Contact]]:
        """The studies a platform user belongs to, with who they are in each."""
        return self._members.get((platform, user_id), [])  # type: ignore[attr-defined]


class Directory:
    def __init__(self, max_age: float = MAX_AGE_SECONDS):
        self.max_age = max_age
        self._view: DirectoryView | None = None
        self._revisions: tuple | None = None
        self._checked = -math.inf
        self._generation = 0  # bumped by every invalidation: a load begun before one is not trusted after
        self._lock = threading.Lock()

    def view(self, session: Session) -> DirectoryView:
        if self._view is not None and time.monotonic() - self._checked < self.max_age:
            return self._view
        with self._lock:
            if self._view is None or time.monotonic() - self._checked >= self.max_age:
                generation = self._generation
                revisions = tuple(
                    session.exec(select(Study.id, Study.revision).order_by(col(Study.id))).all()
                )
                if self._view is None or revisions != self._revisions:
                    self._view, self._revisions = _load(session), revisions
                if generation == self._generation:
                    self._checked = time.monotonic()
            return self._view

    def fresh(self) -> DirectoryView | None:
        """The copy when it is still within its max age, without touching the database; else None."""
        if self._view is not None and time.monotonic() - self._checked < self.max_age:
            return self._view
        return None

    def invalidate(self) -> None:
        self._generation += 1
        self._checked = -math.inf


_directories: weakref.WeakKeyDictionary[Engine, Directory] = weakref.WeakKeyDictionary()
_directories_lock = threading.Lock()


def _directory_for(session: Session) -> Directory:
    engine = session.get_bind()
    with _directories_lock:
        return _directories.setdefault(engine, Directory())  # type: ignore[arg-type]


def current(session: Session) -> DirectoryView:
    """Every study's people and topics, as of at most MAX_AGE_SECONDS ago (or this process's last write).
    A session that changed them sees its own change, before it commits and whatever other threads load."""
    if session.info.get(_CHANGED):
        return _load(session)
    return _directory_for(session).view(session)


def fresh(engine: Engine) -> DirectoryView | None:
    """This process's copy if it is fresh, read on the caller's thread with no query (None: ask a session)."""
    with _directories_lock:
        directory = _directories.get(engine)
    return directory.fresh() if directory is not None else None


def changed(session: Session) -> None:
    """Note that this session changed people or topics: the copy reloads once the commit lands."""
    directory = _directory_for(session)
    directory.invalidate()
    if not session.info.get(_CHANGED):
        session.info[_CHANGED] = True
        event.listen(session, "after_commit", lambda s: _committed(s, directory), once=True)
        event.listen(session, "after_rollback", lambda s: session.info.pop(_CHANGED, None), once=True)


_CHANGED = "directory_changed"


def revised(session: Session, study_id: int) -> None:
    """This session changed a study's people or topics: its revision moves, so every instance's copy
    reloads once the change commits (this one at once)."""
    study = session.get(Study, study_id)
    assert study is not None
    study.revision += 1
    changed(session)


def _committed(session: Session, directory: Directory) -> None:
    session.info.pop(_CHANGED, None)
    directory.invalidate()


_PERSON_COLUMNS = (
    "id", "handle", "name", "side", "role", "slack_id", "teams_id", "email", "prefers", "timezone",
    "slack_team", "active", "study_id", "calendar",
)  # fmt: skip
_TOPIC_COLUMNS = ("id", "study_id", "topic", "keywords", "owner_id", "backup_id", "answer_within", "learned")


def _contact(person: Any) -> Contact:
    """A person (a row of `_PERSON_COLUMNS`, or the whole Person) as the directory keeps them."""
    assert person.id is not None
    return Contact(
        id=person.id,
        handle=person.handle,
        name=person.name,
        side=person.side,
        role=person.role,
        slack_id=person.slack_id,
        teams_id=person.teams_id,
        email=person.email,
        prefers=person.prefers,
        timezone=person.timezone,
        slack_team=person.slack_team,
        calendar=from_spec(person.timezone, person.calendar),
    )


def _load(session: Session) -> DirectoryView:
    everyone: dict[int, Contact] = {}
    people_of: dict[int, dict[str, Contact]] = {}
    person_columns = [getattr(Person, name) for name in _PERSON_COLUMNS]
    for person in session.exec(select(*person_columns).order_by(col(Person.id))):  # rows, not objects
        contact = everyone[person.id] = _contact(person)  # type: ignore[index]
        if person.active:
            people_of.setdefault(person.study_id, {})[person.handle] = contact
    topics_of: dict[int, list[TopicOwners]] = {}
    topic_columns = [getattr(Responsibility, name) for name in _TOPIC_COLUMNS]
    rows = session.exec(
        select(*topic_columns).where(Responsibility.active == True).order_by(col(Responsibility.position))  # noqa: E712
    )
    for row in rows:
        topics_of.setdefault(row.study_id, []).append(
            TopicOwners(
                topic=row.topic,
                keywords=tuple(row.keywords),
                owner=everyone[row.owner_id],
                backup=everyone[row.backup_id] if row.backup_id else None,
                answer_within=row.answer_within,
                learned=dict(row.learned or {}),
                id=row.id,
            )
        )
    away_of: dict[int, list[Away]] = {}
    for period in session.exec(select(AwayPeriod).where(AwayPeriod.ended_at == None)):  # noqa: E711
        person, cover = everyone.get(period.person_id), everyone.get(period.cover_id or -1)
        if person is not None:
            away_of.setdefault(period.study_id, []).append(
                Away(person.handle, period.starts_on, period.until, cover.handle if cover else None)
            )
    columns = (Study.id, Study.key, Study.name, Study.timezone, Study.channel, Study.admins)
    studies = {  # not the plans: a thousand of them, read whole, would be tens of megabytes for nothing
        study_id: StudyView(
            id=study_id,
            key=key,
            name=name,
            timezone=timezone,
            channel=channel,
            admins=tuple(admins),
            people=people_of.get(study_id, {}),
            topics=tuple(topics_of.get(study_id, [])),
            away=tuple(away_of.get(study_id, [])),
        )
        for study_id, key, name, timezone, channel, admins in session.exec(select(*columns))
    }
    return DirectoryView(studies)


def channel_platform(channel_id: str) -> str:
    """The chat a channel id belongs to: Teams conversation ids look like 19:…@thread.tacv2 (or a:…)."""
    return "teams" if channel_id.startswith(("19:", "a:", "29:")) else "slack"


def person_platform(person: Contact) -> str | None:
    """Where a person gets Cadence: the chat they prefer, else Slack if the plan has their id, else Teams."""
    on = {"slack": bool(person.slack_id), "teams": bool(person.teams_id or person.email)}
    if person.prefers in on and on[person.prefers]:
        return person.prefers
    return next((platform for platform, known in on.items() if known), None)


def goes_by_email(person: Contact) -> bool:
    """Whether Cadence writes to a person by e-mail rather than a chat DM: they prefer e-mail, or the plan
    knows no chat id for them (a DM could not arrive). Only people with an address, and only when e-mail
    is set up (the delivery worker checks that)."""
    if not person.email:
        return False
    return person.prefers == "email" or not (person.slack_id or person.teams_id)


def reachable_in(person: Contact, channel_id: str) -> bool:
    """Whether a mention in this channel reaches the person (they use the chat the channel is on)."""
    return person_platform(person) == channel_platform(channel_id)
