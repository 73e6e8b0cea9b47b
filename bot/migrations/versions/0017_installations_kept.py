"""Installations: the first install's time, which a reinstall never resets (the earliest is the home
installation); and the bot tokens re-encrypted under the HKDF-derived key (they were under the secret's
bare SHA-256).

Re-encrypting needs CADENCE_SECRET_KEY from the environment at migration time. Without it, or for a row
the old key does not open, the row is left as it was and the log says to reinstall Cadence in that
workspace (until then the installation reads as absent: its token is never used).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

import base64
import hashlib
import logging
import os

import sqlalchemy as sa
from alembic import op
from cryptography.fernet import Fernet, InvalidToken

from bot.installations import TokenBox

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

log = logging.getLogger("cadence.migrations")


def upgrade() -> None:
    with op.batch_alter_table("slack_installation") as table:
        table.add_column(sa.Column("first_installed_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE slack_installation SET first_installed_at = installed_at")
    with op.batch_alter_table("slack_installation") as table:
        table.alter_column("first_installed_at", existing_type=sa.DateTime(), nullable=False)
    _reencrypt(os.environ.get("CADENCE_SECRET_KEY"))


def downgrade() -> None:
    with op.batch_alter_table("slack_installation") as table:
        table.drop_column("first_installed_at")


def _reencrypt(secret: str | None) -> None:
    """Each token from the old key (sha256 of the secret) to the HKDF-derived one."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, team_id, bot_token_encrypted FROM slack_installation")).all()
    if not rows:
        return
    if not secret:
        log.warning(
            "CADENCE_SECRET_KEY is not set, so %d Slack installation(s) keep tokens Cadence can no longer "
            "read: reinstall Cadence in workspace(s) %s",
            len(rows),
            ", ".join(r.team_id for r in rows),
        )
        return
    old = Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))
    new = TokenBox(secret) if len(secret) >= 32 else None
    for row in rows:
        try:
            token = old.decrypt(row.bot_token_encrypted.encode()).decode()
        except InvalidToken:
            token = None
        if token is None or new is None:
            log.warning(
                "the Slack installation of workspace %s could not be re-encrypted (not under this "
                "CADENCE_SECRET_KEY): reinstall Cadence in that workspace",
                row.team_id,
            )
            continue
        bind.execute(
            sa.text("UPDATE slack_installation SET bot_token_encrypted = :sealed WHERE id = :id"),
            {"sealed": new.seal(token), "id": row.id},
        )
