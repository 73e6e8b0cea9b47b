"""When each topic's owner last confirmed it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("responsibility") as batch:
        batch.add_column(sa.Column("confirmed_at", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE responsibility SET confirmed_at = (SELECT updated_at FROM study WHERE study.id = study_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("responsibility") as batch:
        batch.drop_column("confirmed_at")
