"""Incremental reads through the CRM search API, keyed on ``hs_lastmodifieddate``.

HubSpot's search refuses to page past 10,000 results, sorts by one property only and lags
writes slightly. So no query here ever pages: each one is a fresh *window* starting where
the previous page ended.

* Main walk: ``hs_lastmodifieddate >= lo`` sorted ascending, 200 a page. A full page whose
  stamps span several milliseconds yields the records *before* its last millisecond and the
  next window starts *at* that millisecond (those records are read again, in full), so ties
  straddling a page boundary are never cut.
* A full page inside one millisecond (≥ 200 records sharing a stamp, e.g. a bulk update)
  switches to an id walk for that millisecond: ``hs_lastmodifieddate = ms`` and
  ``hs_object_id > last id``, sorted by ``hs_object_id``, until it is exhausted.

However many records changed in one window (100,000 included), every query returns at most
one page and never reaches the cap. A ``Position`` says what has been read: every record
stamped before ``modified``, and those stamped ``modified`` with an id up to ``id``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.hubspot.client import SEARCH_LIMIT, HubSpotClient
from connectors.hubspot.mapping import epoch_ms

JsonObj = dict[str, Any]
MODIFIED = "hs_lastmodifieddate"


@dataclass(frozen=True, slots=True)
class Position:
    """Read up to here: stamps < ``modified``, plus ids ≤ ``id`` stamped ``modified``."""

    modified: int
    id: int | None = None

    def as_json(self) -> JsonObj:
        """The cursor form."""
        return {"modified": self.modified, "id": None if self.id is None else str(self.id)}

    @classmethod
    def from_json(cls, value: JsonObj) -> Position:
        """Parse the cursor form (``ValueError`` when malformed)."""
        raw_id = value.get("id")
        return cls(int(value["modified"]), None if raw_id in (None, "") else int(raw_id))


@dataclass(slots=True)
class Page:
    """Records read by one search call, the position after them and the search total."""

    results: list[JsonObj]
    position: Position
    total: int


def _stamp(obj: JsonObj) -> int:
    ms = epoch_ms((obj.get("properties") or {}).get(MODIFIED))
    return 0 if ms is None else ms


def _body(filters: list[JsonObj], sort: str, properties: Sequence[str]) -> JsonObj:
    return {
        "filterGroups": [{"filters": filters}],
        "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
        "properties": list(properties),
        "limit": SEARCH_LIMIT,
    }


def changed_since(
    client: HubSpotClient, object_type: str, properties: Sequence[str], start: Position
) -> Iterator[Page]:
    """Every ``object_type`` record modified at or after ``start``, in pages.

    Each page's ``position`` is safe to save once its records are committed; pages may
    repeat records of the previous page's last millisecond (harmless upserts).
    """
    pos = start
    while True:
        if pos.id is not None:
            yield from _id_walk(client, object_type, properties, pos)
            pos = Position(pos.modified + 1)
            continue
        body = _body(
            [{"propertyName": MODIFIED, "operator": "GTE", "value": str(pos.modified)}],
            MODIFIED,
            properties,
        )
        answer = client.search(object_type, body)
        results: list[JsonObj] = answer.get("results") or []
        total = int(answer.get("total") or 0)
        if len(results) < SEARCH_LIMIT:
            last = max((_stamp(r) for r in results), default=pos.modified)
            yield Page(results, Position(max(last, pos.modified)), total)
            return
        first, last = _stamp(results[0]), _stamp(results[-1])
        if first < last:
            done = [r for r in results if _stamp(r) < last]
            pos = Position(last)
            yield Page(done, pos, total)
        else:
            pos = Position(first, 0)


def _id_walk(
    client: HubSpotClient, object_type: str, properties: Sequence[str], pos: Position
) -> Iterator[Page]:
    """Every record stamped exactly ``pos.modified`` with an id above ``pos.id``."""
    last_id = pos.id or 0
    while True:
        body = _body(
            [
                {"propertyName": MODIFIED, "operator": "EQ", "value": str(pos.modified)},
                {"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)},
            ],
            "hs_object_id",
            properties,
        )
        answer = client.search(object_type, body)
        results: list[JsonObj] = answer.get("results") or []
        if results:
            last_id = max(int(r["id"]) for r in results)
        yield Page(results, Position(pos.modified, last_id), int(answer.get("total") or 0))
        if len(results) < SEARCH_LIMIT:
            return


def latest_stamp(client: HubSpotClient, object_type: str) -> tuple[int, int]:
    """(newest ``hs_lastmodifieddate`` in ms or 0, number of live records): one search."""
    answer = client.search(
        object_type,
        {
            "sorts": [{"propertyName": MODIFIED, "direction": "DESCENDING"}],
            "properties": [MODIFIED],
            "limit": 1,
        },
    )
    results = answer.get("results") or []
    return (_stamp(results[0]) if results else 0), int(answer.get("total") or 0)
