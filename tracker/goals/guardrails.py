"""Guardrails: is a goal being reached by giving away margin?

Two flags (``docs/goals.md``):

* ``moved``: the goal is on track or achieved while a guardrail metric, to date, moved the
  wrong way against its own baseline (the same baseline periods as the goal's) beyond its
  tolerance: discount up more than ``discount_points``, gross margin down more than
  ``margin_points``, the median cycle up more than ``cycle_pct`` (relative). Both values
  must rest on at least ``min_n`` deals.
* ``period_end_discounting``: in the period's last ``clustering_days`` days, the share of
  the period's discount (money off list) given is at least ``clustering_ratio`` times the
  share of its revenue closed, and at least ``clustering_min_share``. Flagged whatever the
  goal's status: it is how numbers get pulled in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tracker.goals.thresholds import GoalThresholds
from tracker.metrics import REGISTRY, MetricRow

RELATIVE = frozenset({"sales_cycle_days"})
"""Guardrails whose tolerance is a share of the baseline, not points."""


@dataclass(frozen=True, slots=True)
class Flag:
    """One guardrail raised on a goal."""

    metric: str
    kind: str
    message: str
    actual: float
    baseline: float
    tolerance: float

    def as_dict(self) -> dict[str, object]:
        """As in the JSON contract."""
        return {
            "metric": self.metric,
            "kind": self.kind,
            "actual": self.actual,
            "baseline": self.baseline,
            "tolerance": self.tolerance,
            "message": self.message,
        }


def baseline_value(rows: Sequence[MetricRow | None], min_n: int) -> float | None:
    """The mean of the baseline periods' values resting on at least ``min_n`` deals."""
    values = [float(r.value) for r in rows if r is not None and r.value is not None]
    counted = [r for r in rows if r is not None and r.value is not None and r.n >= min_n]
    if not counted or len(counted) != len(values):
        return None
    return sum(values) / len(values)


def _points(value: float) -> str:
    return f"{value * 100:.1f} points"


def moved(
    metric: str,
    actual: MetricRow | None,
    baseline: float | None,
    thresholds: GoalThresholds,
) -> Flag | None:
    """The ``moved`` flag of guardrail ``metric``, if raised."""
    tolerance = thresholds.tolerance(metric)
    if tolerance is None or baseline is None or actual is None or actual.value is None:
        return None
    if actual.n < thresholds.min_n:
        return None
    value = float(actual.value)
    worse = 1.0 if REGISTRY.get(metric).direction == "lower" else -1.0
    change = (value - baseline) * worse
    if metric in RELATIVE:
        if baseline <= 0 or change / baseline <= tolerance:
            return None
        text = f"{metric} {value:.1f} against {baseline:.1f} ({change / baseline:+.0%} worse"
        text += f", tolerance {tolerance:.0%})"
    else:
        if change <= tolerance:
            return None
        word = "up" if worse > 0 else "down"
        text = f"{metric} {word} {_points(change)} to {value:.1%} against {baseline:.1%}"
        text += f" (tolerance {_points(tolerance)})"
    return Flag(metric, "moved", text, value, baseline, tolerance)


def clustering(
    *,
    discount_closing: float | None,
    discount_period: float | None,
    revenue_closing: float | None,
    revenue_period: float | None,
    thresholds: GoalThresholds,
) -> Flag | None:
    """The ``period_end_discounting`` flag, if raised (shares of the period to date)."""
    if not discount_period or discount_period <= 0 or discount_closing is None:
        return None
    discount_share = discount_closing / discount_period
    revenue_share = (revenue_closing or 0.0) / revenue_period if revenue_period else 0.0
    if discount_share < thresholds.clustering_min_share:
        return None
    if discount_share < thresholds.clustering_ratio * revenue_share:
        return None
    text = (
        f"{discount_share:.0%} of the period's discount was given in its last "
        f"{thresholds.clustering_days} days, which closed {revenue_share:.0%} of its revenue"
    )
    return Flag(
        "discount_pct",
        "period_end_discounting",
        text,
        discount_share,
        revenue_share,
        thresholds.clustering_ratio,
    )
