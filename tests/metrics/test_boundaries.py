"""The edges of the metric definitions: zero denominators, same-day wins, missing dates.

Every expected figure is worked out by hand in the comments beside it.
"""

from __future__ import annotations

import math
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.metrics.metrics_fixtures import deal, run, utc, value

Q3 = "2026-Q3"
JUL = date(2026, 7, 10)


def test_zero_list_price_gives_no_discount_not_infinity() -> None:
    # Σ list = 0: 1 − 100 / 0 is undefined, so the value is null (the deal still counts in n).
    rows = run(
        [deal("d", won=True, close_date=JUL, amount=100.0, list_amount=0.0)], ["discount_pct"], [Q3]
    )
    discount = value(rows, "discount_pct")
    assert discount.value is None and discount.n == 1


def test_zero_net_gives_no_margin_not_minus_infinity() -> None:
    # Σ net = 0 with a cost of 10: (0 − 10) / 0 is undefined.
    rows = run(
        [deal("d", won=True, close_date=JUL, amount=0.0, cost_amount=10.0)],
        ["gross_margin_pct"],
        [Q3],
    )
    margin = value(rows, "gross_margin_pct")
    assert margin.value is None and margin.n == 1


def test_zero_closed_amount_gives_no_value_win_rate() -> None:
    # Σ closed amount = 0 (one won, one lost, both at 0): 0 / 0 is undefined.
    deals = [
        deal("w", won=True, close_date=JUL, amount=0.0),
        deal("l", lost=True, close_date=JUL, amount=0.0),
    ]
    rows = run(deals, ["win_rate_value", "win_rate", "avg_deal_size"], [Q3])
    assert value(rows, "win_rate_value").value is None
    assert value(rows, "win_rate").value == 0.5  # by count it is defined: 1 of 2
    assert value(rows, "avg_deal_size").value == 0.0  # 0 / 1 won deal


def test_a_deal_won_the_day_it_was_created_has_a_zero_day_cycle_and_counts() -> None:
    deals = [
        deal("same", won=True, close_date=JUL, created_at=utc("2026-07-10 09:00")),
        deal("ten", won=True, close_date=JUL, created_at=utc("2026-06-30 09:00")),
        deal("neg", won=True, close_date=JUL, created_at=utc("2026-07-11 09:00")),
    ]
    cycle = value(run(deals, ["sales_cycle_days"], [Q3]), "sales_cycle_days")
    # usable durations: 0 and 10 days (−1 excluded) → median 5, mean 5
    assert (cycle.value, cycle.n) == (5.0, 2)
    assert cycle.stats["negative_excluded"] == 1
    assert cycle.stats["mean"] == 5.0
    alone = value(run(deals[:1], ["sales_cycle_days"], [Q3]), "sales_cycle_days")
    assert (alone.value, alone.n, alone.stats["negative_excluded"]) == (0.0, 1, 0)


def test_a_won_deal_without_close_date_is_in_no_period() -> None:
    deals = [
        deal("dated", won=True, close_date=JUL, amount=100.0, created_at=utc("2026-07-01 00:00")),
        deal(
            "undated", won=True, close_date=None, amount=900.0, created_at=utc("2026-07-01 00:00")
        ),
    ]
    rows = run(deals, ["revenue", "deals_won", "win_rate", "sales_cycle_days"], [Q3, "2026"])
    for period in (Q3, "2026"):
        assert value(rows, "revenue", period).value == 100.0
        assert value(rows, "deals_won", period).value == 1
        assert value(rows, "win_rate", period).n == 1
        assert value(rows, "sales_cycle_days", period).n == 1


money = st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(nets=st.lists(money, min_size=1, max_size=6), lists=st.lists(money, min_size=1, max_size=6))
def test_discount_is_finite_or_null_and_matches_its_definition(
    nets: list[float], lists: list[float]
) -> None:
    n = min(len(nets), len(lists))
    deals = [
        deal(f"d{i}", won=True, close_date=JUL, amount=nets[i], list_amount=lists[i])
        for i in range(n)
    ]
    discount = value(run(deals, ["discount_pct"], [Q3]), "discount_pct")
    total_net, total_list = sum(nets[:n]), sum(lists[:n])
    try:
        expected: float | None = 1 - total_net / total_list
    except (ZeroDivisionError, OverflowError):
        expected = None
    if expected is None or not math.isfinite(expected):
        assert discount.value is None  # never ±inf
    else:
        assert discount.value is not None
        assert math.isclose(discount.value, expected, rel_tol=1e-9, abs_tol=1e-9)
    assert discount.n == n


def test_deals_all_unconverted_give_no_revenue_not_zero() -> None:
    # won in Q3, amounts in JPY with no rate: amount_reporting is null for both
    deals = [
        deal("a", won=True, close_date=JUL, amount=1000.0, currency="JPY"),
        deal("b", won=True, close_date=JUL, amount=500.0, currency="JPY"),
    ]
    rows = run(deals, ["revenue", "deals_won", "pipeline_created"], [Q3, "2026-Q2"])
    revenue = value(rows, "revenue", Q3)
    assert (revenue.value, revenue.n, revenue.coverage) == (None, 0, 0.0)
    assert value(rows, "deals_won", Q3).value == 2
    # a period without any won deal is still 0: nothing was sold
    assert value(rows, "revenue", "2026-Q2").value == 0.0
    # one converted deal beside them: its amount, with the coverage saying 1 of 3
    mixed = run([*deals, deal("c", won=True, close_date=JUL, amount=80.0)], ["revenue"], [Q3])
    assert (value(mixed, "revenue").value, value(mixed, "revenue").coverage) == (80.0, 1 / 3)
