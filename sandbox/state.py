"""Everything a running sandbox holds: both CRMs' data, clock, tokens, budgets, faults.

Handlers reach their data through the :class:`SandboxState` passed to ``register``:

* ``state.salesforce``: the org's ``SObjectDatabase`` (``sobjects.py``);
* ``state.hubspot``: the portal's ``HubSpotData`` (``hsdata.py``);
* ``state.now()``: the sandbox clock, aware UTC. It starts at the generator's ``now`` and
  runs forward with the wall clock (monotonic), so stamps of later changes are always
  later; ``advance()`` jumps it ahead;
* ``state.lock``: held by the dispatcher around every handler and by every mutation;
* ``state.rates``: conversion rates to the reporting currency (``rates["EUR"] == 1.08``
  means 1 EUR = 1.08 in ``state.reporting_currency``), also the Salesforce
  ``DatedConversionRate``/HubSpot exchange rates of the org/portal.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from sandbox.errors import daily_limit, session_expired
from sandbox.faults import FaultPlan
from sandbox.server import Counters, Request

if TYPE_CHECKING:
    from sandbox.hubspot.data import HubSpotData
    from sandbox.salesforce.sobjects import SObjectDatabase


class Clock:
    """Sandbox time: ``start`` plus the monotonic time elapsed since creation, plus skips."""

    def __init__(self, start: datetime) -> None:
        self._start = start.astimezone(UTC)
        self._mono = time.monotonic()
        self._skip = timedelta()
        self._last = self._start

    def now(self) -> datetime:
        """The current sandbox time (aware UTC, strictly non-decreasing)."""
        t = self._start + self._skip + timedelta(seconds=time.monotonic() - self._mono)
        if t < self._last:
            t = self._last
        self._last = t
        return t

    def advance(self, seconds: float) -> None:
        """Jump the clock forward."""
        self._skip += timedelta(seconds=seconds)


@dataclass
class Budget:
    """A daily request budget (Salesforce API requests / HubSpot daily limit).

    Defaults: 15,000 for Salesforce (a Developer org), 250,000 for HubSpot (a private
    app on Professional); ``Sandbox.set_budget()`` changes them."""

    total: int
    used: int = 0
    secondly: int = 100
    reports_daily: bool = True
    """HubSpot: send the ``X-HubSpot-RateLimit-Daily(-Remaining)`` headers (private apps
    get them; OAuth apps learn of the daily limit only once it is exceeded)."""

    @property
    def remaining(self) -> int:
        """Requests left today (never negative)."""
        return max(self.total - self.used, 0)


@dataclass
class SandboxState:
    """The shared state of one running sandbox (both CRMs)."""

    salesforce: SObjectDatabase
    hubspot: HubSpotData
    clock: Clock
    rates: dict[str, float]
    dated_rates: dict[str, list[tuple[date, float]]] = field(default_factory=dict)
    reporting_currency: str = "USD"
    hubspot_timezone: str = "America/New_York"
    tokens: dict[str, str] = field(
        default_factory=lambda: {"salesforce": "sandbox-sf-token", "hubspot": "sandbox-hs-token"}
    )
    budgets: dict[str, Budget] = field(
        default_factory=lambda: {"salesforce": Budget(15_000), "hubspot": Budget(250_000)}
    )
    counters: Counters = field(default_factory=Counters)
    faults: FaultPlan = field(default_factory=FaultPlan)
    lock: threading.RLock = field(default_factory=threading.RLock)
    salesforce_gone: set[str] = field(default_factory=set)
    """Opportunity Ids hard-deleted from the org (the truth lists them as gone)."""

    def now(self) -> datetime:
        """The sandbox clock."""
        return self.clock.now()

    def check_auth(self, api: str, req: Request) -> None:
        """Raise the api's 401 unless the request carries the api's current bearer token."""
        auth = req.headers.get("Authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if token != self.tokens[api]:
            raise session_expired(api)

    def consume_budget(self, api: str) -> None:
        """Count one request against the daily budget; raise once it is spent."""
        with self.lock:
            budget = self.budgets[api]
            if budget.used >= budget.total:
                raise daily_limit(api)
            budget.used += 1

    def limit_headers(self, api: str) -> dict[str, str]:
        """The rate-limit headers the vendor adds to every response."""
        budget = self.budgets[api]
        if api == "salesforce":
            return {"Sforce-Limit-Info": f"api-usage={budget.used}/{budget.total}"}
        daily = {
            "X-HubSpot-RateLimit-Daily": str(budget.total),
            "X-HubSpot-RateLimit-Daily-Remaining": str(budget.remaining),
        }
        return {
            **(daily if budget.reports_daily else {}),
            "X-HubSpot-RateLimit-Secondly": str(budget.secondly),
            "X-HubSpot-RateLimit-Secondly-Remaining": str(budget.secondly - 1),
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": str(budget.secondly * 10),
            "X-HubSpot-RateLimit-Remaining": str(budget.secondly * 10 - 1),
        }
