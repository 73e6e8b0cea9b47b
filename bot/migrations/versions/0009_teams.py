"""Teams: the conversation references and members the bot learns, for proactive messages, and the
ids of the activities it took in (Teams delivers an activity again when the answer is slow).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams_conversation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(), nullable=False, unique=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("service_url", sa.String(), nullable=False),
        sa.Column("tenant_id", sa.String(), nullable=True),
        sa.Column("user_aad_id", sa.String(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_teams_conversation_user_aad_id", "teams_conversation", ["user_aad_id"])
    op.create_table(
        "teams_member",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("aad_object_id", sa.String(), nullable=False, unique=True),
        sa.Column("user_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("tenant_id", sa.String(), nullable=True),
        sa.Column("service_url", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_teams_member_email", "teams_member", ["email"])
    op.create_table(
        "teams_activity",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("activity_id", sa.String(), nullable=False, unique=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_teams_activity_received_at", "teams_activity", ["received_at"])


def downgrade() -> None:
    op.drop_table("teams_activity")
    op.drop_table("teams_member")
    op.drop_table("teams_conversation")
