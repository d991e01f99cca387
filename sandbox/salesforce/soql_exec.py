"""Run a SOQL string against an :class:`SObjectDatabase`: :func:`execute` → :class:`QueryResult`.

The result keeps the matching root rows (filtered, sorted, offset and limited) and turns them
into REST records or Bulk CSV rows only when a page is asked for, so a 100,000-row query costs
one filter and one sort up front and 2,000 serialisations per page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any

from sandbox.salesforce.sobjects import ChildRelationship, FieldDef, ObjectDef, Row, SObjectDatabase
from sandbox.salesforce.soql import CountItem, FieldPath, Query, SoqlError, SubQuery, parse
from sandbox.salesforce.soql_eval import (
    NO_CHILD,
    Compiler,
    Getter,
    Predicate,
    Record,
    csv_value,
    rest_formatter,
)
from sandbox.salesforce.stamp_index import keyset_order, stamp_floor

__all__ = ["QueryResult", "execute"]


@dataclass
class QueryResult:
    """The outcome of one query: root rows and how to serialise them."""

    object_name: str
    rows: list[Row]
    to_record: Callable[[Row], Record]
    count_only: bool = False
    aggregate: list[Record] | None = None
    csv_columns: list[tuple[str, Getter]] | None = field(default=None, repr=False)

    @property
    def total_size(self) -> int:
        """``totalSize`` as the REST API reports it."""
        if self.aggregate is not None:
            return len(self.aggregate)
        return len(self.rows)

    def records(self, start: int = 0, stop: int | None = None) -> list[Record]:
        """REST records ``start:stop`` (COUNT() queries have none)."""
        if self.aggregate is not None:
            return self.aggregate[start:stop]
        if self.count_only:
            return []
        to_record = self.to_record
        return [to_record(r) for r in self.rows[start:stop]]

    def csv_header(self) -> list[str]:
        """Bulk API 2.0 CSV column names (``Account.Name`` for relationship paths)."""
        if self.csv_columns is None:
            raise SoqlError("API_ERROR", "Bulk API query doesn't support this type of query")
        return [name for name, _ in self.csv_columns]

    def csv_rows(self, start: int = 0, stop: int | None = None) -> list[list[str]]:
        """Bulk API 2.0 CSV cells for rows ``start:stop``."""
        if self.csv_columns is None:
            raise SoqlError("API_ERROR", "Bulk API query doesn't support this type of query")
        getters = [g for _, g in self.csv_columns]
        return [[csv_value(g(r)) for g in getters] for r in self.rows[start:stop]]


# Select-list tree: key → ("field", FieldDef) | ("rel", lookup, target, subtree) | ("sub", ...)
_Node = dict[str, tuple[Any, ...]]


class _Executor(Compiler):
    def select_tree(self, obj: ObjectDef, items: Iterable[FieldPath | SubQuery]) -> _Node:
        root: _Node = {}
        for item in items:
            if isinstance(item, SubQuery):
                rel = obj.child_relationship(item.query.from_name)
                if rel is None:
                    name = item.query.from_name
                    raise self.err("INVALID_TYPE", item.query.from_pos, NO_CHILD.format(name=name))
                self._put(root, rel.name, ("sub", rel, item.query), item.query.from_pos)
                continue
            resolved = self.resolve(obj, item)
            node = root
            for ref, target in resolved.hops:
                key = ref.relationship_name or ref.name
                entry = node.get(key)
                if entry is None:
                    entry = ("rel", ref, target, {})
                    node[key] = entry
                node = entry[3]
            self._put(node, resolved.field.name, ("field", resolved.field), item.pos)
        return root

    def _put(self, node: _Node, key: str, entry: tuple[Any, ...], pos: int) -> None:
        if key in node:
            raise self.err("MALFORMED_QUERY", pos, f"duplicate field selected: {key}")
        node[key] = entry

    def serializer(
        self, obj: ObjectDef, node: _Node, include_deleted: bool
    ) -> Callable[[Row], Record]:
        prefix = f"/services/data/v{self.api_version}/sobjects/{obj.name}/"
        type_name = obj.name
        plan: list[tuple[str, Callable[[Row], Any]]] = []
        for key, entry in node.items():
            if entry[0] == "field":
                plan.append((key, _field_getter(entry[1])))
            elif entry[0] == "rel":
                plan.append((key, self._parent_getter(entry, include_deleted)))
            else:
                plan.append((key, self._children_getter(obj, entry[1], entry[2], include_deleted)))

        def to_record(row: Row) -> Record:
            record: Record = {"attributes": {"type": type_name, "url": prefix + row["Id"]}}
            for key, get in plan:
                record[key] = get(row)
            return record

        return to_record

    def _parent_getter(self, entry: tuple[Any, ...], include_deleted: bool) -> Getter:
        ref: FieldDef = entry[1]
        target: ObjectDef = entry[2]
        parent_record = self.serializer(target, entry[3], include_deleted)
        table = self.db.rows[target.name]
        ref_name = ref.name

        def get(row: Row) -> Any:
            ref_id = row[ref_name]
            parent = None if ref_id is None else table.get(ref_id)
            return None if parent is None else parent_record(parent)

        return get

    def _children_getter(
        self, obj: ObjectDef, rel: ChildRelationship, sub: Query, include_deleted: bool
    ) -> Getter:
        child = self.db.objects[rel.child_object]
        items: list[FieldPath | SubQuery] = []
        for item in sub.select:
            if isinstance(item, CountItem):
                raise self.err("MALFORMED_QUERY", sub.from_pos, "unexpected token: COUNT")
            items.append(item)
        child_record = self.serializer(child, self.select_tree(child, items), include_deleted)
        pred = self.predicate(child, sub.where) if sub.where is not None else None
        sort = self.sorter(child, sub.order_by) if sub.order_by else None
        start, stop = _window(sub.offset, sub.limit)
        index: dict[str, list[Row]] | None = None
        parent_field = rel.field

        def build() -> dict[str, list[Row]]:
            groups: dict[str, list[Row]] = {}
            for row in _matching(self.db.rows[child.name].values(), pred, include_deleted):
                groups.setdefault(row[parent_field], []).append(row)
            for rows in groups.values():
                if sort is not None:
                    sort(rows)
                rows[:] = rows[start:stop]
            return groups

        def get(row: Row) -> Any:
            nonlocal index
            if index is None:
                index = build()
            kids = index.get(row["Id"])
            if not kids:
                return None
            return {
                "totalSize": len(kids),
                "done": True,
                "records": [child_record(k) for k in kids],
            }

        return get


def _field_getter(f: FieldDef) -> Getter:
    fmt = rest_formatter(f)
    name = f.name
    if fmt is None:
        return itemgetter(name)
    return lambda r: fmt(r[name])


def _window(offset: int | None, limit: int | None) -> tuple[int, int | None]:
    start = offset or 0
    return start, None if limit is None else start + limit


def _matching(
    rows: Iterable[Row], pred: Predicate | None, include_deleted: bool, archivable: bool = False
) -> list[Row]:
    if include_deleted:
        return list(rows) if pred is None else [r for r in rows if pred(r)]
    if archivable:  # query (not queryAll) leaves archived activities out, as Salesforce does
        rows = [r for r in rows if not r["IsArchived"]]
    if pred is None:
        return [r for r in rows if not r["IsDeleted"]]
    return [r for r in rows if not r["IsDeleted"] and pred(r)]


def execute(
    db: SObjectDatabase,
    soql: str,
    *,
    include_deleted: bool = False,
    api_version: str = "59.0",
    today: date | None = None,
) -> QueryResult:
    """Parse, check and run ``soql``; ``include_deleted`` is queryAll. ``today`` anchors date
    literals (default: the database clock). Raises :class:`SoqlError`."""
    query = parse(soql)
    ex = _Executor(db, query, today or db.clock().date(), api_version)
    obj = ex.object(query.from_name, query.from_pos)
    counts = [i for i in query.select if isinstance(i, CountItem)]
    others = [i for i in query.select if not isinstance(i, CountItem)]
    if counts and others:
        other = others[0]
        label = other.text if isinstance(other, FieldPath) else other.query.from_name
        raise ex.err(
            "MALFORMED_QUERY",
            other.pos if isinstance(other, FieldPath) else other.query.from_pos,
            f"Field must be grouped or aggregated: {label}",
        )
    if len(counts) == 1 and counts[0].path is None and query.order_by:
        raise ex.err("MALFORMED_QUERY", query.from_pos, "ORDER BY not allowed with COUNT()")
    count_paths = [c.path for c in counts if c.path is not None]
    count_getters = [ex.getter(ex.resolve(obj, p)) for p in count_paths]
    items = [i for i in query.select if not isinstance(i, CountItem)]
    tree = ex.select_tree(obj, items)
    pred = ex.predicate(obj, query.where) if query.where is not None else None
    sort = ex.sorter(obj, query.order_by) if query.order_by else None
    archivable = obj.field("IsArchived") is not None
    start, stop = _window(query.offset, query.limit)
    floor = stamp_floor(query.where) if sort is not None and keyset_order(query) else None
    if floor is not None and sort is not None and stop is not None and not counts:
        # an indexed keyset page: the same rows as the full scan below, without it

        def keep(row: Row) -> bool:
            return bool(_matching([row], pred, include_deleted, archivable))

        rows = db.stamp_index.page(
            obj.name,
            db.versions[obj.name],
            lambda: list(db.rows[obj.name].values()),
            sort,
            floor,
            keep,
            stop,
        )[start:stop]
    else:
        rows = _matching(db.rows[obj.name].values(), pred, include_deleted, archivable)
        if sort is not None:
            sort(rows)
        if start or stop is not None:
            rows = rows[start:stop]
    result = QueryResult(obj.name, rows, ex.serializer(obj, tree, include_deleted))
    if counts and not count_paths:
        result.count_only = True
    elif counts:
        record: Record = {"attributes": {"type": "AggregateResult"}}
        for n, (item, get) in enumerate(zip(counts, count_getters, strict=True)):
            record[item.alias or f"expr{n}"] = sum(1 for r in rows if get(r) is not None)
        result.aggregate = [record]
    elif not any(isinstance(i, SubQuery) for i in items):
        result.csv_columns = [
            (".".join(ex.resolve(obj, p).canonical), ex.getter(ex.resolve(obj, p)))
            for p in items
            if isinstance(p, FieldPath)
        ]
    return result
