"""Reading deals in chunks, with everything a chunk needs (associations, line items).

A chunk is about ``batch_size`` deals read from the list endpoint (backfill) or the search
API (incremental), their companies and line items (pooled batch reads of ≤ 100 inputs)
and the cursor to save once the chunk is committed. A few chunks exist at a time (the
backfill reads ahead in a thread: one stored, one waiting, one being read), so memory does
not grow with the portal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.mapping import PRIMARY_INLINE_TYPE, PRIMARY_TYPE_IDS, primary_first
from connectors.hubspot.search import Position, changed_since

JsonObj = dict[str, Any]


@dataclass
class Chunk:
    """Deals read (by id; a re-read replaces), their related ids and line items."""

    deals: dict[str, JsonObj] = field(default_factory=dict)
    companies: dict[str, list[str]] = field(default_factory=dict)
    lines_of: dict[str, list[str]] = field(default_factory=dict)
    line_items: dict[str, JsonObj] = field(default_factory=dict)
    cursor: JsonObj | None = None
    total: int | None = None
    """The search's match count, for progress (incremental only)."""
    calls: int | None = None
    """The API calls made to read it (listed chunks, read in a thread of their own)."""


class DealReader:
    """Reads chunks of deals through one client."""

    def __init__(
        self,
        client: HubSpotClient,
        deal_properties: Sequence[str],
        line_item_properties: Sequence[str],
        chunk_size: int,
    ) -> None:
        self.client = client
        self.deal_properties = list(deal_properties)
        self.line_item_properties = list(line_item_properties)
        self.chunk_size = chunk_size

    def listed(self, after: str | None, since: JsonObj, done: JsonObj) -> Iterator[Chunk]:
        """Every live deal from list cursor ``after`` on (associations inline); each chunk's
        cursor resumes after it, the last one is ``done``."""
        chunk, start = Chunk(), self.client.calls
        pages = self.client.list_pages(
            "deals",
            after=after,
            properties=self.deal_properties,
            associations=("companies", "line_items"),
        )
        for results, after in pages:
            for r in results:
                chunk.deals[str(r["id"])] = r
            if after is not None and len(chunk.deals) >= self.chunk_size:
                chunk.cursor = {"phase": "deals", "after": after, "since": since}
                yield self._counted(self._complete(chunk, inline=True), start)
                chunk, start = Chunk(), self.client.calls
        chunk.cursor = done
        yield self._counted(self._complete(chunk, inline=True), start)

    def _companies(self, ids: list[str]) -> dict[str, list[str]]:
        """Each deal's companies through v4, its primary one first."""
        typed = self.client.typed_associations("deals", "companies", ids)
        return {
            deal_id: primary_first((c, bool(types & PRIMARY_TYPE_IDS)) for c, types in targets)
            for deal_id, targets in typed.items()
        }

    def by_ids(self, ids: list[str]) -> Chunk:
        """The deals with these ids (those HubSpot still has), completed."""
        read = self.client.batch_read("deals", ids, self.deal_properties)
        return self._complete(Chunk(deals={str(r["id"]): r for r in read}), inline=False)

    def _counted(self, chunk: Chunk, start: int) -> Chunk:
        # the reading thread is the only one calling the API while a backfill runs
        chunk.calls = self.client.calls - start
        return chunk

    def changed(self, start: Position, cursor_of: Callable[[Position], JsonObj]) -> Iterator[Chunk]:
        """Deals modified at or after ``start`` (search); ``cursor_of(position)`` builds
        each chunk's cursor. A chunk is yielded even when nothing changed."""
        chunk, position, total = Chunk(), start, None
        for page in changed_since(self.client, "deals", self.deal_properties, start):
            total = page.total if total is None else total
            for r in page.results:
                chunk.deals[str(r["id"])] = r
            position = page.position
            if len(chunk.deals) >= self.chunk_size:
                chunk.cursor, chunk.total = cursor_of(position), total
                yield self._complete(chunk, inline=False)
                chunk = Chunk()
        chunk.cursor, chunk.total = cursor_of(position), total
        yield self._complete(chunk, inline=False)

    def _complete(self, chunk: Chunk, *, inline: bool) -> Chunk:
        """Read the chunk's associations (unless inline) and line items."""
        ids = list(chunk.deals)
        if inline:
            paged: list[str] = []
            for deal_id, r in chunk.deals.items():
                # HubSpot keys inline associations by type label: "line items", "companies"
                assoc = {k.replace(" ", "_"): v for k, v in (r.get("associations") or {}).items()}
                companies = assoc.get("companies") or {}
                chunk.companies[deal_id] = primary_first(
                    (str(x["id"]), x.get("type") == PRIMARY_INLINE_TYPE)
                    for x in companies.get("results") or ()
                )
                lines = assoc.get("line_items") or {}
                chunk.lines_of[deal_id] = [str(x["id"]) for x in lines.get("results") or ()]
                if companies.get("paging") or lines.get("paging"):
                    paged.append(deal_id)
            if paged:  # more associations than fit inline: read those through v4
                chunk.companies.update(self._companies(paged))
                chunk.lines_of.update(self.client.associations("deals", "line_items", paged))
        elif ids:
            chunk.companies = self._companies(ids)
            chunk.lines_of = self.client.associations("deals", "line_items", ids)
        wanted = list(dict.fromkeys(li for i in ids for li in chunk.lines_of.get(i, ())))
        if wanted:
            read = self.client.batch_read("line_items", wanted, self.line_item_properties)
            chunk.line_items = {str(li["id"]): li for li in read}
        return chunk
