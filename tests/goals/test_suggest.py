"""Suggested levels from history: the documented method, by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.goals.goal_fixtures import frame_for, goal, won
from tracker.errors import TrackerError
from tracker.goals.suggest import next_quarter, suggest, suggestions
from tracker.periods import parse_period

Q4 = parse_period("2026-Q4", date(2026, 8, 15))


def _history(*values: float) -> list[tuple[str, float]]:
    return [(f"p{i}", v) for i, v in enumerate(values)]


def test_higher_is_better_target_is_the_75th_percentile_or_5_percent_over_the_baseline() -> None:
    # sorted 100, 200, 300, 400: p75 = 325; the last period (baseline) 200 → floor 210
    found = suggest("revenue", Q4, {}, _history(100, 400, 300, 200))
    assert found is not None
    assert (found.baseline, found.target, found.stretch) == (200, 325, 440)  # 400 × 1.1
    # when the last period was the best, the target beats it by 5 %
    best_last = suggest("revenue", Q4, {}, _history(100, 200, 300, 400))
    assert best_last is not None and (best_last.target, best_last.stretch) == (420, 462)


def test_lower_is_better_mirrors_with_the_25th_percentile() -> None:
    # sorted 20, 30, 40, 50: p25 = 27.5; baseline 20 → 19; stretch min(20, 19) × 0.9
    found = suggest("sales_cycle_days", Q4, {"team": "EMEA"}, _history(50, 40, 30, 20))
    assert found is not None
    assert (found.baseline, found.target, found.stretch) == (20, 19.0, 17.1)


def test_counts_round_towards_ambition_and_rates_stay_within_one() -> None:
    counts = suggest("deals_won", Q4, {}, _history(10, 11, 12, 13))
    # p75 = 12.25, floor 13.65 → 14; stretch max(13, 13.65) × 1.1 = 15.015 → 16
    assert counts is not None and (counts.target, counts.stretch) == (14, 16)
    lost = suggest("deals_lost", Q4, {}, _history(10, 11, 12, 13))
    # p25 = 10.75, floor 12.35 → 10.75 → 10; stretch 10 × 0.9 = 9.675 → 9
    assert lost is not None and (lost.target, lost.stretch) == (10, 9)
    rate = suggest("win_rate", Q4, {}, _history(0.9, 0.95, 1.0, 0.98))
    assert rate is not None and (rate.target, rate.stretch) == (1.0, 1.0)
    assert suggest("revenue", Q4, {}, []) is None


def test_next_quarter_in_calendar_and_fiscal_years() -> None:
    assert next_quarter(date(2026, 8, 15)).label == "2026-Q4"
    assert next_quarter(date(2026, 11, 15)).label == "2027-Q1"
    assert next_quarter(date(2026, 8, 15), 2).label == "FY2027-Q4"  # Nov 2026 .. Jan 2027


def _owner_history() -> list[dict[str, object]]:
    deals = []
    for number, start in enumerate((date(2026, 1, 1), date(2026, 4, 1), date(2026, 7, 1)), start=1):
        deals.append(
            won(
                f"a{number}",
                start + timedelta(days=3),
                100.0 * number,
                owner_external_id="a",
                owner_name="Ann",
                team="EMEA",
            )
        )
    # Bo only sold this quarter, which is not over: no history to suggest from
    deals.append(
        won("b", date(2026, 8, 2), 500.0, owner_external_id="b", owner_name="Bo", team="EMEA")
    )
    # Cy left after 2025-Q2: not suggested for
    deals.append(
        won("c", date(2025, 5, 2), 500.0, owner_external_id="c", owner_name="Cy", team="EMEA")
    )
    return deals


def test_one_suggestion_per_current_owner_from_complete_periods_only() -> None:
    frame = frame_for(
        _owner_history(), [goal(id="g", metric="revenue", target=1)], dimensions=["owner", "team"]
    )
    found, skipped = suggestions(
        frame, "revenue", (("team", "EMEA"),), Q4, as_of=date(2026, 8, 15), for_each="owner"
    )
    assert skipped == ["Bo"]
    [ann] = found
    # 2026-Q1 100, 2026-Q2 200 (2026-Q3 is not over): p75 175, floor 210 → 210; 231
    assert ann.scope == {"owner": "Ann", "team": "EMEA"}
    assert ann.history == (("2026-Q1", 100.0), ("2026-Q2", 200.0))
    assert (ann.baseline, ann.target, ann.stretch) == (200.0, 210, 231)


def test_nothing_on_record_is_an_error() -> None:
    frame = frame_for(
        _owner_history(), [goal(id="g", metric="revenue", target=1)], dimensions=["owner"]
    )
    with pytest.raises(
        TrackerError, match=r"^no revenue on record for owner=Bo in the 8 periods before 2026-Q4"
    ):
        suggestions(frame, "revenue", (("owner", "Bo"),), Q4, as_of=date(2026, 8, 15))
