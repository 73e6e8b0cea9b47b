"""Signing in to the web pages as someone a provider vouches for: Slack's or Microsoft's OpenID Connect,
or Teams' single sign-on in a tab.

The provider says who the person is in their chat (a Slack user id and workspace, an Entra object id and
tenant) and maybe their e-mail. They are matched to the plans by the identity rules of the chats
themselves (bot.identities, bot.organisations): by their chat id when their workspace or tenant is one
of their side's, by e-mail only to a plan person of the side whose organisation they are in (and that
binding is kept and audited as any other), never by the e-mail of someone from elsewhere. Every attempt,
taken or refused, is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from bot import audit, identities, organisations
from bot.models import Person


@dataclass(frozen=True)
class Identity:
    """Who a provider says is signing in, every field vouched for by its signature."""

    platform: str  # "slack" or "teams": the chat whose ids these are
    user_id: str  # a Slack user id, or an Entra object id
    organisation: str  # the Slack workspace (team id), or the Entra tenant id
    email: str | None  # only an address the provider says is the person's
    how: str  # "Sign in with Slack", "Sign in with Microsoft", "Teams tab"

    @property
    def actor(self) -> str:
        """How the web's session and the audit trail name this identity (`slack:U01BEN`)."""
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class SignedIn:
    """A person recognised: their first study (where the session starts) and the name they go by."""

    actor: str
    name: str
    study_id: int
    handles: tuple[str, ...]


def sign_in(
    session: Session,
    *,
    identity: Identity,
    own_workspace: str | None = None,
    configured_tenants: tuple[str, ...] = (),
) -> SignedIn | None:
    """The plan people `identity` is, found by the chats' identity rules, or None for a stranger (or
    someone of another workspace or tenant); the attempt is audited either way."""
    if identity.email:
        _bind_by_email(session, identity, own_workspace, configured_tenants)
    people = [
        p
        for p in _with_id(session, identity)
        if _of_their_side(session, p, identity, own_workspace, configured_tenants)
    ]
    if not people:
        audit.record(
            session, action="web.signin_refused", actor=identity.actor,
            detail=_detail(identity, "not in any study"),
        )  # fmt: skip
        return None
    for person in people:
        audit.record(
            session, action="web.signed_in", actor=identity.actor, study_id=person.study_id,
            subject=person.handle, detail=_detail(identity, "signed in"),
        )  # fmt: skip
    first = min(people, key=lambda p: p.study_id)
    return SignedIn(identity.actor, first.name, first.study_id, tuple(p.handle for p in people))


def refused(session: Session, *, how: str, reason: str) -> None:
    """Audit a sign-in that never got as far as a person (a forged or expired answer, a bad token)."""
    audit.record(session, action="web.signin_refused", actor="unknown", detail={"by": how, "reason": reason})


def _bind_by_email(
    session: Session, identity: Identity, own_workspace: str | None, configured_tenants: tuple[str, ...]
) -> None:
    """A plan person named by e-mail alone gets this chat id when the identity's workspace or tenant is
    their side's: the same rule, and the same audited binding, as when they first write to Cadence."""
    how = f"{identity.how.lower()} (e-mail)"
    if identity.platform == "slack":
        identities.found_on_slack(
            session, email=identity.email or "", user_id=identity.user_id, team_id=identity.organisation,
            how=how, own_workspace=own_workspace,
        )  # fmt: skip
    else:
        identities.found_on_teams(
            session, email=identity.email or "", aad_id=identity.user_id, tenant_id=identity.organisation,
            how=how, configured_tenants=configured_tenants,
        )  # fmt: skip


def _with_id(session: Session, identity: Identity) -> list[Person]:
    column = Person.slack_id if identity.platform == "slack" else Person.teams_id
    return list(session.exec(select(Person).where(Person.active == True, column == identity.user_id)))  # noqa: E712


def _of_their_side(
    session: Session,
    person: Person,
    identity: Identity,
    own_workspace: str | None,
    configured_tenants: tuple[str, ...],
) -> bool:
    """Whether the identity's workspace or tenant is one of the person's side's. A Slack side nobody has
    written from yet has no known workspace: the id the plan names is then enough (Slack's user ids are
    its own); a Teams side always has tenants (TEAMS_TENANT_ID at least), and the tenant must be one."""
    if identity.platform == "slack":
        known = organisations.slack_workspaces(
            session, study_id=person.study_id, side=person.side, own_workspace=own_workspace
        )
        return not known or identity.organisation in known or person.slack_team == identity.organisation
    known = organisations.teams_tenants(
        session, study_id=person.study_id, side=person.side, configured=configured_tenants
    )
    return identity.organisation.lower() in known


def _detail(identity: Identity, outcome: str) -> dict[str, Any]:
    kind = "workspace" if identity.platform == "slack" else "tenant"
    return {"by": identity.how, "platform": identity.platform, "user_id": identity.user_id,
            kind: identity.organisation, "outcome": outcome}  # fmt: skip
