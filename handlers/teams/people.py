"""Who is who in Teams, and where to reach them: the references and members the bot has met.

Teams gives a bot no way to message someone out of the blue: it needs a conversation reference
(the conversation id and the service URL of the person's region), which Teams hands over when the
app is installed or someone writes to it. Every activity's reference is kept here, with the sender
(Entra object id, Teams user id, and e-mail once looked up), so that check-in prompts, reminders and
escalations can reach people later through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot import directory, identities
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


def take_in(
    session: Session, *, seen: Seen | None, sender: str, now: datetime, tenants: tuple[str, ...] = ()
) -> tuple[str, bool]:
    """An activity arriving: having kept `seen` (when given), the id the plan knows the sender by and
    whether their e-mail is still to be looked up. (A copy Teams sends again is recognised when what
    it runs would change something: see `once`.)"""
    if seen is not None:
        remember(session, seen, now)
    return recognise(session, sender, tenants=tenants)


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


def meet(
    session: Session,
    met: Met,
    service_url: str,
    tenant_id: str | None,
    now: datetime,
    *,
    how: str,
    tenants: tuple[str, ...] = (),
) -> None:
    """Keep a member a roster showed, and bind them to the plan person with their e-mail when Teams shows
    them in that person's side's tenant (bot.identities)."""
    remember_member(session, met, service_url, tenant_id, now)
    if met.email:
        identities.found_on_teams(
            session,
            email=met.email,
            aad_id=met.aad_id,
            tenant_id=tenant_id,
            how=how,
            configured_tenants=tenants,
        )


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


def recognise(session: Session, aad_id: str, *, tenants: tuple[str, ...] = ()) -> tuple[str, bool]:
    """The id this Teams user is known by (their Entra object id) and whether their e-mail still has to
    be looked up: someone a plan names by e-mail alone is bound to them here once Teams showed the user
    with that e-mail in the person's side's tenant, and never re-bound (bot.identities)."""
    view = directory.current(session)
    if view.memberships("teams", aad_id):  # in the plan by id, or bound before: nothing to look up
        return aad_id, False
    known = member(session, aad_id)
    if known is None or not known.email:
        return aad_id, True
    identities.found_on_teams(
        session,
        email=known.email,
        aad_id=aad_id,
        tenant_id=known.tenant_id,
        how="a member met before",
        configured_tenants=tenants,
    )
    return aad_id, False


def handle_for(session: Session, user_id: str) -> str | None:
    """The plan's handle of a Teams user someone @-mentioned (by Teams user id or Entra id)."""
    known = session.exec(
        select(TeamsMember).where((TeamsMember.user_id == user_id) | (TeamsMember.aad_object_id == user_id))
    ).first()
    memberships = directory.current(session).memberships("teams", known.aad_object_id if known else user_id)
    return memberships[0][1].handle if memberships else None


def entra_id(session: Session, contact: Contact) -> str | None:
    """A plan's person as a Teams user: the plan's `teams:` id, or the one bound to their e-mail. Never
    merely whoever shows their e-mail: that could be anyone's directory entry."""
    return contact.teams_id


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
    """(slack id, handle) -> Entra object id, for naming people in cards as Teams mentions: the plan's or
    the bound `teams:` id, never whoever shows a person's e-mail."""
    people = [p for s in directory.current(session).studies.values() for p in s.people.values()]
    by_slack = {p.slack_id: p for p in people if p.slack_id}
    by_handle = {p.handle: p for p in people}

    def resolve(slack_id: str | None, handle: str | None) -> str | None:
        contact = by_slack.get(slack_id or "") or by_handle.get(handle or "")
        return contact.teams_id if contact else None

    return resolve
