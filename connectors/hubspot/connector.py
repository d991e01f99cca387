"""The HubSpot connector: backfill through the list endpoint, then incremental search.

A sync, in order (each step resumable from the cursor saved with its last batch):

1. pipelines (stage metadata), the configured properties (checked by name), owners;
2. first sync only, *backfill*: every company, then every deal through
   ``GET /crm/v3/objects/{type}`` (associations inline, line items batch-read ≤ 100 a call).
   Before it starts, the newest ``hs_lastmodifieddate`` is noted (``since``) so changes made
   during the backfill are picked up by the incremental step that follows;
3. *incremental*: companies and deals modified since the cursor, minus ``overlap_minutes``
   (search index lag), through ``search.changed_since``; a winner's
   ``hs_merged_object_ids`` marks the merged-away deals deleted;
3b. with ``activities = true``: calls, meetings and emails (``activities.py``), backfilled
   through the list endpoint, then incremental through search windows;
4. archived deals (``archived=true``), marked deleted: when the last listing (kept in the
   cursor as ``archived_at``) is ``archived_every_minutes`` old or more (default 0: every
   sync), and on ``--reconcile``;
   With ``activities = true`` the archived calls, meetings and emails too;
5. ``--reconcile``: every live deal id, so the store marks the rest deleted (hard deletes,
   merges the sync never saw), and the live deals the store lacks are read and stored.

Cursor forms: ``{"phase": "companies"|"deals", "after": ID, "since": {...}}`` during the
backfill, ``{"phase": "incremental", "deals": {"modified": MS, "id": ID}, "companies": MS}``
afterwards.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from connectors.base import Connector, SyncContext
from connectors.feed import ThreadedFeed
from connectors.hubspot.activities import ActivityReader
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.diagnose import diagnose
from connectors.hubspot.mapping import Mapper, merged_ids, stage_map
from connectors.hubspot.reader import Chunk, DealReader
from connectors.hubspot.search import Position, changed_since, latest_stamp
from connectors.hubspot.settings import HubSpotSourceSettings
from tracker.checks import Check
from tracker.errors import SourceError
from tracker.records import AccountRecord, Batch, DealRecord, JsonDict, OwnerRecord
from tracker.settings import SourceSettings

log = logging.getLogger(__name__)
JsonObj = dict[str, Any]
ID_ONLY = ("hs_object_id",)


@dataclass
class _Pending:
    """Records gathered for the next batch."""

    deals: list[DealRecord] = field(default_factory=list)
    accounts: list[AccountRecord] = field(default_factory=list)
    owners: list[OwnerRecord] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


class HubSpotConnector(Connector):
    """``kind = "hubspot"``: deals, line items, companies and owners of one portal."""

    kind = "hubspot"
    settings_model = HubSpotSourceSettings

    def __init__(
        self,
        name: str,
        settings: SourceSettings,
        context: SyncContext,
        client: HubSpotClient | None = None,
    ) -> None:
        super().__init__(name, settings, context)
        self._client = client
        self._counted = 0
        self._expected: int | None = None
        self._checked = ""
        self._mapper: Mapper | None = None
        self._reader: DealReader | None = None
        self._unverified: dict[str, dict[str, str]] = {}
        self._archived_mark: dict[str, str] = {}  # carried in every cursor this run
        self._activity_mark: JsonDict = {}  # the activities' state, likewise
        self._last_cursor: JsonDict | None = None

    @property
    def hs(self) -> HubSpotSourceSettings:
        """This source's settings, typed."""
        return cast(HubSpotSourceSettings, self.settings)

    @property
    def client(self) -> HubSpotClient:
        """The HubSpot client (built on first use: that reads the token)."""
        if self._client is None:
            self._client = HubSpotClient(self.hs, self.name)
        return self._client

    def check(self) -> None:
        """The token is readable (no network call: that happens at sync start)."""
        _ = self.client

    def diagnose(self) -> list[Check]:
        """``tracker doctor``: the token (a read of the deal properties), the daily budget
        from the rate-limit headers, every mapped property (``diagnose.py``)."""
        wanted = Mapper(self.hs, self.context.tracker, {}).required_properties()
        return diagnose(self.name, lambda: self.client, wanted)

    # ------------------------------------------------------------------ batches

    def batches(self, cursor: JsonDict | None) -> Iterator[Batch]:
        """Yield batches per the module docstring, each with the cursor after it."""
        return self._batches(cursor)

    def _batches(self, cursor: JsonDict | None) -> Iterator[Batch]:
        client = self.client
        last_listed = (cursor or {}).get("archived_at")
        self._archived_mark = {"archived_at": str(last_listed)} if last_listed else {}
        saved_acts = (cursor or {}).get("activities")
        self._activity_mark = (
            {"activities": saved_acts}
            if self.hs.activities and isinstance(saved_acts, dict)
            else {}
        )
        self._last_cursor = None
        self._counted = client.calls
        mapper = Mapper(self.hs, self.context.tracker, stage_map(client.pipelines()))
        self._mapper = mapper
        self._check_properties(mapper, cursor)
        self._reader = DealReader(
            client, mapper.deal_properties(), mapper.line_item_properties(), self.hs.batch_size
        )
        owners = [mapper.owner(o) for o in client.owners(archived=False)]
        owners += [mapper.owner(o) for o in client.owners(archived=True)]
        yield self._batch(_Pending(owners=owners), cursor=None)
        state = dict(cursor) if cursor else {"phase": "companies"}
        phase = state.get("phase")
        if phase in ("companies", "deals"):
            state = yield from self._backfill(mapper, state)
        elif phase != "incremental":
            raise SourceError(
                f"sources.{self.name}: the saved cursor has an unknown phase {phase!r}; "
                "delete the source's row in sync_cursors to backfill again"
            )
        yield from self._incremental(mapper, state)
        if self.hs.activities:
            yield from self._activities()
        if self._archived_due(cursor):
            yield from self._archived(cursor)
        if self.context.reconcile:
            yield from self._reconcile()

    def _batch(self, pending: _Pending, cursor: JsonDict | None, calls: int | None = None) -> Batch:
        """A batch carrying ``calls`` API calls (default: every call since the last batch)."""
        if calls is None:
            now = self.client.calls  # read once: a read-ahead thread may be counting too
            calls, self._counted = now - self._counted, now
        else:
            self._counted += calls
        if cursor is not None:
            cursor = {
                **cursor,
                "checked": self._checked,
                **self._archived_mark,
                **self._activity_mark,
            }
            self._last_cursor = cursor
        return Batch(
            deals=pending.deals,
            accounts=list({a.external_id: a for a in pending.accounts}.values()),
            owners=pending.owners,
            deleted_deal_ids=pending.deleted,
            cursor=cursor,
            expected_total=self._expected,
            api_calls=calls,
        )

    def _check_properties(self, mapper: Mapper, cursor: JsonDict | None) -> None:
        """Every configured property exists.

        Through the properties API (one call per object type) on the first sync, with
        ``--reconcile`` and whenever the mapping changed since the cursor was saved;
        otherwise against the first page read of each object type (free).
        """
        wanted = mapper.required_properties()
        names = sorted(f"{t}.{p}" for t, props in wanted.items() for p in props)
        self._checked = hashlib.sha1(",".join(names).encode()).hexdigest()[:12]
        if cursor and cursor.get("checked") == self._checked and not self.context.reconcile:
            self._unverified = {t: props for t, props in wanted.items() if props}
            return
        for object_type, props in wanted.items():
            if props:
                have = self.client.property_names(object_type)
                self._fail_missing(object_type, [(p, k) for p, k in props.items() if p not in have])

    def _verify(self, object_type: str, results: list[JsonObj]) -> None:
        """The first-page check: a configured property no record carries does not exist."""
        props = self._unverified.get(object_type)
        if not props or not results:
            return
        del self._unverified[object_type]
        seen = {name for r in results for name in r.get("properties") or ()}
        self._fail_missing(object_type, [(p, k) for p, k in props.items() if p not in seen])

    def _fail_missing(self, object_type: str, missing: list[tuple[str, str]]) -> None:
        if missing:
            prop, key = missing[0]
            raise SourceError(
                f"sources.{self.name}.{key}: HubSpot has no {object_type} property {prop!r}; "
                "fix the name (HubSpot: Settings → Properties) or remove the key"
            )

    # ------------------------------------------------------------------ backfill

    def _backfill(self, mapper: Mapper, state: JsonDict) -> Generator[Batch, None, JsonDict]:
        """Every company, then every deal, through the list endpoint; returns the
        incremental cursor to continue from."""
        since = state.get("since")
        if not isinstance(since, dict):
            deals_ms, total = latest_stamp(self.client, "deals")
            companies_ms, _ = latest_stamp(self.client, "companies")
            since = {"deals": deals_ms, "companies": companies_ms}
            self._expected = total
            log.info("%s: backfill of %d live deals through the list endpoint", self.name, total)
        if state.get("phase") == "companies":
            yield from self._companies_listed(mapper, state.get("after"), since)
            state = {"phase": "deals", "after": None}
        done = {
            "phase": "incremental",
            "deals": Position(int(since["deals"])).as_json(),
            "companies": int(since["companies"]),
        }
        assert self._reader is not None
        # the next chunks are read in a thread while this one is mapped and stored; each
        # carries the calls made for it, so every batch counts its own
        chunks = self._reader.listed(state.get("after"), since, done)
        with ThreadedFeed[Chunk]([chunks], ahead=1, name="hs-backfill") as feed:
            for chunk in feed:
                yield self._deal_batch(chunk)
        return done

    def _companies_listed(
        self, mapper: Mapper, after: str | None, since: JsonDict
    ) -> Iterator[Batch]:
        """Every company (live from ``after`` on, then archived ones)."""
        pending = _Pending()
        props = mapper.company_properties()
        for archived in (False, True):
            pages = self.client.list_pages(
                "companies", after=None if archived else after, properties=props, archived=archived
            )
            for results, nxt in pages:
                self._verify("companies", results)
                pending.accounts += [mapper.account(c) for c in results]
                if nxt is not None and not archived and len(pending.accounts) >= self.hs.batch_size:
                    cur = {"phase": "companies", "after": nxt, "since": since}
                    yield self._batch(pending, cur)
                    pending = _Pending()
        yield self._batch(pending, {"phase": "deals", "after": None, "since": since})

    # ------------------------------------------------------------------ incremental

    def _incremental(self, mapper: Mapper, state: JsonDict) -> Iterator[Batch]:
        """Companies, then deals, changed since the cursor (minus the overlap)."""
        overlap = int(self.hs.overlap_minutes * 60_000)
        try:
            deals_pos = Position.from_json(state["deals"])
            companies_ms = int(state["companies"])
        except (KeyError, TypeError, ValueError):
            raise SourceError(
                f"sources.{self.name}: the saved cursor is malformed; delete its row in "
                "sync_cursors to backfill again"
            ) from None
        if overlap:
            deals_pos = Position(max(deals_pos.modified - overlap, 0))
            companies_ms = max(companies_ms - overlap, 0)
        log.info(
            "%s: incremental from %s (hs_lastmodifieddate, %s min overlap included)",
            self.name,
            datetime.fromtimestamp(deals_pos.modified / 1000, tz=UTC).isoformat(),
            self.hs.overlap_minutes,
        )

        def cursor(deals: Position) -> JsonDict:
            return {"phase": "incremental", "deals": deals.as_json(), "companies": companies_ms}

        pending = _Pending()
        for page in changed_since(
            self.client, "companies", mapper.company_properties(), Position(companies_ms)
        ):
            self._verify("companies", page.results)
            pending.accounts += [mapper.account(c) for c in page.results]
            companies_ms = page.position.modified
            if len(pending.accounts) >= self.hs.batch_size:
                yield self._batch(pending, cursor(deals_pos))
                pending = _Pending()
        if pending.accounts:
            yield self._batch(pending, cursor(deals_pos))
        assert self._reader is not None
        for chunk in self._reader.changed(deals_pos, cursor):
            if self._expected is None:
                self._expected = chunk.total
            yield self._deal_batch(chunk)

    def _deal_batch(self, chunk: Chunk) -> Batch:
        """Map a chunk: live deals with their account and complete line items; the deals
        merged into them (``hs_merged_object_ids``) marked deleted."""
        assert self._mapper is not None
        mapper, pending = self._mapper, _Pending()
        self._verify("deals", list(chunk.deals.values()))
        self._verify("line_items", list(chunk.line_items.values()))
        items = chunk.line_items
        for deal_id, r in chunk.deals.items():
            lines = [
                mapper.line_item(items[li], deal_id)
                for li in dict.fromkeys(chunk.lines_of.get(deal_id, ()))
                if li in items
            ]
            pending.deals.append(mapper.deal(r, chunk.companies.get(deal_id, []), lines))
            pending.deleted += merged_ids(r.get("properties") or {})
        return self._batch(pending, chunk.cursor, chunk.calls)

    # ------------------------------------------------------------------ activities

    def _activities(self) -> Iterator[Batch]:
        """Calls, meetings and emails changed since the cursor (``activities.py``)."""
        reader = ActivityReader(
            self.client, int(self.hs.overlap_minutes * 60_000), self.hs.batch_size
        )
        saved = self._activity_mark.get("activities")
        for step in reader.pages(saved if isinstance(saved, dict) else {}):
            self._activity_mark = {"activities": step.state}
            base = self._last_cursor
            batch = self._batch(_Pending(), cursor=dict(base) if base is not None else None)
            batch.activities = step.activities
            yield batch

    # ------------------------------------------------------------------ deletions

    def _archived_due(self, cursor: JsonDict | None) -> bool:
        last = (cursor or {}).get("archived_at")
        if self.context.reconcile or not last or self.hs.archived_every_minutes == 0:
            return True
        age = datetime.now(UTC) - datetime.fromisoformat(str(last))
        return age.total_seconds() >= self.hs.archived_every_minutes * 60

    def _archived(self, cursor: JsonDict | None) -> Iterator[Batch]:
        """Archived deals and companies (search never returns them), marked deleted; the
        cursor notes when they were listed."""
        listed_at = datetime.now(UTC).isoformat()
        pending = _Pending()
        mapper = self._mapper
        assert mapper is not None
        for object_type in ("deals", "companies"):
            properties = ID_ONLY if object_type == "deals" else mapper.company_properties()
            for results, _ in self.client.list_pages(
                object_type, properties=properties, archived=True
            ):
                if object_type == "deals":
                    pending.deleted += [str(r["id"]) for r in results]
                else:
                    pending.accounts += [mapper.account(r) for r in results]
        log.info(
            "%s: %d archived deals and %d archived companies (marked deleted)",
            self.name,
            len(pending.deleted),
            len(pending.accounts),
        )
        archived_activities = (
            ActivityReader(self.client, 0, 1).archived() if self.hs.activities else []
        )
        base = self._last_cursor or cursor
        self._archived_mark = {"archived_at": listed_at}
        batch = self._batch(pending, cursor=dict(base) if base is not None else None)
        batch.deleted_activity_ids = archived_activities
        yield batch

    def _reconcile(self) -> Iterator[Batch]:
        """Every live deal id: deals the store lacks are read and stored, and the store
        marks every other stored deal deleted."""
        live: set[str] = set()
        for results, _ in self.client.list_pages("deals", properties=ID_ONLY):
            live.update(str(r["id"]) for r in results)
        stored = self.context.stored_deal_ids
        missing = sorted(live - stored(), key=int) if stored is not None else []
        log.info(
            "%s: reconcile: %d live deals in HubSpot, %d missing from the store",
            self.name,
            len(live),
            len(missing),
        )
        assert self._mapper is not None and self._reader is not None
        for start in range(0, len(missing), self.hs.batch_size):
            yield self._deal_batch(self._reader.by_ids(missing[start : start + self.hs.batch_size]))
        batch = self._batch(_Pending(), cursor=None)
        batch.complete_deal_ids = frozenset(live)
        yield batch
