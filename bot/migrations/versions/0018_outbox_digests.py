"""Messages due together arrive together: an outbox row says whether Cadence started it itself (due work,
not a person's request), and the key of the digest it was folded into, fixed before that digest is sent.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(
            sa.Column("started_by_cadence", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("digest", sa.String(), nullable=True))
    op.create_index("ix_outbox_message_digest", "outbox_message", ["digest"])
    # What one person was sent lately and what else is due for them, read at each claim of their messages.
    op.create_index("ix_outbox_message_recipient_state", "outbox_message", ["recipient", "state"])


def downgrade() -> None:
    op.drop_index("ix_outbox_message_recipient_state", "outbox_message")
    op.drop_index("ix_outbox_message_digest", "outbox_message")
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("digest")
        batch.drop_column("started_by_cadence")
