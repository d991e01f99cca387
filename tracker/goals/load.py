"""Reading and writing for goals: the only module of ``tracker.goals`` doing I/O.

Quotas files (CSV: ``owner``, ``target``, optional ``stretch`` and ``baseline``), the owner
directory quotas are matched against, the deals frame (through ``tracker.metrics.load``)
and check-ins (tables ``goal_checkins`` and ``goal_checkin_rows``, migration ``0004``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import pandas as pd
from sqlalchemy import Engine, Table, insert, select

from tracker.errors import ConfigError
from tracker.goals.checkins import Checkin, CheckinRow, rows_of
from tracker.goals.expand import OwnerRef, QuotaRow
from tracker.goals.model import GoalConfig
from tracker.goals.result import GoalReport
from tracker.metrics import prepare
from tracker.metrics.load import load_deals
from tracker.metrics.registry import Field
from tracker.models import GoalCheckin, GoalCheckinRow, Owner

QUOTA_COLUMNS = ("owner", "target", "stretch", "baseline")


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _unneutral(value: str) -> str:
    """A cell as written before ``tracker goals suggest`` neutralised it for spreadsheets
    ("'=Bob" was "=Bob")."""
    if value.startswith("'") and value[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        return value[1:]
    return value


def read_quotas(goal: GoalConfig) -> list[QuotaRow]:
    """The data rows of ``goal``'s quotas file; a missing file or column is a
    ``ConfigError`` naming the goal and the file."""
    assert goal.quotas is not None
    where = f"{goal.origin}: goal {goal.id}: quotas file {goal.quotas}"
    try:
        with goal.quotas.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = [name.strip().lower() for name in next(reader, [])]
            rows = [(reader.line_num, line) for line in reader]
    except FileNotFoundError:
        raise ConfigError(f"{where} not found") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"{where}: cannot be read: {exc}") from None
    for column in ("owner", "target"):
        if column not in header:
            raise ConfigError(
                f"{where}: no {column!r} column (columns: {', '.join(QUOTA_COLUMNS)})"
            )
    out = []
    for line, values in rows:
        if not any(v.strip() for v in values):
            continue
        row = {name: _unneutral(value) for name, value in zip(header, values, strict=False)}
        out.append(QuotaRow(line=line, values=row))
    return out


def read_all_quotas(goals: Sequence[GoalConfig]) -> dict[Path, list[QuotaRow]]:
    """Every quotas file the goals name, by path."""
    return {g.quotas: read_quotas(g) for g in goals if g.quotas is not None}


def load_owners(engine: Engine, sources: Sequence[str]) -> list[OwnerRef]:
    """The owners of the given sources (for matching quotas by name or email)."""
    owners = _table(Owner)
    query = select(owners.c.external_id, owners.c.name, owners.c.email).where(
        owners.c.source.in_(list(sources))
    )
    with engine.connect() as conn:
        found = conn.execute(query.order_by(owners.c.id)).all()
    return [OwnerRef(external_id=e, name=n, email=m) for e, n, m in found]


def load_frame(
    engine: Engine,
    fields: Sequence[Field],
    dimensions: Sequence[str],
    *,
    timezone: str,
    currency: str,
    sources: Sequence[str],
) -> pd.DataFrame:
    """The deals frame of the given sources with ``fields`` and ``dimensions``
    (``tracker.goals.plan.load_needs`` says which a set of goals needs)."""
    raw = load_deals(engine, fields, dimensions, sources)
    return prepare(
        raw, timezone=timezone, reporting_currency=currency, fields=fields, dimensions=dimensions
    )


def save_checkin(engine: Engine, report: GoalReport, taken_at: datetime) -> int:
    """Keep ``report`` as a check-in; returns its id."""
    head = _table(GoalCheckin)
    with engine.begin() as conn:
        checkin_id = conn.execute(
            insert(head).returning(head.c.id),
            {
                "taken_at": taken_at,
                "as_of": report.as_of,
                "timezone": report.timezone,
                "definitions_version": report.definitions_version,
                "data_as_of": {k: v.isoformat() for k, v in report.data_as_of.items()},
            },
        ).scalar_one()
        rows = [
            {
                "checkin_id": checkin_id,
                "goal_id": row.goal_id,
                "period": row.period,
                "metric": result.goal.metric,
                "scope": json.dumps(result.goal.scope_dict, sort_keys=True),
                "actual": row.actual,
                "target": result.goal.target,
                "attainment": row.attainment,
                "tier": row.tier,
                "status": row.status,
            }
            for row, result in zip(rows_of(report.results), report.results, strict=True)
        ]
        if rows:
            conn.execute(insert(_table(GoalCheckinRow)), rows)
    return int(checkin_id)


def previous_checkin(engine: Engine, as_of: Any) -> Checkin | None:
    """The latest check-in saved for an as-of date before ``as_of``."""
    head = _table(GoalCheckin)
    body = _table(GoalCheckinRow)
    query = (
        select(head.c.id, head.c.as_of)
        .where(head.c.as_of < as_of)
        .order_by(head.c.as_of.desc(), head.c.taken_at.desc(), head.c.id.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        found = conn.execute(query).first()
        if found is None:
            return None
        stored = conn.execute(select(body).where(body.c.checkin_id == found.id)).mappings().all()
    rows = {
        (r["goal_id"], r["period"]): CheckinRow(
            goal_id=r["goal_id"],
            period=r["period"],
            actual=r["actual"],
            attainment=r["attainment"],
            tier=r["tier"],
            status=r["status"],
        )
        for r in stored
    }
    return Checkin(checkin_id=int(found.id), as_of=found.as_of, rows=rows)
