"""Bulk API 2.0 backfills: two query jobs (line items, then opportunities) joined on disk.

Bulk queries reject child subqueries, so the line items are loaded first into a temporary
SQLite file keyed by opportunity (disk, not memory: the backfill stays flat however large
the org), then each CSV page of opportunities is joined with its deals' line items and
mapped like a REST page. Bulk results are not in SystemModstamp order, so an interrupted
Bulk backfill restarts (the pages already committed are simply upserted again).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.mapping import Record
from tracker.errors import SourceError

BOOLEANS = frozenset({"IsClosed", "IsWon", "IsDeleted", "IsActive"})
RESULT_PAGE = 10_000
MAX_POLL_DELAY = 10.0


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
        for name in flags:
            value = rec[name]
            if value is not None:
                rec[name] = value == "true"
        out.append(rec)
    return out


def job_pages(
    client: SalesforceClient, soql: str, *, include_deleted: bool = True, poll: float = 0.5
) -> Iterator[list[Record]]:
    """Run one query job and yield its result pages as records."""
    for text in job_texts(client, soql, include_deleted=include_deleted, poll=poll):
        yield csv_records(text)


def job_texts(
    client: SalesforceClient, soql: str, *, include_deleted: bool = True, poll: float = 0.5
) -> Iterator[str]:
    """Run one query job and yield its result pages as CSV text."""
    job = client.bulk_create(soql, include_deleted=include_deleted)
    delay = poll
    while True:
        state = client.bulk_state(job)
        if state == "JobComplete":
            break
        if state in ("Failed", "Aborted"):
            raise SourceError(f"Salesforce Bulk API query job {job} ended {state}")
        time.sleep(delay)
        delay = min(delay * 1.5, MAX_POLL_DELAY)
    # the next result page downloads while the caller maps and stores this one
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sf-bulk") as pool:
        pending = pool.submit(client.bulk_results, job, "", RESULT_PAGE)
        while True:
            text, locator = pending.result()
            if locator != "null":
                pending = pool.submit(client.bulk_results, job, locator, RESULT_PAGE)
            try:
                yield text
            except GeneratorExit:
                pending.cancel()
                raise
            if locator == "null":
                return


class LineItemFile:
    """Line items grouped by opportunity in a temporary SQLite file.

    CSV rows go in as they come (one column a CSV column, strings); the conversions
    (``""`` → null, booleans) happen in the SELECT, so no Python object is built per line
    item until its opportunity's page is mapped. Booleans come back as 1/0.
    """

    def __init__(self, path: Path, fields: Sequence[str]) -> None:
        self.fields = list(fields)
        if "OpportunityId" not in self.fields:
            raise ValueError("line-item fields need OpportunityId")
        self.db = sqlite3.connect(path)
        # a scratch file removed after the run: no journal, no fsync
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self._header: list[str] | None = None
        self._insert = self._select = self._opp = ""

    def add_csv(self, text: str) -> None:
        """Store one CSV page of line items (the job's columns, header first)."""
        rows = csv.reader(io.StringIO(text, newline=""))
        header = next(rows, None)
        if header is None:
            return
        if self._header is None:
            self._start(header)
        elif header != self._header:
            raise SourceError("Salesforce Bulk API: result pages disagree on their columns")
        try:
            self.db.executemany(self._insert, rows)
        except sqlite3.ProgrammingError:
            raise SourceError("Salesforce Bulk API: a CSV row does not match its header") from None

    def _start(self, header: list[str]) -> None:
        missing = [name for name in self.fields if name not in header]
        if missing:
            raise SourceError(f"Salesforce Bulk API: the result lacks {', '.join(missing)}")
        self._header = header
        columns = ", ".join(f"c{i}" for i in range(len(header)))
        self.db.execute(f"CREATE TABLE li ({columns})")
        self._insert = f"INSERT INTO li VALUES ({', '.join('?' * len(header))})"
        opp = f"c{header.index('OpportunityId')}"
        exprs = []
        for name in self.fields:
            col = f"c{header.index(name)}"
            if name in BOOLEANS:
                exprs.append(f"CASE {col} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END")
            else:
                exprs.append(f"NULLIF({col}, '')")
        exprs.append(opp)  # last: zip() below stops before it
        # one statement a page (the ids as a JSON array), one index probe per deal
        self._select = (
            f"SELECT {', '.join(exprs)} FROM li WHERE {opp} IN (SELECT value FROM json_each(?))"
        )
        self._opp = opp

    def ready(self) -> None:
        """Index once every page is in."""
        if self._header is not None:
            self.db.execute(f"CREATE INDEX li_opp ON li ({self._opp})")
        self.db.commit()

    def for_deals(self, ids: Sequence[str]) -> dict[str, list[Record]]:
        """The line items of each of ``ids``."""
        out: dict[str, list[Record]] = {}
        if self._header is None or not ids:
            return out
        names = self.fields
        for row in self.db.execute(self._select, (json.dumps(list(ids)),)):
            lines = out.get(row[-1])
            if lines is None:
                lines = out[row[-1]] = []
            lines.append(dict(zip(names, row, strict=False)))
        return out

    def close(self) -> None:
        """Close the file (its folder is removed by the caller)."""
        self.db.close()
