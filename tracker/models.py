"""Store tables (SQLModel on SQLAlchemy 2).

Every CRM row is keyed by ``(source, external_id)``, ``source`` being the configured source
NAME. Relations between CRM rows are kept by external id within a source (a deal's
``account_external_id``), so batches can arrive in any order. The schema only changes
through Alembic migrations (``tracker/migrations``); a test checks these models and the
migrated schema agree.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel


def _utc_column(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


def _json_column() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Account(SQLModel, table=True):
    """A customer account."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_accounts_key"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=100)
    external_id: str = Field(max_length=255)
    name: str | None = None
    industry: str | None = None
    segment: str | None = None
    created_at: datetime | None = _utc_column()
    source_modified_at: datetime | None = _utc_column()
    is_deleted: bool = False
    synced_at: datetime | None = _utc_column()
    custom: dict[str, Any] = _json_column()


class Owner(SQLModel, table=True):
    """A deal owner, with the manager, team and region metrics break down by."""

    __tablename__ = "owners"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_owners_key"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=100)
    external_id: str = Field(max_length=255)
    name: str | None = None
    email: str | None = None
    manager_external_id: str | None = None
    team: str | None = None
    region: str | None = None
    is_active: bool | None = None
    source_modified_at: datetime | None = _utc_column()
    synced_at: datetime | None = _utc_column()


class Deal(SQLModel, table=True):
    """A deal / opportunity; see ``tracker.records.DealRecord`` for field meanings."""

    __tablename__ = "deals"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_deals_key"),
        Index("ix_deals_close_date", "close_date"),
        Index("ix_deals_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=100)
    external_id: str = Field(max_length=255)
    name: str | None = None
    account_external_id: str | None = None
    owner_external_id: str | None = None
    stage: str | None = None
    pipeline: str | None = None
    is_closed: bool = False
    is_won: bool = False
    created_at: datetime | None = _utc_column()
    close_date: date | None = None
    amount: float | None = None
    currency: str | None = Field(default=None, max_length=3)
    amount_reporting: float | None = None
    list_amount: float | None = None
    cost_amount: float | None = None
    deal_type: str | None = None
    is_new_business: bool | None = None
    source_modified_at: datetime | None = _utc_column()
    is_deleted: bool = False
    deleted_at: datetime | None = _utc_column()
    synced_at: datetime | None = _utc_column()
    custom: dict[str, Any] = _json_column()


class LineItem(SQLModel, table=True):
    """One product line of a deal (money in the deal's currency)."""

    __tablename__ = "line_items"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_line_items_key"),
        Index("ix_line_items_deal", "source", "deal_external_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=100)
    external_id: str = Field(max_length=255)
    deal_external_id: str = Field(max_length=255)
    product: str | None = None
    quantity: float | None = None
    list_price: float | None = None
    unit_price: float | None = None
    discount_pct: float | None = None
    total: float | None = None
    unit_cost: float | None = None
    source_modified_at: datetime | None = _utc_column()
    is_deleted: bool = False
    synced_at: datetime | None = _utc_column()


class Activity(SQLModel, table=True):
    """A call, meeting, email or task; see ``tracker.records.ActivityRecord``."""

    __tablename__ = "activities"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_activities_key"),
        Index("ix_activities_occurred_at", "occurred_at"),
        Index("ix_activities_deal", "source", "deal_external_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=100)
    external_id: str = Field(max_length=255)
    kind: str = Field(max_length=20)
    subject: str | None = None
    owner_external_id: str | None = None
    occurred_at: datetime | None = _utc_column()
    occurred_on: date | None = None
    duration_minutes: float | None = None
    is_completed: bool | None = None
    outcome: str | None = None
    deal_external_id: str | None = None
    account_external_id: str | None = None
    source_modified_at: datetime | None = _utc_column()
    is_deleted: bool = False
    deleted_at: datetime | None = _utc_column()
    synced_at: datetime | None = _utc_column()


class SyncCursor(SQLModel, table=True):
    """The cursor a source's connector resumes from; saved atomically with its batch."""

    __tablename__ = "sync_cursors"

    source: str = Field(primary_key=True, max_length=100)
    value: dict[str, Any] = _json_column()
    updated_at: datetime | None = _utc_column()


class SyncRun(SQLModel, table=True):
    """One sync of one source: when, how it ended, what it did."""

    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_source_started", "source", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=100)
    kind: str = Field(max_length=50)
    started_at: datetime | None = _utc_column(nullable=False)
    finished_at: datetime | None = _utc_column()
    outcome: str = Field(default="running", max_length=20)
    counts: dict[str, Any] = _json_column()
    error: str | None = None


class SyncReject(SQLModel, table=True):
    """A row a sync run could not map (every one, not only the first shown)."""

    __tablename__ = "sync_rejects"
    __table_args__ = (Index("ix_sync_rejects_run", "run_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="sync_runs.id")
    source: str = Field(max_length=100)
    location: str
    reason: str
    external_id: str | None = None


class MetricSnapshot(SQLModel, table=True):
    """One saved run of ``tracker metrics``."""

    __tablename__ = "metric_snapshots"
    __table_args__ = (Index("ix_metric_snapshots_taken_at", "taken_at"),)

    id: int | None = Field(default=None, primary_key=True)
    taken_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    timezone: str = Field(max_length=64)
    definitions_version: int
    as_of: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class MetricSnapshotRow(SQLModel, table=True):
    """One value of a snapshot, as it was reported."""

    __tablename__ = "metric_snapshot_rows"
    __table_args__ = (
        Index("ix_metric_snapshot_rows_snapshot", "snapshot_id"),
        Index("ix_metric_snapshot_rows_metric", "metric", "period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="metric_snapshots.id")
    metric: str = Field(max_length=64)
    period: str = Field(max_length=40)
    period_kind: str = Field(max_length=10)
    period_start: date
    period_end: date
    scope: str = Field(max_length=500)
    value: float | None = None
    n: int = 0
    coverage: float | None = None
    stats: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class GoalCheckin(SQLModel, table=True):
    """One saved goal evaluation (``tracker report --save``)."""

    __tablename__ = "goal_checkins"
    __table_args__ = (Index("ix_goal_checkins_as_of", "as_of"),)

    id: int | None = Field(default=None, primary_key=True)
    taken_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    as_of: date
    timezone: str = Field(max_length=64)
    definitions_version: int
    data_as_of: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class GoalCheckinRow(SQLModel, table=True):
    """One goal of a check-in, as it was reported."""

    __tablename__ = "goal_checkin_rows"
    __table_args__ = (Index("ix_goal_checkin_rows_checkin", "checkin_id"),)

    id: int | None = Field(default=None, primary_key=True)
    checkin_id: int = Field(foreign_key="goal_checkins.id")
    goal_id: str = Field(max_length=300)
    period: str = Field(max_length=40)
    metric: str = Field(max_length=64)
    scope: str = Field(max_length=500)
    actual: float | None = None
    target: float
    attainment: float | None = None
    tier: str | None = Field(default=None, max_length=10)
    status: str = Field(max_length=10)


class EmailSend(SQLModel, table=True):
    """One digest to one recipient for a period and as-of slot (``tracker email``).

    Written as ``sending`` before the SMTP transaction and ``sent`` or ``failed`` after
    it: a row left ``sending`` means the process died mid-delivery ("delivery uncertain")
    and is never re-sent without ``--resend``.
    """

    __tablename__ = "email_sends"
    __table_args__ = (Index("ix_email_sends_slot", "period", "slot", "recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(max_length=320)
    period: str = Field(max_length=100)
    slot: str = Field(max_length=40)
    message_id: str = Field(max_length=255)
    status: str = Field(max_length=10)
    goals: int = 0
    error: str | None = Field(default=None, max_length=1000)
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    finished_at: datetime | None = _utc_column()


class JobRun(SQLModel, table=True):
    """One run of a scheduled job: its slot (the fire time it was scheduled for), how it ended.

    ``outcome``: running, ok, partial, failed, skipped or interrupted; ``error`` is one
    secret-free line.
    """

    __tablename__ = "job_runs"
    __table_args__ = (
        Index("ix_job_runs_job_started", "job_id", "started_at"),
        Index("ix_job_runs_slot", "job_id", "slot"),
    )

    id: int | None = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    source: str | None = Field(default=None, max_length=100)
    slot: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    ended_at: datetime | None = _utc_column()
    outcome: str = Field(default="running", max_length=20)
    error: str | None = Field(default=None, max_length=1000)
    counts: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    host: str = Field(max_length=255)
    pid: int


class SchedulerHeartbeat(SQLModel, table=True):
    """The active scheduler of the store (one row, ``id`` 1): who holds the lease, since
    when, and its last heartbeat."""

    __tablename__ = "scheduler_heartbeat"

    id: int = Field(default=1, primary_key=True)
    host: str = Field(max_length=255)
    pid: int
    since: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    beat_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Alert(SQLModel, table=True):
    """An alert condition (``job:sync:hubspot``, ``stale:hubspot``): raised, mailed, cleared.

    Open while ``cleared_at`` is null; raising it again after it cleared starts it anew.
    """

    __tablename__ = "alerts"

    key: str = Field(primary_key=True, max_length=200)
    raised_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    mailed_at: datetime | None = _utc_column()
    cleared_at: datetime | None = _utc_column()
    detail: str = Field(default="", max_length=2000)
