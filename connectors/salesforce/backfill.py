"""The Bulk API 2.0 backfill of a first sync: chunked query jobs fed by threads.

The opportunities are cut into chunks by ``CreatedDate`` (``bulk.py``); two threads keep
the API busy while the sync's thread maps and stores: one reads the account pages (REST),
the other runs each chunk's query jobs and spools their pages to disk. The cursor's
``bulk`` entry (when the backfill began, the chunk edges, the chunks done) is saved with
every batch, so an interrupted backfill resumes at its chunk.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from connectors.feed import ThreadedFeed
from connectors.salesforce.budget import RunBudgetSpent
from connectors.salesforce.bulk import (
    ChunkLineItems,
    FeedEvent,
    chunk_edges,
    chunk_events,
    chunks_between,
    csv_records,
)
from connectors.salesforce.mapping import parse_datetime
from connectors.salesforce.soql import first_created_soql, since_where, soql
from connectors.salesforce.streams import Page, StreamState
from tracker.records import Batch, DealRecord, JsonDict

if TYPE_CHECKING:
    from connectors.salesforce.connector import SalesforceRun

log = logging.getLogger(__name__)
FEED_AHEAD = 32  # pages the feed threads may read ahead of the sync's thread


class Backfill:
    """The Bulk backfill of one run (its feed, then its batches)."""

    def __init__(self, run: SalesforceRun) -> None:
        self.run = run

    @contextlib.contextmanager
    def feed(self) -> Iterator[tuple[ThreadedFeed[Page | FeedEvent], Path]]:
        """The Bulk API 2.0 backfill's feed, started, and its scratch folder.

        Two threads keep the API busy while this one maps and stores: one reads the account
        pages (REST), the other runs the chunks' query jobs (``bulk.py``) and spools their
        pages to disk. The cursor's ``bulk`` entry (when the backfill began, the chunk
        edges, the chunks done) is saved with every batch, so an interrupted backfill
        resumes at its chunk.
        """
        state = self.state()
        done = int(state["done"])
        chunks = chunks_between([parse_datetime(e) or self.run.now for e in state["edges"]])
        log.info(
            "salesforce %s: backfilling %s deals through Bulk API 2.0 (%s chunks, %s done)",
            self.run.name,
            self.run.expected,
            len(chunks),
            done,
        )
        jobs = []
        for chunk in chunks[done:]:
            li_where = [chunk.condition("Opportunity.CreatedDate")]
            li_where += since_where(self.run.s.since_datetime, "Opportunity.")
            opp_where = [chunk.condition("CreatedDate"), *since_where(self.run.s.since_datetime)]
            jobs.append(
                (
                    chunk.index,
                    soql(
                        self.run.plan.line_item_fields(parent=True), "OpportunityLineItem", li_where
                    ),
                    soql(self.run.plan.opportunity_fields(), "Opportunity", opp_where),
                )
            )
        # the pages are fetched in a thread; the cursor moves here, as each one is stored
        accounts = self.run.keyset("acct", "Account", self.run.plan.account_select())
        stop = threading.Event()
        # a thread still finishing a request when the feed closes may write one more page
        with tempfile.TemporaryDirectory(prefix="tracker-sf-", ignore_cleanup_errors=True) as tmp:
            events = chunk_events(self.run.client, jobs, Path(tmp), stop=stop)
            with ThreadedFeed[Page | FeedEvent](
                [accounts, events], ahead=FEED_AHEAD, name="sf-backfill", stop=stop
            ) as feed:
                yield feed, Path(tmp)

    def batches(self, feed: ThreadedFeed[Page | FeedEvent], folder: Path) -> Iterator[Batch]:
        """Map and yield the feed's chunks: each page of opportunities joined with the
        chunk's line items, then a batch recording the chunk done.

        Once done, the Opportunity pass starts where the backfill began: whatever changed
        while it ran (its chunks were read at different times) is read again.
        """
        li_fields = self.run.plan.line_item_fields(parent=True).split(", ")
        lines: ChunkLineItems | None = None
        done_before = self.run.cursor["bulk"]["done"]
        try:
            for event in feed:
                if isinstance(event, Page):
                    self.run.cursor["acct"] = event.state.dump()
                    yield self.run.account_batch(event.records)
                    continue
                if lines is None:
                    lines = ChunkLineItems(
                        folder / f"line_items-{event.chunk}.db",
                        li_fields,
                        in_memory=self.run.s.bulk_memory_line_items,
                    )
                if event.kind == "lines":
                    lines.add_csv(event.text())
                elif event.kind == "deals":
                    yield self.run.batch(deals=self.deals(event.text(), lines))
                else:  # the chunk's end
                    lines.close()
                    lines = None
                    self.run.cursor["bulk"] = {**self.run.cursor["bulk"], "done": event.chunk + 1}
                    yield self.run.batch()
        except RunBudgetSpent as spent:
            if self.run.cursor["bulk"]["done"] != done_before:
                raise  # a chunk is done: the next run gets further
            chunks = len(self.run.cursor["bulk"]["edges"]) + 1
            budget = self.run.client.budget
            raise budget.chunk_too_large_error(spent.calls, done_before + 1, chunks) from None
        finally:
            if lines is not None:
                lines.close()
        began = parse_datetime(self.run.cursor.pop("bulk")["start"]) or self.run.now
        self.run.cursor["opp"] = StreamState(stamp=min(self.run.now, began)).dump()
        self.run.watch_from_here()

    def state(self) -> JsonDict:
        """The backfill's entry in the cursor (made now unless a backfill is under way)."""
        state = self.run.cursor.get("bulk")
        if not isinstance(state, dict):
            body = self.run.client.query(
                first_created_soql(self.run.s.since_datetime), include_deleted=True
            )
            records = body.get("records") or [{}]
            first = parse_datetime(records[0].get("CreatedDate"))
            edges = chunk_edges(
                first, self.run.now, self.run.expected or 0, self.run.s.bulk_chunk_size
            )
            state = {
                "start": self.run.now.isoformat(),
                "edges": [e.isoformat() for e in edges],
                "done": 0,
            }
            self.run.cursor["bulk"] = state
        return state

    def deals(self, text: str, lines: ChunkLineItems) -> list[DealRecord]:
        """One CSV page of opportunities, joined with their line items, as deals."""
        page = csv_records(text)
        children = lines.for_deals([r["Id"] for r in page])
        for r in page:
            r["OpportunityLineItems"] = {"done": True, "records": children.get(r["Id"], [])}
        return self.run.rates.deals(page)
