"""People a plan names by e-mail alone: their chat id, once a chat finds it, is recorded with them.

Plan authors know e-mail addresses, rarely Slack user ids. The Slack adapter looks each such person up
(by e-mail, and from the profile of whoever writes to Cadence) and tells the core what it found here;
the id is kept with the person, audited with how it was found, and survives every later apply of the
same plan file. A match counts only within the person's own side's organisation (bot.organisations),
and an id once recorded is never replaced by a later match.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from bot import audit, directory, organisations
from bot.models import Person

log = logging.getLogger("cadence.identities")


def note_slack_team(session: Session, *, user_id: str, team_id: str) -> bool:
    """Where a plan person writes from (Slack reports each request's workspace): what Cadence sends them
    goes through their own organisation's installation. Written only when it changed."""
    view = directory.current(session)
    known = [person for _, person in view.memberships("slack", user_id)]
    if not known or all(person.slack_team == team_id for person in known):
        return False
    for person in session.exec(select(Person).where(Person.slack_id == user_id)):
        person.slack_team = team_id
        directory.revised(session, person.study_id)
    session.flush()
    return True


@dataclass(frozen=True)
class Missing:
    person_id: int
    email: str


def missing_slack_ids(session: Session) -> list[Missing]:
    """Everyone in a plan with an e-mail address and no Slack user id yet."""
    rows = session.exec(
        select(Person).where(
            Person.active == True,  # noqa: E712
            Person.slack_id == None,  # noqa: E711
            Person.email != None,  # noqa: E711
        )
    )
    return [Missing(p.id, p.email) for p in rows if p.id is not None and p.email]


def found_on_slack(
    session: Session,
    *,
    email: str,
    user_id: str,
    team_id: str | None,
    how: str,
    own_workspace: str | None = None,
) -> list[str]:
    """Record `user_id` for each plan person with this e-mail and no Slack id (a person may be in several
    studies) when `team_id`, the user's workspace, is one of the person's side's (bot.organisations);
    the handles of those recorded. An id another person of the same study has is left alone."""
    return _bind_by_email(
        session,
        email=email,
        column=Person.slack_id,
        user_id=user_id,
        where=("workspace", team_id, team_id),
        sides=lambda p: organisations.slack_workspaces(
            session, study_id=p.study_id, side=p.side, own_workspace=own_workspace
        ),
        how=how,
    )


def found_on_teams(
    session: Session,
    *,
    email: str,
    aad_id: str,
    tenant_id: str | None,
    how: str,
    configured_tenants: tuple[str, ...] = (),
) -> list[str]:
    """Record the Entra object id `aad_id` for each plan person with this e-mail and no Teams id, when
    `tenant_id`, where Teams showed the user, is one of the person's side's tenants; the handles of those
    recorded. Once recorded, an id is the person's: a later e-mail match changes nothing."""
    return _bind_by_email(
        session,
        email=email,
        column=Person.teams_id,
        user_id=aad_id,
        where=("tenant", tenant_id, tenant_id.lower() if tenant_id else None),
        sides=lambda p: organisations.teams_tenants(
            session, study_id=p.study_id, side=p.side, configured=configured_tenants
        ),
        how=how,
    )


def _bind_by_email(
    session: Session,
    *,
    email: str,
    column: Any,
    user_id: str,
    where: tuple[str, str | None, str | None],  # (workspace or tenant, as shown, as compared)
    sides: Callable[[Person], frozenset[str]],
    how: str,
) -> list[str]:
    """Bind `user_id` to each unbound plan person with this e-mail whose side's organisations include the
    user's (`sides`): anyone's directory can claim an address, the workspace or tenant is vouched for."""
    kind, shown, compared = where
    platform = "slack" if column is Person.slack_id else "teams"
    recorded = []
    for person in _unbound_with_email(session, email, column):
        taken = session.exec(
            select(Person.id).where(Person.study_id == person.study_id, column == user_id)
        ).first()
        if taken is not None:
            continue
        if compared is None or compared not in sides(person):
            log.warning(
                "not matching %s user %s to %s by e-mail: their %s %s is not the %s's",
                platform.title(), user_id, person.handle, kind, shown or "(unknown)", person.side,
            )  # fmt: skip
            continue
        setattr(person, column.key, user_id)
        _bound(session, person, {"platform": platform, "user_id": user_id, kind: shown, "how": how})
        recorded.append(person.handle)
    if recorded:
        session.flush()
    return recorded


def _unbound_with_email(session: Session, email: str, column: Any) -> list[Person]:
    wanted = email.strip().casefold()
    unbound = session.exec(select(Person).where(Person.active == True, column == None))  # noqa: E711,E712
    return [person for person in unbound if (person.email or "").strip().casefold() == wanted]


def _bound(session: Session, person: Person, detail: dict[str, Any]) -> None:
    assert person.id is not None
    directory.revised(session, person.study_id)
    audit.record(
        session, action="person.found", actor="cadence", study_id=person.study_id, subject=person.handle,
        detail=detail,
    )  # fmt: skip
