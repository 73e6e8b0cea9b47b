"""A signed-in browser for tests and benchmarks: the session cookie Starlette's SessionMiddleware would set
after a sign-in, signed with the server's own key (the sign-in flows have tests of their own)."""

from __future__ import annotations

import json
import secrets
from base64 import b64encode
from datetime import datetime

import itsdangerous

from handlers.web.sessions import COOKIE


def session_cookie(
    web, *, actor: str, name: str = "", study_id: int, now: datetime, csrf: str | None = None
) -> str:
    """The `Cookie` header of someone signed in as `actor` ("slack:U01BEN") at `now`, with `csrf` as the
    session's form token."""
    session = {
        "who": actor,
        "name": name,
        "study": study_id,
        "since": now.isoformat(),
        "csrf": csrf or secrets.token_urlsafe(8),
    }
    signed = itsdangerous.TimestampSigner(str(web.session_key)).sign(b64encode(json.dumps(session).encode()))
    return f"{COOKIE}={signed.decode()}"
