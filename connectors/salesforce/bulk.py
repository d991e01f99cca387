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
    flags = [name in BOOLEANS for name in header]
    out: list[Record] = []
    for row in rows:
        out.append(
            {
                name: (None if value == "" else value == "true" if flag else value)
                for name, flag, value in zip(header, flags, row, strict=True)
            }
        )
    return out


def job_pages(
    client: SalesforceClient, soql: str, *, include_deleted: bool = True, poll: float = 0.5
) -> Iterator[list[Record]]:
    """Run one query job and yield its result pages as records."""
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
                yield csv_records(text)
            except GeneratorExit:
                pending.cancel()
                raise
            if locator == "null":
                return


class LineItemFile:
    """Line items grouped by opportunity in a temporary SQLite file (one column a field)."""

    def __init__(self, path: Path, fields: Sequence[str]) -> None:
        self.fields = list(fields)
        self.db = sqlite3.connect(path)
        columns = ", ".join(f"c{i}" for i in range(len(self.fields)))
        self.db.execute(f"CREATE TABLE li (opp TEXT NOT NULL, {columns})")
        self._insert = f"INSERT INTO li VALUES (?, {', '.join('?' * len(self.fields))})"

    def add(self, records: Sequence[Record]) -> None:
        """Store one page of line items."""
        names = self.fields
        self.db.executemany(
            self._insert,
            (
                (r["OpportunityId"], *(r.get(n) for n in names))
                for r in records
                if r.get("OpportunityId")
            ),
        )

    def ready(self) -> None:
        """Index once every page is in."""
        self.db.execute("CREATE INDEX li_opp ON li (opp)")
        self.db.commit()

    def for_deals(self, ids: Sequence[str]) -> dict[str, list[Record]]:
        """The line items of each of ``ids``."""
        out: dict[str, list[Record]] = {}
        names = self.fields
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ", ".join("?" * len(chunk))
            for row in self.db.execute(f"SELECT * FROM li WHERE opp IN ({marks})", chunk):
                out.setdefault(row[0], []).append(dict(zip(names, row[1:], strict=True)))
        return out

    def close(self) -> None:
        """Close the file (its folder is removed by the caller)."""
        self.db.close()
