"""Evaluate parsed SOQL over an :class:`SObjectDatabase` and shape records like the REST API.

:func:`execute` resolves every name against the schema (INVALID_FIELD / INVALID_TYPE errors
shaped like Salesforce's), compiles WHERE into one Python closure and ORDER BY into sort
keys, then returns a :class:`QueryResult`: the matching root rows plus serialisers that turn
one row into a REST record (``{"attributes": {...}, field: value, ...}`` in select order,
relationship paths nested, child subqueries as ``{"totalSize", "done", "records"}`` or null)
or into a Bulk API 2.0 CSV row. Rows are serialised lazily, page by page.

Semantics follow SOQL: string ``=``/``IN``/``LIKE`` are case-insensitive; ``!=`` and
``NOT IN`` match null values; ordering puts nulls first ascending and last descending unless
``NULLS FIRST|LAST`` says otherwise; ``query`` hides IsDeleted rows, ``queryAll`` shows them;
date literals (TODAY, LAST_N_DAYS:n, THIS_MONTH ...) are ranges in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from operator import itemgetter
from typing import Any, cast

from sandbox.salesforce.sobjects import FieldDef, ObjectDef, Row, SObjectDatabase, id18
from sandbox.salesforce.soql import (
    And,
    Comparison,
    Condition,
    FieldPath,
    Not,
    Or,
    OrderItem,
    Query,
    SoqlError,
    Value,
    error_message,
)

Getter = Callable[[Row], Any]
Predicate = Callable[[Row], bool]
Record = dict[str, Any]

_STRING_TYPES = frozenset({"string", "textarea", "picklist"})
_ID_TYPES = frozenset({"id", "reference"})
_NUMBER_TYPES = frozenset({"double", "currency", "percent", "int"})
_FLOAT_TYPES = frozenset({"double", "currency", "percent"})
_ACCEPTS: dict[str, frozenset[str]] = {
    **dict.fromkeys(_STRING_TYPES | _ID_TYPES, frozenset({"string"})),
    **dict.fromkeys(_NUMBER_TYPES, frozenset({"number"})),
    "boolean": frozenset({"boolean"}),
    "date": frozenset({"date", "date_literal"}),
    "datetime": frozenset({"datetime", "date_literal"}),
}
"""The literal kinds each field type can be compared with (besides null)."""
_TYPE_WORD = {
    "double": "double",
    "currency": "double",
    "percent": "double",
    "int": "integer",
    "boolean": "boolean",
    "date": "date",
    "datetime": "dateTime",
}
_NO_COLUMN = (
    "No such column '{name}' on entity '{entity}'. If you are attempting to use a custom field, "
    "be sure to append the '__c' after the custom field name. Please reference your WSDL or the "
    "describe call for the appropriate names."
)
_NO_RELATIONSHIP = (
    "Didn't understand relationship '{name}' in field path. If you are attempting to use a "
    "custom relationship, be sure to append the '__r' after the custom relationship name. "
    "Please reference your WSDL or the describe call for the appropriate names."
)
NO_CHILD = (
    "Didn't understand relationship '{name}' in FROM part of query call. If you are attempting "
    "to use a custom relationship, be sure to append the '__r' after the custom relationship "
    "name. Please reference your WSDL or the describe call for the appropriate names."
)
_NO_TYPE = (
    "sObject type '{name}' is not supported. If you are attempting to use a custom object, be "
    "sure to append the '__c' after the entity name. Please reference your WSDL or the describe "
    "call for the appropriate names."
)


# --- value formatting -----------------------------------------------------------------------


def format_datetime(value: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ss.sss+0000`` as the REST API writes datetimes."""
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds")[:23] + "+0000"


def rest_formatter(f: FieldDef) -> Callable[[Any], Any] | None:
    if f.type == "datetime":
        return lambda v: None if v is None else format_datetime(v)
    if f.type == "date":
        return lambda v: None if v is None else v.isoformat()
    if f.type in _FLOAT_TYPES:
        return lambda v: None if v is None else float(v)
    return None


def csv_value(value: Any) -> str:
    """One Bulk API 2.0 CSV cell: ``true``/``false``, ISO ``...000Z`` datetimes, empty for
    null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_datetime(value)[:23] + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --- name resolution ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Resolved:
    hops: tuple[tuple[FieldDef, ObjectDef], ...]  # (lookup field, target object) per hop
    field: FieldDef

    @property
    def canonical(self) -> tuple[str, ...]:
        rels = tuple(h[0].relationship_name or h[0].name for h in self.hops)
        return (*rels, self.field.name)


class Compiler:
    def __init__(self, db: SObjectDatabase, query: Query, today: date, api_version: str) -> None:
        self.db = db
        self.text = query.text
        self.today = today
        self.api_version = api_version

    def err(self, code: str, pos: int, reason: str) -> SoqlError:
        return SoqlError(code, error_message(self.text, pos, reason))

    def object(self, name: str, pos: int) -> ObjectDef:
        obj = self.db.object(name)
        if obj is None:
            raise self.err("INVALID_TYPE", pos, _NO_TYPE.format(name=name))
        return obj

    def resolve(self, obj: ObjectDef, path: FieldPath) -> _Resolved:
        hops: list[tuple[FieldDef, ObjectDef]] = []
        current = obj
        for part in path.parts[:-1]:
            ref = current.relationship(part)
            target = self.db.object(ref.reference_to or "") if ref else None
            if ref is None or target is None:
                raise self.err("INVALID_FIELD", path.pos, _NO_RELATIONSHIP.format(name=part))
            hops.append((ref, target))
            current = target
        f = current.field(path.parts[-1])
        if f is None:
            name = path.parts[-1] if len(path.parts) == 1 else path.text
            raise self.err("INVALID_FIELD", path.pos, _NO_COLUMN.format(name=name, entity=obj.name))
        return _Resolved(tuple(hops), f)

    def getter(self, resolved: _Resolved) -> Getter:
        final = resolved.field.name
        if not resolved.hops:
            return itemgetter(final)
        steps = [(ref.name, self.db.rows[target.name]) for ref, target in resolved.hops]

        def get(row: Row) -> Any:
            current: Row | None = row
            for ref_name, table in steps:
                ref_id = current[ref_name]  # type: ignore[index]
                if ref_id is None:
                    return None
                current = table.get(ref_id)
                if current is None:
                    return None
            return current[final]  # type: ignore[index]

        return get

    # WHERE

    def predicate(self, obj: ObjectDef, cond: Condition) -> Predicate:
        if isinstance(cond, And):
            parts = [self.predicate(obj, c) for c in cond.items]
            return lambda r: all(p(r) for p in parts)
        if isinstance(cond, Or):
            parts = [self.predicate(obj, c) for c in cond.items]
            return lambda r: any(p(r) for p in parts)
        if isinstance(cond, Not):
            inner = self.predicate(obj, cond.item)
            return lambda r: not inner(r)
        return self.comparison(obj, cond)

    def literal(self, f: FieldDef, value: Value) -> Any:
        """The literal as a value comparable with (normalised) row values of ``f``."""
        kind = value.kind
        if kind == "null":
            return None
        if kind not in _ACCEPTS[f.type]:
            if f.type in _STRING_TYPES or f.type in _ID_TYPES:
                reason = (
                    f"value of filter criterion for field '{f.name}' must be of type string "
                    "and should be enclosed in quotes"
                )
            else:
                reason = (
                    f"value of filter criterion for field '{f.name}' must be of type "
                    f"{_TYPE_WORD[f.type]} and should not be enclosed in quotes"
                )
            raise self.err("INVALID_FIELD", value.pos, reason)
        if kind == "date_literal":
            return self.date_range(f, value)
        if f.type in _STRING_TYPES:
            return str(value.value).lower()
        if f.type in _ID_TYPES:
            text = str(value.value)
            return id18(text) if len(text) == 15 else text
        return value.value

    def date_range(self, f: FieldDef, value: Value) -> tuple[Any, Any]:
        name, n = cast(tuple[str, int | None], value.value)
        lo, hi = date_literal_range(name, n, self.today)
        if f.type == "datetime":
            return (
                datetime.combine(lo, time(), tzinfo=UTC),
                datetime.combine(hi, time(), tzinfo=UTC),
            )
        return lo, hi

    def comparison(self, obj: ObjectDef, cmp: Comparison) -> Predicate:
        resolved = self.resolve(obj, cmp.path)
        f = resolved.field
        get = self.getter(resolved)
        norm: Callable[[Any], Any] | None = str.lower if f.type in _STRING_TYPES else None
        op = cmp.op
        if isinstance(cmp.value, tuple):
            if any(v.kind == "date_literal" for v in cmp.value):
                raise self.err("MALFORMED_QUERY", cmp.path.pos, "unexpected token: IN")
            lits = [self.literal(f, v) for v in cmp.value]
            has_null = None in lits
            members = frozenset(v for v in lits if v is not None)
            lower = norm is not None

            def member_of(r: Row) -> bool:
                v = get(r)
                if v is None:
                    return has_null
                return (v.lower() if lower else v) in members

            if op == "IN":
                return member_of
            return lambda r: not member_of(r)
        if op == "LIKE":
            if f.type not in _STRING_TYPES and f.type not in _ID_TYPES:
                raise self.err(
                    "INVALID_FIELD", cmp.path.pos, f"invalid operator on field '{f.name}': LIKE"
                )
            rx = like_regex(str(cmp.value.value))
            return lambda r: (v := get(r)) is not None and rx.fullmatch(v) is not None
        lit = self.literal(f, cmp.value)
        if isinstance(lit, tuple):
            return _range_predicate(get, op, lit[0], lit[1])
        return _scalar_predicate(get, op, lit, norm)

    # ORDER BY

    def sorter(self, obj: ObjectDef, order: tuple[OrderItem, ...]) -> Callable[[list[Row]], None]:
        keys: list[tuple[Callable[[Row], Any], bool]] = []
        for item in order:
            resolved = self.resolve(obj, item.path)
            get = self.getter(resolved)
            lower = resolved.field.type in _STRING_TYPES
            nulls_last = item.nulls_last if item.nulls_last is not None else item.descending
            null_key = (0, 0) if nulls_last == item.descending else (2, 0)
            keys.append((_sort_key(get, lower, null_key), item.descending))

        def sort(rows: list[Row]) -> None:
            for key, descending in reversed(keys):
                rows.sort(key=key, reverse=descending)

        return sort


def _sort_key(get: Getter, lower: bool, null_key: tuple[int, int]) -> Callable[[Row], Any]:
    if lower:
        return lambda r: null_key if (v := get(r)) is None else (1, v.lower())
    return lambda r: null_key if (v := get(r)) is None else (1, v)


def _scalar_predicate(
    get: Getter, op: str, lit: Any, norm: Callable[[Any], Any] | None
) -> Predicate:
    if lit is None:
        if op == "=":
            return lambda r: get(r) is None
        if op == "!=":
            return lambda r: get(r) is not None
        return lambda r: False
    if norm is not None:
        inner = get
        get = lambda r: None if (v := inner(r)) is None else v.lower()  # noqa: E731
    if op == "=":
        return lambda r: get(r) == lit
    if op == "!=":
        return lambda r: get(r) != lit
    if op == "<":
        return lambda r: (v := get(r)) is not None and v < lit
    if op == "<=":
        return lambda r: (v := get(r)) is not None and v <= lit
    if op == ">":
        return lambda r: (v := get(r)) is not None and v > lit
    return lambda r: (v := get(r)) is not None and v >= lit


def _range_predicate(get: Getter, op: str, lo: Any, hi: Any) -> Predicate:
    if op == "=":
        return lambda r: (v := get(r)) is not None and lo <= v < hi
    if op == "!=":
        return lambda r: (v := get(r)) is None or not lo <= v < hi
    if op == "<":
        return lambda r: (v := get(r)) is not None and v < lo
    if op == "<=":
        return lambda r: (v := get(r)) is not None and v < hi
    if op == ">":
        return lambda r: (v := get(r)) is not None and v >= hi
    return lambda r: (v := get(r)) is not None and v >= lo


def like_regex(pattern: str) -> re.Pattern[str]:
    """A case-insensitive regex for a LIKE pattern (``%``, ``_``; ``\\%``/``\\_`` literal)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _add_months(d: date, months: int) -> date:
    total = d.year * 12 + d.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def date_literal_range(name: str, n: int | None, today: date) -> tuple[date, date]:
    """The half-open ``[start, end)`` date range of a SOQL date literal (weeks start Sunday,
    quarters are calendar quarters)."""
    k = n or 0
    week = today - timedelta(days=(today.weekday() + 1) % 7)
    month = today.replace(day=1)
    quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    year = date(today.year, 1, 1)
    day = timedelta(days=1)
    ranges: dict[str, tuple[date, date]] = {
        "TODAY": (today, today + day),
        "YESTERDAY": (today - day, today),
        "TOMORROW": (today + day, today + 2 * day),
        "LAST_N_DAYS": (today - k * day, today + day),
        "NEXT_N_DAYS": (today + day, today + (k + 1) * day),
        "N_DAYS_AGO": (today - k * day, today - (k - 1) * day),
        "LAST_90_DAYS": (today - 90 * day, today + day),
        "NEXT_90_DAYS": (today + day, today + 91 * day),
        "THIS_WEEK": (week, week + 7 * day),
        "LAST_WEEK": (week - 7 * day, week),
        "NEXT_WEEK": (week + 7 * day, week + 14 * day),
        "LAST_N_WEEKS": (week - 7 * k * day, week),
        "NEXT_N_WEEKS": (week + 7 * day, week + 7 * (k + 1) * day),
        "THIS_MONTH": (month, _add_months(month, 1)),
        "LAST_MONTH": (_add_months(month, -1), month),
        "NEXT_MONTH": (_add_months(month, 1), _add_months(month, 2)),
        "LAST_N_MONTHS": (_add_months(month, -k), month),
        "NEXT_N_MONTHS": (_add_months(month, 1), _add_months(month, k + 1)),
        "THIS_QUARTER": (quarter, _add_months(quarter, 3)),
        "LAST_QUARTER": (_add_months(quarter, -3), quarter),
        "NEXT_QUARTER": (_add_months(quarter, 3), _add_months(quarter, 6)),
        "THIS_YEAR": (year, _add_months(year, 12)),
        "LAST_YEAR": (_add_months(year, -12), year),
        "NEXT_YEAR": (_add_months(year, 12), _add_months(year, 24)),
        "LAST_N_YEARS": (_add_months(year, -12 * k), year),
        "NEXT_N_YEARS": (_add_months(year, 12), _add_months(year, 12 * (k + 1))),
    }
    return ranges[name]
