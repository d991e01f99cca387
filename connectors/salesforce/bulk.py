"""Bulk API 2.0 backfills: chunks of two query jobs (line items, opportunities), joined.

The org's opportunities are cut into chunks by CreatedDate (which never changes, so each
opportunity and its line items fall in the same chunk whenever they are read). Bulk
queries reject child subqueries, so for each chunk the line items are read first and
grouped by opportunity (in memory up to ``bulk_memory_line_items`` rows, beyond that in a
temporary SQLite file: memory stays bounded however large the org or a chunk), then
each CSV page of opportunities is joined with its deals' line items and mapped like a REST
page. A thread (``connectors/feed.py``) runs the next chunk's jobs and downloads their
pages while the current chunk is mapped and stored. Bulk results are not in SystemModstamp
order, so an interrupted backfill resumes at the chunk it was in (the cursor records the
chunks done; that chunk's committed pages are upserted again).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.mapping import Record, soql_datetime
from tracker.errors import SourceError

BOOLEANS = frozenset({"IsClosed", "IsWon", "IsDeleted", "IsActive"})
RESULT_PAGE = 10_000
MAX_POLL_DELAY = 10.0
MAX_CHUNKS = 200
_BOOLEAN_TEXT = {"true": True, "false": False}


def csv_records(text: str) -> list[Record]:
    """A Bulk 2.0 CSV page → records shaped like REST ones (``""`` is null)."""
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, None)
    if header is None:
        return []
    flags = [name for name in header if name in BOOLEANS]
    out: list[Record] = []
    # dict(zip()) runs in C; only the rows holding an empty value are patched in Python
    for row in rows:
        if len(row) != len(header):
            raise SourceError("Salesforce Bulk API: a CSV row does not match its header")
        rec: Record = dict(zip(header, row, strict=True))
        if "" in row:
            for name, value in rec.items():
                if value == "":
                    rec[name] = None
        for name in flags:  # anything but true/false is null, as for line items
            rec[name] = _BOOLEAN_TEXT.get(rec[name])
        out.append(rec)
    return out


class FeedStopped(Exception):
    """The backfill's consumer went away: the jobs' thread ends."""


class JobEnded(SourceError):
    """A query job ended Failed or Aborted (on the server: nothing left to abort)."""


def wait_for_job(
    client: SalesforceClient,
    job: str,
    *,
    poll: float = 0.5,
    stop: threading.Event | None = None,
) -> None:
    """Poll a query job until it is complete (exponential waits up to ``MAX_POLL_DELAY``;
    ``stop`` set ends the wait with :class:`FeedStopped`)."""
    stop = stop if stop is not None else threading.Event()
    delay = poll
    while True:
        state = client.bulk_state(job)
        if state == "JobComplete":
            return
        if state in ("Failed", "Aborted"):
            raise JobEnded(f"Salesforce Bulk API query job {job} ended {state}")
        if stop.wait(delay):
            raise FeedStopped
        delay = min(delay * 1.5, MAX_POLL_DELAY)


def result_texts(client: SalesforceClient, job: str) -> Iterator[str]:
    """A completed job's result pages as CSV text, in order."""
    locator = ""
    while locator != "null":
        text, locator = client.bulk_results(job, locator, RESULT_PAGE)
        yield text


# -- chunks


@dataclass(frozen=True)
class Chunk:
    """One slice of a backfill: the opportunities created in ``[start, end)`` (None: open)."""

    index: int
    start: datetime | None
    end: datetime | None

    def condition(self, created: str) -> str:
        """The slice as SOQL over the CreatedDate field ``created`` ("" when unbounded)."""
        parts = []
        if self.start is not None:
            parts.append(f"{created} >= {soql_datetime(self.start)}")
        if self.end is not None:
            parts.append(f"{created} < {soql_datetime(self.end)}")
        return " AND ".join(parts)


def chunk_edges(
    first_created: datetime | None, now: datetime, expected: int, per_chunk: int
) -> list[datetime]:
    """CreatedDate boundaries cutting ``[first_created, now]`` into equal time spans of
    about ``per_chunk`` opportunities each (at most ``MAX_CHUNKS``); none for one chunk."""
    if first_created is None or expected <= per_chunk or first_created >= now:
        return []
    count = min(math.ceil(expected / per_chunk), MAX_CHUNKS)
    step = (now - first_created) / count
    # a short first chunk: nothing is mapped until its line items are all in
    points = [first_created + step / 4, *(first_created + step * i for i in range(1, count))]
    edges = sorted({p.replace(microsecond=0) for p in points})
    return [e for e in edges if first_created < e < now]


def chunks_between(edges: Sequence[datetime]) -> list[Chunk]:
    """The chunks the ``edges`` delimit (the first and last open-ended)."""
    bounds: list[datetime | None] = [None, *edges, None]
    return [Chunk(i, bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


# -- the chunks' pages


@dataclass
class FeedEvent:
    """One step of a backfill: a result page of a chunk, or the end of a chunk."""

    kind: str  # "lines" | "deals" | "end"
    chunk: int
    path: Path | None = None

    def text(self) -> str:
        """The spooled page (removed once read)."""
        assert self.path is not None
        try:
            return self.path.read_bytes().decode("utf-8")
        finally:
            self.path.unlink(missing_ok=True)


def chunk_events(
    client: SalesforceClient,
    jobs: Sequence[tuple[int, str, str]],
    folder: Path,
    *,
    poll: float = 0.5,
    stop: threading.Event | None = None,
) -> Iterator[FeedEvent]:
    """Run each chunk's query jobs and yield their pages, spooled to files in ``folder``.

    ``jobs``: (chunk index, line-item SOQL, opportunity SOQL). Both jobs of a chunk are
    created at once (Salesforce runs them side by side), then the line items' pages, the
    opportunities' pages and the chunk's ``end`` follow. Pages go to disk, not memory, so
    a feed running ahead of the mapping (``connectors/feed.py``) costs no memory. With
    ``stop`` set (the feed closed), no further page is read, and the jobs created but not
    yet complete are aborted (they would go on using the org's Bulk capacity).
    """
    stop = stop if stop is not None else threading.Event()
    numbers = itertools.count()
    running: list[str] = []  # created, not seen complete
    try:
        for chunk, line_soql, deal_soql in jobs:
            line_job = client.bulk_create(line_soql, include_deleted=True)
            running.append(line_job)
            deal_job = client.bulk_create(deal_soql, include_deleted=True)
            running.append(deal_job)
            for kind, job in (("lines", line_job), ("deals", deal_job)):
                try:
                    wait_for_job(client, job, poll=poll, stop=stop)
                except JobEnded:
                    running.remove(job)
                    raise
                running.remove(job)
                for text in result_texts(client, job):
                    if stop.is_set():
                        return
                    path = folder / f"page-{next(numbers)}.csv"
                    path.write_bytes(text.encode("utf-8"))
                    yield FeedEvent(kind, chunk, path)
            yield FeedEvent("end", chunk)
    finally:
        for job in running:
            client.bulk_abort(job)


class ChunkLineItems:
    """One chunk's line items grouped by opportunity, read back page by page of deals.

    The CSV rows are kept as parsed (lists of strings, about 1 KB a line item) in memory,
    and only the rows of a page's deals become records. Once a chunk holds more than
    ``in_memory`` rows (checked after each page; CreatedDate spans are equal in time, not
    in count: a data migration can put most of an org in one), its rows move to a
    :class:`LineItemFile`, so memory stays bounded whatever the chunk holds. Either way
    :meth:`for_deals` returns the same records.
    """

    def __init__(self, path: Path, fields: Sequence[str], in_memory: int) -> None:
        self.path = path
        self.fields = list(fields)
        if "OpportunityId" not in self.fields:
            raise ValueError("line-item fields need OpportunityId")
        self.in_memory = in_memory
        self.rows = 0
        self._groups: dict[str, list[list[str]]] = {}
        self._header: list[str] | None = None
        self._file: LineItemFile | None = None

    @property
    def spilled(self) -> bool:
        """Whether the rows went to a file (the chunk outgrew ``in_memory``)."""
        return self._file is not None

    def add_csv(self, text: str) -> None:
        """Take one CSV page of line items (the job's columns, header first)."""
        rows = csv.reader(io.StringIO(text, newline=""))
        header = next(rows, None)
        if header is None:
            return
        if self._header is None:
            missing = [name for name in self.fields if name not in header]
            if missing:
                raise SourceError(f"Salesforce Bulk API: the result lacks {', '.join(missing)}")
            self._header = header
        elif header != self._header:
            raise SourceError("Salesforce Bulk API: result pages disagree on their columns")
        if self._file is not None:
            self._file.add_rows(rows)
            return
        width, opp, groups = len(header), header.index("OpportunityId"), self._groups
        for row in rows:
            if len(row) != width:
                raise SourceError("Salesforce Bulk API: a CSV row does not match its header")
            group = groups.get(row[opp])
            if group is None:
                groups[row[opp]] = [row]
            else:
                group.append(row)
            self.rows += 1
        if self.rows > self.in_memory:
            self._file = LineItemFile(self.path, self.fields, header)
            self._file.add_rows(row for group in groups.values() for row in group)
            self._groups = {}

    def for_deals(self, ids: Sequence[str]) -> dict[str, list[Record]]:
        """The line items of each of ``ids``: records of ``fields``, ``""`` as null,
        booleans as bool (other text in a boolean column as null)."""
        if self._file is not None:
            return self._file.for_deals(ids)
        out: dict[str, list[Record]] = {}
        if self._header is None:
            return out
        names = self.fields
        columns = [self._header.index(name) for name in names]
        flags = [i for i, name in enumerate(names) if name in BOOLEANS]
        for deal in ids:
            group = self._groups.get(deal)
            if group is None:
                continue
            records = out[deal] = []
            for row in group:
                values: list[Any] = [row[i] or None for i in columns]
                for i in flags:  # as the file's CASE: anything else is null
                    values[i] = _BOOLEAN_TEXT.get(values[i])
                records.append(dict(zip(names, values, strict=True)))
        return out

    def close(self) -> None:
        """Release the rows (and close the file; its folder is removed by the caller)."""
        self._groups = {}
        if self._file is not None:
            self._file.close()


class LineItemFile:
    """A large chunk's line items in a temporary SQLite file, indexed by opportunity.

    CSV rows go in as they come (one column a CSV column, strings, already checked against
    ``header``); the conversions (``""`` → null, booleans) happen in the SELECT, so no
    Python object is built per line item until its opportunity's page is mapped.
    """

    def __init__(self, path: Path, fields: Sequence[str], header: Sequence[str]) -> None:
        self.fields = list(fields)
        self.db = sqlite3.connect(path)
        # a scratch file removed after the run: no journal, no fsync
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute(f"CREATE TABLE li ({', '.join(f'c{i}' for i in range(len(header)))})")
        self._insert = f"INSERT INTO li VALUES ({', '.join('?' * len(header))})"
        self._opp = f"c{header.index('OpportunityId')}"
        exprs = []
        for name in self.fields:
            col = f"c{header.index(name)}"
            if name in BOOLEANS:
                exprs.append(f"CASE {col} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END")
            else:
                exprs.append(f"NULLIF({col}, '')")
        exprs.append(self._opp)  # last: zip() below stops before it
        # one statement a page (the ids as a JSON array), one index probe per deal
        self._select = (
            f"SELECT {', '.join(exprs)} FROM li "
            f"WHERE {self._opp} IN (SELECT value FROM json_each(?))"
        )
        self._indexed = False

    def add_rows(self, rows: Iterable[Sequence[str]]) -> None:
        """Store CSV rows (strings, in the header's columns)."""
        try:
            self.db.executemany(self._insert, rows)
        except sqlite3.ProgrammingError:
            raise SourceError("Salesforce Bulk API: a CSV row does not match its header") from None

    def for_deals(self, ids: Sequence[str]) -> dict[str, list[Record]]:
        """The line items of each of ``ids`` (the first call indexes the file: every page
        is in by then)."""
        out: dict[str, list[Record]] = {}
        if not ids:
            return out
        if not self._indexed:
            self._indexed = True
            self.db.execute(f"CREATE INDEX li_opp ON li ({self._opp})")
            self.db.commit()
        names = self.fields
        flags = [name for name in names if name in BOOLEANS]
        for row in self.db.execute(self._select, (json.dumps(list(ids)),)):
            lines = out.get(row[-1])
            if lines is None:
                lines = out[row[-1]] = []
            rec: Record = dict(zip(names, row, strict=False))
            for name in flags:  # SQLite's 1/0 as the bool a REST record holds
                if rec[name] is not None:
                    rec[name] = bool(rec[name])
            lines.append(rec)
        return out

    def close(self) -> None:
        """Close the file (its folder is removed by the caller)."""
        self.db.close()
