"""The TMF exports admins ask for on the web, built by the tick and kept as published files.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_download",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("study_id", sa.Integer(), sa.ForeignKey("study.id"), nullable=False),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("person.id"), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("built_at", sa.DateTime(), nullable=True),
        sa.Column("token", sa.String(), nullable=True),
    )
    op.create_index("ix_export_download_study_id", "export_download", ["study_id"])
    op.create_index("ix_export_download_state", "export_download", ["state"])


def downgrade() -> None:
    op.drop_index("ix_export_download_state", "export_download")
    op.drop_index("ix_export_download_study_id", "export_download")
    op.drop_table("export_download")
