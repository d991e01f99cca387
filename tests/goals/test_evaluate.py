"""Actual, baseline, variance, attainment, tier and status against hand-computed figures."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.goals.goal_fixtures import deal, evaluate_deals, goal, one, utc, won
from tracker.goals.thresholds import GoalThresholds

AS_OF = date(2026, 8, 15)  # day 46 of the 92 days of 2026-Q3


def _emea(external_id: str, close: date, amount: float) -> dict[str, object]:
    return won(external_id, close, amount, owner_external_id="o1", owner_name="Ann", team="EMEA")


def history() -> list[dict[str, object]]:
    """Four quarters (2025-Q3 .. 2026-Q2): 100 on day 10, 300 on day 80 of each, so by day
    46 a quarter has always reached 100 / 400 = 25 % of its total."""
    deals = []
    for start in (date(2025, 7, 1), date(2025, 10, 1), date(2026, 1, 1), date(2026, 4, 1)):
        deals.append(_emea(f"early-{start}", start + timedelta(days=9), 100.0))
        deals.append(_emea(f"late-{start}", start + timedelta(days=79), 300.0))
    return deals


THIS_QUARTER = [_emea("now", date(2026, 7, 10), 150.0)]


def _revenue(target: float, stretch: float | None = None, **fields: object) -> object:
    return goal(
        id="rev", metric="revenue", scope={"team": "EMEA"}, target=target, stretch=stretch, **fields
    )


@pytest.mark.parametrize(
    ("target", "status"),
    [
        (600, "on_track"),  # expected 600 × 25 % = 150 = actual: pace 1.0
        (700, "at_risk"),  # expected 175: pace 150 / 175 = 0.857 (≥ 0.8, < 0.95)
        (800, "behind"),  # expected 200: pace 0.75
        (150, "achieved"),  # reached mid-period: revenue can only grow
    ],
)
def test_status_of_a_running_cumulative_goal_follows_its_pace(target: float, status: str) -> None:
    result = one(evaluate_deals(history() + THIS_QUARTER, [_revenue(target)], AS_OF))
    assert (result.actual, result.status) == (150.0, status)
    assert result.pacing is not None and result.pacing.expected_to_date == pytest.approx(
        target * 0.25
    )


def test_figures_of_a_behind_revenue_goal() -> None:
    result = one(evaluate_deals(history() + THIS_QUARTER, [_revenue(800, 1000)], AS_OF))
    assert (result.actual, result.n, result.coverage) == (150.0, 1, 1.0)
    assert result.baseline == 400.0  # 2026-Q2: 100 + 300
    assert result.variance == -650.0
    assert result.variance_pct == pytest.approx(-650 / 800)
    assert result.attainment == pytest.approx(150 / 800)
    assert (result.tier, result.status) == ("none", "behind")


@pytest.mark.parametrize(
    ("target", "status"), [(800, "missed"), (150, "achieved"), (100, "achieved")]
)
def test_status_once_the_period_is_over(target: float, status: str) -> None:
    result = one(
        evaluate_deals(
            history() + THIS_QUARTER, [_revenue(target)], date(2026, 10, 1), everything=True
        )
    )
    assert (result.actual, result.status, result.pacing) == (150.0, status, None)


@pytest.mark.parametrize(
    ("baseline", "target", "stretch", "tier"),
    [
        (200, 300, 400, "none"),
        (100, 300, 400, "baseline"),
        (100, 150, 400, "target"),
        (100, 120, 150, "stretch"),
    ],
)
def test_tiers(baseline: float, target: float, stretch: float, tier: str) -> None:
    config = _revenue(target, stretch, baseline=baseline)
    result = one(
        evaluate_deals(history() + THIS_QUARTER, [config], date(2026, 10, 1), everything=True)
    )
    assert (result.actual, result.baseline, result.tier) == (150.0, baseline, tier)


def _cycle_deals(cycles: list[int], close: date = date(2026, 8, 10)) -> list[dict[str, object]]:
    return [
        won(
            f"c{i}",
            close,
            100.0,
            created_at=utc(f"{close - timedelta(days=c)} 12:00"),
            team="EMEA",
            owner_external_id="o1",
            owner_name="Ann",
        )
        for i, c in enumerate(cycles)
    ]


@pytest.mark.parametrize(
    ("target", "stretch", "status", "tier", "attainment"),
    [
        (45, 35, "on_track", "target", 45 / 40),  # median 40 ≤ 45: met so far, not final
        (38, 30, "on_track", "none", 38 / 40),  # 0.95 ≥ on_track
        (34, 30, "at_risk", "none", 34 / 40),  # 0.85
        (30, 20, "behind", "none", 30 / 40),  # 0.75
        (50, 40, "on_track", "stretch", 50 / 40),
    ],
)
def test_lower_is_better_rate_goal(
    target: float, stretch: float, status: str, tier: str, attainment: float
) -> None:
    config = goal(
        id="cyc", metric="sales_cycle_days", scope={"team": "EMEA"}, target=target, stretch=stretch
    )
    result = one(evaluate_deals(_cycle_deals([20, 30, 40, 50, 60]), [config], AS_OF))
    assert (result.actual, result.n) == (40.0, 5)
    assert (result.status, result.tier) == (status, tier)
    assert result.attainment == pytest.approx(attainment)
    assert result.variance == 40 - target
    assert result.variance_pct == pytest.approx((40 - target) / target)
    assert result.pacing is None and result.pipeline is None  # rates are not paced


def test_lower_is_better_rate_goal_when_the_period_is_over() -> None:
    config = goal(id="cyc", metric="sales_cycle_days", target=45, stretch=35)
    over = date(2026, 10, 5)
    low = _cycle_deals([20, 30, 40, 50, 60])
    high = _cycle_deals([40, 50, 60, 70, 80])
    assert one(evaluate_deals(low, [config], over, everything=True)).status == "achieved"
    assert one(evaluate_deals(high, [config], over, everything=True)).status == "missed"


def test_rate_below_the_minimum_n_is_no_data_never_a_verdict() -> None:
    config = goal(id="cyc", metric="sales_cycle_days", target=45, stretch=35)
    result = one(evaluate_deals(_cycle_deals([20, 30, 40, 50]), [config], AS_OF))
    assert (result.actual, result.n, result.status, result.tier, result.attainment) == (
        None,
        4,
        "no_data",
        None,
        None,
    )
    # the minimum is configurable
    loose = GoalThresholds(min_n=4)
    relaxed = one(evaluate_deals(_cycle_deals([20, 30, 40, 50]), [config], AS_OF, thresholds=loose))
    assert (relaxed.actual, relaxed.status) == (35.0, "on_track")


def test_a_lower_is_better_count_is_missed_as_soon_as_it_passes_the_target() -> None:
    lost = [deal(f"l{i}", lost=True, close_date=date(2026, 7, 1 + i)) for i in range(3)]
    config = goal(id="lost", metric="deals_lost", target=2, stretch=1)
    result = one(evaluate_deals(lost, [config], AS_OF))
    assert (result.actual, result.status, result.attainment) == (3, "missed", pytest.approx(2 / 3))
    assert isinstance(result.actual, int)


def test_no_coverage_or_no_such_scope_is_no_data_with_a_null_actual() -> None:
    deals = history() + THIS_QUARTER + [won("blank", date(2026, 7, 11), amount=None, team="EMEA")]  # type: ignore[arg-type]
    result = one(evaluate_deals(deals, [_revenue(800)], AS_OF))
    assert (result.actual, result.coverage, result.status) == (None, 0.5, "no_data")
    apac = goal(id="apac", metric="revenue", scope={"team": "APAC"}, target=10)
    missing = one(evaluate_deals(history() + THIS_QUARTER, [apac], AS_OF))
    assert (missing.actual, missing.n, missing.coverage, missing.status) == (
        None,
        0,
        None,
        "no_data",
    )
    assert missing.variance is None and missing.tier is None


def test_a_goal_whose_period_has_not_begun_has_no_data() -> None:
    config = goal(id="q4", metric="revenue", period="2026-Q4", target=10)
    result = one(evaluate_deals(history(), [config], AS_OF, everything=True))
    assert (result.actual, result.status, result.windows.state) == (None, "no_data", "upcoming")


def test_baselines_previous_same_last_year_average_and_number() -> None:
    deals = [*history(), _emea("ly", date(2025, 8, 1), 50.0)]  # 2025-Q3 = 450
    configs = [
        _revenue(1000, baseline="previous").model_copy(update={"id": "prev"}),
        _revenue(1000, baseline="same-last-year").model_copy(update={"id": "ly"}),
        _revenue(1000, baseline="average:4").model_copy(update={"id": "avg"}),
        _revenue(1000, baseline=123.5).model_copy(update={"id": "num"}),
    ]
    results = evaluate_deals(deals, configs, AS_OF)
    assert {r.goal.id: r.baseline for r in results} == {
        "prev": 400.0,
        "ly": 450.0,
        "avg": (450 + 400 + 400 + 400) / 4,
        "num": 123.5,
    }


def test_time_zone_places_created_dates_and_as_of_replays_the_past() -> None:
    deals = [
        deal("late", created_at=utc("2026-09-30 23:30"), amount=70.0, team="EMEA"),
        deal("early", created_at=utc("2026-09-01 10:00"), amount=30.0, team="EMEA"),
    ]
    config = goal(id="pipe", metric="pipeline_created", target=90, stretch=120)
    after = date(2026, 10, 2)
    # 23:30 UTC on 30 September is 1 October 08:30 in Tokyo: next quarter there
    assert one(evaluate_deals(deals, [config], after, everything=True)).actual == 100.0
    tokyo = evaluate_deals(deals, [config], after, everything=True, timezone="Asia/Tokyo")
    assert one(tokyo).actual == 30.0
    # replaying 15 September only counts what was created by then
    replay = one(evaluate_deals(deals, [config], date(2026, 9, 15)))
    assert (replay.actual, replay.windows.to_date.end) == (30.0, date(2026, 9, 15))  # type: ignore[union-attr]
