"""The Salesforce connector: users, accounts, opportunities (with line items) and deletions.

One sync, in order (every step counted against the run's API budget):

0. one composite call (``SalesforceRun.prefetch``): the fixed reads of steps 1-4 below, counted
   by Salesforce as a single API call; each step then takes its answer, or calls itself
   when there is none (more pages, a transient subrequest error, an org that changed);
1. ``limits`` (the budget: ``max_api_percent`` of what is left today) and ``describe`` of
   Opportunity, OpportunityLineItem, Account and User: a mapped field that is missing stops
   the sync naming its config key. Multi-currency orgs: the rates (``currency.py``:
   ``CurrencyType``, or ``DatedConversionRate`` with advanced currency management).
2. every User (few; team/region fall back to the manager's, so all are read each time);
3. Account, Opportunity (line items as a child subquery) and OpportunityLineItem passes
   over SystemModstamp (``streams.py``): one batch per page, each with the cursor after it;
   a line item changed on its own re-reads its whole opportunity;
   With ``activities = true``: Task and Event passes the same way (``activities.py``),
   with their own deletions;
4. ``getDeleted`` for the window since the last sync; when the delete log does not reach
   back that far, or with ``--reconcile``, the complete set of live Opportunity Ids (hard
   deletes and purges never show up otherwise). ``--reconcile`` also re-reads every
   opportunity and account first, so formula fields that changed without a new
   SystemModstamp are refreshed.

Deleted opportunities come from ``queryAll`` (``IsDeleted``) and stay stored, marked
deleted; undeleted ones come back with a new stamp.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import requests

from connectors.base import Connector, SyncContext
from connectors.salesforce.activities import SINCE_KEYS, activity_batches, activity_reads
from connectors.salesforce.backfill import Backfill
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.composite import Read, ask_deleted, ask_describe, ask_query
from connectors.salesforce.currency import OrgRates
from connectors.salesforce.deletions import live_ids, read_deleted_log
from connectors.salesforce.diagnose import diagnose
from connectors.salesforce.mapping import (
    FieldPlan,
    Record,
    calculated_fields,
    check_fields,
    parse_datetime,
    soql_id,
)
from connectors.salesforce.settings import SalesforceSourceSettings
from connectors.salesforce.soql import (
    LINE_ITEM_STAMPS,
    count_soql,
    first_created_soql,
)
from connectors.salesforce.streams import (
    Page,
    StreamState,
    complete_children,
    iter_query,
    keyset_pages,
    keyset_soql,
    lower_bound,
)
from tracker.checks import Check
from tracker.errors import ConfigError
from tracker.records import Batch, JsonDict
from tracker.settings import SourceSettings

log = logging.getLogger(__name__)
CURSOR_VERSION = 1
ID_CHUNK = 200
FRESH_MEMORY = 50_000  # opportunity ids remembered per run to skip line-item re-reads
OBJECTS = ("Opportunity", "OpportunityLineItem", "Account", "User")
#: Bulk result pages spooled (on disk) ahead of the mapping
#: how far past the estimated server time a prefetched getDeleted window reaches
DELETED_MARGIN = timedelta(minutes=2)


class SalesforceConnector(Connector):
    """``kind = "salesforce"`` through simple-salesforce."""

    kind = "salesforce"
    settings_model = SalesforceSourceSettings

    def __init__(
        self,
        name: str,
        settings: SourceSettings,
        context: SyncContext,
        *,
        session: requests.Session | None = None,
    ) -> None:
        super().__init__(name, settings, context)
        self._session = session
        self.client: SalesforceClient | None = None

    @property
    def sf_settings(self) -> SalesforceSourceSettings:
        """This source's settings, typed."""
        return cast(SalesforceSourceSettings, self.settings)

    def check(self) -> None:
        """The auth mode is complete and its secrets and key file are readable."""
        s = self.sf_settings
        try:
            mode = s.auth_mode
        except ValueError as exc:
            raise ConfigError(f"sources.{self.name}: {exc}") from None
        secrets = {
            "token": (s.access_token,),
            "password": (s.password, s.security_token),
            "jwt": (),
        }[mode]
        for secret in secrets:
            if secret is not None:
                secret.reveal()
        if mode == "jwt" and s.private_key_file is not None and not s.private_key_file.is_file():
            raise ConfigError(
                f"sources.{self.name}.private_key_file: {s.private_key_file} not found"
            )

    def diagnose(self) -> list[Check]:
        """``tracker doctor``: credentials through ``limits/`` (the API budget left today),
        then the mapped fields against describe (``diagnose.py``)."""
        client = SalesforceClient(self.name, self.sf_settings, session=self._session)
        return diagnose(self.name, self.sf_settings, client, self.check)

    # -- the sync

    def batches(self, cursor: JsonDict | None) -> Iterator[Batch]:
        """Yield users, accounts, deals and deletions page by page, each with its cursor."""
        s = self.sf_settings
        client = self.client = SalesforceClient(self.name, s, session=self._session)
        run = SalesforceRun(self, client, cursor)
        yield from run.go()


class SalesforceRun:
    """The state of one sync run (cursor, plan, budget accounting)."""

    def __init__(
        self, connector: SalesforceConnector, client: SalesforceClient, cursor: JsonDict | None
    ) -> None:
        self.name = connector.name
        self.s = connector.sf_settings
        self.context = connector.context
        self.client = client
        raw = cursor if cursor and cursor.get("v") == CURSOR_VERSION else {}
        self.cursor: JsonDict = dict(raw) or {"v": CURSOR_VERSION}
        self.cursor["v"] = CURSOR_VERSION
        self.overlap = timedelta(minutes=self.s.overlap_minutes)
        self.plan = FieldPlan()
        self.rates = OrgRates(self)
        self.now = datetime.now(UTC)
        self._counted = 0
        self.expected: int | None = None
        self.deleted_ids: list[str] = []
        self._li_fresh = False
        self.fresh_deals: set[str] = set()

    # bookkeeping

    def _calls(self) -> int:
        used = self.client.calls - self._counted
        self._counted = self.client.calls
        return used

    def batch(self, **kwargs: Any) -> Batch:
        """A batch carrying the current cursor and the calls made since the last one."""
        return Batch(
            cursor=dict(self.cursor),
            api_calls=self._calls(),
            expected_total=self.expected,
            **kwargs,
        )

    def state(self, key: str) -> StreamState | None:
        return StreamState.load(self.cursor.get(key))

    # steps

    def go(self) -> Iterator[Batch]:
        self.start()
        yield self.batch(owners=self.plan.owners(self.users()))
        reconcile = self.context.reconcile
        if reconcile and self.state("opp") is not None:  # a first sync reads everything anyway
            yield from self.reconcile_pass()
        with contextlib.ExitStack() as stack:
            feed = None
            if self.state("opp") is None:
                self.expected = self.count_deals()
                resuming = isinstance(self.cursor.get("bulk"), dict)
                if resuming or (self.expected or 0) > self.s.bulk_threshold:
                    backfill = Backfill(self)
                    feed = stack.enter_context(backfill.feed())
            if feed is None:
                yield from self.accounts("acct")
            else:  # the accounts are read in a thread of the feed, beside the Bulk jobs
                yield from backfill.batches(*feed)
        yield from self.opportunities("opp")
        yield from self.line_items()
        if self.s.activities:
            yield from activity_batches(self)
        need_ids = not self._li_fresh and read_deleted_log(self)
        deleted = self.deleted_ids
        if deleted:
            yield self.batch(deleted_deal_ids=deleted)
        if reconcile or need_ids:
            live = live_ids(self.client)
            self.cursor.pop("recon", None)
            self.cursor.pop("recon_acct", None)
            yield self.batch(complete_deal_ids=live)
        else:
            yield self.batch()

    def start(self) -> None:
        """Budget, mapped fields checked against ``describe``, currencies."""
        f = self.s.fields
        plan = self.plan
        plan.cost, plan.segment, plan.industry = f.line_item_cost, f.segment, f.industry
        plan.team, plan.region = f.team, f.region
        plan.new_customer = frozenset(self.s.deal_types.new_customer)
        self.prefetch()
        local = datetime.now(UTC)
        describes = {"Opportunity": self.client.describe("Opportunity")}
        server = self.client.server_time()
        if server is not None:
            self.now = server
            self.cursor["skew"] = round((server - local).total_seconds(), 3)
        self.set_budget()
        describes.update({obj: self.client.describe(obj) for obj in OBJECTS[1:]})
        check_fields(self.name, describes, plan, f.model_dump())
        self.cursor["mc"] = plan.multi_currency
        formulas = [
            f"{obj}.{name}"
            for obj, name in (
                ("OpportunityLineItem", plan.cost),
                ("Account", plan.segment),
                ("Account", plan.industry),
            )
            if name and name in calculated_fields(describes[obj])
        ]
        if formulas and not self.context.reconcile:
            log.info(
                "salesforce %s: %s are formula fields (they change without a new "
                "SystemModstamp); run `tracker sync %s --reconcile` regularly",
                self.name,
                ", ".join(formulas),
                self.name,
            )
        plan.rates = self.rates.read()

    def read_all(self, soql: str) -> list[Record]:
        """Every row of a small query (rates, users)."""
        return [r for page in iter_query(self.client, soql, include_deleted=False) for r in page]

    def prefetch(self) -> None:
        """This sync's fixed reads in one composite call (one call toward the API limits).

        The describes, ``CurrencyType``, every User, the first page of each SystemModstamp
        pass and the ``getDeleted`` window: each later direct call with the same request
        takes its answer instead of calling. What depends on describe (``CurrencyIsoCode``
        in the Opportunity select) is asked as the last sync found it (``mc`` in the
        cursor); should describe now say otherwise, that answer is simply not taken. The
        first sync asks only what does not depend on describe.
        """
        client, plan = self.client, self.plan
        reads: list[Read] = [ask_describe(obj) for obj in OBJECTS]
        hint = self.cursor.get("mc")
        reads += self.rates.reads()
        reads.append(ask_query(self.user_soql(), include_deleted=False))
        reads.append(self.first_page("acct", "Account", plan.account_select()))
        if self.state("opp") is None:
            reads.append(ask_query(count_soql(self.s.since_datetime), include_deleted=True))
            if not isinstance(self.cursor.get("bulk"), dict):
                reads.append(
                    ask_query(first_created_soql(self.s.since_datetime), include_deleted=True)
                )
        elif isinstance(hint, bool):
            guess = replace(plan, multi_currency=hint)
            reads.append(self.first_page("opp", "Opportunity", guess.opportunity_select()))
            if self.state("li") is not None:
                reads.append(self.first_page("li", "OpportunityLineItem", LINE_ITEM_STAMPS))
            window = self.deleted_window(estimate=True)
            if window is not None:
                reads.append(ask_deleted("Opportunity", *window))
        if self.s.activities:
            reads += activity_reads(self)
        client.prefetch(reads)

    def first_page(self, key: str, sobject: str, select: str) -> Read:
        """The first keyset query ``pages(key, ...)`` will make."""
        since = self.s.since_datetime if key in SINCE_KEYS else None
        where = lower_bound(self.state(key), self.overlap, since)
        soql = keyset_soql(sobject, select, where, self.s.page_size)
        return ask_query(soql, include_deleted=True)

    def deleted_window(
        self, *, estimate: bool = False, key: str = "deleted"
    ) -> tuple[datetime, datetime] | None:
        """The getDeleted window since the last sync (None: no deletion read yet); ``key``:
        where the cursor keeps its start (``task_deleted``, ``event_deleted`` for activities).

        ``estimate``: before any answer, the server's time is guessed from the local clock
        and the offset seen last time (None when there is none).
        """
        since = parse_datetime(self.cursor.get(key))
        if since is None:
            return None
        start = since - self.overlap
        if not estimate:
            return start, max(self.now, start) + timedelta(minutes=1)
        skew = self.cursor.get("skew")
        if not isinstance(skew, int | float):
            return None
        guess = datetime.now(UTC) + timedelta(seconds=skew)
        return start, max(guess, start) + DELETED_MARGIN

    def set_budget(self) -> None:
        """This run's budget: ``max_api_percent`` of the requests left today.

        ``Sforce-Limit-Info`` comes with every response; ``limits`` is asked only without it.
        """
        usage = self.client.api_usage
        if usage is not None:
            remaining = max(usage[1] - usage[0], 0)
        else:
            daily = self.client.limits().get("DailyApiRequests") or {}
            remaining = int(daily.get("Remaining", 0) or 0)
        self.client.budget.remaining_today = remaining
        allowed = max(1, math.floor(remaining * self.s.max_api_percent / 100))
        self.client.budget.limit = self.client.calls + allowed
        log.info(
            "salesforce %s: %s API requests left today; this run may use %s",
            self.name,
            f"{remaining:,}",
            f"{allowed:,}",
        )

    def user_soql(self) -> str:
        return f"SELECT {self.plan.user_select()} FROM User"

    def users(self) -> list[Record]:
        return self.read_all(self.user_soql())

    def keyset(self, key: str, sobject: str, select: str) -> Iterator[Page]:
        """Keyset pages of ``sobject`` from the cursor's ``key`` state (not advanced)."""
        return keyset_pages(
            self.client,
            sobject,
            select,
            self.state(key),
            now=self.now,
            overlap=self.overlap,
            since=self.s.since_datetime if key == "opp" else None,
            page_size=self.s.page_size,
        )

    def pages(self, key: str, sobject: str, select: str) -> Iterator[tuple[list[Record], bool]]:
        """Keyset pages of ``sobject``; the cursor's ``key`` state is advanced per page."""
        for page in self.keyset(key, sobject, select):
            self.cursor[key] = page.state.dump()
            yield page.records, page.last

    def accounts(self, key: str) -> Iterator[Batch]:
        for records, _ in self.pages(key, "Account", self.plan.account_select()):
            yield self.account_batch(records)

    def account_batch(self, records: list[Record]) -> Batch:
        """One page of accounts as a batch (with the cursor as it stands)."""
        return self.batch(accounts=[self.plan.account(r) for r in records])

    def opportunities(self, key: str) -> Iterator[Batch]:
        select = self.plan.opportunity_select()
        for records, last in self.pages(key, "Opportunity", select):
            if key in ("opp", "recon") and len(self.fresh_deals) < FRESH_MEMORY:
                self.fresh_deals.update(r["Id"] for r in records)
            if last and key == "opp":
                self.watch_from_here()
            yield self.batch(deals=self.rates.deals(records))

    def watch_from_here(self) -> None:
        """After a complete pass: start the line-item and deleted-log windows at its end."""
        done = self.state("opp")
        if self.cursor.get("li") is None and done is not None:
            # the pass just read every line item: watch them on their own from here on
            self.cursor["li"] = StreamState(stamp=done.stamp).dump()
            self._li_fresh = True
        self.cursor.setdefault("deleted", self.cursor["opp"]["stamp"])

    def line_items(self) -> Iterator[Batch]:
        """Opportunities whose line items changed without the opportunity's own stamp."""
        if self.state("li") is None or self._li_fresh:
            return
        for records, _ in self.pages("li", "OpportunityLineItem", LINE_ITEM_STAMPS):
            ids = sorted(
                {
                    r["OpportunityId"]
                    for r in records
                    if r.get("OpportunityId") and not self._seen_fresh(r)
                }
            )
            deals = self.rates.deals(self.fetch_deals(ids))
            yield self.batch(deals=deals)

    def _seen_fresh(self, line: Record) -> bool:
        """Was this line item's opportunity read (with it) earlier in this run?

        True only when the line's stamp predates this run: the opportunity pass, which
        started later, then saw the line as it is (saves re-reading the overlap window).
        """
        stamp = parse_datetime(line.get("SystemModstamp"))
        return line["OpportunityId"] in self.fresh_deals and stamp is not None and stamp < self.now

    def fetch_deals(self, ids: list[str]) -> list[Record]:
        out: list[Record] = []
        select = self.plan.opportunity_select()
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ", ".join(soql_id(i) for i in ids[start : start + ID_CHUNK])
            soql = f"SELECT {select} FROM Opportunity WHERE Id IN ({chunk})"
            for page in iter_query(self.client, soql, include_deleted=True):
                complete_children(self.client, page)
                out.extend(page)
        return out

    def reconcile_pass(self) -> Iterator[Batch]:
        """Re-read every account and opportunity (formula fields change without a stamp)."""
        for key, sobject in (("recon_acct", "Account"), ("recon", "Opportunity")):
            state = self.state(key)
            if state is not None and state.done:
                continue
            if sobject == "Account":
                yield from self.accounts(key)
            else:
                yield from self.opportunities(key)

    def count_deals(self) -> int | None:
        body = self.client.query(count_soql(self.s.since_datetime), include_deleted=True)
        size = body.get("totalSize")
        return int(size) if isinstance(size, int) else None
