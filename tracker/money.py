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

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from tracker.records import DealRecord
from tracker.wording import plural

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
    _starts: dict[str, tuple[list[date], tuple[DatedRate, ...]]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # each currency's ranges by start, for a binary search per deal (orgs keep years
        # of daily rates: a scan would cost milliseconds a deal)
        index = {}
        for code, ranges in self.dated.items():
            ordered = tuple(sorted(ranges, key=lambda r: r.start))
            index[code] = ([r.start for r in ordered], ordered)
        object.__setattr__(self, "_starts", index)

    def rate(self, currency: str, on: date | None = None) -> float | None:
        """Units of the reporting currency per 1 unit of ``currency`` (on ``on``), or None
        when no rate is known."""
        code = currency.upper()
        if code == self.reporting:
            return 1.0
        if on is not None and self.dated:
            base = self._in_force(self.reporting, on)
            own = self._in_force(code, on)
            if base is not None and own:
                # 6 significant digits: what survives the CRM's 6-decimal inverse rates
                return float(f"{base / own:.6g}")
        return self.flat.get(code)

    def _in_force(self, code: str, day: date) -> float | None:
        starts, ranges = self._starts.get(code, ([], ()))
        at = bisect.bisect_right(starts, day) - 1
        return ranges[at].per_base if at >= 0 and ranges[at].covers(day) else None

    def convert(
        self, amount: float | None, currency: str | None, on: date | None = None
    ) -> float | None:
        """``amount`` in the reporting currency; None without an amount or a rate."""
        if amount is None or currency is None:
            return None
        rate = self.rate(currency, on)
        return None if rate is None else round(amount * rate, DECIMALS)


def is_unconverted(deal: DealRecord) -> bool:
    """A live deal with an amount but no reporting amount (its currency had no rate)."""
    return deal.amount is not None and deal.amount_reporting is None and not deal.is_deleted


def unconverted(deals: Iterable[DealRecord]) -> dict[str, int]:
    """Live deals with an amount but no reporting amount, per currency."""
    out: dict[str, int] = {}
    for deal in deals:
        if is_unconverted(deal):
            code = deal.currency or "?"
            out[code] = out.get(code, 0) + 1
    return out


class UnconvertedDeals:
    """The unconverted deals a sync run received, per currency, each deal counted once
    however often the run receives it (overlap windows and re-reads repeat deals)."""

    def __init__(self) -> None:
        self._ids: dict[str, set[str]] = {}

    def add(self, deals: Iterable[DealRecord]) -> dict[str, int]:
        """Note ``deals``; returns the counts so far (currency → deals)."""
        for deal in deals:
            if is_unconverted(deal):
                self._ids.setdefault(deal.currency or "?", set()).add(deal.external_id)
        return {code: len(ids) for code, ids in sorted(self._ids.items())}


def missing_rate_hint(currency: str, reporting: str, *, org_rates: bool = False) -> str:
    """What converts ``currency``, worded the same everywhere. ``org_rates``: the source
    takes its rates from the CRM (a multi-currency Salesforce org), where the currency must
    be active; the config's rates serve single-currency orgs and the other sources."""
    line = f"add {currency} = <{reporting} per 1 {currency}> under [tracker.exchange_rates]"
    if org_rates:
        return f"activate {currency} in Salesforce's currency setup (single-currency org: {line})"
    return line


def unconverted_warning(
    currency: str, count: int, reporting: str, *, org_rates: bool = False
) -> str:
    """``12 deals in EUR not converted to USD: add EUR = ...``: one line per currency, as
    status shows it and the sync logs it."""
    deals = plural(count, "deal")
    hint = missing_rate_hint(currency, reporting, org_rates=org_rates)
    return f"{deals} in {currency} not converted to {reporting}: {hint}"
