"""Cadence's installations in Slack workspaces, one per organisation, with their bot tokens encrypted at
rest (Fernet, under a key from the environment): a copy of the database alone gives no token."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from sqlmodel import Session, col, select

from bot import directory, outbox
from bot.models import SlackInstallation, utcnow
from bot.replies import Notice

MIN_KEY_LENGTH = 32


class KeyProblem(Exception):
    """CADENCE_SECRET_KEY is missing or too short to protect the tokens."""


class TokenBox:
    """Encrypts and decrypts bot tokens under the key of CADENCE_SECRET_KEY (any text of 32 characters or
    more; `python -c "import secrets; print(secrets.token_urlsafe(32))"` makes one)."""

    def __init__(self, secret: str | None):
        if not secret or len(secret) < MIN_KEY_LENGTH:
            raise KeyProblem(
                f"CADENCE_SECRET_KEY must be set, {MIN_KEY_LENGTH} characters or more, to keep the "
                "installations' tokens encrypted"
            )
        key = base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())
        self._fernet = Fernet(key)

    def seal(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode()

    def open(self, sealed: str) -> str | None:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None  # sealed under another key: as good as no installation


@dataclass(frozen=True)
class Installed:
    team_id: str
    bot_token: str
    bot_user_id: str | None
    bot_id: str | None
    app_id: str | None
    enterprise_id: str | None
    installed_at: datetime


def save(session: Session, *, box: TokenBox, team_id: str, bot_token: str, **about: str | None) -> None:
    """Keep (or replace, on a reinstall) the workspace's installation."""
    row = session.exec(select(SlackInstallation).where(SlackInstallation.team_id == team_id)).first()
    if row is None:
        row = SlackInstallation(team_id=team_id, bot_token_encrypted="")
        session.add(row)
    row.bot_token_encrypted = box.seal(bot_token)
    for name, value in about.items():
        setattr(row, name, value)
    row.installed_at = utcnow()
    session.flush()


def find(session: Session, *, box: TokenBox, team_id: str | None) -> Installed | None:
    if not team_id:
        return None
    row = session.exec(select(SlackInstallation).where(SlackInstallation.team_id == team_id)).first()
    return _installed(row, box) if row else None


def home(session: Session, *, box: TokenBox) -> Installed | None:
    """The installation that posts in shared channels: the first workspace to install Cadence (the
    sponsor's, usually, who owns the study channel)."""
    row = session.exec(select(SlackInstallation).order_by(col(SlackInstallation.installed_at))).first()
    return _installed(row, box) if row else None


def remove(session: Session, *, team_id: str, now: datetime) -> bool:
    """The workspace uninstalled Cadence or revoked its tokens: forget the installation at once, and tell
    each study's admins once. False when there was none."""
    row = session.exec(select(SlackInstallation).where(SlackInstallation.team_id == team_id)).first()
    if row is None:
        return False
    session.delete(row)
    for study in directory.current(session).studies.values():
        outbox.tell_admins(
            session,
            study,
            key=f"uninstalled:{team_id}:{row.installed_at.isoformat()}:{study.key}",
            notice=Notice("slack_uninstalled", {"team": row.team_name or team_id, "study": study.key}),
            now=now,
        )
    session.flush()
    return True


def _installed(row: SlackInstallation, box: TokenBox) -> Installed | None:
    token = box.open(row.bot_token_encrypted)
    if token is None:
        return None
    return Installed(
        row.team_id, token, row.bot_user_id, row.bot_id, row.app_id, row.enterprise_id, row.installed_at
    )
