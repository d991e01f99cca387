"""Compare what a sync stored with what a perfect sync would store (the sandbox's truth).

``store_differences`` returns human-readable differences (empty when the store matches):
every live truth deal stored live with equal fields and the same live line items, every
stored live deal present in the truth (nothing extra, nothing twice), deleted truth deals
stored deleted (or never stored), and accounts/owners equal field by field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from tracker.models import Account, Activity, Deal, LineItem, Owner
from tracker.records import AccountRecord, ActivityRecord, DealRecord, OwnerRecord
from tracker.store import Store


def _norm(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _equal(a: Any, b: Any) -> bool:
    a, b = _norm(a), _norm(b)
    if (isinstance(a, float) and isinstance(b, float | int)) or (
        isinstance(b, float) and isinstance(a, int)
    ):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)
    return bool(a == b)


def _rows(store: Store, model: Any, source: str) -> list[Any]:
    table = model.__table__
    with store.engine.connect() as conn:
        return list(conn.execute(select(table).where(table.c.source == source)).mappings())


def _compare(kind: str, key: str, want: Any, got: dict[str, Any], skip: set[str]) -> list[str]:
    out = []
    for f in fields(want):
        if f.name in skip or f.name not in got:
            continue
        expected, actual = getattr(want, f.name), got[f.name]
        if not _equal(expected, actual):
            out.append(f"{kind} {key}.{f.name}: store has {actual!r}, truth {expected!r}")
    return out


def store_differences(
    store: Store,
    source: str,
    deals: Iterable[DealRecord],
    accounts: Iterable[AccountRecord] = (),
    owners: Iterable[OwnerRecord] = (),
    skip_fields: Iterable[str] = ("source_modified_at",),
) -> list[str]:
    """Differences between the store's rows of ``source`` and the truth (empty = equal)."""
    skip = set(skip_fields) | {"line_items"}
    diffs: list[str] = []
    stored = {r["external_id"]: dict(r) for r in _rows(store, Deal, source)}
    items: dict[str, dict[str, dict[str, Any]]] = {}
    for r in _rows(store, LineItem, source):
        if not r["is_deleted"]:
            items.setdefault(r["deal_external_id"], {})[r["external_id"]] = dict(r)
    truth_live: set[str] = set()
    for deal in deals:
        got = stored.get(deal.external_id)
        if deal.is_deleted:
            if got is not None and not got["is_deleted"]:
                diffs.append(f"deal {deal.external_id}: deleted in the CRM, live in the store")
            continue
        truth_live.add(deal.external_id)
        if got is None:
            diffs.append(f"deal {deal.external_id}: missing from the store")
            continue
        diffs += _compare("deal", deal.external_id, deal, got, skip)
        if deal.line_items is not None:
            have = items.get(deal.external_id, {})
            want = {li.external_id: li for li in deal.line_items}
            for missing in sorted(set(want) - set(have)):
                diffs.append(f"line item {missing} of deal {deal.external_id}: missing")
            for extra in sorted(set(have) - set(want)):
                diffs.append(f"line item {extra} of deal {deal.external_id}: not in the CRM")
            for key in sorted(set(want) & set(have)):
                diffs += _compare("line item", key, want[key], have[key], skip)
    for key, got in stored.items():
        if not got["is_deleted"] and key not in truth_live:
            diffs.append(f"deal {key}: live in the store, not live in the CRM")
    for model, records in ((Account, accounts), (Owner, owners)):
        have_rows = {r["external_id"]: dict(r) for r in _rows(store, model, source)}
        for rec in records:
            kind = model.__tablename__[:-1]
            got = have_rows.get(rec.external_id)
            if got is None:
                diffs.append(f"{kind} {rec.external_id}: missing from the store")
            else:
                diffs += _compare(kind, rec.external_id, rec, got, skip)
    return diffs


def activity_differences(
    store: Store,
    source: str,
    activities: Iterable[ActivityRecord],
    skip_fields: Iterable[str] = ("source_modified_at",),
) -> list[str]:
    """Differences between the stored activities of ``source`` and the truth: every live
    activity stored live with equal fields, deleted ones stored deleted (or never stored),
    nothing live in the store that is not live in the truth."""
    skip = set(skip_fields)
    stored = {r["external_id"]: dict(r) for r in _rows(store, Activity, source)}
    diffs: list[str] = []
    live: set[str] = set()
    for act in activities:
        got = stored.get(act.external_id)
        if act.is_deleted:
            if got is not None and not got["is_deleted"]:
                diffs.append(f"activity {act.external_id}: deleted in the CRM, live in the store")
            continue
        live.add(act.external_id)
        if got is None:
            diffs.append(f"activity {act.external_id}: missing from the store")
            continue
        diffs += _compare("activity", act.external_id, act, got, skip)
    for key, got in stored.items():
        if not got["is_deleted"] and key not in live:
            diffs.append(f"activity {key}: live in the store, not live in the CRM")
    return diffs


def store_file_bytes(store: Store) -> bytes:
    """Every byte of a SQLite store on disk: its pooled connections are closed first (which
    checkpoints the WAL into the file) and any ``-wal``/``-shm`` left over is read too, so a
    search for a secret cannot miss rows that only sit in the write-ahead log."""
    database = store.engine.url.database
    assert database, "a file-backed SQLite store"
    store.engine.dispose()
    files = [database, f"{database}-wal", f"{database}-shm"]
    data = b""
    for name in files:
        try:
            with open(name, "rb") as fh:
                data += fh.read()
        except FileNotFoundError:
            continue
    return data
