"""E-mail buttons as links: a single-use, expiring token per person and action, kept as its hash.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "action_link",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(), nullable=False, unique=True),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("label", sa.String(), nullable=False),
        sa.Column("about", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_action_link_study_id", "action_link", ["study_id"])
    op.create_index("ix_action_link_expires_at", "action_link", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_action_link_expires_at", "action_link")
    op.drop_index("ix_action_link_study_id", "action_link")
    op.drop_table("action_link")
