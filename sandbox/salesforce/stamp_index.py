"""An index on (SystemModstamp, Id), as Salesforce keeps one, for keyset pages.

Without it every ``... WHERE SystemModstamp >= X ORDER BY SystemModstamp, Id LIMIT n``
filters and sorts the whole object, so walking an object of a million rows (activities)
page by page costs quadratic time in the emulator. With it, such a query bisects to its
lower bound in a sorted copy of the rows (rebuilt after the object changes) and reads
forward only until the page is full: the rows answered are exactly those of the full scan.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sandbox.salesforce.soql_ast import And, Comparison, Condition, Or, Query

Row = dict[str, Any]
_STAMP, _ID = "systemmodstamp", "id"


def _is(path_parts: tuple[str, ...], name: str) -> bool:
    return len(path_parts) == 1 and path_parts[0].lower() == name


def keyset_order(query: Query) -> bool:
    """Whether the query is ordered by SystemModstamp then Id, ascending, nulls default."""
    order = query.order_by
    return (
        len(order) == 2
        and _is(order[0].path.parts, _STAMP)
        and _is(order[1].path.parts, _ID)
        and not any(o.descending or o.nulls_last for o in order)
    )


def stamp_floor(cond: Condition | None) -> datetime | None:
    """A stamp every matching row is at or above (None: the condition does not say)."""
    if isinstance(cond, Comparison):
        if _is(cond.path.parts, _STAMP) and cond.op in (">=", ">", "="):
            value = cond.value
            if not isinstance(value, tuple) and isinstance(value.value, datetime):
                return value.value
        return None
    if isinstance(cond, And):
        floors = [f for c in cond.items if (f := stamp_floor(c)) is not None]
        return max(floors, default=None)
    if isinstance(cond, Or):
        either = [stamp_floor(c) for c in cond.items]
        known = [f for f in either if f is not None]
        if known and len(known) == len(either):
            return min(known)
    return None


class StampIndex:
    """Sorted copies of each object's rows, rebuilt when the object's version moved."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[int, list[Row], list[datetime]]] = {}

    def page(
        self,
        name: str,
        version: int,
        rows: Callable[[], list[Row]],
        sort: Callable[[list[Row]], None],
        floor: datetime,
        keep: Callable[[Row], bool],
        stop: int,
    ) -> list[Row]:
        """The first ``stop`` rows in index order from ``floor`` on that ``keep`` accepts."""
        cached = self._cache.get(name)
        if cached is None or cached[0] != version:
            ordered = rows()
            sort(ordered)
            cached = (version, ordered, [r["SystemModstamp"] for r in ordered])
            self._cache[name] = cached
        _, ordered, stamps = cached
        out: list[Row] = []
        for i in range(bisect.bisect_left(stamps, floor), len(ordered)):
            row = ordered[i]
            if keep(row):
                out.append(row)
                if len(out) >= stop:
                    break
        return out
