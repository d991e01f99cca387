"""One money rule: a deal's amount in the reporting currency.

Every connector converts through :class:`Rates` (``[tracker] currency`` is the reporting
currency, ``[tracker.exchange_rates]`` the flat rates, and a CRM may add its own: Salesforce
``CurrencyType``, and ``DatedConversionRate`` in orgs with advanced currency management).
A deal whose currency has no rate keeps its own ``amount`` and ``currency`` with
``amount_reporting = None``: it is stored, counted as *unconverted* in the sync run, shown
by ``tracker status`` with the key that fixes it, and lowers the coverage of money metrics.
It never becomes a silent 0, never fails a sync and never rejects a row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from tracker.records import DealRecord

DECIMALS = 6  # reporting amounts are kept to the micro-unit (no binary noise beyond it)


@dataclass(frozen=True)
class DatedRate:
    """A rate in force from ``start`` (inclusive) until ``end`` (exclusive; None: open),
    as units of the currency per 1 unit of a common base (Salesforce's corporate currency)."""

    start: date
    end: date | None
    per_base: float

    def covers(self, day: date) -> bool:
        """Whether the rate is in force on ``day``."""
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(frozen=True)
class Rates:
    """How amounts convert into ``reporting``.

    * ``flat``: units of ``reporting`` per 1 unit of each currency;
    * ``dated``: per currency, date ranges of units per 1 unit of a common base; a deal's
      close date picks the range in force, as Salesforce converts opportunity amounts. A
      deal without a close date, or outside every range, falls back to ``flat``.
    """

    reporting: str
    flat: Mapping[str, float] = field(default_factory=dict)
    dated: Mapping[str, tuple[DatedRate, ...]] = field(default_factory=dict)

    def rate(self, currency: str, on: date | None = None) -> float | None:
        """Units of the reporting currency per 1 unit of ``currency`` (on ``on``), or None
        when no rate is known."""
        code = currency.upper()
        if code == self.reporting:
            return 1.0
        if on is not None and self.dated:
            base = _in_force(self.dated.get(self.reporting, ()), on)
            own = _in_force(self.dated.get(code, ()), on)
            if base is not None and own:
                # 6 significant digits: what survives the CRM's 6-decimal inverse rates
                return float(f"{base / own:.6g}")
        return self.flat.get(code)

    def convert(
        self, amount: float | None, currency: str | None, on: date | None = None
    ) -> float | None:
        """``amount`` in the reporting currency; None without an amount or a rate."""
        if amount is None or currency is None:
            return None
        rate = self.rate(currency, on)
        return None if rate is None else round(amount * rate, DECIMALS)


def _in_force(ranges: Iterable[DatedRate], day: date) -> float | None:
    return next((r.per_base for r in ranges if r.covers(day)), None)


def unconverted(deals: Iterable[DealRecord]) -> dict[str, int]:
    """Live deals with an amount but no reporting amount, per currency."""
    out: dict[str, int] = {}
    for deal in deals:
        if deal.amount is not None and deal.amount_reporting is None and not deal.is_deleted:
            code = deal.currency or "?"
            out[code] = out.get(code, 0) + 1
    return out


def missing_rate_hint(currency: str, reporting: str) -> str:
    """The config line that converts ``currency``, worded the same everywhere."""
    return f"add {currency} = <{reporting} per 1 {currency}> under [tracker.exchange_rates]"
