"""Pipeline coverage of revenue and deals_won goals: the open pipeline due in the rest of
the period, its ratio to the gap and what it should bring at the historical win rate."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.goals.goal_fixtures import deal, evaluate_deals, goal, one, utc, won

AS_OF = date(2026, 8, 15)


def _deal(external_id: str, team: str = "EMEA", **fields: object) -> dict[str, object]:
    return deal(external_id, owner_external_id=team, owner_name=team, team=team, **fields)


def closed_history(team: str, won_count: int, lost_count: int) -> list[dict[str, object]]:
    """In 2026-Q2: ``won_count`` won and ``lost_count`` lost deals of 100 each."""
    start = date(2026, 4, 1)
    deals = [
        won(
            f"{team}-w{i}",
            start + timedelta(days=i),
            100.0,
            owner_external_id=team,
            owner_name=team,
            team=team,
        )
        for i in range(won_count)
    ]
    deals += [
        _deal(f"{team}-l{i}", team, lost=True, close_date=start + timedelta(days=i), amount=100.0)
        for i in range(lost_count)
    ]
    return deals


def pipeline_deals() -> list[dict[str, object]]:
    created = utc("2026-08-01 09:00")
    return [
        # open, due in the rest of the quarter: counted
        _deal("open1", close_date=date(2026, 9, 1), amount=300.0, created_at=created),
        _deal("open2", close_date=date(2026, 9, 30), amount=200.0, created_at=created),
        # won on 10 September, so still open on 15 August: counted when replaying
        _deal("later", won=True, close_date=date(2026, 9, 10), amount=100.0, created_at=created),
        # created after the as-of date: not in the pipeline then
        _deal(
            "new", close_date=date(2026, 9, 2), amount=1000.0, created_at=utc("2026-08-20 09:00")
        ),
        # due next quarter, or overdue: not in the rest of this one
        _deal("q4", close_date=date(2026, 10, 2), amount=1000.0, created_at=created),
        _deal("stale", close_date=date(2026, 8, 1), amount=1000.0, created_at=created),
        # another team
        _deal("us", "US", close_date=date(2026, 9, 1), amount=1000.0, created_at=created),
    ]


def test_revenue_coverage_at_the_scope_s_value_win_rate() -> None:
    deals = (
        closed_history("EMEA", 6, 2)
        + pipeline_deals()
        + [
            won(
                "now",
                date(2026, 7, 3),
                250.0,
                owner_external_id="EMEA",
                owner_name="EMEA",
                team="EMEA",
            )
        ]
    )
    config = goal(id="rev", metric="revenue", scope={"team": "EMEA"}, target=1000, stretch=1200)
    result = one(evaluate_deals(deals, [config], AS_OF))
    assert result.actual == 250.0
    assert result.pipeline == {
        "open": 600.0,  # 300 + 200 + 100
        "open_deals": 3,
        "gap": 750.0,
        "coverage_ratio": pytest.approx(600 / 750),
        "win_rate": 0.75,  # 600 won of 800 closed in 2026-Q2
        "win_rate_basis": "scope",
        "expected": pytest.approx(450.0),
    }


def test_deals_won_coverage_counts_deals_at_the_count_win_rate() -> None:
    deals = closed_history("EMEA", 3, 1) + closed_history("US", 1, 4) + pipeline_deals()
    config = goal(id="won", metric="deals_won", scope={"team": "EMEA"}, target=5, stretch=6)
    result = one(evaluate_deals(deals, [config], AS_OF))
    assert result.pipeline is not None
    # EMEA closed only 4 deals in the recent periods (< 5): the company's rate, 4 of 9
    assert (result.pipeline["open"], result.pipeline["open_deals"], result.pipeline["gap"]) == (
        3.0,
        3,
        5.0,
    )
    assert (result.pipeline["win_rate"], result.pipeline["win_rate_basis"]) == (
        pytest.approx(4 / 9),
        "company",
    )
    assert result.pipeline["expected"] == pytest.approx(3 * 4 / 9)


def test_no_gap_left_and_no_rate_known() -> None:
    deals = [
        *pipeline_deals(),
        won(
            "now",
            date(2026, 7, 3),
            2000.0,
            owner_external_id="EMEA",
            owner_name="EMEA",
            team="EMEA",
        ),
    ]
    config = goal(id="rev", metric="revenue", scope={"team": "EMEA"}, target=1000)
    result = one(evaluate_deals(deals, [config], AS_OF))
    assert result.status == "achieved"
    assert result.pipeline is not None
    assert (result.pipeline["gap"], result.pipeline["coverage_ratio"]) == (0.0, None)
    assert (result.pipeline["win_rate"], result.pipeline["expected"]) == (None, None)


def test_only_running_revenue_and_deals_won_goals_have_coverage() -> None:
    deals = closed_history("EMEA", 6, 2) + pipeline_deals()
    configs = [
        goal(id="cycle", metric="sales_cycle_days", scope={"team": "EMEA"}, target=30),
        goal(id="past", metric="revenue", period="2026-Q2", scope={"team": "EMEA"}, target=30),
    ]
    results = evaluate_deals(deals, configs, AS_OF, everything=True)
    assert [r.pipeline for r in results] == [None, None]
