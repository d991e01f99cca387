"""Metric snapshots: computed rows stored with the time they were taken.

``tracker metrics --save`` keeps what was reported, so trends and "what we reported last
week" can be reproduced after the CRM data has changed. A snapshot is one
``metric_snapshots`` row (when, time zone, definitions version, data as-of) and its
``metric_snapshot_rows`` (one per metric × period × scope, exactly as reported).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, insert, select

from tracker.metrics.compute import MetricRow
from tracker.metrics.registry import REGISTRY
from tracker.metrics.report import Report
from tracker.models import MetricSnapshot, MetricSnapshotRow
from tracker.periods import Period, PeriodKind


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def scope_key(scope: dict[str, str | None]) -> str:
    """The canonical text of a scope (sorted JSON), as stored."""
    return json.dumps(scope, sort_keys=True)


def save_snapshot(engine: Engine, report: Report) -> int:
    """Store ``report`` (taken at its ``generated_at``); returns the snapshot id."""
    with engine.begin() as conn:
        snapshot_id = conn.execute(
            insert(_table(MetricSnapshot)).returning(_table(MetricSnapshot).c.id),
            {
                "taken_at": report.generated_at,
                "timezone": report.timezone,
                "definitions_version": report.definitions_version,
                "as_of": {k: v.isoformat() for k, v in report.as_of.items()},
            },
        ).scalar_one()
        values = [
            {
                "snapshot_id": snapshot_id,
                "metric": row.metric,
                "period": row.period.label,
                "period_kind": row.period.kind,
                "period_start": row.period.start,
                "period_end": row.period.end,
                "scope": scope_key(row.scope),
                "value": None if row.value is None else float(row.value),
                "n": row.n,
                "coverage": row.coverage,
                "stats": row.stats,
            }
            for row in report.rows
        ]
        if values:
            conn.execute(insert(_table(MetricSnapshotRow)), values)
    return int(snapshot_id)


def list_snapshots(engine: Engine) -> list[tuple[int, datetime]]:
    """Every snapshot's id and time, oldest first."""
    table = _table(MetricSnapshot)
    with engine.connect() as conn:
        found = conn.execute(select(table.c.id, table.c.taken_at).order_by(table.c.id)).all()
    return [(int(i), _aware(t)) for i, t in found]


def load_snapshot(
    engine: Engine, *, snapshot_id: int | None = None, at: datetime | None = None
) -> Report | None:
    """A saved report: by id, else the latest taken at or before ``at``, else the latest."""
    head = _table(MetricSnapshot)
    body = _table(MetricSnapshotRow)
    query = select(head).order_by(head.c.taken_at.desc(), head.c.id.desc()).limit(1)
    if snapshot_id is not None:
        query = select(head).where(head.c.id == snapshot_id)
    elif at is not None:
        query = query.where(head.c.taken_at <= at)
    with engine.connect() as conn:
        found = conn.execute(query).mappings().first()
        if found is None:
            return None
        stored = conn.execute(
            select(body).where(body.c.snapshot_id == found["id"]).order_by(body.c.id)
        ).mappings()
        rows = [_row(dict(item)) for item in stored]
    as_of = {k: _aware(datetime.fromisoformat(v)) for k, v in found["as_of"].items()}
    return Report(
        timezone=found["timezone"],
        definitions_version=int(found["definitions_version"]),
        generated_at=_aware(found["taken_at"]),
        as_of=as_of,
        rows=rows,
    )


def _row(item: dict[str, Any]) -> MetricRow:
    period = Period(
        item["period"],
        item["period_start"],
        item["period_end"],
        cast(PeriodKind, item["period_kind"]),
    )
    value = item["value"]
    metric = item["metric"]
    if value is not None and metric in REGISTRY and REGISTRY.get(metric).unit == "count":
        value = int(value)
    stats = dict(item["stats"] or {})
    return MetricRow(
        metric=item["metric"],
        period=period,
        scope=json.loads(item["scope"]),
        value=value,
        n=int(item["n"]),
        coverage=item["coverage"],
        stats=stats,
    )


def snapshot_series(
    reports: Sequence[Report], metric: str, scope: dict[str, str | None]
) -> list[tuple[datetime, str, float | int | None]]:
    """(taken at, period, value) of one metric and scope across reports, for trends."""
    out: list[tuple[datetime, str, float | int | None]] = []
    for report in reports:
        for row in report.rows:
            if row.metric == metric and row.scope == scope:
                out.append((report.generated_at, row.period.label, row.value))
    return out
