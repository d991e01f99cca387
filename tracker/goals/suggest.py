"""Suggested baseline, target and stretch from a scope's history (``docs/goals.md``).

From the values of the metric over the complete past periods on record (up to
``history_periods``, the most recent last), for a higher-is-better metric:

* baseline: the most recent period's value;
* target: the 75th percentile of the history, but at least 5 % better than the baseline
  (a target at or below what the team just did is too safe);
* stretch: 10 % beyond the better of the best period on record and the (rounded)
  target, and at least one rounding step beyond the target.

Mirrored for lower-is-better metrics (25th percentile, 5 % and 10 % lower). Fractions
stay within [0, 1] for win rates and margins, counts are whole (rounded towards
ambition), money is in whole units, days and fractions are rounded for people.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from tracker.errors import TrackerError, UsageError
from tracker.goals.expand import Scope, canonical, members, present_values, unknown_value
from tracker.goals.lint import on_record
from tracker.goals.plan import Plan, run
from tracker.goals.thresholds import GoalThresholds
from tracker.goals.windows import complete_history
from tracker.metrics import DIMENSIONS, REGISTRY, MetricRequest
from tracker.periods import Period, quarter_of, range_period

TARGET_STEP = 0.05
STRETCH_STEP = 0.10
STEPS = {"count": 1.0, "money": 1.0, "days": 0.1, "ratio": 0.1}
"""The rounding step of each unit (the stretch is kept at least one step beyond)."""


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile (as numpy's default)."""
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _round(value: float, unit: str, direction: str) -> float:
    if unit == "count":
        return float(math.ceil(value) if direction == "higher" else math.floor(value))
    if unit == "money":
        return float(round(value))
    if unit in ("days", "ratio"):
        return round(value, 1)
    return round(value, 3)


def _better(value: float, step: float, direction: str) -> float:
    """``value`` improved by ``step`` (a share of its size) in ``direction``."""
    sign = 1 if direction == "higher" else -1
    return value + sign * abs(value) * step


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Suggested levels for one metric, scope and period, with the history behind them."""

    metric: str
    period: Period
    scope: dict[str, str | None]
    history: tuple[tuple[str, float], ...]
    baseline: float
    target: float
    stretch: float


def suggest(
    metric: str,
    period: Period,
    scope: dict[str, str | None],
    history: Sequence[tuple[str, float]],
) -> Suggestion | None:
    """Levels from ``history`` ((period label, value), oldest first); None without any."""
    if not history:
        return None
    definition = REGISTRY.get(metric)
    direction, unit = definition.direction, definition.unit
    values = [v for _, v in history]
    baseline = values[-1]
    higher = direction == "higher"
    pick = max if higher else min
    spread = quantile(values, 0.75 if higher else 0.25)
    target = _round(pick(spread, _better(baseline, TARGET_STEP, direction)), unit, direction)
    stretch = _round(_better(pick(pick(values), target), STRETCH_STEP, direction), unit, direction)
    if unit == "fraction" and metric != "discount_pct":
        target, stretch = min(max(target, 0.0), 1.0), min(max(stretch, 0.0), 1.0)
    if stretch == target and unit in STEPS:  # rounding collapsed them: one step beyond
        stretch = target + (STEPS[unit] if higher else -STEPS[unit])
    return Suggestion(
        metric=metric,
        period=period,
        scope=scope,
        history=tuple(history),
        baseline=baseline,
        target=target,
        stretch=stretch,
    )


def next_quarter(as_of: date, fiscal_year_start_month: int = 1) -> Period:
    """The (fiscal) quarter after the one containing ``as_of``."""
    current = quarter_of(as_of, fiscal_year_start_month)
    return quarter_of(current.end + timedelta(days=1), fiscal_year_start_month)


def check_scope(frame: pd.DataFrame, scope: Scope, activities: pd.DataFrame | None = None) -> None:
    """Every scope value exists in the data (deals, or activities when given), else a
    ``UsageError`` listing the values."""
    present = present_values(frame, [dim for dim, _ in scope], activities)
    for dim, value in scope:
        if value not in present[dim]:
            raise UsageError(unknown_value(dim, str(value), sorted(present[dim])))


def suggestions(
    frame: pd.DataFrame,
    metric: str,
    scope: Scope,
    period: Period,
    *,
    as_of: date,
    for_each: str | None = None,
    fiscal_year_start_month: int = 1,
    thresholds: GoalThresholds | None = None,
    activities: pd.DataFrame | None = None,
) -> tuple[list[Suggestion], list[str]]:
    """Suggestions for ``scope`` (or for each value of ``for_each`` inside it that has deals
    in the last complete period or since) from the complete periods before ``period``, and
    the values left out for want of history. ``activities`` is the activities frame an
    activity metric needs."""
    thresholds = thresholds or GoalThresholds()
    history = complete_history(period, as_of, thresholds.history_periods, fiscal_year_start_month)
    if not history:
        raise UsageError(f"no complete period before {period.label} as of {as_of.isoformat()}")
    dims = tuple(d for d, _ in scope) + ((for_each,) if for_each else ())
    ordered = tuple(sorted(dims, key=DIMENSIONS.index))
    values = run(
        frame,
        Plan(MetricRequest(metrics=(metric,), periods=tuple(history), breakdowns=(ordered,)), None),
        activities,
    )
    targets = [scope]
    if for_each is not None:
        # who sells now: active in the last complete period or since
        window = range_period(history[-1].start, max(period.end, as_of))
        split = members(frame, for_each, scope, window, activities)
        targets = [canonical({**dict(scope), for_each: value}) for value in split]
    found: list[Suggestion] = []
    skipped: list[str] = []
    for target_scope in targets:
        rows = [(p, values.row(metric, p, target_scope)) for p in history]
        record = [(p.label, v) for p, v in on_record(rows, metric, thresholds)]
        made = suggest(metric, period, dict(target_scope), record)
        if made is None:
            skipped.append(str(dict(target_scope).get(for_each or "") or "company"))
        else:
            found.append(made)
    if not found:
        where = ", ".join(f"{k}={v}" for k, v in scope) or "the company"
        raise TrackerError(
            f"no {metric} on record for {where} in the {len(history)} periods before "
            f"{period.label}: nothing to suggest from"
        )
    return found, skipped
