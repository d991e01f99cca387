"""Pacing of cumulative goals: the close curve, the projection, the run-rate still needed.

The *share* of a period's total reached by day d is read from history: for each of the
previous periods, its value over its first d days ÷ its total; the curve is their median.
The scope's own history is used when at least ``min_history`` past periods have a total
above zero, else the company's, else a straight line (d ÷ days in the period). The
method used is reported (``pacing_method``: ``history``, ``company_history``, ``linear``).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import numpy as np

from tracker.periods import Period

Method = Literal["history", "company_history", "linear"]


def shares(totals: Sequence[float | None], to_date: Sequence[float | None]) -> list[float]:
    """Each past period's to-date value ÷ its total, for periods with a total above 0."""
    out = []
    for total, part in zip(totals, to_date, strict=True):
        if total is not None and total > 0 and part is not None:
            out.append(part / total)
    return out


def curve(
    scope: Sequence[float],
    company: Sequence[float],
    *,
    elapsed: int,
    days: int,
    min_history: int,
) -> tuple[float, Method]:
    """The expected share of the total by day ``elapsed`` of a ``days``-day period."""
    if len(scope) >= min_history:
        return statistics.median(scope), "history"
    if len(company) >= min_history:
        return statistics.median(company), "company_history"
    return elapsed / days, "linear"


def business_days(remaining: Period) -> int:
    """Monday-to-Friday days in ``remaining`` (both ends included)."""
    end = remaining.end + timedelta(days=1)
    return int(np.busday_count(remaining.start, end))


def run_rate(level: float, actual: float, remaining: Period) -> dict[str, float | None]:
    """What is still needed to reach ``level``: in total, per business day, per week."""
    left = max(level - actual, 0.0)
    days = business_days(remaining)
    weeks = remaining.days / 7
    return {
        "remaining": left,
        "per_business_day": left / days if days else None,
        "per_week": left / weeks if weeks else None,
    }


@dataclass(frozen=True, slots=True)
class Pacing:
    """Where a running cumulative goal should be by now, and where it is heading."""

    share: float
    method: Method
    expected_to_date: float
    projected: float | None
    needed_run_rate: dict[str, Any] | None


def pace(
    *,
    actual: float,
    target: float,
    stretch: float | None,
    share: float,
    method: Method,
    remaining: Period | None,
    direction: str,
) -> Pacing:
    """Expected-to-date (target × share), projection (actual ÷ share) and, for
    higher-is-better goals with days left, the run-rate needed for target and stretch."""
    needed: dict[str, Any] | None = None
    if remaining is not None and direction == "higher":
        needed = {
            "business_days_left": business_days(remaining),
            "weeks_left": round(remaining.days / 7, 2),
            "target": run_rate(target, actual, remaining),
            "stretch": None if stretch is None else run_rate(stretch, actual, remaining),
        }
    return Pacing(
        share=share,
        method=method,
        expected_to_date=target * share,
        projected=actual / share if share > 0 else None,
        needed_run_rate=needed,
    )
