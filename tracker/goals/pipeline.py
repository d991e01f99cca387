"""Pipeline coverage of a running revenue or deals_won goal.

The open pipeline of the scope due to close in the rest of the period, its ratio to the gap
still to close, and what it should bring at the scope's historical win rate: by value for
revenue (won amount ÷ closed amount), by count for deals_won, read over the recent past
periods; the company's rate when the scope closed fewer than ``min_n`` deals then.
"""

from __future__ import annotations

from typing import Any

from tracker.metrics import MetricRow

PIPELINE_METRICS: dict[str, tuple[str, str]] = {
    "revenue": ("open_pipeline", "win_rate_value"),
    "deals_won": ("open_deals", "win_rate"),
}
"""Goal metric → (the open measure in its units, the win rate that converts it)."""


def _rate(row: MetricRow | None, min_n: int) -> float | None:
    if row is None or row.value is None or row.n < min_n:
        return None
    return float(row.value)


def coverage(
    *,
    actual: float,
    target: float,
    open_value: MetricRow | None,
    open_deals: MetricRow | None,
    scope_rate: MetricRow | None,
    company_rate: MetricRow | None,
    min_n: int,
) -> dict[str, Any]:
    """The ``pipeline`` object of the report (see the module doc)."""
    amount = 0.0 if open_value is None or open_value.value is None else float(open_value.value)
    deals = 0 if open_deals is None or open_deals.value is None else int(open_deals.value)
    rate = _rate(scope_rate, min_n)
    basis = "scope"
    if rate is None:
        rate, basis = _rate(company_rate, min_n), "company"
    gap = max(target - actual, 0.0)
    return {
        "open": amount,
        "open_deals": deals,
        "gap": gap,
        "coverage_ratio": amount / gap if gap > 0 else None,
        "win_rate": rate,
        "win_rate_basis": basis if rate is not None else None,
        "expected": None if rate is None else amount * rate,
    }
