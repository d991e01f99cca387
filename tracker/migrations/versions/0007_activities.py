"""activities: calls, meetings, emails and tasks from the CRMs and CSV exports

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(), nullable=True),
        sa.Column("owner_external_id", sa.String(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("duration_minutes", sa.Float(), nullable=True),
        sa.Column("is_completed", sa.Boolean(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("deal_external_id", sa.String(), nullable=True),
        sa.Column("account_external_id", sa.String(), nullable=True),
        sa.Column("source_modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_deleted", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "external_id", name="uq_activities_key"),
    )
    op.create_index("ix_activities_occurred_at", "activities", ["occurred_at"])
    op.create_index("ix_activities_deal", "activities", ["source", "deal_external_id"])


def downgrade() -> None:
    op.drop_index("ix_activities_deal", table_name="activities")
    op.drop_index("ix_activities_occurred_at", table_name="activities")
    op.drop_table("activities")
