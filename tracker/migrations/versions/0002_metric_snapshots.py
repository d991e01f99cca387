"""metric snapshots

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metric_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("definitions_version", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_metric_snapshots_taken_at", "metric_snapshots", ["taken_at"])
    op.create_table(
        "metric_snapshot_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=40), nullable=False),
        sa.Column("period_kind", sa.String(length=10), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("coverage", sa.Float(), nullable=True),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["snapshot_id"], ["metric_snapshots.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_metric_snapshot_rows_snapshot", "metric_snapshot_rows", ["snapshot_id"]
    )
    op.create_index(
        "ix_metric_snapshot_rows_metric", "metric_snapshot_rows", ["metric", "period"]
    )


def downgrade() -> None:
    op.drop_index("ix_metric_snapshot_rows_metric", table_name="metric_snapshot_rows")
    op.drop_index("ix_metric_snapshot_rows_snapshot", table_name="metric_snapshot_rows")
    op.drop_table("metric_snapshot_rows")
    op.drop_index("ix_metric_snapshots_taken_at", table_name="metric_snapshots")
    op.drop_table("metric_snapshots")
