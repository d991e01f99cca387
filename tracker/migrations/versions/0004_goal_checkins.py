"""goal check-ins: saved goal evaluations

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "goal_checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("definitions_version", sa.Integer(), nullable=False),
        sa.Column("data_as_of", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_goal_checkins_as_of", "goal_checkins", ["as_of"])
    op.create_table(
        "goal_checkin_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.String(length=300), nullable=False),
        sa.Column("period", sa.String(length=40), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("actual", sa.Float(), nullable=True),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("attainment", sa.Float(), nullable=True),
        sa.Column("tier", sa.String(length=10), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(["checkin_id"], ["goal_checkins.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_goal_checkin_rows_checkin", "goal_checkin_rows", ["checkin_id"])


def downgrade() -> None:
    op.drop_index("ix_goal_checkin_rows_checkin", table_name="goal_checkin_rows")
    op.drop_table("goal_checkin_rows")
    op.drop_index("ix_goal_checkins_as_of", table_name="goal_checkins")
    op.drop_table("goal_checkins")
