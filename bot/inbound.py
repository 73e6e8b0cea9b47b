"""What came in already: Slack retries an event it thinks we missed, with the same event id."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.db import insert_once
from bot.models import InboundEvent


def first_time(session: Session, *, key: str, now: datetime) -> bool:
    """Record `key`; True the first time it is seen, False for every retry or duplicate after."""
    return insert_once(session, InboundEvent, {"key": key, "received_at": now})
