"""Guardrails: a goal on track while discount climbs, margin falls or cycles lengthen
beyond tolerance is flagged; so is discounting clustered in a period's closing days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.goals.goal_fixtures import evaluate_deals, goal, one, utc, won
from tracker.goals.thresholds import GoalThresholds

AS_OF = date(2026, 8, 15)


def _sold(
    external_id: str,
    close: date,
    *,
    amount: float = 100.0,
    listed: float = 100.0,
    cost: float | None = None,
    cycle: int = 30,
) -> dict[str, object]:
    created = utc(f"{close - timedelta(days=cycle)} 12:00")
    return won(external_id, close, amount, list_amount=listed, cost_amount=cost, created_at=created)


def quarter(prefix: str, start: date, count: int = 5, **fields: object) -> list[dict[str, object]]:
    return [_sold(f"{prefix}{i}", start + timedelta(days=i), **fields) for i in range(count)]  # type: ignore[arg-type]


Q2, Q3 = date(2026, 4, 1), date(2026, 7, 1)


def _revenue(**fields: object) -> object:
    return goal(id="rev", metric="revenue", target=300, stretch=400, **fields)


def test_discount_up_beyond_tolerance_while_on_track_is_flagged() -> None:
    # 2026-Q2: 10 % off list; 2026-Q3 so far: 20 % off (5 deals each)
    deals = quarter("a", Q2, amount=90.0, listed=100.0) + quarter(
        "b", Q3, amount=80.0, listed=100.0
    )
    result = one(evaluate_deals(deals, [_revenue()], AS_OF))
    assert result.status == "achieved"  # 400 ≥ 300
    [flag] = result.guardrails
    assert (flag.metric, flag.kind) == ("discount_pct", "moved")
    assert (flag.actual, flag.baseline, flag.tolerance) == (
        pytest.approx(0.2),
        pytest.approx(0.1),
        0.03,
    )
    assert (
        flag.message == "discount_pct up 10.0 points to 20.0% against 10.0% (tolerance 3.0 points)"
    )


def test_no_flag_within_tolerance_when_behind_or_on_too_few_deals() -> None:
    small = quarter("a", Q2, amount=90.0) + quarter("b", Q3, amount=88.0)  # +2 points
    assert one(evaluate_deals(small, [_revenue()], AS_OF)).guardrails == ()
    deep = quarter("a", Q2, amount=90.0) + quarter("b", Q3, amount=50.0)
    behind = goal(id="rev", metric="revenue", target=3000)
    assert one(evaluate_deals(deep, [behind], AS_OF)).status == "behind"
    assert one(evaluate_deals(deep, [behind], AS_OF)).guardrails == ()
    few = quarter("a", Q2, amount=90.0) + quarter("b", Q3, count=4, amount=50.0)
    assert (
        one(evaluate_deals(few, [goal(id="rev", metric="revenue", target=100)], AS_OF)).guardrails
        == ()
    )


def test_margin_down_beyond_tolerance_is_flagged() -> None:
    deals = quarter("a", Q2, cost=60.0) + quarter("b", Q3, cost=70.0)  # margin 40 % → 30 %
    result = one(evaluate_deals(deals, [_revenue()], AS_OF))
    [flag] = result.guardrails
    assert (flag.metric, flag.actual, flag.baseline) == (
        "gross_margin_pct",
        pytest.approx(0.3),
        pytest.approx(0.4),
    )
    assert (
        flag.message
        == "gross_margin_pct down 10.0 points to 30.0% against 40.0% (tolerance 2.0 points)"
    )


def test_longer_cycles_are_flagged_relative_to_the_baseline() -> None:
    config = _revenue(guardrails=["sales_cycle_days"])
    longer = quarter("a", Q2, cycle=30) + quarter("b", Q3, cycle=37)  # +23 %
    [flag] = one(evaluate_deals(longer, [config], AS_OF)).guardrails
    assert (flag.metric, flag.actual, flag.baseline, flag.tolerance) == (
        "sales_cycle_days",
        37.0,
        30.0,
        0.2,
    )
    assert flag.message == "sales_cycle_days 37.0 against 30.0 (+23% worse, tolerance 20%)"
    slightly = quarter("a", Q2, cycle=30) + quarter("b", Q3, cycle=35)  # +17 %
    assert one(evaluate_deals(slightly, [config], AS_OF)).guardrails == ()
    loose = GoalThresholds(cycle_pct=0.25)
    assert one(evaluate_deals(longer, [config], AS_OF, thresholds=loose)).guardrails == ()


def test_discounting_clustered_in_the_closing_days_is_flagged_whatever_the_status() -> None:
    deals = [
        _sold("jul", date(2026, 7, 10), amount=1000.0, listed=1000.0),
        _sold("aug", date(2026, 8, 10), amount=1000.0, listed=1000.0),
        _sold("sep", date(2026, 9, 25), amount=300.0, listed=500.0),  # the only discount
    ]
    config = goal(id="rev", metric="revenue", target=5000)
    result = one(evaluate_deals(deals, [config], date(2026, 10, 1), everything=True))
    assert result.status == "missed"
    [flag] = result.guardrails
    assert (flag.kind, flag.actual) == ("period_end_discounting", 1.0)
    assert flag.baseline == pytest.approx(300 / 2300)
    assert flag.message == (
        "100% of the period's discount was given in its last 14 days, which closed 13% of its revenue"
    )
    # before the closing days begin (17 September) there is nothing to judge
    early = one(evaluate_deals(deals, [config], date(2026, 9, 16)))
    assert early.guardrails == ()


def test_discount_spread_like_revenue_is_not_clustering() -> None:
    deals = [
        _sold("jul", date(2026, 7, 10), amount=900.0, listed=1000.0),
        _sold("sep", date(2026, 9, 25), amount=900.0, listed=1000.0),
    ]
    config = goal(id="rev", metric="revenue", target=5000)
    result = one(evaluate_deals(deals, [config], date(2026, 10, 1), everything=True))
    assert result.guardrails == ()  # half the discount with half the revenue
