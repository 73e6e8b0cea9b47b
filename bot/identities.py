"""People a plan names by e-mail alone: their chat id, once a chat finds it, is recorded with them.

Plan authors know e-mail addresses, rarely Slack user ids. The Slack adapter looks each such person up
(by e-mail, and from the profile of whoever writes to Cadence) and tells the core what it found here;
the id is kept with the person, audited, and survives every later apply of the same plan file.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from bot import audit, directory
from bot.models import Person


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


def found_on_slack(session: Session, *, email: str, user_id: str, how: str) -> list[str]:
    """Record `user_id` for each plan person with this e-mail and no Slack id (a person may be in several
    studies); the handles of those recorded. An id another person of the same study has is left alone."""
    wanted = email.strip().casefold()
    recorded = []
    for person in session.exec(select(Person).where(Person.active == True, Person.slack_id == None)):  # noqa: E711,E712
        if (person.email or "").casefold() != wanted:
            continue
        taken = session.exec(
            select(Person.id).where(Person.study_id == person.study_id, Person.slack_id == user_id)
        ).first()
        if taken is not None:
            continue
        person.slack_id = user_id
        directory.revised(session, person.study_id)
        audit.record(
            session,
            action="person.found",
            actor="cadence",
            study_id=person.study_id,
            subject=person.handle,
            detail={"platform": "slack", "user_id": user_id, "how": how},
        )
        recorded.append(person.handle)
    if recorded:
        session.flush()
    return recorded
