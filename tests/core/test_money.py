"""The one money rule, with hand-worked figures."""

from __future__ import annotations

from datetime import date

from tracker.money import (
    DatedRate,
    Rates,
    UnconvertedDeals,
    missing_rate_hint,
    unconverted,
    unconverted_warning,
)
from tracker.records import DealRecord

FLAT = Rates("USD", {"EUR": 1.1, "GBP": 1.25})
# units per 1 EUR (the base): USD 1.25 until 2026-01-01, then 1.10; GBP 0.8 throughout
DATED = Rates(
    "USD",
    {"EUR": 1.5},
    dated={
        "USD": (
            DatedRate(date(2025, 1, 1), date(2026, 1, 1), 1.25),
            DatedRate(date(2026, 1, 1), None, 1.1),
        ),
        "GBP": (DatedRate(date(2025, 1, 1), None, 0.8),),
        "EUR": (DatedRate(date(2025, 1, 1), None, 1.0),),
    },
)


def test_flat_rates() -> None:
    assert FLAT.convert(100.0, "EUR") == 110.0
    assert FLAT.convert(100.0, "usd") == 100.0  # the reporting currency, any case
    assert FLAT.convert(10.0, "GBP") == 12.5
    assert FLAT.convert(100.0, "JPY") is None  # no rate: unconverted, never 0
    assert FLAT.convert(None, "EUR") is None
    assert FLAT.convert(1.0, None) is None
    assert FLAT.convert(1 / 3, "EUR") == 0.366667  # kept to the micro-unit


def test_dated_rates_pick_the_range_in_force_on_the_day() -> None:
    # EUR→USD: 1.25 USD per EUR in 2025, 1.10 from 2026-01-01 (a start date is inclusive)
    assert DATED.convert(100.0, "EUR", date(2025, 12, 31)) == 125.0
    assert DATED.convert(100.0, "EUR", date(2026, 1, 1)) == 110.0
    # GBP→USD via the base: 1.25 / 0.8 = 1.5625 in 2025, 1.10 / 0.8 = 1.375 after
    assert DATED.convert(100.0, "GBP", date(2025, 6, 1)) == 156.25
    assert DATED.convert(100.0, "GBP", date(2026, 6, 1)) == 137.5
    # before every range, or without a close date: the flat rate, else nothing
    assert DATED.convert(100.0, "EUR", date(2024, 12, 31)) == 150.0
    assert DATED.convert(100.0, "EUR", None) == 150.0
    assert DATED.convert(100.0, "GBP", None) is None


def test_unconverted_counts_live_deals_with_an_amount_and_no_reporting_amount() -> None:
    deals = [
        DealRecord(external_id="1", amount=5.0, currency="JPY"),
        DealRecord(external_id="2", amount=5.0, currency="JPY"),
        DealRecord(external_id="3", amount=None, currency="JPY"),  # nothing to convert
        DealRecord(external_id="4", amount=5.0, currency="EUR", amount_reporting=5.5),
        DealRecord(external_id="5", amount=5.0, currency="CHF", is_deleted=True),
        DealRecord(external_id="6", amount=5.0, currency="CHF"),
    ]
    assert unconverted(deals) == {"JPY": 2, "CHF": 1}


def test_the_hint_names_the_key() -> None:
    assert missing_rate_hint("JPY", "EUR") == (
        "add JPY = <EUR per 1 JPY> under [tracker.exchange_rates]"
    )


def test_dated_ranges_in_any_order_with_gaps() -> None:
    # units per 1 USD (the base): GBP 0.8 in January, 0.75 in March, nothing in February
    rates = Rates(
        "USD",
        {"GBP": 1.27},
        dated={
            "USD": (DatedRate(date(2026, 1, 1), None, 1.0),),
            "GBP": (
                DatedRate(date(2026, 3, 1), date(2026, 4, 1), 0.75),
                DatedRate(date(2026, 1, 1), date(2026, 2, 1), 0.8),
            ),
        },
    )
    assert rates.convert(100.0, "GBP", date(2026, 1, 31)) == 125.0  # 1 / 0.8
    assert rates.convert(100.0, "GBP", date(2026, 2, 14)) == 127.0  # the gap: flat
    assert rates.convert(100.0, "GBP", date(2026, 3, 1)) == 133.333  # 1 / 0.75, 6 digits
    assert rates.convert(100.0, "GBP", date(2026, 4, 1)) == 127.0  # after the last: flat
    assert rates.convert(100.0, "GBP", date(2025, 12, 31)) == 127.0  # before the first


def test_a_run_counts_each_unconverted_deal_once() -> None:
    tally = UnconvertedDeals()
    first = [
        DealRecord(external_id="1", amount=5.0, currency="JPY"),
        DealRecord(external_id="2", amount=5.0, currency="CHF"),
        DealRecord(external_id="3", amount=5.0, currency="EUR", amount_reporting=5.5),
    ]
    assert tally.add(first) == {"CHF": 1, "JPY": 1}
    # deal 1 again (an overlap window reads it twice), and a new one
    again = [
        DealRecord(external_id="1", amount=6.0, currency="JPY"),
        DealRecord(external_id="4", amount=5.0, currency="JPY"),
    ]
    assert tally.add(again) == {"CHF": 1, "JPY": 2}
    assert UnconvertedDeals().add([]) == {}


def test_the_warning_counts_names_the_currency_and_the_key() -> None:
    assert unconverted_warning("EUR", 12, "USD") == (
        "12 deals in EUR not converted to USD: "
        "add EUR = <USD per 1 EUR> under [tracker.exchange_rates]"
    )
    assert unconverted_warning("JPY", 1, "EUR").startswith("1 deal in JPY not converted to EUR")
