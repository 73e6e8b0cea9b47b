"""Who is signed in: a session cookie signed under a key derived from CADENCE_SECRET_KEY, a form token
(CSRF) in it, and the checks every page starts from (`viewer_of`, `require_member`, `require_admin`).

The cookie names a chat identity (`slack:U01BEN`, `teams:<id>`), never a study: which studies the person
may see is read from the plans on every request, so someone taken out of a plan loses them at once.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy.engine import Engine
from starlette.requests import Request

from bot import directory
from bot.clock import Clock
from bot.db import run_in_session
from bot.directory import Contact, StudyView
from bot.keys import derived_key

log = logging.getLogger("cadence.web")
SESSION_LIFETIME = timedelta(hours=12)
COOKIE = "cadence_session"
MAX_FORM_BYTES = 64_000  # the pages' forms are a few fields; nothing bigger is read
# Fixed labels: the same secret gives the same key on every instance, a key of its own for the cookies
# (bot.installations derives the tokens' key from the same secret under other labels).
KEY_SALT = b"cadence/web"
KEY_INFO = b"session cookie signing key, v1"


def session_key(secret: str | None) -> str:
    """The cookies' signing key: HKDF-SHA256 of CADENCE_SECRET_KEY; without one (development), a random
    key of this process, so sessions end with it and no two instances share them."""
    if not secret:
        log.warning(
            "CADENCE_SECRET_KEY is not set: the web pages' sessions use a random key of this process "
            "(everyone signs in again after a restart; several instances need the same key)"
        )
        return secrets.token_urlsafe(32)
    return derived_key(secret, salt=KEY_SALT, info=KEY_INFO).decode()


@dataclass(frozen=True)
class Site:
    """What the pages need of the process, put in each request's scope by the web's mount."""

    engine: Engine
    clock: Clock
    public_url: str | None
    lifetime: timedelta = SESSION_LIFETIME
    sign_in_ways: tuple[str, ...] = ()  # the OpenID providers offered on the sign-in page: slack, microsoft


def site_of(request: Request) -> Site:
    return request.scope["cadence.site"]


@dataclass(frozen=True)
class Viewer:
    """The signed-in person: their chat identity and who they are in each of their studies."""

    actor: str  # "slack:U01BEN": what the audit trail names them by
    name: str
    memberships: tuple[tuple[StudyView, Contact], ...]

    def in_study(self, study_key: str) -> tuple[Contact, StudyView] | None:
        return next(((p, s) for s, p in self.memberships if s.key == study_key), None)


class Refused(Exception):
    """A page this visitor may not see: answered with a friendly page (403) offering to sign in."""

    def __init__(self, reason: str, *, status: int = 403, signed_in: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.signed_in = signed_in


# --- signing in and out ---------------------------------------------------------------------------


def sign_in(request: Request, *, actor: str, name: str, study_id: int, now: datetime) -> None:
    """Start a session for this chat identity (a new form token too: none from before signing in)."""
    request.session.clear()
    request.session.update(
        {"who": actor, "name": name, "study": study_id, "since": now.isoformat(), "csrf": _new_token()}
    )


def sign_out(request: Request) -> None:
    request.session.clear()


def signed_in_name(request: Request) -> str | None:
    """The name the header shows, when someone is signed in (the session alone; pages check the plan)."""
    session = request.scope.get("session")
    return session.get("name") if session and session.get("who") else None


async def viewer_of(request: Request) -> Viewer | None:
    """The signed-in person as the plans stand now; None when nobody is signed in (or their session is
    older than the lifetime, or their identity is in no plan any more)."""
    session = request.session
    who, since = session.get("who"), session.get("since")
    if not isinstance(who, str) or not isinstance(since, str):
        return None
    site = site_of(request)
    try:
        started = datetime.fromisoformat(since)
    except ValueError:
        return None
    if site.clock.now() - started > site.lifetime:
        return None
    platform, _, user_id = who.partition(":")
    found = await asyncio.to_thread(
        run_in_session, site.engine, _memberships, platform=platform, user_id=user_id
    )
    if platform == "console":  # a console handle names someone in one study only: the link's
        found = [(s, p) for s, p in found if s.id == session.get("study")]
    if not found:
        return None
    return Viewer(who, session.get("name") or found[0][1].name, tuple(found))


def _memberships(session: Any, *, platform: str, user_id: str) -> list[tuple[StudyView, Contact]]:
    return list(directory.current(session).memberships(platform, user_id))


async def require_viewer(request: Request) -> Viewer:
    viewer = await viewer_of(request)
    if viewer is None:
        raise Refused("You are not signed in, or your session has ended.")
    return viewer


async def require_member(request: Request, study_key: str) -> tuple[Contact, StudyView]:
    """The signed-in person and the study, when they are one of its people; else Refused (403)."""
    viewer = await require_viewer(request)
    found = viewer.in_study(study_key)
    if found is None:  # the same answer whether the study exists or not: nothing is learnt by guessing
        raise Refused("This study is not one of yours.", signed_in=True)
    return found


async def require_admin(request: Request, study_key: str) -> tuple[Contact, StudyView]:
    """The signed-in person and the study, when they are one of the plan's admins; else Refused (403)."""
    person, study = await require_member(request, study_key)
    if person.handle not in study.admins:
        raise Refused(f"Only {study.key}'s admins can open this page.", signed_in=True)
    return person, study


# --- forms ------------------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """This session's form token, made on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = _new_token()
        request.session["csrf"] = token
    return token


async def posted_form(request: Request) -> dict[str, str]:
    """A POSTed form's fields (one value each), once its form token matches the session's; else Refused.
    Read here rather than by a multipart parser: the pages post small url-encoded forms only."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise Refused("That form was too large.", status=413)
    try:
        fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), strict_parsing=False).items()}
    except UnicodeDecodeError:
        raise Refused("That form could not be read.", status=400) from None
    expected = request.session.get("csrf")
    given = fields.get("csrf", "")
    if not isinstance(expected, str) or not hmac.compare_digest(expected.encode(), given.encode()):
        raise Refused(
            "That form has expired or did not come from this page, so nothing was done. "
            "Open the page again and retry."
        )
    return fields


def _new_token() -> str:
    return secrets.token_urlsafe(24)
