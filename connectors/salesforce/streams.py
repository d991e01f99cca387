"""Resumable SystemModstamp passes: keyset pages ordered by (SystemModstamp, Id).

Each object stream keeps a small JSON state in the source's cursor::

    {"stamp": ISO | null, "id": "", "start": ISO | null, "done": true}

* ``done`` true: every record with ``SystemModstamp <= stamp`` was stored; the next pass
  re-reads from ``stamp - overlap`` (late commits carry older stamps) with ``>=`` (a
  half-open window: records sharing the boundary stamp are read again, never skipped).
* ``done`` false: a pass was cut short after the record ``(stamp, id)``; the next run
  resumes right after it (``SystemModstamp > stamp OR (= stamp AND Id > id)``) and keeps
  the pass's ``start``.
* when a pass completes, ``stamp = min(start, last stamp read)``: never past the time the
  pass began, never ahead of data already yielded.

Each page is a fresh query (``LIMIT page_size``) answered by ONE response, rather than one
long server-side cursor: a record modified mid-pass moves to the end of the order and is
read there instead of leaving a hole behind a stale position, and the position saved
after a page is always consistent with the snapshot that page came from. When the server
splits a page (child records count toward its batch size), only the first response is
used and later pages ask for that many records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.mapping import Record, parse_datetime, soql_datetime, soql_id
from tracker.errors import SourceError
from tracker.records import JsonDict


@dataclass
class StreamState:
    """Where one object's pass stands (see the module docstring)."""

    stamp: datetime | None = None
    id: str = ""
    start: datetime | None = None
    done: bool = True

    @classmethod
    def load(cls, raw: Any) -> StreamState | None:
        """The state saved in a cursor, or None when there is none (never synced)."""
        if not isinstance(raw, dict):
            return None
        return cls(
            stamp=parse_datetime(raw.get("stamp")),
            id=str(raw.get("id") or ""),
            start=parse_datetime(raw.get("start")),
            done=bool(raw.get("done", True)),
        )

    def dump(self) -> JsonDict:
        """The JSON form saved in the cursor."""
        return {
            "stamp": None if self.stamp is None else self.stamp.isoformat(),
            "id": self.id,
            "start": None if self.start is None else self.start.isoformat(),
            "done": self.done,
        }


@dataclass
class Page:
    """One keyset page: its records and the stream state once they are stored."""

    records: list[Record]
    state: StreamState
    last: bool
    mapped: Any = None
    """``transform(records)`` when ``keyset_pages`` was given one (done in its thread)."""


def lower_bound(state: StreamState | None, overlap: timedelta, since: datetime | None) -> str:
    """The WHERE clause where a pass starts (empty: from the beginning)."""
    if state is not None and not state.done and state.stamp is not None:
        stamp, after = soql_datetime(state.stamp), soql_id(state.id)
        return f"(SystemModstamp > {stamp} OR (SystemModstamp = {stamp} AND Id > {after}))"
    if state is not None and state.stamp is not None:
        return f"SystemModstamp >= {soql_datetime(state.stamp - overlap)}"
    if since is not None:
        return f"SystemModstamp >= {soql_datetime(since)}"
    return ""


def keyset_soql(sobject: str, select: str, where: str, limit: int) -> str:
    """The SOQL of one keyset page (also what the opening composite call prefetches)."""
    soql = f"SELECT {select} FROM {sobject}"
    if where:
        soql += f" WHERE {where}"
    return soql + f" ORDER BY SystemModstamp, Id LIMIT {limit}"


def keyset_pages(
    client: SalesforceClient,
    sobject: str,
    select: str,
    state: StreamState | None,
    *,
    now: datetime,
    overlap: timedelta,
    since: datetime | None,
    page_size: int,
    include_deleted: bool = True,
    transform: Callable[[list[Record]], Any] | None = None,
) -> Iterator[Page]:
    """Walk ``sobject`` in (SystemModstamp, Id) order from ``state``; one Page per query.

    The last page (``last=True``, possibly empty) carries the completed state.
    ``transform`` (the mapping) runs on each page in the thread that fetches it, so a page
    is mapped while the caller stores the one before.
    """
    resuming = state is not None and not state.done
    start = state.start if resuming and state is not None and state.start else now
    high: datetime | None = state.stamp if resuming and state is not None else None
    limit = page_size

    def fetch(where: str, limit: int) -> tuple[list[Record], bool, Any]:
        soql = keyset_soql(sobject, select, where, limit)
        result = client.query(soql, include_deleted=include_deleted)
        records = list(result.get("records", ()))
        complete_children(client, records)
        mapped = transform(records) if transform is not None else None
        return records, bool(result.get("done", True)), mapped

    # the next page is fetched while the caller maps and stores this one
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sf-prefetch") as pool:
        pending: Future[tuple[list[Record], bool, Any]] = pool.submit(
            fetch, lower_bound(state, overlap, since), limit
        )
        while True:
            records, done, mapped = pending.result()
            if done and len(records) < limit:
                if records:
                    high = parse_datetime(records[-1]["SystemModstamp"])
                final_stamp = min(start, high) if high is not None else _previous(state, start)
                final = StreamState(stamp=final_stamp, start=None, done=True)
                yield Page(records, final, True, mapped)
                return
            if not records:
                raise SourceError(f"Salesforce {sobject}: an empty page that is not the last")
            if not done:
                # the server split the page (child records count toward its batch): keep
                # only one response per query, so every page is one consistent snapshot
                limit = len(records)
            tail = records[-1]
            high = parse_datetime(tail["SystemModstamp"])
            assert high is not None
            position = StreamState(stamp=high, id=tail["Id"], start=start, done=False)
            pending = pool.submit(fetch, lower_bound(position, overlap, since), limit)
            try:
                yield Page(records, position, False, mapped)
            except GeneratorExit:
                pending.cancel()
                raise


def _previous(state: StreamState | None, start: datetime) -> datetime | None:
    """The stamp to keep when a pass read nothing: the old one (never past ``start``)."""
    if state is None or state.stamp is None:
        return None
    return min(state.stamp, start)


def complete_children(client: SalesforceClient, records: list[Record]) -> None:
    """Follow a child subquery's own ``nextRecordsUrl`` (a deal with very many lines)."""
    for record in records:
        for key, value in record.items():
            while isinstance(value, dict) and value.get("done") is False:
                more = client.query_more(str(value["nextRecordsUrl"]))
                value = {
                    "totalSize": value.get("totalSize"),
                    "done": bool(more.get("done", True)),
                    "nextRecordsUrl": more.get("nextRecordsUrl"),
                    "records": [*value.get("records", ()), *more.get("records", ())],
                }
                record[key] = value


def iter_query(
    client: SalesforceClient, soql: str, *, include_deleted: bool
) -> Iterator[list[Record]]:
    """The pages of one query as they arrive (for Id sets and small objects)."""
    result = client.query(soql, include_deleted=include_deleted)
    while True:
        yield list(result.get("records", ()))
        if result.get("done", True) or not result.get("nextRecordsUrl"):
            return
        result = client.query_more(str(result["nextRecordsUrl"]))
