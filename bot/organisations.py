"""The organisations of a study: each side's Slack workspaces and Teams tenants.

A person the plan names by e-mail alone is matched, by that address, only to a chat user of their own
side's organisation: anyone's directory can claim an address, while the workspace or tenant a user
belongs to is vouched for by Slack or Microsoft. A side's organisations are those the plan names
(`organisations:`; for Teams, else `TEAMS_TENANT_ID`), plus those where the side's people whom the plan
names by id were seen, plus for Teams the tenant of the study's channel. A Slack deployment with one bot
token counts its own workspace when nothing else is known for a side.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from bot.models import Person, Study, TeamsConversation, TeamsMember


def slack_workspaces(
    session: Session, *, study_id: int, side: str, own_workspace: str | None = None
) -> frozenset[str]:
    """The Slack workspaces (team ids) of one side of a study; `own_workspace` (the bot token's) when
    nothing is known for the side."""
    study = session.get(Study, study_id)
    if study is None:
        return frozenset()
    known = set(_named(study, side, "slack_teams"))
    explicit = _explicit_ids(study, side, "slack")
    if explicit:
        rows = session.exec(
            select(Person.slack_team).where(Person.study_id == study_id, col(Person.slack_id).in_(explicit))
        )
        known.update(team for team in rows if team)
    if not known and own_workspace:
        known.add(own_workspace)
    return frozenset(known)


def teams_tenants(
    session: Session, *, study_id: int, side: str, configured: Iterable[str] = ()
) -> frozenset[str]:
    """The Entra tenants of one side of a study (lower case): the plan's for the side, else `configured`
    (TEAMS_TENANT_ID), plus the study channel's and those of the side's people the plan names by id."""
    study = session.get(Study, study_id)
    if study is None:
        return frozenset()
    known = set(_named(study, side, "teams_tenants") or configured)
    if study.channel:
        channel = session.exec(
            select(TeamsConversation.tenant_id).where(TeamsConversation.conversation_id == study.channel)
        ).first()
        if channel:
            known.add(channel)
    explicit = _explicit_ids(study, side, "teams")
    if explicit:
        rows = session.exec(select(TeamsMember.tenant_id).where(col(TeamsMember.aad_object_id).in_(explicit)))
        known.update(tenant for tenant in rows if tenant)
    return frozenset(tenant.lower() for tenant in known)


def _named(study: Study, side: str, kind: str) -> list[str]:
    sides = (study.plan or {}).get("organisations") or {}
    return list((sides.get(side) or {}).get(kind) or [])


def _explicit_ids(study: Study, side: str, platform: str) -> list[str]:
    """The chat ids the plan file itself gives for the side's people (not ids found by e-mail)."""
    people = (study.plan or {}).get("people") or {}
    return [p[platform] for p in people.values() if p.get("side") == side and p.get(platform)]
