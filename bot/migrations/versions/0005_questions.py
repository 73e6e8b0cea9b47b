"""Routed questions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "question",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("study_id", sa.Integer(), sa.ForeignKey("study.id"), nullable=False),
        sa.Column("asker_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("topic", sa.String(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("routes", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("answered_by", sa.String(), nullable=True),
    )
    for column in ("study_id", "asker_id", "assignee_id", "state"):
        op.create_index(f"ix_question_{column}", "question", [column])


def downgrade() -> None:
    op.drop_table("question")
