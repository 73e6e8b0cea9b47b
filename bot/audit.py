"""The append-only audit log: every change, with who made it and when."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from bot import due
from bot.models import AuditEvent, utcnow


def record(
    session: Session,
    *,
    action: str,
    actor: str,
    study_id: int | None = None,
    subject: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event; it is committed with the change it describes."""
    event = AuditEvent(
        study_id=study_id, at=utcnow(), actor=actor, action=action, subject=subject, detail=detail or {}
    )
    session.add(event)
    due.changed(session, study_id)  # what its due work looks at may have changed with it
    return event


def events_for(session: Session, *, study_id: int, action: str | None = None) -> list[AuditEvent]:
    """A study's events, oldest first."""
    query = select(AuditEvent).where(AuditEvent.study_id == study_id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(session.exec(query.order_by(col(AuditEvent.id))))
