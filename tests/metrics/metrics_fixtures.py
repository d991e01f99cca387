"""Builders for hand-written deals: raw loader rows (pure tests) and store rows (DB tests)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy import insert as insert_into

from tracker.metrics import MetricRequest, MetricRow, compute, prepare
from tracker.metrics.compute import request_dimensions, required_fields
from tracker.periods import parse_period

TODAY = date(2026, 11, 25)


def deal(external_id: str, **fields: Any) -> dict[str, Any]:
    """A deal dict with defaults; ``items`` is a list of line-item dicts."""
    base: dict[str, Any] = {
        "source": "crm",
        "external_id": external_id,
        "is_won": False,
        "is_closed": False,
        "close_date": None,
        "created_at": None,
        "amount": None,
        "currency": "USD",
        "amount_reporting": None,
        "list_amount": None,
        "cost_amount": None,
        "account_external_id": None,
        "owner_external_id": None,
        "owner_name": None,
        "team": None,
        "region": None,
        "pipeline": None,
        "segment": None,
        "is_deleted": False,
        "items": None,
    }
    base.update(fields)
    if fields.get("won"):
        base["is_won"] = base["is_closed"] = True
    if fields.get("lost"):
        base["is_closed"] = True
    base.pop("won", None)
    base.pop("lost", None)
    if base["amount_reporting"] is None and base["currency"] == "USD":
        base["amount_reporting"] = base["amount"]
    return base


def _aggregate(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    """What the loader's SQL computes per deal from its live line items."""
    live = [i for i in items or [] if not i.get("is_deleted", False)]
    out: dict[str, Any] = {"li_count": len(live) or None}

    def total(values: list[float | None]) -> tuple[float | None, int | None]:
        known = [v for v in values if v is not None]
        return (sum(known) if known else None), (len(known) if live else None)

    def product(a: str, b: str) -> list[float | None]:
        return [
            i[a] * i[b] if i.get(a) is not None and i.get(b) is not None else None for i in live
        ]

    out["li_list"], out["li_list_count"] = total(product("list_price", "quantity"))
    out["li_net"], out["li_net_count"] = total([i.get("total") for i in live])
    out["li_cost"], out["li_cost_count"] = total(product("unit_cost", "quantity"))
    return out


def raw_frame(deals: list[dict[str, Any]]) -> pd.DataFrame:
    """The loader's raw rows for ``deals`` (deleted deals are left out, as in SQL)."""
    rows = []
    for number, item in enumerate(deals, start=1):
        if item["is_deleted"]:
            continue
        row = {k: v for k, v in item.items() if k not in ("items", "is_deleted")}
        row["id"] = number
        row.update(_aggregate(item["items"]))
        rows.append(row)
    columns = [k for k in deal("x") if k not in ("items", "is_deleted")] + ["id"]
    columns += list(_aggregate(None))
    return pd.DataFrame(rows, columns=columns)


def run(
    deals: list[dict[str, Any]],
    metrics: list[str],
    periods: list[str],
    *,
    by: tuple[str, ...] = (),
    filters: dict[str, tuple[str | None, ...]] | None = None,
    timezone: str = "UTC",
    fiscal_year_start_month: int = 1,
    currency: str = "USD",
) -> list[MetricRow]:
    """Compute metrics over hand-built deals."""
    request = MetricRequest(
        metrics=tuple(metrics),
        periods=tuple(parse_period(p, TODAY, fiscal_year_start_month) for p in periods),
        by=by,
        filters=filters or {},
    )
    frame = prepare(
        raw_frame(deals),
        timezone=timezone,
        reporting_currency=currency,
        fields=required_fields(request.metrics),
        dimensions=request_dimensions(request),
    )
    return compute(frame, request)


def value(
    rows: list[MetricRow], metric: str, period: str | None = None, **scope: str | None
) -> MetricRow:
    """The single row of ``metric`` (optionally for ``period``) with exactly ``scope``."""
    found = [
        r
        for r in rows
        if r.metric == metric and r.scope == scope and (period is None or r.period.label == period)
    ]
    assert len(found) == 1, (metric, period, scope, found)
    return found[0]


def utc(text: str) -> datetime:
    """An aware UTC datetime from ``YYYY-MM-DD HH:MM``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def insert(engine: Engine, deals: list[dict[str, Any]]) -> None:
    """Write hand-built deals (with their owners, accounts and line items) to a store."""
    from tracker.models import Account, Deal, LineItem, Owner

    owners: dict[tuple[str, str], dict[str, Any]] = {}
    accounts: dict[tuple[str, str], dict[str, Any]] = {}
    deal_rows: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    columns = set(Deal.__table__.c.keys())  # type: ignore[attr-defined]
    for item in deals:
        source = item["source"]
        if item["owner_external_id"] is not None:
            owners[(source, item["owner_external_id"])] = {
                "source": source,
                "external_id": item["owner_external_id"],
                "name": item["owner_name"],
                "team": item["team"],
                "region": item["region"],
            }
        if item["account_external_id"] is not None:
            accounts[(source, item["account_external_id"])] = {
                "source": source,
                "external_id": item["account_external_id"],
                "segment": item["segment"],
                "is_deleted": False,
                "custom": {},
            }
        row = {k: v for k, v in item.items() if k in columns and k != "owner_name"}
        row["custom"] = {}
        deal_rows.append(row)
        for number, line in enumerate(item["items"] or []):
            items.append(
                {
                    "source": source,
                    "external_id": f"{item['external_id']}-{number}",
                    "deal_external_id": item["external_id"],
                    "quantity": line.get("quantity"),
                    "list_price": line.get("list_price"),
                    "total": line.get("total"),
                    "unit_cost": line.get("unit_cost"),
                    "is_deleted": line.get("is_deleted", False),
                }
            )
    with engine.begin() as conn:
        for model, rows in ((Owner, owners.values()), (Account, accounts.values())):
            if rows:
                conn.execute(insert_into(model.__table__), list(rows))  # type: ignore[attr-defined]
        conn.execute(insert_into(Deal.__table__), deal_rows)  # type: ignore[attr-defined]
        if items:
            conn.execute(insert_into(LineItem.__table__), items)  # type: ignore[attr-defined]
