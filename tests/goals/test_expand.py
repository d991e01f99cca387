"""Concrete goals from the configuration: recurring goals, fiscal periods, for_each."""

from __future__ import annotations

from datetime import date

from tests.goals.goal_fixtures import evaluate_deals, goal, utc, won
from tracker.periods import parse_period

AS_OF = date(2026, 8, 15)


def _periods(results: list[object]) -> list[tuple[str, str, str, str]]:
    return [
        (
            r.goal.id,
            r.goal.period.label,
            r.goal.period.start.isoformat(),
            r.goal.period.end.isoformat(),
        )  # type: ignore[attr-defined]
        for r in results
    ]


def test_recurring_goals_run_in_the_current_period_or_the_one_asked_for() -> None:
    configs = [
        goal(id="q", metric="deals_won", every="quarter", target=5),
        goal(id="m", metric="deals_won", every="month", target=2),
        goal(id="y", metric="deals_won", every="year", target=20),
        goal(id="fixed-now", metric="deals_won", period="2026-08", target=1),
        goal(id="fixed-past", metric="deals_won", period="2026-Q1", target=1),
    ]
    deals = [won("a", date(2026, 8, 1))]
    assert _periods(evaluate_deals(deals, configs, AS_OF)) == [
        ("q", "2026-Q3", "2026-07-01", "2026-09-30"),
        ("m", "2026-08", "2026-08-01", "2026-08-31"),
        ("y", "2026", "2026-01-01", "2026-12-31"),
        ("fixed-now", "2026-08", "2026-08-01", "2026-08-31"),
    ]
    q2 = parse_period("2026-Q2", AS_OF)
    assert _periods(evaluate_deals(deals, configs, AS_OF, wanted=q2)) == [
        ("q", "2026-Q2", "2026-04-01", "2026-06-30")
    ]
    q1 = parse_period("2026-Q1", AS_OF)
    assert [r.goal.id for r in evaluate_deals(deals, configs, AS_OF, wanted=q1)] == [
        "q",
        "fixed-past",
    ]
    everything = evaluate_deals(deals, configs, AS_OF, everything=True)
    assert [r.goal.id for r in everything] == ["q", "m", "y", "fixed-now", "fixed-past"]


def test_fiscal_quarters_follow_the_configured_year() -> None:
    # February start: FY2027 runs 2026-02-01 .. 2027-01-31, so 15 August is in FY2027-Q3
    configs = [
        goal(id="q", metric="deals_won", every="quarter", target=1),
        goal(id="fixed", metric="deals_won", period="2027-Q3", target=1),
    ]
    deals = [
        won("jul31", date(2026, 7, 31)),
        won("aug1", date(2026, 8, 1)),
        won("oct31", date(2026, 10, 31)),
    ]
    results = evaluate_deals(deals, configs, AS_OF, fiscal_year_start_month=2)
    assert _periods(results) == [
        ("q", "FY2027-Q3", "2026-08-01", "2026-10-31"),
        ("fixed", "FY2027-Q3", "2026-08-01", "2026-10-31"),
    ]
    # to date (1..15 August): only the 1 August deal; 31 July is the previous quarter
    assert [r.actual for r in results] == [1, 1]
    later = evaluate_deals(deals, configs[:1], date(2026, 11, 2), fiscal_year_start_month=2)
    assert _periods(later) == [("q", "FY2027-Q4", "2026-11-01", "2027-01-31")]


def _owner_deal(external_id: str, close: date, owner: str, team: str) -> dict[str, object]:
    return won(external_id, close, owner_external_id=owner.lower(), owner_name=owner, team=team)


def test_for_each_splits_a_goal_by_the_values_active_in_the_period_or_the_one_before() -> None:
    deals = [
        _owner_deal("a", date(2026, 7, 20), "Ann", "EMEA"),  # this quarter
        _owner_deal("b", date(2026, 5, 2), "Bob", "EMEA"),  # last quarter
        _owner_deal("c", date(2025, 11, 2), "Cy", "EMEA"),  # long ago: not split for
        _owner_deal("d", date(2026, 7, 2), "Dee", "US"),  # another team
        # an open deal created this quarter makes its owner active too
        {
            **won("e", date(2026, 12, 1), owner_external_id="eve", owner_name="Eve", team="EMEA"),
            "is_won": False,
            "is_closed": False,
            "close_date": None,
            "created_at": utc("2026-08-02 10:00"),
        },
    ]
    config = goal(id="cyc", metric="deals_won", scope={"team": "EMEA"}, for_each="owner", target=3)
    results = evaluate_deals(deals, [config], AS_OF)
    assert [(r.goal.id, r.goal.scope, r.goal.parent) for r in results] == [
        ("cyc/Ann", (("owner", "Ann"), ("team", "EMEA")), "cyc"),
        ("cyc/Bob", (("owner", "Bob"), ("team", "EMEA")), "cyc"),
        ("cyc/Eve", (("owner", "Eve"), ("team", "EMEA")), "cyc"),
    ]
    assert [r.actual for r in results] == [1, 0, 0]
    assert all(r.goal.target == 3 for r in results)


def test_default_guardrails_for_money_and_count_goals_only() -> None:
    configs = [
        goal(id="rev", metric="revenue", target=10),
        goal(id="won", metric="deals_won", target=10),
        goal(id="cyc", metric="sales_cycle_days", target=10),
        goal(id="own", metric="revenue", target=10, guardrails=["sales_cycle_days"]),
        goal(id="none", metric="revenue", target=10, guardrails=[]),
    ]
    results = evaluate_deals([won("a", date(2026, 7, 1))], configs, AS_OF)
    assert {r.goal.id: r.goal.guardrails for r in results} == {
        "rev": ("discount_pct", "gross_margin_pct"),
        "won": ("discount_pct", "gross_margin_pct"),
        "cyc": (),
        "own": ("sales_cycle_days",),
        "none": (),
    }
