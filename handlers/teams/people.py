"""Who is who in Teams, and where to reach them: the references and members the bot has met.

Teams gives a bot no way to message someone out of the blue: it needs a conversation reference
(the conversation id and the service URL of the person's region), which Teams hands over when the
app is installed or someone writes to it. Every activity's reference is kept here, with the sender
(Entra object id, Teams user id, and e-mail once looked up), so that check-in prompts, reminders and
escalations can reach people later through the outbox.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot import directory
from bot.db import insert_once
from bot.directory import Contact
from bot.models import TeamsConversation, TeamsMember
from bot.received import Once

ACTIVITIES_KEPT = timedelta(days=2)  # far longer than Teams goes on delivering an activity again


def once(activity_id: str | None, now: datetime) -> Once | None:
    """An activity's claim to be taken in once, made by the first transaction of its that changes
    something: Teams delivers an activity again when the answer to it was slow."""
    return Once(f"teams:{activity_id}", now=now, kept=ACTIVITIES_KEPT) if activity_id else None


@dataclass(frozen=True)
class Seen:
    """What one activity says about where it came from."""

    conversation_id: str
    kind: str  # personal, channel or groupChat
    service_url: str
    tenant_id: str | None
    aad_id: str | None  # the sender's Entra object id
    user_id: str | None  # the sender's Teams user id (29:…)
    name: str | None


@dataclass(frozen=True)
class Met:
    """Someone seen in a roster: enough to open a chat with them."""

    aad_id: str
    user_id: str
    name: str | None
    email: str | None


def take_in(session: Session, *, seen: Seen | None, sender: str, now: datetime) -> tuple[str, bool]:
    """An activity arriving: having kept `seen` (when given), the id the plan knows the sender by and
    whether their e-mail is still to be looked up. (A copy Teams sends again is recognised when what
    it runs would change something: see `once`.)"""
    if seen is not None:
        remember(session, seen, now)
    return recognise(session, sender)


def remember(session: Session, seen: Seen, now: datetime) -> None:
    """Keep the conversation's reference and the sender, so later messages can reach them."""
    _upsert(
        session,
        TeamsConversation,
        "conversation_id",
        seen.conversation_id,
        {
            "kind": seen.kind,
            "service_url": seen.service_url,
            "tenant_id": seen.tenant_id,
            "user_aad_id": seen.aad_id if seen.kind == "personal" else None,
            "updated_at": now,
        },
    )
    if seen.aad_id and seen.user_id:
        remember_member(
            session, Met(seen.aad_id, seen.user_id, seen.name, None), seen.service_url, seen.tenant_id, now
        )


def remember_member(
    session: Session, met: Met, service_url: str, tenant_id: str | None, now: datetime
) -> None:
    values = {
        "user_id": met.user_id,
        "service_url": service_url,
        "tenant_id": tenant_id,
        "updated_at": now,
        **({"name": met.name} if met.name else {}),
        **({"email": met.email.lower()} if met.email else {}),
    }
    _upsert(session, TeamsMember, "aad_object_id", met.aad_id, values)
    _members.pop(session.get_bind().engine, None)  # met here: the next card reads the members again


def _upsert(session: Session, model: type, key: str, value: str, values: dict) -> None:
    """Insert or bring up to date, safe against another instance doing the same at the same moment."""
    if not insert_once(session, model, {key: value, **values}, unique=(key,)):
        row = session.exec(select(model).where(getattr(model, key) == value)).one()
        changed = {k: v for k, v in values.items() if k != "updated_at" and getattr(row, k) != v}
        if changed:
            for k, v in {**changed, "updated_at": values["updated_at"]}.items():
                setattr(row, k, v)
            session.add(row)


def member(session: Session, aad_id: str) -> TeamsMember | None:
    return session.exec(select(TeamsMember).where(TeamsMember.aad_object_id == aad_id)).first()


def recognise(session: Session, aad_id: str) -> tuple[str, bool]:
    """The id a plan knows this Teams user by (their Entra object id, or else their e-mail), and
    whether their e-mail still has to be looked up to tell."""
    view = directory.current(session)
    if view.memberships("teams", aad_id):  # in the plan by id: nothing to look up
        return aad_id, False
    known = member(session, aad_id)
    if known is None or not known.email:
        return aad_id, True
    return (known.email if view.memberships("teams", known.email) else aad_id), False


def handle_for(session: Session, user_id: str) -> str | None:
    """The plan's handle of a Teams user someone @-mentioned (by Teams user id or Entra id)."""
    known = session.exec(
        select(TeamsMember).where((TeamsMember.user_id == user_id) | (TeamsMember.aad_object_id == user_id))
    ).first()
    view = directory.current(session)
    for ident in filter(None, [known.aad_object_id if known else user_id, known.email if known else None]):
        memberships = view.memberships("teams", ident)
        if memberships:
            return memberships[0][1].handle
    return None


def entra_id(session: Session, contact: Contact) -> str | None:
    """A plan's person as a Teams user: the plan's `teams:` id, or whoever has their e-mail."""
    if contact.teams_id:
        return contact.teams_id
    if contact.email:
        found = session.exec(select(TeamsMember).where(TeamsMember.email == contact.email.lower())).first()
        return found.aad_object_id if found else None
    return None


def personal_chat(session: Session, aad_id: str) -> TeamsConversation | None:
    return session.exec(
        select(TeamsConversation)
        .where(TeamsConversation.user_aad_id == aad_id, TeamsConversation.kind == "personal")
        .order_by(col(TeamsConversation.updated_at).desc())
    ).first()


def conversation(session: Session, conversation_id: str) -> TeamsConversation | None:
    base = conversation_id.split(";", 1)[0]
    return session.exec(select(TeamsConversation).where(TeamsConversation.conversation_id == base)).first()


def resolver(session: Session):
    """(slack id, handle) -> Entra object id, for naming people in cards as Teams mentions. People in
    the plan by e-mail are found among the members met, read at most once every MEMBERS_KEPT seconds
    (or sooner once this process met someone): a card drawn on every answer need not query for them."""
    people = [p for s in directory.current(session).studies.values() for p in s.people.values()]
    by_slack = {p.slack_id: p for p in people if p.slack_id}
    by_handle = {p.handle: p for p in people}

    def resolve(slack_id: str | None, handle: str | None) -> str | None:
        contact = by_slack.get(slack_id or "") or by_handle.get(handle or "")
        if contact is None or contact.teams_id or not contact.email:
            return contact.teams_id if contact else None
        return _members_by_email(session).get(contact.email.lower())

    return resolve


MEMBERS_KEPT = 30.0  # seconds another instance's newly met member may go unnamed as a mention here
_members: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> (read at, e-mail -> id)


def _members_by_email(session: Session) -> dict[str, str]:
    engine = session.get_bind().engine
    read_at, by_email = _members.get(engine, (None, {}))
    if read_at is None or time.monotonic() - read_at > MEMBERS_KEPT:
        rows = session.exec(
            select(TeamsMember.email, TeamsMember.aad_object_id).where(col(TeamsMember.email).is_not(None))
        )
        by_email = {email: aad for email, aad in rows if email}
        _members[engine] = (time.monotonic(), by_email)
    return by_email
