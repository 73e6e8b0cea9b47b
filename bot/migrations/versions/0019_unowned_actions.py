"""Action items as people write them: one whose owner is not known yet is kept (it needs an owner), and
one added with /actions add belongs to no minutes.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action_item") as table:
        table.alter_column("owner_id", existing_type=sa.Integer(), nullable=True)
        table.alter_column("minutes_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM action_item WHERE owner_id IS NULL OR minutes_id IS NULL")
    with op.batch_alter_table("action_item") as table:
        table.alter_column("owner_id", existing_type=sa.Integer(), nullable=False)
        table.alter_column("minutes_id", existing_type=sa.Integer(), nullable=False)
