"""Requests taken in once: what a chat delivered, remembered for as long as it could be delivered again.

Teams delivers an activity again when an answer is slow; anyone who saw a signed Slack request could
send its bytes again within Slack's five-minute window. Both are remembered here, in the database, so
the second copy is recognised by every instance, and forgotten once it can no longer come back.

A request is remembered only when what it ran changed something (`claim_if_changed`, in the
transaction that made the change): a replayed question is answered again, a replayed `/escalate` raises
nothing, and the many requests that only read cost no write.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, event
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session, col, select

from bot.db import insert_once
from bot.models import ReceivedRequest

_PRUNE_ONE_IN = 512  # now and then, not on every request, the expired ones are deleted
_CHANGED = "cadence.changed"  # set in a session's info once it has written anything


class AlreadyTakenIn(Exception):
    """The request was taken in before (a replay): what it ran is rolled back, and nothing is answered."""


@dataclass
class Once:
    """One request's claim to be taken in once: its key, and whether it holds the claim already (a
    request may run several transactions)."""

    key: str
    now: datetime
    kept: timedelta
    claimed: bool = False


def first_receipt(session: Session, key: str, *, now: datetime, kept: timedelta) -> bool:
    """Take in the request known by `key` once: False when it was taken in already, here or elsewhere."""
    if zlib.crc32(key.encode()) % _PRUNE_ONE_IN == 0:
        session.execute(delete(ReceivedRequest).where(col(ReceivedRequest.expires_at) < now))
    return insert_once(session, ReceivedRequest, {"key": key, "expires_at": now + kept})


def taken_in(session: Session, key: str, *, now: datetime) -> bool:
    """Whether the request known by `key` was taken in already (and can still come back)."""
    row = session.exec(
        select(ReceivedRequest).where(ReceivedRequest.key == key, col(ReceivedRequest.expires_at) >= now)
    ).first()
    return row is not None


def claim_if_changed(session: Session, once: Once) -> bool:
    """Before `session` commits: if it changed anything, claim `once` (True), or raise AlreadyTakenIn when a
    copy of the request claimed it first (the caller's transaction then rolls back)."""
    session.flush()
    if once.claimed or not session.info.get(_CHANGED):
        return False
    if not first_receipt(session, once.key, now=once.now, kept=once.kept):
        raise AlreadyTakenIn(once.key)
    return True


@event.listens_for(Session, "after_flush")
def _note_flushed_change(session: Session, _context) -> None:
    session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement_change(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_CHANGED] = True
