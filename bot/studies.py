"""Studies and their people: applying a plan, and finding who is asking in which study."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot import audit, calendars, directory, timeline
from bot.dates import writes_month_first
from bot.directory import Contact, StudyView
from bot.errors import BadCommand, NotConnected, NotInStudy
from bot.models import Person, Responsibility, Study, utcnow
from bot.plan import Plan, PlanPerson

_PERSON_FIELDS = ("name", "side", "role", "timezone", "prefers")
_PERSON_COLUMNS = {"slack": "slack_id", "teams": "teams_id", "email": "email"} | {
    f: f for f in _PERSON_FIELDS
}
_FILE_ONLY_PERSON_FIELDS = ("working_hours", "country")  # kept in the plan as applied; chat never sets them
_TOPIC_FIELDS = ("topic", "keywords", "owner", "backup", "answer_within")


@dataclass(frozen=True)
class ApplyResult:
    study_key: str
    created: bool
    changes: dict[str, list[str]] = field(default_factory=dict)
    # Where the study, as chat changed it, still differs from the file: a start never undoes those.
    differences: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        if self.created:
            return f"Created study {self.study_key}."
        if not any(self.changes.values()) and self.differences:
            return f"Study {self.study_key}: nothing changed in the plan file since it was last applied."
        if not any(self.changes.values()):
            return f"Study {self.study_key} is already up to date."
        parts = [f"{kind}: {', '.join(items)}" for kind, items in self.changes.items() if items]
        return f"Updated study {self.study_key} — " + "; ".join(parts) + "."

    @property
    def drift(self) -> str | None:
        """What a start tells when chat changed the study away from the file, and how to catch the file up."""
        if not self.differences:
            return None
        listed = "\n".join(f"  {line}" for line in self.differences)
        return (
            f"Study {self.study_key} differs from the plan file where it was changed from chat; those "
            f"changes are kept:\n{listed}\nTo bring the file in step: cadence plan export --study "
            f"{self.study_key} --out <file>"
        )


def apply_plan(session: Session, *, plan: Plan, actor: str, replace: bool = False) -> ApplyResult:
    """Create the plan's study, or update it in place keeping its history; audit what changed.

    Only what changed in the file since it was last applied is applied, so a restart with the same file
    keeps what admins changed from chat (a new backup, say); `replace` makes the study exactly the file.
    """
    study = session.exec(select(Study).where(Study.key == plan.study_id)).first()
    created = study is None
    if study is None:
        study = Study(key=plan.study_id, name=plan.name, timezone=plan.timezone, revision=0)
        session.add(study)
    base = {} if created or replace else study.plan  # the file as it was last applied
    study.name, study.timezone, study.channel = plan.name, plan.timezone, plan.channel
    study.admins, study.plan = list(plan.admins), plan.data
    study.revision += 1
    study.updated_at = utcnow()
    session.flush()
    people, people_changes = _apply_people(session, study, plan, base.get("people") or {})
    topic_changes = _apply_responsibilities(session, study, plan, people, _topics_by_key(base))
    directory.changed(session)
    changes = {**people_changes, **topic_changes}
    audit.record(
        session,
        action="plan.created" if created else "plan.applied",
        actor=actor,
        study_id=study.id,
        subject=study.key,
        detail={"revision": study.revision, "changes": changes},
    )
    return ApplyResult(study.key, created, changes, tuple(_differences(session, study, plan, people)))


def _changed_in_file(new: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """The fields the file changed since it was last applied (all of them for something new in it)."""
    if old is None:
        return new
    return {k: v for k, v in new.items() if k not in old or old[k] != v}


def _topics_by_key(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(t.get("topic", "")).casefold(): t for t in data.get("responsibilities") or []}


def _apply_people(session: Session, study: Study, plan: Plan, base: dict[str, Any]):
    planned: dict[str, PlanPerson] = plan.people
    existing = {p.handle: p for p in session.exec(select(Person).where(Person.study_id == study.id))}
    added, updated, removed = [], [], []
    for handle, spec in planned.items():
        person = existing.get(handle)
        in_file = {column: getattr(spec, f) for f, column in _PERSON_COLUMNS.items()}
        # Only the file sets a calendar (chat does not): it is always the file's.
        in_file["calendar"] = calendars.calendar_spec(vars(spec), plan.data["study"])
        was = base.get(handle)
        before = {column: was.get(f) for f, column in _PERSON_COLUMNS.items()} if was else None
        values: dict[str, Any] = _changed_in_file(in_file, before) | {"active": True}
        values["calendar"] = in_file["calendar"]
        if person is None:
            person = Person(study_id=study.id, handle=handle, **in_file, active=True)
            session.add(person)
            added.append(handle)
        elif any(getattr(person, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(person, key, value)
            updated.append(handle)
        existing[handle] = person
    # People leave the plan but stay in the database: the audit log and old records name them.
    for handle, person in existing.items():
        if handle not in planned and person.active:
            person.active = False
            removed.append(handle)
    session.flush()
    return existing, {"people added": added, "people updated": updated, "people removed": removed}


def _apply_responsibilities(
    session: Session, study: Study, plan: Plan, people: dict[str, Person], base: dict[str, dict[str, Any]]
):
    existing = {
        r.topic_key: r
        for r in session.exec(select(Responsibility).where(Responsibility.study_id == study.id))
    }
    added, updated, removed = [], [], []
    for position, spec in enumerate(plan.responsibilities):
        key = spec.topic.casefold()
        in_file = {f: getattr(spec, f) for f in _TOPIC_FIELDS} | {"keywords": list(spec.keywords)}
        wanted = _changed_in_file(in_file, base.get(key))
        values = {_TOPIC_COLUMNS.get(f, f): _topic_value(f, v, people) for f, v in wanted.items()}
        values |= {"position": position, "active": True}
        row = existing.pop(key, None)
        if row is None:
            values = {_TOPIC_COLUMNS.get(f, f): _topic_value(f, v, people) for f, v in in_file.items()}
            session.add(
                Responsibility(
                    study_id=study.id,
                    topic_key=key,
                    confirmed_at=study.updated_at,
                    position=position,
                    active=True,
                    **values,
                )
            )
            added.append(spec.topic)
        elif any(getattr(row, k) != v for k, v in values.items()):
            if row.owner_id != values.get("owner_id", row.owner_id):
                row.confirmed_at = study.updated_at  # a new owner agreed to it in the plan
            for name, value in values.items():
                setattr(row, name, value)
            updated.append(spec.topic)
    for row in existing.values():
        if row.active:
            row.active = False
            removed.append(row.topic)
    session.flush()
    return {"topics added": added, "topics updated": updated, "topics removed": removed}


_TOPIC_COLUMNS = {"owner": "owner_id", "backup": "backup_id"}


def _topic_value(name: str, value: Any, people: dict[str, Person]) -> Any:
    if name in _TOPIC_COLUMNS:
        return people[value].id if value else None
    return value


def _differences(session: Session, study: Study, plan: Plan, people: dict[str, Person]) -> list[str]:
    """Where the study as it stands (the file plus chat changes) differs from the file, in words."""
    handles = {p.id: p.handle for p in people.values()}
    rows = {
        r.topic_key: r
        for r in session.exec(select(Responsibility).where(Responsibility.study_id == study.id))
    }
    found = []
    for spec in plan.responsibilities:
        row = rows.get(spec.topic.casefold())
        if row is None:
            continue
        for role, here in (("owner", handles.get(row.owner_id)), ("backup", handles.get(row.backup_id))):
            there = getattr(spec, role)
            if here != there:
                found.append(f"{spec.topic} {role}: {here or 'nobody'} here, {there or 'nobody'} in the file")
    return found


@dataclass(frozen=True)
class Requester:
    """Who sent a command, in which study: the context every capability starts from."""

    study_id: int
    study_key: str
    study_name: str
    study_timezone: str
    study_channel: str | None
    person_id: int
    handle: str
    name: str
    is_admin: bool
    actor: str


def typists_day(session: Session, requester: Requester, now: datetime) -> tuple[date, bool]:
    """The requester's own date now (in their timezone, else the study's), and whether they write the
    month first (12/18), as people in the United States do: how the dates they type are read."""
    person = directory.current(session).studies[requester.study_id].people.get(requester.handle)
    zone = (person.timezone if person is not None and person.timezone else None) or requester.study_timezone
    return now.astimezone(ZoneInfo(zone)).date(), writes_month_first(zone)


def find_requester(
    session: Session,
    *,
    platform: str,
    user_id: str,
    channel_id: str | None = None,
    study_key: str | None = None,
) -> Requester:
    """Find the study a command belongs to and the person sending it; explain when there is none.

    Slack Connect: the CRO's people act from their own workspace, so they are known by their user
    id (unique across connected workspaces), never by the channel's or workspace's name.
    """
    view = directory.current(session)
    if study_key:
        study = view.study_by_key(study_key)
    else:
        study = view.study_in_channel(channel_id) if channel_id else None
    memberships = view.memberships(platform, user_id)
    if study is not None:
        person = next((p for s, p in memberships if s.id == study.id), None)
        if person is None:
            raise NotInStudy(
                f"You are not in {study.key}'s communication plan, so Cadence cannot act for you here.",
                hint=f"Ask an admin ({', '.join(study.admins)}) to add you under people: "
                f"with {platform}: {user_id} and apply the plan.",
            )
        return _requester(study, person, platform, user_id)
    if not memberships:
        raise NotInStudy(
            "You are not in any study's communication plan yet.",
            hint=f"Ask your study's admin to add you under people: with {platform}: {user_id} "
            "and apply the plan.",
        )
    channels = {s.key: s.channel for s, _ in memberships if s.channel}
    if channel_id:  # adapters give no channel for a direct message with Cadence
        raise NotConnected(
            "This channel is not connected to a study.",
            hint="Use Cadence in your study's channel or in a direct message with Cadence. To connect this "
            f"channel, an admin sets study.channel: {channel_id} in the plan and applies it.",
            channels=channels,
        )
    if len(memberships) > 1:
        raise BadCommand(
            "You are in several studies, so Cadence cannot tell which one you mean here.",
            hint="Run the command in the study's channel.",
            channels=channels,
        )
    study, person = memberships[0]
    return _requester(study, person, platform, user_id)


def _requester(study: StudyView, person: Contact, platform: str, user_id: str) -> Requester:
    return Requester(
        study_id=study.id,
        study_key=study.key,
        study_name=study.name,
        study_timezone=study.timezone,
        study_channel=study.channel,
        person_id=person.id,
        handle=person.handle,
        name=person.name,
        is_admin=person.handle in study.admins,
        actor=f"{platform}:{user_id}",
    )


def requester_for(study: StudyView, person: Contact) -> Requester:
    """The requester a job acts as when it works for a person (their App Home, say)."""
    return _requester(study, person, "cadence", person.handle)


def plan_as_it_stands(session: Session, *, study_key: str) -> dict[str, Any] | None:
    """The study as it stands, the file plus chat changes, in the plan format (None: no such study)."""
    study = session.exec(select(Study).where(Study.key == study_key)).first()
    if study is None:
        return None
    active_people = select(Person).where(Person.study_id == study.id, Person.active == True)  # noqa: E712
    people = sorted(session.exec(active_people), key=lambda p: p.id or 0)
    handles = {person.id: person.handle for person in people}
    topics = session.exec(
        select(Responsibility)
        .where(Responsibility.study_id == study.id, Responsibility.active == True)  # noqa: E712
        .order_by(col(Responsibility.position))
    )
    return {
        # The start as it stands (the day of the first apply, when the file gave none): a study exported
        # and applied elsewhere keeps its timeline.
        "study": dict(study.plan.get("study") or {})
        | {"id": study.key, "admins": list(study.admins), "start": timeline.start_day(study).isoformat()},
        "people": {
            p.handle: {f: getattr(p, column) for f, column in _PERSON_COLUMNS.items()}
            | {f: (study.plan.get("people") or {}).get(p.handle, {}).get(f) for f in _FILE_ONLY_PERSON_FIELDS}
            for p in people
        },
        "responsibilities": [
            {
                "topic": row.topic,
                "keywords": list(row.keywords),
                "owner": handles.get(row.owner_id),
                "backup": handles.get(row.backup_id),
                "answer_within": row.answer_within,
            }
            for row in topics
        ],
    } | {
        key: value for key, value in study.plan.items() if key not in {"study", "people", "responsibilities"}
    }


def study_keys(session: Session) -> list[str]:
    return list(session.exec(select(Study.key).order_by(col(Study.key))))
