"""Reading the store for metrics: the only module of ``tracker.metrics`` doing I/O.

Activities are read (one more query, same manner) only when an activity metric is asked
for.

One query selects just the columns a request needs from the live (non-deleted) deals,
joins owners and accounts on ``(source, external id)`` only when a dimension needs them,
and aggregates the live line items per deal in SQL (counts and sums, portable SQL that
SQLite and PostgreSQL evaluate alike). Rows come ordered by deal id, so the frame, and every
figure computed from it, is the same on both databases. Money sums from SQL are rounded to
1e-6 in ``frame.prepare`` because the two engines may add floats in a different order.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Engine, Select, Table, and_, func, not_, select

from tracker.metrics.activity_frame import (
    ACTIVITY_COLUMNS,
    ACTIVITY_KINDS,
    activity_columns,
    prepare_activities,
)
from tracker.metrics.compute import MetricRequest, compute, request_dimensions, required_fields
from tracker.metrics.frame import prepare, raw_columns
from tracker.metrics.registry import DEFINITIONS_VERSION, REGISTRY, Field
from tracker.metrics.report import Report
from tracker.models import Account, Activity, Deal, LineItem, Owner
from tracker.store import last_successful_syncs as last_syncs

log = logging.getLogger(__name__)

_LINE_ITEM_COLUMNS = {
    "li_count",
    "li_list",
    "li_list_count",
    "li_net",
    "li_net_count",
    "li_cost",
    "li_cost_count",
}


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _line_items_subquery(needed: set[str]) -> Any:
    items = _table(LineItem)
    c = items.c
    columns: list[ColumnElement[Any]] = [
        c.source,
        c.deal_external_id,
        func.count().label("li_count"),
    ]
    products = {
        "li_list": c.list_price * c.quantity,
        "li_net": c.total,
        "li_cost": c.unit_cost * c.quantity,
    }
    for name, expression in products.items():
        if name in needed:
            columns.append(func.sum(expression).label(name))
            columns.append(func.count(expression).label(f"{name}_count"))
    return (
        select(*columns)
        .where(not_(c.is_deleted))
        .group_by(c.source, c.deal_external_id)
        .subquery("li")
    )


def _join_owner_and_account(
    base: Table, needed: set[str], columns: list[ColumnElement[Any]]
) -> Any:
    """``base`` (deals or activities) outer-joined to its owner and account on ``(source,
    external id)`` when ``needed`` columns come from them (added to ``columns``)."""
    joined: Any = base
    if needed & {"owner_name", "team", "region"}:
        owners = _table(Owner)
        joined = joined.outerjoin(
            owners,
            and_(
                owners.c.source == base.c.source, owners.c.external_id == base.c.owner_external_id
            ),
        )
        if "owner_name" in needed:
            columns.append(owners.c.name.label("owner_name"))
        columns.extend(owners.c[name] for name in ("team", "region") if name in needed)
    if "segment" in needed:
        accounts = _table(Account)
        joined = joined.outerjoin(
            accounts,
            and_(
                accounts.c.source == base.c.source,
                accounts.c.external_id == base.c.account_external_id,
            ),
        )
        columns.append(accounts.c.segment)
    return joined


def deals_query(
    fields: Iterable[Field | str],
    dimensions: Iterable[str],
    sources: Sequence[str] | None = None,
) -> Select[Any]:
    """The SELECT behind :func:`load_deals` (exposed for inspection and the benchmark);
    ``sources`` keeps only the deals of those sources (``None``: every source)."""
    needed = set(raw_columns(fields, dimensions))
    deals = _table(Deal)
    columns: list[ColumnElement[Any]] = [
        deals.c[name] for name in raw_columns(fields, dimensions) if name in deals.c
    ]
    joined = _join_owner_and_account(deals, needed, columns)
    if needed & _LINE_ITEM_COLUMNS:
        items = _line_items_subquery(needed)
        joined = joined.outerjoin(
            items,
            and_(items.c.source == deals.c.source, items.c.deal_external_id == deals.c.external_id),
        )
        columns.extend(items.c[name] for name in sorted(needed & _LINE_ITEM_COLUMNS))
    query = select(*columns).select_from(joined).where(not_(deals.c.is_deleted))
    if sources is not None:
        query = query.where(deals.c.source.in_(list(sources)))
    return query.order_by(deals.c.id)


_FLOAT_COLUMNS = {"amount_reporting", "amount", "list_amount", "cost_amount"} | _LINE_ITEM_COLUMNS
_BOOL_COLUMNS = {"is_won", "is_closed"}


def _column(name: str, values: Sequence[Any]) -> np.ndarray[Any, Any]:
    """One result column as a numpy array; text and dates stay raw objects for ``prepare``."""
    if name in _FLOAT_COLUMNS:
        return np.array(values, dtype="float64")  # None becomes NaN
    if name == "id":
        return np.array(values, dtype="int64")
    if name in _BOOL_COLUMNS:
        return np.array(values, dtype=bool)
    return np.array(values, dtype=object)


def load_deals(
    engine: Engine,
    fields: Iterable[Field | str],
    dimensions: Iterable[str],
    sources: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The raw rows ``frame.prepare`` expects: live deals with the needed columns only.

    The query runs through the driver without SQLAlchemy's per-value result processing
    (dates may arrive as ISO text on SQLite, as date objects on PostgreSQL; ``prepare``
    parses both, vectorised), which keeps loading a million deals cheap.
    """
    return _fetch(engine, deals_query(list(fields), list(dimensions), sources), "deals")


def _fetch(engine: Engine, query: Select[Any], what: str) -> pd.DataFrame:
    compiled = query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        result = conn.exec_driver_sql(str(compiled))
        names = list(result.keys())
        rows = result.fetchall()
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    log.debug("loaded %d %s (%d columns)", len(rows), what, len(names))
    return pd.DataFrame(
        {name: _column(name, values) for name, values in zip(names, columns, strict=True)}
    )


def activities_query(
    dimensions: Iterable[str], sources: Sequence[str] | None = None
) -> Select[Any]:
    """The SELECT behind :func:`load_activities`: live calls, meetings and emails with the
    columns ``activity_frame.prepare_activities`` needs, the owner's name, team and region,
    the linked deal's pipeline and the account's segment joined only when a dimension
    needs them; ``sources`` keeps only those sources' activities."""
    needed = set(activity_columns(dimensions))
    acts = _table(Activity)
    columns: list[ColumnElement[Any]] = [acts.c[name] for name in ACTIVITY_COLUMNS]
    joined = _join_owner_and_account(acts, needed, columns)
    if "pipeline" in needed:
        deals = _table(Deal)
        joined = joined.outerjoin(
            deals,
            and_(deals.c.source == acts.c.source, deals.c.external_id == acts.c.deal_external_id),
        )
        columns.append(deals.c.pipeline)
    query = (
        select(*columns)
        .select_from(joined)
        .where(not_(acts.c.is_deleted), acts.c.kind.in_(list(ACTIVITY_KINDS)))
    )
    if sources is not None:
        query = query.where(acts.c.source.in_(list(sources)))
    return query.order_by(acts.c.id)


def load_activities(
    engine: Engine, dimensions: Iterable[str], sources: Sequence[str] | None = None
) -> pd.DataFrame:
    """The raw rows ``activity_frame.prepare_activities`` expects (see
    :func:`activities_query`), read like :func:`load_deals`."""
    return _fetch(engine, activities_query(list(dimensions), sources), "activities")


def default_metrics(engine: Engine, sources: Sequence[str] | None = None) -> list[str]:
    """The metrics a report without ``--metric`` shows: every deal metric, and the
    activity metrics once the store holds a live activity of ``sources`` (a store that
    syncs none would read as zero calls)."""
    acts = _table(Activity)
    query = select(acts.c.id).where(not_(acts.c.is_deleted)).limit(1)
    if sources is not None:
        query = query.where(acts.c.source.in_(list(sources)))
    with engine.connect() as conn:
        synced = conn.execute(query).first() is not None
    return REGISTRY.names() if synced else REGISTRY.names("deals")


def activities_frame(
    engine: Engine,
    metrics: Iterable[str],
    dimensions: Iterable[str],
    *,
    timezone: str,
    sources: Sequence[str] | None = None,
) -> pd.DataFrame | None:
    """The activities frame when any of ``metrics`` reads it, else None (nothing read)."""
    if not REGISTRY.needs_activities(metrics):
        return None
    dims = list(dimensions)
    raw = load_activities(engine, dims, sources)
    return prepare_activities(raw, timezone=timezone, dimensions=dims)


def build_report(
    engine: Engine,
    request: MetricRequest,
    *,
    timezone: str,
    currency: str,
    generated_at: datetime,
    sources: Sequence[str] | None = None,
) -> Report:
    """Load what ``request`` needs from the store, compute it, and wrap it as a report;
    with ``sources``, only those sources' deals (and activities) count (and only their
    sync times show)."""
    fields = required_fields(request.metrics)
    dimensions = request_dimensions(request)
    raw = load_deals(engine, fields, dimensions, sources)
    frame = prepare(
        raw,
        timezone=timezone,
        reporting_currency=currency,
        fields=fields,
        dimensions=dimensions,
    )
    activities = activities_frame(
        engine, request.metrics, dimensions, timezone=timezone, sources=sources
    )
    return Report(
        timezone=timezone,
        definitions_version=DEFINITIONS_VERSION,
        generated_at=generated_at,
        as_of={
            name: at
            for name, at in last_syncs(engine).items()
            if sources is None or name in sources
        },
        rows=compute(frame, request, activities=activities),
        filters=dict(request.filters),
    )
