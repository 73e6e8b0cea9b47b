"""Routed questions keep their answer's words: typed with `/ask answered`, or given in the form the
Answered button opens. They go to the asker and into the question's record.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("question", sa.Column("answer", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("question") as table:
        table.drop_column("answer")
