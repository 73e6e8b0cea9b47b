"""Files published at an unguessable address for a chat to fetch: a report's chart, which Teams shows only
from a URL (inlined, it would pass Teams' 28 KB message limit). `cadence serve` serves them at
`<CADENCE_PUBLIC_URL>/charts/<token>.png`; each is kept `KEPT`, then deleted as others are published.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from bot.db import insert_once
from bot.models import PublishedFile

KEPT = timedelta(days=90)  # a quarter of weekly reports: long after anyone scrolls back to one
PNG = "image/png"
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32): 256 random bits
CHART_PATH = re.compile(r"/charts/(?P<token>[^/]+)\.png")


def chart_address(public_url: str, token: str) -> str:
    """Where a chart published under `token` is fetched from."""
    return f"{public_url.rstrip('/')}/charts/{token}.png"


def publish(session: Session, *, key: str, content: bytes, content_type: str, now: datetime) -> str:
    """Keep `content` under a new unguessable token (the same token for the same `key`: a retried send
    publishes nothing twice) and return the token."""
    session.execute(delete(PublishedFile).where(col(PublishedFile.expires_at) < now))
    values = {
        "key": key,
        "token": secrets.token_urlsafe(32),
        "content_type": content_type,
        "content": content,
        "published_at": now,
        "expires_at": now + KEPT,
    }
    insert_once(session, PublishedFile, values)
    return session.exec(select(PublishedFile.token).where(PublishedFile.key == key)).one()


def find_published(session: Session, *, token: str, now: datetime) -> tuple[bytes, str] | None:
    """The content and content type published under `token`, unless it expired or never was."""
    if not TOKEN.fullmatch(token):
        return None
    found = session.exec(
        select(PublishedFile).where(PublishedFile.token == token, col(PublishedFile.expires_at) >= now)
    ).first()
    return (found.content, found.content_type) if found else None
