"""Routing learns from people: the words of a question whose asker picked its topic count for that
topic next time, and those of a question passed on with Not mine count against it (bot.evidence).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("responsibility", sa.Column("learned", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("responsibility") as table:
        table.drop_column("learned")
