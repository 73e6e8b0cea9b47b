"""When each study next has something for each capability's due work, so an idle tick reads only those.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "study_due",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("work", sa.String(), nullable=False),
        sa.Column("study_id", sa.Integer(), sa.ForeignKey("study.id"), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True, index=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("work", "study_id"),
    )


def downgrade() -> None:
    op.drop_table("study_due")
