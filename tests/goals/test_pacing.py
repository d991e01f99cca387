"""Pacing of cumulative goals: the scope's close curve, the company's when the scope's
history is thin, a straight line without history; projection and needed run-rate."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.goals.goal_fixtures import deal, evaluate_deals, goal, one, won
from tests.goals.test_evaluate import THIS_QUARTER, history
from tracker.goals.pacing import business_days, run_rate
from tracker.periods import range_period

AS_OF = date(2026, 8, 15)  # day 46 of 92


def _us(external_id: str, close: date, amount: float) -> dict[str, object]:
    return won(external_id, close, amount, owner_external_id="o2", owner_name="Bo", team="US")


def us_history() -> list[dict[str, object]]:
    """US only since 2026: 100 on day 10 and 100 on day 80 of 2026-Q1 and 2026-Q2."""
    deals = []
    for start in (date(2026, 1, 1), date(2026, 4, 1)):
        deals.append(_us(f"us-e{start}", start + timedelta(days=9), 100.0))
        deals.append(_us(f"us-l{start}", start + timedelta(days=79), 100.0))
    return deals


def test_the_scope_s_own_curve_when_it_has_four_periods() -> None:
    config = goal(id="rev", metric="revenue", scope={"team": "EMEA"}, target=800, stretch=1000)
    result = one(evaluate_deals(history() + us_history() + THIS_QUARTER, [config], AS_OF))
    assert result.pacing is not None
    # every EMEA quarter had 100 of its 400 by day 46 (the US deals do not count)
    assert (result.pacing.method, result.pacing.share) == ("history", 0.25)
    assert (result.pacing.expected_to_date, result.pacing.projected) == (200.0, 600.0)


def test_the_company_curve_when_the_scope_s_history_is_thin() -> None:
    config = goal(id="us", metric="revenue", scope={"team": "US"}, target=400, stretch=500)
    deals = history() + us_history() + [_us("us-now", date(2026, 7, 10), 60.0)]
    result = one(evaluate_deals(deals, [config], AS_OF))
    assert result.pacing is not None
    # company shares by day 46: 2025-Q3 and Q4 100/400; 2026-Q1 and Q2 200/600
    # median of (1/4, 1/4, 1/3, 1/3) = 7/24
    assert result.pacing.method == "company_history"
    assert result.pacing.share == pytest.approx(7 / 24)
    assert result.pacing.expected_to_date == pytest.approx(400 * 7 / 24)
    assert result.pacing.projected == pytest.approx(60 / (7 / 24))
    # 60 against 116.67 expected: pace 0.51 → behind
    assert result.status == "behind"


def test_a_straight_line_without_enough_history() -> None:
    config = goal(id="us", metric="revenue", scope={"team": "US"}, target=920, stretch=1000)
    deals = [*us_history(), _us("us-now", date(2026, 7, 10), 450.0)]  # two quarters on record
    result = one(evaluate_deals(deals, [config], AS_OF))
    assert result.pacing is not None
    assert (result.pacing.method, result.pacing.share) == ("linear", 46 / 92)
    assert result.pacing.expected_to_date == pytest.approx(460.0)
    assert result.pacing.projected == pytest.approx(900.0)
    assert result.status == "on_track"  # 450 / 460 = 0.978


def test_no_pacing_once_over_nor_for_rates() -> None:
    done = goal(id="rev", metric="revenue", scope={"team": "EMEA"}, target=800)
    over = one(evaluate_deals(history() + THIS_QUARTER, [done], date(2026, 10, 1), everything=True))
    assert (over.pacing, over.status) == (None, "missed")
    rate = goal(id="wr", metric="win_rate", scope={"team": "EMEA"}, target=0.5)
    assert one(evaluate_deals(history() + THIS_QUARTER, [rate], AS_OF)).pacing is None


def test_a_lower_is_better_count_is_paced_without_a_run_rate() -> None:
    lost = [
        deal(f"l{q}{i}", lost=True, close_date=start + timedelta(days=9 + 70 * i))
        for q, start in enumerate(
            (date(2025, 7, 1), date(2025, 10, 1), date(2026, 1, 1), date(2026, 4, 1))
        )
        for i in range(2)
    ]
    now = [deal("now", lost=True, close_date=date(2026, 7, 5))]
    config = goal(id="lost", metric="deals_lost", target=4, stretch=2)
    result = one(evaluate_deals(lost + now, [config], AS_OF))
    assert result.pacing is not None
    # one of two losses by day 46 in each past quarter: expected 4 × 0.5 = 2; 1 so far
    assert (result.pacing.share, result.pacing.expected_to_date) == (0.5, 2.0)
    assert (result.pacing.needed_run_rate, result.status) == (None, "on_track")


def test_business_days_and_run_rates() -> None:
    # Friday 2 October .. Monday 5 October 2026: Friday and Monday
    assert business_days(range_period(date(2026, 10, 2), date(2026, 10, 5))) == 2
    weekend = range_period(date(2026, 10, 3), date(2026, 10, 4))
    assert business_days(weekend) == 0
    assert run_rate(100.0, 40.0, weekend) == {
        "remaining": 60.0,
        "per_business_day": None,
        "per_week": pytest.approx(60 / (2 / 7)),
    }
    # already beyond the level: nothing more is needed
    assert run_rate(100.0, 140.0, weekend)["remaining"] == 0.0


def test_needed_run_rate_from_the_day_after_as_of_to_the_period_end() -> None:
    config = goal(id="rev", metric="revenue", scope={"team": "EMEA"}, target=800, stretch=1000)
    result = one(evaluate_deals(history() + THIS_QUARTER, [config], date(2026, 9, 29)))
    assert result.pacing is not None and result.pacing.needed_run_rate is not None
    needed = result.pacing.needed_run_rate
    # Wednesday 30 September is the only day left
    assert (needed["business_days_left"], needed["weeks_left"]) == (1, round(1 / 7, 2))
    assert needed["target"]["per_business_day"] == 650.0
    assert needed["stretch"]["per_week"] == pytest.approx(850 * 7)
