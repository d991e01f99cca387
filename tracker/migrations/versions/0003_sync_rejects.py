"""sync rejects: every row a run could not map

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_rejects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("location", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("external_id", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["sync_runs.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sync_rejects_run", "sync_rejects", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_sync_rejects_run", table_name="sync_rejects")
    op.drop_table("sync_rejects")
