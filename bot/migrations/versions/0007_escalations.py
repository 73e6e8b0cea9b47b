"""Escalations.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escalation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("study_id", sa.Integer(), sa.ForeignKey("study.id"), nullable=False),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("topic", sa.String(), nullable=True),
        sa.Column("impact", sa.String(), nullable=False),
        sa.Column("tried", sa.String(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("level_since", sa.DateTime(), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(), nullable=True),
        sa.Column("resolution", sa.String(), nullable=True),
    )
    for column in ("study_id", "state", "deadline"):
        op.create_index(f"ix_escalation_{column}", "escalation", [column])


def downgrade() -> None:
    op.drop_table("escalation")
