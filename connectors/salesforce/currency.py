"""The org's exchange rates, as ``tracker.money.Rates`` into the reporting currency.

Salesforce gives ``ConversionRate`` as units of a currency per 1 unit of the org's
corporate currency, stored with 6 decimals; a currency converts into the reporting one
with ``rate(reporting) / rate(currency)``, rounded to 6 significant digits (the precision
that survives the inversion: 0.925926 reads back as the 1.08 it stands for).

* Single-currency orgs: ``[tracker.exchange_rates]``.
* Multi-currency orgs: the active ``CurrencyType`` rates.
* With advanced currency management (ACM) the ``DatedConversionRate`` ranges: the rate in
  force on the deal's close date (``StartDate`` <= close date < ``NextStartDate``), as
  Salesforce converts opportunity amounts. ACM is detected by the object existing: it
  exists only in ACM orgs, and whether it does is asked inside the opening composite call
  (``sobjects/DatedConversionRate/``, no call of its own); ``dated_rates = false`` skips
  it. A deal no dated range covers converts at the ``CurrencyType`` rates, which are read
  only when the first such deal turns up (in most ACM orgs the ranges cover all time, and
  a sync then makes no call for them).

A currency with no rate at all leaves the deal unconverted (``tracker.money``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from connectors.salesforce.composite import Read, ask_query, ask_sobject
from connectors.salesforce.streams import iter_query
from tracker.errors import ConfigError
from tracker.money import DatedRate, Rates
from tracker.records import DealRecord

if TYPE_CHECKING:
    from connectors.salesforce.connector import SalesforceRun

log = logging.getLogger(__name__)
Record = dict[str, Any]

CURRENCY_SOQL = "SELECT IsoCode, ConversionRate FROM CurrencyType WHERE IsActive = true"
DATED_OBJECT = "DatedConversionRate"
DATED_RATES_SOQL = f"SELECT IsoCode, ConversionRate, StartDate, NextStartDate FROM {DATED_OBJECT}"


class OrgRates:
    """The rates of one sync run: read at its start, completed when a deal needs it."""

    def __init__(self, run: SalesforceRun) -> None:
        self.run = run
        self.currency_types_due = False  # ACM: CurrencyType not read yet

    def reads(self) -> list[Read]:
        """What the opening composite call asks for rates, as the last sync found the org
        (``mc``: multi-currency, ``acm``: dated rates) in the cursor."""
        cursor, dated = self.run.cursor, self.run.s.dated_rates
        if cursor.get("mc") is False:
            return []
        reads = [ask_sobject(DATED_OBJECT)] if dated else []
        if cursor.get("mc") is True:  # one query only: Composite takes 5 a call
            acm = dated and cursor.get("acm")
            reads.append(
                ask_query(DATED_RATES_SOQL if acm else CURRENCY_SOQL, include_deleted=False)
            )
        return reads

    def read(self) -> Rates:
        """The rates as the org (or the config) gives them; notes in the cursor whether
        the org has dated rates."""
        run, reporting = self.run, self.run.context.tracker.currency
        if not run.plan.multi_currency:
            run.plan.default_currency = run.s.currency or reporting
            return Rates(reporting, dict(run.context.tracker.exchange_rates))
        acm = run.s.dated_rates and run.client.sobject_exists(DATED_OBJECT)
        dated = dated_rates(self.rows(DATED_RATES_SOQL)) if acm else {}
        run.cursor["acm"] = bool(dated)
        if not dated:
            return Rates(reporting, currency_factors(self.rows(CURRENCY_SOQL), reporting))
        check_reporting_currency(dated, reporting)
        self.currency_types_due = True
        return Rates(reporting, dated=dated)

    def deals(self, records: Sequence[Record]) -> list[DealRecord]:
        """Opportunities as deals; the first one with an amount that no dated rate covers
        brings the ``CurrencyType`` rates in (one query), and the page is mapped again."""
        plan = self.run.plan
        deals = [plan.deal(r) for r in records]
        if self.currency_types_due and any(_unconverted(d) for d in deals):
            self.currency_types_due = False
            reporting = self.run.context.tracker.currency
            flat = currency_factors(self.rows(CURRENCY_SOQL), reporting)
            plan.rates = replace(plan.rates, flat=flat)
            log.info(
                "salesforce %s: deals outside every dated range convert at CurrencyType rates",
                self.run.name,
            )
            deals = [plan.deal(r) for r in records]
        return deals

    def rows(self, soql: str) -> list[Record]:
        """Every row of a rates query."""
        client = self.run.client
        return [r for page in iter_query(client, soql, include_deleted=False) for r in page]


def _unconverted(deal: DealRecord) -> bool:
    return deal.amount is not None and deal.amount_reporting is None


def dated_rates(rows: Iterable[Record]) -> dict[str, tuple[DatedRate, ...]]:
    """``DatedConversionRate`` rows → per currency, its ranges (units per corporate unit)."""
    out: dict[str, list[DatedRate]] = {}
    for r in rows:
        start, rate = _date(r.get("StartDate")), r.get("ConversionRate")
        if start is None or not rate:
            continue
        ranges = out.setdefault(str(r["IsoCode"]), [])
        ranges.append(DatedRate(start, _date(r.get("NextStartDate")), float(rate)))
    return {code: tuple(sorted(ranges, key=lambda d: d.start)) for code, ranges in out.items()}


def check_reporting_currency(active: Iterable[str], reporting: str) -> None:
    """A ``ConfigError`` unless ``reporting`` is one of the org's active currencies."""
    codes = set(active)
    if reporting not in codes:
        raise ConfigError(
            f"[tracker] currency {reporting} is not an active currency of the Salesforce org "
            f"(active: {', '.join(sorted(codes))}); set [tracker] currency to one of them"
        )


def currency_factors(rows: Iterable[Record], reporting: str) -> dict[str, float]:
    """``CurrencyType`` rows → units of ``reporting`` per unit of each active currency."""
    rates = {r["IsoCode"]: float(r["ConversionRate"]) for r in rows if r.get("ConversionRate")}
    check_reporting_currency(rates, reporting)
    base = rates[reporting]
    return {code: float(f"{base / rate:.6g}") for code, rate in rates.items()}


def _date(value: Any) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None
