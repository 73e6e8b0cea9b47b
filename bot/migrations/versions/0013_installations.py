"""Cadence installed in each organisation's Slack workspace (OAuth v2): one row per workspace, shared by
every instance, its bot token encrypted at rest; and the workspace each person writes from, so what
is sent to them goes through their own organisation's installation.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_installation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(), nullable=False, unique=True),
        sa.Column("team_name", sa.String(), nullable=True),
        sa.Column("enterprise_id", sa.String(), nullable=True),
        sa.Column("app_id", sa.String(), nullable=True),
        sa.Column("bot_id", sa.String(), nullable=True),
        sa.Column("bot_user_id", sa.String(), nullable=True),
        sa.Column("bot_scopes", sa.String(), nullable=True),
        sa.Column("bot_token_encrypted", sa.Text(), nullable=False),
        sa.Column("installer_user_id", sa.String(), nullable=True),
        sa.Column("installed_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_slack_installation_team_id", "slack_installation", ["team_id"], unique=True)
    op.add_column("person", sa.Column("slack_team", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person") as table:
        table.drop_column("slack_team")
    op.drop_index("ix_slack_installation_team_id", "slack_installation")
    op.drop_table("slack_installation")
