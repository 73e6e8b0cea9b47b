"""One-time sign-in links to the web pages (`cadence serve`'s `/app/`).

`/cadence dashboard` (or the App Home's button) sends the person a link by direct message, through the
outbox like any message. The link works once, within LINK_VALID; the table keeps only a SHA-256 of its
token, and using it is one conditional UPDATE, so two clicks, two tabs or two instances sign in once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from bot import audit, directory, outbox
from bot.errors import WebNotServed
from bot.models import WebSignIn
from bot.replies import Notice
from bot.studies import Requester

LINK_VALID = timedelta(minutes=10)
KEPT = timedelta(days=1)  # used and expired links are deleted a day on: long enough to read a log beside
SIGNIN_PATH = "/app/signin/"
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32): 256 random bits


@dataclass(frozen=True)
class LinkSent:
    study_key: str
    minutes: int


@dataclass(frozen=True)
class SignedIn:
    actor: str  # the chat identity the session names
    study_id: int
    study_key: str
    handle: str
    name: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def signin_address(web_url: str, token: str) -> str:
    return f"{web_url.rstrip('/')}{SIGNIN_PATH}{token}"


def send_link(session: Session, *, requester: Requester, now: datetime, web_url: str | None) -> LinkSent:
    """Send the requester a sign-in link by direct message (at once: they are waiting for it)."""
    if not web_url:
        raise WebNotServed()
    session.execute(delete(WebSignIn).where(col(WebSignIn.expires_at) < now - KEPT))
    token = secrets.token_urlsafe(32)
    hashed = token_hash(token)
    session.add(
        WebSignIn(
            token_hash=hashed,
            study_id=requester.study_id,
            person_id=requester.person_id,
            actor=requester.actor,
            created_at=now,
            expires_at=now + LINK_VALID,
        )
    )
    outbox.enqueue(
        session,
        key=f"signin:{requester.study_key}:{requester.handle}:{hashed[:16]}",
        to=outbox.Destination.person(requester.person_id),
        notice=Notice(
            "signin_link",
            {
                "study": requester.study_key,
                "url": signin_address(web_url, token),
                "until": (now + LINK_VALID).isoformat(),
                "minutes": int(LINK_VALID.total_seconds() // 60),
            },
        ),
        now=now,
        study_id=requester.study_id,
        at_once=True,  # asked for this minute, and good for ten
    )
    audit.record(
        session,
        action="web.link_sent",
        actor=requester.actor,
        study_id=requester.study_id,
        subject=requester.handle,
    )
    return LinkSent(requester.study_key, int(LINK_VALID.total_seconds() // 60))


def link_usable(session: Session, *, token: str, now: datetime) -> bool:
    """Whether a link would sign someone in now (the page before the button; nothing is used)."""
    if not TOKEN.fullmatch(token):
        return False
    return (
        session.exec(
            select(WebSignIn.id).where(
                WebSignIn.token_hash == token_hash(token),
                col(WebSignIn.used_at).is_(None),
                col(WebSignIn.expires_at) > now,
            )
        ).first()
        is not None
    )


def use_link(session: Session, *, token: str, now: datetime) -> SignedIn | None:
    """Use a link: who it signs in, once, before it expires, while they are still in the plan; None else."""
    if not TOKEN.fullmatch(token):
        return None
    hashed = token_hash(token)
    claimed = session.execute(
        update(WebSignIn)
        .where(
            col(WebSignIn.token_hash) == hashed,
            col(WebSignIn.used_at).is_(None),
            col(WebSignIn.expires_at) > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # used, expired or never made: the same answer for each
        return None
    link = session.exec(select(WebSignIn).where(WebSignIn.token_hash == hashed)).one()
    study = directory.current(session).studies.get(link.study_id)
    person = study.person(link.person_id) if study else None
    if study is None or person is None:
        return None
    audit.record(
        session,
        action="web.signed_in",
        actor=link.actor,
        study_id=study.id,
        subject=person.handle,
        detail={"by": "one-time link"},
    )
    return SignedIn(link.actor, study.id, study.key, person.handle, person.name)


def record_sign_out(session: Session, *, actor: str, study_id: int | None) -> None:
    """Note a sign-out in the audit trail (the session itself is the cookie, cleared by the page)."""
    audit.record(session, action="web.signed_out", actor=actor, study_id=study_id, subject=actor)
