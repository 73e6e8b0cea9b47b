"""The outbox of outgoing messages.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(), nullable=False, unique=True),
        sa.Column("study_id", sa.Integer(), sa.ForeignKey("study.id"), nullable=True),
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("recipient_kind", sa.String(), nullable=False),
        sa.Column("recipient", sa.String(), nullable=False),
        sa.Column("thread_of", sa.String(), nullable=True),
        sa.Column("notice_kind", sa.String(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claim_token", sa.String(), nullable=True),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("platform_channel", sa.String(), nullable=True),
        sa.Column("platform_message_id", sa.String(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_outbox_message_study_id", "outbox_message", ["study_id"])
    op.create_index("ix_outbox_message_state", "outbox_message", ["state"])
    op.create_index("ix_outbox_message_next_attempt_at", "outbox_message", ["next_attempt_at"])
    op.create_index("ix_outbox_message_claim_token", "outbox_message", ["claim_token"])


def downgrade() -> None:
    op.drop_table("outbox_message")
