"""Bulk writes of synced records: batched upserts keyed by (source, external_id).

The statements go straight to the DB-API driver (``executemany`` of tuples) with an
``INSERT ... ON CONFLICT DO UPDATE ... WHERE <something changed>``: the same SQL shape on
SQLite and PostgreSQL, no ORM object per row, and a row whose values did not change is
not touched at all (so re-importing the same data changes nothing, ``synced_at`` included).
Callers hold the transaction: the sync engine commits a batch and its cursor together.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, get_args, get_type_hints

from sqlalchemy import Connection

from tracker.records import (
    AccountRecord,
    ActivityRecord,
    Batch,
    DealRecord,
    JsonDict,
    LineItemRecord,
    OwnerRecord,
)

RowBuilder = Callable[[str, Any, Any], tuple[Any, ...]]


@dataclass(frozen=True)
class TableSpec:
    """How one record type maps onto one table."""

    table: str
    record_fields: tuple[str, ...]
    datetimes: frozenset[str] = frozenset()
    dates: frozenset[str] = frozenset()
    jsons: frozenset[str] = frozenset()
    # columns written on insert but never compared (bookkeeping)
    extra: tuple[str, ...] = ("synced_at",)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every inserted column, in tuple order."""
        return ("source", *self.record_fields, *self.extra)


def spec_from_record(
    table: str,
    record_type: type[Any],
    *,
    extra: tuple[str, ...] = ("synced_at",),
    not_stored: frozenset[str] = frozenset(),
) -> TableSpec:
    """The column spec of ``table`` derived from its record dataclass in ``tracker.records``:
    every field is a column in declaration order (but ``not_stored``), and its annotation
    says how it is encoded (``datetime``, ``date``, JSON for ``JsonDict``)."""
    hints = get_type_hints(record_type)
    names = tuple(f.name for f in fields(record_type) if f.name not in not_stored)

    def typed(kind: object) -> frozenset[str]:
        return frozenset(n for n in names if kind in get_args(hints[n]) or hints[n] is kind)

    return TableSpec(
        table,
        names,
        datetimes=typed(datetime),
        dates=typed(date),
        jsons=frozenset(n for n in names if hints[n] == JsonDict),
        extra=extra,
    )


ACCOUNTS = spec_from_record("accounts", AccountRecord)
OWNERS = spec_from_record("owners", OwnerRecord)
DEALS = spec_from_record(
    "deals",
    DealRecord,
    extra=("synced_at", "deleted_at"),
    # written as rows of their own table
    not_stored=frozenset({"line_items"}),
)
LINE_ITEMS = spec_from_record("line_items", LineItemRecord)
ACTIVITIES = spec_from_record("activities", ActivityRecord, extra=("synced_at", "deleted_at"))


@dataclass
class WriteCounts:
    """What a write did, per table: rows received, rows inserted or changed (``changed``)
    and, of those, rows inserted (new keys); plus the deals and the activities marked
    deleted."""

    received: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    inserted: dict[str, int] = field(default_factory=dict)
    deleted: int = 0
    activities_deleted: int = 0

    def add(self, table: str, received: int, changed: int, inserted: int = 0) -> None:
        """Accumulate the counts of one statement."""
        self.received[table] = self.received.get(table, 0) + received
        self.changed[table] = self.changed.get(table, 0) + changed
        self.inserted[table] = self.inserted.get(table, 0) + inserted

    def merge(self, other: WriteCounts) -> None:
        """Accumulate another write's counts into this one."""
        for table, n in other.received.items():
            self.add(table, n, other.changed.get(table, 0), other.inserted.get(table, 0))
        self.deleted += other.deleted
        self.activities_deleted += other.activities_deleted


_JSON_ENCODE = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str).encode


def _sqlite_datetime(value: datetime | None) -> str | None:
    # SQLAlchemy's SQLite DATETIME text form, always with microseconds so strings sort
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]


_JSON_CACHE: dict[tuple[Any, ...], str] = {}


def _sqlite_json(value: Any) -> str:
    if not value:
        return "{}"
    # custom fields repeat a lot (forecast categories, flags): encode each shape once
    try:
        # types are part of the key: 1, 1.0 and True are equal but encode differently
        key = (*value.items(), *map(type, value.values()))
        cached = _JSON_CACHE.get(key)
    except TypeError:  # unhashable values (lists, nested dicts)
        return _JSON_ENCODE(value)
    if cached is None:
        if len(_JSON_CACHE) > 4096:
            _JSON_CACHE.clear()
        cached = _JSON_CACHE[key] = _JSON_ENCODE(value)
    return cached


def _pg_json(value: Any) -> Any:
    from psycopg.types.json import Json

    text = "{}" if not value else _JSON_ENCODE(value)
    return Json(value, dumps=lambda _: text)


def _pg_text(value: Any) -> Any:
    # PostgreSQL text cannot hold NUL; CRM text sometimes does (pasted binary, bad exports)
    if value.__class__ is str and "\x00" in value:
        return value.replace("\x00", "\ufffd")
    return value


@lru_cache(maxsize=16)
def _text_columns(table: str) -> frozenset[str]:
    from sqlalchemy import String

    from tracker.store import metadata

    columns = metadata().tables[table].columns
    # SQLModel's str columns are a TypeDecorator (AutoString) over String
    return frozenset(c.name for c in columns if isinstance(getattr(c.type, "impl", c.type), String))


class Dialect:
    """The few SQL and value differences between SQLite and PostgreSQL."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sqlite = name == "sqlite"
        self.placeholder = "?" if self.sqlite else "%s"

    def distinct(self, left: str, right: str, is_json: bool) -> str:
        """SQL that is true when two nullable values differ."""
        if self.sqlite:
            return f"{left} IS NOT {right}"
        if is_json:
            left, right = f"{left}::text", f"{right}::text"
        return f"{left} IS DISTINCT FROM {right}"

    def encode_datetime(self, value: datetime | None) -> Any:
        """A UTC datetime as the driver stores it."""
        return _sqlite_datetime(value) if self.sqlite else value

    def key_filter(self) -> str:
        """SQL matching ``external_id`` against one parameter holding every key."""
        if self.sqlite:
            return "external_id IN (SELECT value FROM json_each(?))"
        return "external_id = ANY(%s)"

    def key_param(self, keys: list[str]) -> Any:
        """The parameter for ``key_filter``."""
        return json.dumps(keys) if self.sqlite else keys

    def row_builder(self, spec: TableSpec) -> RowBuilder:
        """A function (source, record, stamp) → the tuple of ``spec.columns``.

        Generated once per table (like ``collections.namedtuple`` does) so the per-row
        work is one call building one tuple, with no loop over columns.
        """
        env: dict[str, Any] = {"UTC": UTC}
        parts = ["src"]
        for col in spec.record_fields:
            value = f"r.{col}"
            if col in spec.datetimes and self.sqlite:
                # inlined _sqlite_datetime: this runs once per column per row
                # naive values are taken as UTC, like _sqlite_datetime does
                parts.append(
                    f"(None if {value} is None else ({value} if {value}.tzinfo is None else "
                    f"{value}.astimezone(UTC)).isoformat(' ', 'microseconds')[:26])"
                )
            elif col in spec.dates and self.sqlite:
                parts.append(f"(None if {value} is None else {value}.isoformat())")
            elif col in spec.jsons:
                parts.append(f"js({value})")
            elif not self.sqlite and col in _text_columns(spec.table):
                parts.append(f"pg_text({value})")
            else:
                parts.append(value)
        parts.append("stamp")
        if "deleted_at" in spec.extra:
            parts.append("(stamp if r.is_deleted else None)")
        env["js"] = _sqlite_json if self.sqlite else _pg_json
        env["pg_text"] = _pg_text
        builder: RowBuilder = eval(f"lambda src, r, stamp: ({', '.join(parts)},)", env)
        return builder


def insert_sql(spec: TableSpec, dialect: Dialect) -> str:
    """A plain ``INSERT`` of every column (for keys known to be new)."""
    cols = spec.columns
    values = ", ".join([dialect.placeholder] * len(cols))
    return f"INSERT INTO {spec.table} ({', '.join(cols)}) VALUES ({values})"


def upsert_sql(spec: TableSpec, dialect: Dialect) -> str:
    """``INSERT ... ON CONFLICT (source, external_id) DO UPDATE ... WHERE changed``."""
    compared = [c for c in spec.record_fields if c != "external_id"]
    sets = [f"{c} = excluded.{c}" for c in compared]
    sets.append("synced_at = excluded.synced_at")
    if "deleted_at" in spec.extra:
        sets.append(
            f"deleted_at = CASE WHEN excluded.is_deleted "
            f"THEN COALESCE({spec.table}.deleted_at, excluded.deleted_at) ELSE NULL END"
        )
    changed = " OR ".join(
        dialect.distinct(f"{spec.table}.{c}", f"excluded.{c}", c in spec.jsons) for c in compared
    )
    return (
        f"{insert_sql(spec, dialect)} "
        f"ON CONFLICT (source, external_id) DO UPDATE SET {', '.join(sets)} WHERE {changed}"
    )


@dataclass(frozen=True)
class _Prepared:
    insert: str
    upsert: str
    build: RowBuilder
    existing: str


@lru_cache(maxsize=32)
def _prepare(spec: TableSpec, dialect_name: str) -> _Prepared:
    dialect = Dialect(dialect_name)
    return _Prepared(
        insert=insert_sql(spec, dialect),
        upsert=upsert_sql(spec, dialect),
        build=dialect.row_builder(spec),
        existing=f"SELECT external_id FROM {spec.table} WHERE source = {dialect.placeholder} "
        f"AND {dialect.key_filter()}",
    )


class BatchWriter:
    """Writes batches of one source inside the caller's transaction."""

    def __init__(self, conn: Connection, source: str) -> None:
        self.conn = conn
        self.source = source
        self.dialect = Dialect(conn.dialect.name)
        self.new_keys: dict[str, set[str]] = {}  # table → keys the last upsert inserted

    def upsert(self, spec: TableSpec, records: Sequence[Any], synced_at: datetime) -> int:
        """Insert or update ``records``; returns how many rows were inserted or changed.

        Keys not yet stored get a plain ``INSERT`` (as fast as the driver goes); stored
        ones an upsert that only touches rows whose values differ. Within a batch the
        last record of a key wins.
        """
        if not records:
            self.new_keys[spec.table] = set()
            return 0
        prepared = _prepare(spec, self.dialect.name)
        by_key = {r.external_id: r for r in records}
        keys = list(by_key)
        cursor = self.conn.connection.cursor()  # the DB-API cursor: no per-row wrapping
        try:
            cursor.execute(prepared.existing, (self.source, self.dialect.key_param(keys)))
            existing = {row[0] for row in cursor.fetchall()}
        finally:
            cursor.close()
        stamp = self.dialect.encode_datetime(synced_at)
        build, src = prepared.build, self.source
        self.new_keys[spec.table] = {k for k in by_key if k not in existing}
        new = [build(src, r, stamp) for k, r in by_key.items() if k not in existing]
        old = [build(src, r, stamp) for k, r in by_key.items() if k in existing]
        changed = 0
        if new:
            self.conn.exec_driver_sql(prepared.insert, new)
            changed += len(new)
        if old:
            changed += max(self.conn.exec_driver_sql(prepared.upsert, old).rowcount, 0)
        return changed

    def write(self, batch: Batch, synced_at: datetime) -> WriteCounts:
        """Write every record and deletion of ``batch`` (not its cursor)."""
        counts = WriteCounts()
        # deals arriving already deleted (queryAll's IsDeleted...) count as deletions when
        # they were live in the store
        arriving_deleted = [d.external_id for d in batch.deals if d.is_deleted]
        if arriving_deleted:
            counts.deleted += len(self._live_among("deals", arriving_deleted))
        items = [li for d in batch.deals if d.line_items is not None for li in d.line_items]
        for spec, records in (
            (ACCOUNTS, batch.accounts),
            (OWNERS, batch.owners),
            (DEALS, batch.deals),
            (LINE_ITEMS, items),
        ):
            changed = self.upsert(spec, records, synced_at)
            counts.add(spec.table, len(records), changed, len(self.new_keys[spec.table]))
        # a deal inserted just now has no stored line items to drop
        inserted = self.new_keys.get(DEALS.table, set())
        complete = [
            d for d in batch.deals if d.line_items is not None and d.external_id not in inserted
        ]
        self._drop_missing_line_items(complete, synced_at)
        counts.deleted += self.mark_deals_deleted(batch.deleted_deal_ids, synced_at)
        if batch.complete_deal_ids is not None:
            missing = self.live_deal_ids() - batch.complete_deal_ids
            counts.deleted += self.mark_deals_deleted(sorted(missing), synced_at)
        if batch.activities or batch.deleted_activity_ids or batch.complete_activity_ids:
            counts.activities_deleted += self._write_activities(batch, synced_at, counts)
        return counts

    def _write_activities(self, batch: Batch, synced_at: datetime, counts: WriteCounts) -> int:
        """Upsert the batch's activities and apply its activity deletions; returns how
        many live activities became deleted."""
        deleted = 0
        arriving = [a.external_id for a in batch.activities if a.is_deleted]
        if arriving:
            deleted += len(self._live_among("activities", arriving))
        changed = self.upsert(ACTIVITIES, batch.activities, synced_at)
        counts.add("activities", len(batch.activities), changed, len(self.new_keys["activities"]))
        deleted += self.mark_deleted("activities", batch.deleted_activity_ids, synced_at)
        if batch.complete_activity_ids is not None:
            missing = self.live_ids("activities") - batch.complete_activity_ids
            deleted += self.mark_deleted("activities", sorted(missing), synced_at)
        return deleted

    def _live_among(self, table: str, ids: list[str]) -> set[str]:
        p = self.dialect.placeholder
        rows = self.conn.exec_driver_sql(
            f"SELECT external_id FROM {table} WHERE source = {p} AND is_deleted = {p} "
            f"AND {self.dialect.key_filter()}",
            (self.source, False, self.dialect.key_param(ids)),
        )
        return {r[0] for r in rows}

    def live_deal_ids(self) -> set[str]:
        """External ids of this source's deals not marked deleted."""
        return self.live_ids("deals")

    def live_ids(self, table: str) -> set[str]:
        """External ids of this source's rows of ``table`` (deals, activities) not marked
        deleted."""
        p = self.dialect.placeholder
        rows = self.conn.exec_driver_sql(
            f"SELECT external_id FROM {table} WHERE source = {p} AND is_deleted = {p}",
            (self.source, False),
        )
        return {r[0] for r in rows}

    def mark_deals_deleted(self, ids: Iterable[str], synced_at: datetime) -> int:
        """Mark the given deals deleted (kept for audit); returns how many changed."""
        return self.mark_deleted("deals", ids, synced_at)

    def mark_deleted(self, table: str, ids: Iterable[str], synced_at: datetime) -> int:
        """Mark the given rows of ``table`` (deals, activities) deleted, kept for audit;
        returns how many changed."""
        p = self.dialect.placeholder
        ts = self.dialect.encode_datetime(synced_at)
        rows = [(True, ts, ts, self.source, i, False) for i in ids]
        if not rows:
            return 0
        result = self.conn.exec_driver_sql(
            f"UPDATE {table} SET is_deleted = {p}, deleted_at = {p}, synced_at = {p} "
            f"WHERE source = {p} AND external_id = {p} AND is_deleted = {p}",
            rows,
        )
        return max(result.rowcount, 0)

    def _drop_missing_line_items(self, deals: list[DealRecord], synced_at: datetime) -> None:
        """Mark deleted the stored line items of ``deals`` absent from their new sets."""
        if not deals:
            return
        p = self.dialect.placeholder
        keep = {li.external_id for d in deals for li in d.line_items or ()}
        stale: list[str] = []
        ids = [d.external_id for d in deals]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join([p] * len(chunk))
            rows = self.conn.exec_driver_sql(
                f"SELECT external_id FROM line_items WHERE source = {p} AND is_deleted = {p} "
                f"AND deal_external_id IN ({marks})",
                (self.source, False, *chunk),
            )
            stale.extend(r[0] for r in rows if r[0] not in keep)
        if not stale:
            return
        ts = self.dialect.encode_datetime(synced_at)
        self.conn.exec_driver_sql(
            f"UPDATE line_items SET is_deleted = {p}, synced_at = {p} "
            f"WHERE source = {p} AND external_id = {p}",
            [(True, ts, self.source, i) for i in stale],
        )
