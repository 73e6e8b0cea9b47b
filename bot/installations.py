"""Cadence's installations in Slack workspaces, one per organisation, with their bot tokens encrypted at
rest (Fernet, under a key derived from the environment's secret with HKDF): a copy of the database alone
gives no token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from sqlmodel import Session, col, select

from bot import directory, outbox
from bot.keys import derived_key
from bot.models import SlackInstallation, utcnow
from bot.replies import Notice

MIN_KEY_LENGTH = 32
# Fixed labels: the same secret gives the same key on every instance, and a key of its own for this use
# only (the web's cookies are keyed from the same secret under other labels).
KEY_SALT = b"cadence/installations"
KEY_INFO = b"fernet key for slack bot tokens, v2"


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
        self._fernet = Fernet(fernet_key(secret))

    def seal(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode()

    def open(self, sealed: str) -> str | None:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None  # sealed under another key: as good as no installation


def fernet_key(secret: str) -> bytes:
    """The Fernet key of a secret: 32 bytes from HKDF-SHA256 under Cadence's fixed salt and label."""
    return derived_key(secret, salt=KEY_SALT, info=KEY_INFO)


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
    """Keep (or replace, on a reinstall) the workspace's installation; a reinstall keeps its first install's
    time, so it never changes which installation is the home one."""
    row = session.exec(select(SlackInstallation).where(SlackInstallation.team_id == team_id)).first()
    if row is None:
        row = SlackInstallation(team_id=team_id, bot_token_encrypted="", first_installed_at=utcnow())
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
    sponsor's, usually, who owns the study channel), and still it after any number of reinstalls; only an
    uninstall passes the role on to the next-first."""
    first = select(SlackInstallation).order_by(
        col(SlackInstallation.first_installed_at), col(SlackInstallation.id)
    )
    row = session.exec(first).first()
    return _installed(row, box) if row else None


def remove(session: Session, *, team_id: str, now: datetime, bot_user_ids: list[str] | None = None) -> bool:
    """The workspace uninstalled Cadence, or revoked its bot's token: forget the installation at once, and
    tell each study's admins once. With `bot_user_ids` (a `tokens_revoked` event's `bot` list), only when
    it names this installation's bot: a revoked user token leaves it. False when nothing was removed."""
    row = session.exec(select(SlackInstallation).where(SlackInstallation.team_id == team_id)).first()
    if row is None or not _names_the_bot(row, bot_user_ids):
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


def _names_the_bot(row: SlackInstallation, bot_user_ids: list[str] | None) -> bool:
    if bot_user_ids is None:
        return True
    return row.bot_user_id in bot_user_ids if row.bot_user_id else bool(bot_user_ids)


def _installed(row: SlackInstallation, box: TokenBox) -> Installed | None:
    token = box.open(row.bot_token_encrypted)
    if token is None:
        return None
    return Installed(
        row.team_id,
        token,
        row.bot_user_id,
        row.bot_id,
        row.app_id,
        row.enterprise_id,
        row.installed_at,
    )
