"""Files published at an unguessable address for a chat to fetch: a report's chart, which Teams shows only
from a URL (an inline image would pass its 28 KB message limit).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "published_file",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(), nullable=False, unique=True),
        sa.Column("token", sa.String(), nullable=False, unique=True),
        sa.Column("content_type", sa.String(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_published_file_expires_at", "published_file", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_published_file_expires_at", "published_file")
    op.drop_table("published_file")
