"""Requests taken in once, from any chat: Teams activities (kept two days, as before) and signed Slack
requests (kept past Slack's five-minute window), so a replay or a redelivery does nothing twice.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "received_request",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(), nullable=False, unique=True),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_received_request_expires_at", "received_request", ["expires_at"])
    # Activities already taken in stay taken in: Teams may still deliver them again.
    op.execute(
        "INSERT INTO received_request (key, expires_at) "
        "SELECT 'teams:' || activity_id, received_at + INTERVAL '2 days' FROM teams_activity"
        if op.get_bind().dialect.name == "postgresql"
        else "INSERT INTO received_request (key, expires_at) "
        "SELECT 'teams:' || activity_id, datetime(received_at, '+2 days') FROM teams_activity"
    )
    op.drop_table("teams_activity")


def downgrade() -> None:
    op.create_table(
        "teams_activity",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("activity_id", sa.String(), nullable=False, unique=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_teams_activity_received_at", "teams_activity", ["received_at"])
    op.drop_table("received_request")
