"""The control handle tests, demos and benchmarks drive the sandbox with.

::

    with Sandbox.start(deals=500, seed=7) as sb:
        sf = Salesforce(instance_url=sb.salesforce_url, session_id=sb.salesforce_token,
                        session=sb.session())
        hs = HubSpot(access_token=sb.hubspot_token, host=sb.hubspot_url)
        sb.faults.add("429@hubspot,retry_after=1,times=2")
        sb.delete_deals("hubspot", n=3)
        truth = sb.truth("hubspot")          # what a perfect sync stores now
        sb.counters.snapshot()               # requests per endpoint, faults served

Both CRMs answer on one loopback port (paths never collide); ``salesforce_url`` and
``hubspot_url`` are the same ``http://127.0.0.1:PORT``. Salesforce's SDK needs
:meth:`Sandbox.session` (rewrites its ``https://`` URLs to ``http://``).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta

from sandbox.faults import FaultPlan
from sandbox.generator import Company, generate
from sandbox.http import LoopbackSession
from sandbox.hubspot import api as hubspot
from sandbox.hubspot.data import HubSpotData, load_hubspot
from sandbox.hubspot.truth import hubspot_truth
from sandbox.mutations import (
    LATE_COMMIT_LAG,
    activity_ids,
    apply_data_fault,
    change_activity,
    deal_ids,
    delete_deal,
    hard_delete_deal,
    late_commit,
    merge_deals,
    purge_activity,
    same_stamp,
    undelete_deal,
    update_deal,
)
from sandbox.salesforce import api as salesforce
from sandbox.salesforce.load import load_salesforce, new_database, publish_dated_rates
from sandbox.salesforce.truth import salesforce_truth
from sandbox.server import Counters, Dispatcher, Router, SandboxHTTPServer
from sandbox.state import Budget, Clock, SandboxState
from sandbox.truth import Truth

log = logging.getLogger(__name__)
CRMS = ("salesforce", "hubspot")


def build_state(company: Company, *, dated_rates: bool = True) -> SandboxState:
    """Load a generated company into both CRMs (``dated_rates``: the Salesforce org uses
    advanced currency management)."""
    clock = Clock(company.now)
    db = new_database(lambda: clock.now().replace(microsecond=0), dated_rates=dated_rates)
    hs = HubSpotData()
    load_salesforce(db, company)
    load_hubspot(hs, company)
    return SandboxState(
        salesforce=db,
        hubspot=hs,
        clock=clock,
        rates=dict(company.rates),
        dated_rates=dict(company.dated_rates),
        lock=db.lock,
        faults=FaultPlan(apply_data=apply_data_fault),
    )


def build_router(state: SandboxState) -> tuple[Router, salesforce.SalesforceApi]:
    """A router with both CRMs' routes; also the Salesforce handler object."""
    router = Router()
    hubspot.register(router, state)
    return router, salesforce.register(router, state)


def canonical_truth(company: Company) -> dict[str, Truth]:
    """The truth of a generated company per CRM, without serving anything."""
    state = build_state(company)
    return {
        "salesforce": salesforce_truth(
            state.salesforce, state.rates, state.salesforce_gone, state.dated_rates
        ),
        "hubspot": hubspot_truth(state.hubspot, state.rates),
    }


class Sandbox:
    """A running sandbox: URLs, tokens, data mutations, truth, counters and faults."""

    def __init__(self, state: SandboxState, port: int = 0, host: str = "127.0.0.1") -> None:
        self.state = state
        self.router, self.salesforce_api = build_router(state)
        self.server = SandboxHTTPServer(port, Dispatcher(self.router, state), host=host)
        self._thread = self.server.start_background()

    @classmethod
    @contextmanager
    def start(
        cls,
        deals: int = 1000,
        seed: int = 0,
        now: datetime | None = None,
        port: int = 0,
        *,
        faults: str | None = None,
        quarters: int = 10,
        hubspot_share: float = 0.3,
        dated_rates: bool = True,
        activities_per_deal: float = 0.0,
    ) -> Iterator[Sandbox]:
        """Generate data, serve it on ``port`` (0: ephemeral) and stop on exit
        (``dated_rates``: the Salesforce org uses advanced currency management;
        ``activities_per_deal``: calls, meetings, emails and tasks, about that many a deal)."""
        company = generate(
            deals,
            seed,
            now,
            quarters=quarters,
            hubspot_share=hubspot_share,
            activities_per_deal=activities_per_deal,
        )
        state = build_state(company, dated_rates=dated_rates)
        del company  # the CRMs hold the data now; the neutral copy would double the memory
        sandbox = cls(state, port)
        if faults:
            sandbox.faults.add(faults)
        try:
            yield sandbox
        finally:
            sandbox.stop()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.server.shutdown()
        self.server.server_close()

    # where and how to connect

    @property
    def port(self) -> int:
        """The bound port."""
        return self.server.port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, the base URL of both CRMs."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def salesforce_url(self) -> str:
        """The Salesforce instance URL."""
        return self.url

    @property
    def hubspot_url(self) -> str:
        """The HubSpot API host (pass as ``HubSpot(host=...)``)."""
        return self.url

    @property
    def salesforce_token(self) -> str:
        """The current Salesforce session id."""
        return self.state.tokens["salesforce"]

    @property
    def hubspot_token(self) -> str:
        """The current HubSpot access token."""
        return self.state.tokens["hubspot"]

    def session(self) -> LoopbackSession:
        """A ``requests.Session`` for simple-salesforce (https→http, login hosts here)."""
        return LoopbackSession(login_base=self.url)

    # observing

    @property
    def counters(self) -> Counters:
        """Requests per endpoint, faults served, statuses (``counters.snapshot()``)."""
        return self.state.counters

    @property
    def faults(self) -> FaultPlan:
        """The fault rules (``faults.add(SPEC)``, ``faults.clear()``)."""
        return self.state.faults

    @property
    def rates(self) -> dict[str, float]:
        """Conversion rates to the reporting currency (USD)."""
        return dict(self.state.rates)

    def now(self) -> datetime:
        """The sandbox clock."""
        return self.state.now()

    def advance_clock(self, seconds: float) -> None:
        """Jump the sandbox clock forward."""
        self.state.clock.advance(seconds)

    def truth(self, crm: str) -> Truth:
        """What a perfect sync of ``crm`` would store right now (see ``truth.py``)."""
        with self.state.lock:
            if _crm(crm) == "salesforce":
                return salesforce_truth(
                    self.state.salesforce,
                    self.state.rates,
                    self.state.salesforce_gone,
                    self.state.dated_rates,
                )
            return hubspot_truth(self.state.hubspot, self.state.rates)

    def deal_ids(self, crm: str, *, deleted: bool = False) -> list[str]:
        """Ids of live (or soft-deleted) deals, oldest first."""
        with self.state.lock:
            return deal_ids(self.state, _crm(crm), deleted=deleted)

    def set_dated_rates(self, currency: str, schedule: Sequence[tuple[date, float]]) -> None:
        """Replace the Salesforce org's dated rates of ``currency`` (advanced currency
        management): (start, USD per 1 unit) in date order, each in force until the next
        starts, the last open-ended; before the first, ``CurrencyType`` applies."""
        with self.state.lock:
            if "DatedConversionRate" not in self.state.salesforce.objects:
                raise ValueError("this org has no advanced currency management (dated_rates)")
            publish_dated_rates(self.state.salesforce, currency, schedule, self.now())
            self.state.dated_rates[currency] = list(schedule)

    # auth and budgets

    def expire_session(self, crm: str) -> str:
        """Invalidate the current token of ``crm`` (later calls get 401); returns the new one
        (which the Salesforce login endpoints also hand out)."""
        new = f"sandbox-{_crm(crm)[:2]}-{random.getrandbits(48):012x}"
        self.state.tokens[_crm(crm)] = new
        return new

    def set_budget(self, crm: str, total: int, used: int = 0) -> None:
        """Set the daily request budget; once ``used >= total`` every call is refused."""
        with self.state.lock:
            self.state.budgets[_crm(crm)] = Budget(total=total, used=used)

    # data changes (each picks ``n`` random live deals when ``ids`` is None)

    def _pick(
        self, crm: str, ids: Sequence[str] | None, n: int, deleted: bool = False
    ) -> list[str]:
        if ids is not None:
            return list(ids)
        pool = deal_ids(self.state, _crm(crm), deleted=deleted)
        return random.Random(len(pool)).sample(pool, min(n, len(pool)))

    def update_deals(
        self,
        crm: str,
        ids: Sequence[str] | None = None,
        n: int = 1,
        *,
        amount: float | None = None,
        name: str | None = None,
    ) -> list[str]:
        """Change deals (amount +10 %, or ``amount``; ``name`` when given) with a fresh
        modstamp."""
        with self.state.lock:
            picked = self._pick(crm, ids, n)
            for i in picked:
                update_deal(self.state, _crm(crm), i, amount=amount, name=name)
            return picked

    def delete_deals(self, crm: str, ids: Sequence[str] | None = None, n: int = 1) -> list[str]:
        """Soft-delete deals (Salesforce recycle bin / HubSpot archive)."""
        with self.state.lock:
            picked = self._pick(crm, ids, n)
            for i in picked:
                delete_deal(self.state, _crm(crm), i)
            return picked

    def undelete_deals(self, crm: str, ids: Sequence[str] | None = None, n: int = 1) -> list[str]:
        """Restore soft-deleted deals."""
        with self.state.lock:
            picked = self._pick(crm, ids, n, deleted=True)
            for i in picked:
                undelete_deal(self.state, _crm(crm), i)
            return picked

    def hard_delete_deals(
        self, crm: str, ids: Sequence[str] | None = None, n: int = 1
    ) -> list[str]:
        """Remove deals for good (never in queryAll / archived listings)."""
        with self.state.lock:
            picked = self._pick(crm, ids, n)
            for i in picked:
                hard_delete_deal(self.state, _crm(crm), i)
            return picked

    def merge_deals(self, crm: str, winner: str, loser: str) -> None:
        """Merge ``loser`` into ``winner`` (see ``mutations.merge_deals``)."""
        with self.state.lock:
            merge_deals(self.state, _crm(crm), winner, loser)

    def late_commit(
        self,
        crm: str,
        ids: Sequence[str] | None = None,
        n: int = 1,
        lag: timedelta = LATE_COMMIT_LAG,
    ) -> list[str]:
        """Change deals but stamp them ``lag`` in the past (a late commit)."""
        with self.state.lock:
            picked = self._pick(crm, ids, n)
            late_commit(self.state, _crm(crm), picked, lag)
            return picked

    # activities (calls, meetings, emails, tasks)

    def activity_ids(self, crm: str) -> list[str]:
        """Ids of live activities (Salesforce Task and Event; HubSpot calls, meetings,
        emails), oldest first."""
        with self.state.lock:
            return activity_ids(self.state, _crm(crm))

    def update_activities(
        self, crm: str, ids: Sequence[str] | None = None, n: int = 1
    ) -> list[str]:
        """Change activities (a new subject) with a fresh modstamp."""
        with self.state.lock:
            picked = self._pick_activities(crm, ids, n)
            for i in picked:
                change_activity(self.state, _crm(crm), i, delete=False)
            return picked

    def delete_activities(
        self, crm: str, ids: Sequence[str] | None = None, n: int = 1
    ) -> list[str]:
        """Soft-delete activities (Salesforce recycle bin / HubSpot archive)."""
        with self.state.lock:
            picked = self._pick_activities(crm, ids, n)
            for i in picked:
                change_activity(self.state, _crm(crm), i, delete=True)
            return picked

    def purge_activities(self, crm: str, ids: Sequence[str] | None = None, n: int = 1) -> list[str]:
        """Salesforce: delete activities and empty the recycle bin (only ``getDeleted``
        still knows them)."""
        with self.state.lock:
            picked = self._pick_activities(crm, ids, n)
            for i in picked:
                purge_activity(self.state, i)
            return picked

    def _pick_activities(self, crm: str, ids: Sequence[str] | None, n: int) -> list[str]:
        if ids is not None:
            return list(ids)
        pool = activity_ids(self.state, _crm(crm))
        self._activity_picks = getattr(self, "_activity_picks", 0) + 1  # new picks each call
        rng = random.Random(len(pool) * 31 + self._activity_picks)
        return rng.sample(pool, min(n, len(pool)))

    def same_stamp(
        self, crm: str, ids: Sequence[str] | None = None, n: int = 10
    ) -> tuple[list[str], datetime]:
        """Change deals so they all share one modstamp; returns (ids, stamp)."""
        with self.state.lock:
            picked = self._pick(crm, ids, n)
            return picked, same_stamp(self.state, _crm(crm), picked)


def _crm(name: str) -> str:
    aliases = {"sf": "salesforce", "hs": "hubspot"}
    crm = aliases.get(name, name)
    if crm not in CRMS:
        raise ValueError(f"unknown CRM {name!r} (salesforce or hubspot)")
    return crm
