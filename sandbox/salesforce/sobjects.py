"""In-memory SObject data behind the sandbox's Salesforce emulation.

The schema (:class:`FieldDef`, :class:`ChildRelationship`, :class:`ObjectDef` and
:func:`standard_schema`, the org with Opportunity, OpportunityLineItem (custom
``Unit_Cost__c``), Account, User, OpportunityHistory, Product2, UserRole and, in
multi-currency orgs, CurrencyType) lives in :mod:`sobject_schema` and is re-exported here.

:class:`SObjectDatabase` keeps rows per object keyed by 18-character Id, each a dict keyed
by field API name holding Python values: ``str``, ``float``, ``int``, ``bool``,
``datetime.date``, timezone-aware UTC ``datetime.datetime`` or ``None``. Every schema
field is present in every row (``None`` when unset). Writes bump SystemModstamp and
LastModifiedDate from the database clock (whole seconds, strictly UTC) unless a stamp is
passed, so tests can stage late commits with an older stamp or many records sharing one
stamp; ``touch=False`` changes values without any stamp (as formula and roll-up fields do).
Soft deletes set IsDeleted and log ``(Id, deletedDate)`` for the ``deleted`` endpoint;
hard deletes remove the row (it then never appears in queryAll).

The database is not thread-safe by itself: the HTTP layer serialises access with
:attr:`SObjectDatabase.lock`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.salesforce.schema import (
    AUDIT_FIELDS,
    FORECAST_CATEGORIES,
    OPPORTUNITY_TYPES,
    STAGES,
    ChildRelationship,
    FieldDef,
    FieldType,
    ObjectDef,
    standard_schema,
)
from sandbox.salesforce.stamp_index import StampIndex

__all__ = [
    "AUDIT_FIELDS",
    "FORECAST_CATEGORIES",
    "OPPORTUNITY_TYPES",
    "STAGES",
    "ChildRelationship",
    "DeletedRecord",
    "FieldDef",
    "FieldType",
    "ObjectDef",
    "Row",
    "SObjectDatabase",
    "id18",
    "standard_schema",
    "system_clock",
]

Row = dict[str, Any]
"""One record: field API name → Python value."""


@dataclass(frozen=True)
class DeletedRecord:
    """One entry of the deleted-records log."""

    id: str
    deleted_date: datetime


# --- ids ------------------------------------------------------------------------------------

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def id18(id15: str) -> str:
    """The 18-character, case-insensitive-safe form of a 15-character Salesforce Id."""
    suffix = ""
    for chunk in range(3):
        bits = 0
        for i, ch in enumerate(id15[chunk * 5 : chunk * 5 + 5]):
            if "A" <= ch <= "Z":
                bits |= 1 << i
        suffix += _SUFFIX[bits]
    return id15 + suffix


def _base62(n: int, width: int) -> str:
    out = []
    while n:
        n, r = divmod(n, 62)
        out.append(_BASE62[r])
    return "".join(reversed(out)).rjust(width, "0")


def system_clock() -> datetime:
    """Now, in UTC, truncated to whole seconds (as Salesforce stores audit stamps)."""
    return datetime.now(UTC).replace(microsecond=0)


# --- data -----------------------------------------------------------------------------------


class SObjectDatabase:
    """Rows of every object of a schema, with audit stamps and a deleted-records log."""

    def __init__(
        self,
        objects: Mapping[str, ObjectDef] | None = None,
        *,
        clock: Callable[[], datetime] = system_clock,
        default_user_id: str | None = None,
    ) -> None:
        self.objects: dict[str, ObjectDef] = dict(objects or standard_schema())
        self._objects_ci = {name.lower(): o for name, o in self.objects.items()}
        self.rows: dict[str, dict[str, Row]] = {name: {} for name in self.objects}
        self.deleted_log: dict[str, list[DeletedRecord]] = {name: [] for name in self.objects}
        self.clock = clock
        self.default_user_id = default_user_id
        self.lock = threading.RLock()
        self._counters = {name: itertools.count(1) for name in self.objects}
        self.versions: dict[str, int] = dict.fromkeys(self.objects, 0)
        """Bumped by every write of an object (keeps ``stamp_index`` current)."""
        self.stamp_index = StampIndex()

    # lookups

    def object(self, name: str) -> ObjectDef | None:
        """The object called ``name`` (any case), or None."""
        return self._objects_ci.get(name.lower())

    def _obj(self, name: str) -> ObjectDef:
        obj = self.object(name)
        if obj is None:
            raise KeyError(f"unknown sObject type {name!r}")
        return obj

    def get(self, object_name: str, record_id: str) -> Row | None:
        """The row with ``record_id`` (soft-deleted rows included), or None."""
        return self.rows[self._obj(object_name).name].get(record_id)

    def new_id(self, object_name: str) -> str:
        """A fresh 18-character Id with the object's key prefix."""
        obj = self._obj(object_name)
        n = next(self._counters[obj.name])
        return id18(obj.key_prefix + "0" + _base62(n, 11))

    def _stamp(self, stamp: datetime | None) -> datetime:
        value = stamp if stamp is not None else self.clock()
        if value.tzinfo is None:
            raise ValueError("stamps must be timezone-aware")
        return value.astimezone(UTC)

    # writes

    def insert(
        self,
        object_name: str,
        values: Mapping[str, Any],
        *,
        modstamp: datetime | None = None,
        created: datetime | None = None,
    ) -> str:
        """Insert a row and return its Id.

        ``values`` are keyed by field name (any case); an ``Id`` in them is kept. CreatedDate
        defaults to ``created`` or the modstamp; LastModifiedDate and SystemModstamp to the
        modstamp (the clock when not given).
        """
        obj = self._obj(object_name)
        stamp = self._stamp(modstamp)
        row: Row = dict.fromkeys(obj.fields)
        row.update(self._canonical(obj, values))
        row["Id"] = row["Id"] or self.new_id(obj.name)
        row["IsDeleted"] = bool(row["IsDeleted"])
        row["CreatedDate"] = row["CreatedDate"] or (
            self._stamp(created) if created is not None else stamp
        )
        row["LastModifiedDate"] = row["LastModifiedDate"] or stamp
        row["SystemModstamp"] = stamp
        for audit in ("CreatedById", "LastModifiedById"):
            row[audit] = row[audit] or self.default_user_id
        self.rows[obj.name][row["Id"]] = row
        self.versions[obj.name] += 1
        return str(row["Id"])

    def insert_many(
        self,
        object_name: str,
        rows: Iterable[Mapping[str, Any]],
        *,
        modstamp: datetime | None = None,
    ) -> list[str]:
        """Insert several rows (all with the same stamp when ``modstamp`` is given)."""
        return [self.insert(object_name, values, modstamp=modstamp) for values in rows]

    def update(
        self,
        object_name: str,
        record_id: str,
        values: Mapping[str, Any],
        *,
        modstamp: datetime | None = None,
        touch: bool = True,
    ) -> Row:
        """Change fields of a row; bump LastModifiedDate/SystemModstamp unless ``touch`` is
        False (formula and roll-up changes). Returns the row."""
        obj = self._obj(object_name)
        row = self._existing(obj, record_id)
        self.versions[obj.name] += 1
        row.update(self._canonical(obj, values))
        if touch:
            stamp = self._stamp(modstamp)
            row["LastModifiedDate"] = stamp
            row["SystemModstamp"] = stamp
        return row

    def delete(self, object_name: str, record_id: str, *, modstamp: datetime | None = None) -> None:
        """Soft-delete (to the recycle bin): IsDeleted true, stamp bumped, logged."""
        obj = self._obj(object_name)
        row = self._existing(obj, record_id)
        self.versions[obj.name] += 1
        stamp = self._stamp(modstamp)
        row["IsDeleted"] = True
        row["SystemModstamp"] = stamp
        self.deleted_log[obj.name].append(DeletedRecord(record_id, stamp))

    def undelete(
        self, object_name: str, record_id: str, *, modstamp: datetime | None = None
    ) -> None:
        """Restore a soft-deleted row (its deleted-log entry is dropped)."""
        obj = self._obj(object_name)
        row = self._existing(obj, record_id)
        self.versions[obj.name] += 1
        stamp = self._stamp(modstamp)
        row["IsDeleted"] = False
        row["SystemModstamp"] = stamp
        row["LastModifiedDate"] = stamp
        self.deleted_log[obj.name] = [d for d in self.deleted_log[obj.name] if d.id != record_id]

    def hard_delete(self, object_name: str, record_id: str, *, keep_log: bool = True) -> None:
        """Remove a row for good (purged: never in queryAll). A soft delete logged earlier
        stays in the deleted log unless ``keep_log`` is False."""
        obj = self._obj(object_name)
        self._existing(obj, record_id)
        self.versions[obj.name] += 1
        del self.rows[obj.name][record_id]
        if not keep_log:
            self.deleted_log[obj.name] = [
                d for d in self.deleted_log[obj.name] if d.id != record_id
            ]

    def count(self, object_name: str, *, include_deleted: bool = False) -> int:
        """Number of rows of an object."""
        rows = self.rows[self._obj(object_name).name].values()
        if include_deleted:
            return len(rows)
        return sum(1 for r in rows if not r["IsDeleted"])

    # helpers

    def _existing(self, obj: ObjectDef, record_id: str) -> Row:
        row = self.rows[obj.name].get(record_id)
        if row is None:
            raise KeyError(f"no {obj.name} with Id {record_id!r}")
        return row

    @staticmethod
    def _canonical(obj: ObjectDef, values: Mapping[str, Any]) -> Row:
        out: Row = {}
        for key, value in values.items():
            f = obj.field(key)
            if f is None:
                raise KeyError(f"{obj.name} has no field {key!r}")
            if f.type == "datetime" and isinstance(value, datetime):
                if value.tzinfo is None:
                    raise ValueError(f"{obj.name}.{f.name} must be timezone-aware")
                value = value.astimezone(UTC)
            elif f.type == "date" and isinstance(value, datetime):
                value = value.date()
            out[f.name] = value
        return out
