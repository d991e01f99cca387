"""The algebra of a goal: variance, attainment, tier and status (``docs/goals.md``).

``direction`` is the metric's: ``higher`` (revenue) or ``lower`` (sales cycle) is better.
"""

from __future__ import annotations

import math
from typing import Literal

from tracker.goals.thresholds import GoalThresholds
from tracker.goals.windows import State

Tier = Literal["none", "baseline", "target", "stretch"]
Status = Literal["achieved", "on_track", "at_risk", "behind", "missed", "no_data"]

STATUSES: tuple[Status, ...] = ("missed", "behind", "at_risk", "no_data", "on_track", "achieved")
"""Statuses worst first (the order of the variance summary)."""


def reached(actual: float, level: float, direction: str) -> bool:
    """``actual`` is at or beyond ``level`` in the metric's direction."""
    return actual >= level if direction == "higher" else actual <= level


def variance(actual: float, target: float) -> float:
    """actual − target (positive is good for higher-is-better metrics)."""
    return actual - target


def variance_pct(actual: float, target: float) -> float | None:
    """variance ÷ |target|; null when the target is 0."""
    return None if target == 0 else (actual - target) / abs(target)


def attainment(actual: float, target: float, direction: str) -> float | None:
    """actual ÷ target (target ÷ actual for lower-is-better); 1 means on target.

    Null when the ratio means nothing: a target that is not positive, or (lower is better)
    an actual that is not positive.
    """
    if target <= 0:
        return None
    if direction == "higher":
        return actual / target
    return None if actual <= 0 else target / actual


def tier(
    actual: float, baseline: float | None, target: float, stretch: float | None, direction: str
) -> Tier:
    """The highest level reached: stretch, target, baseline, else none."""
    if stretch is not None and reached(actual, stretch, direction):
        return "stretch"
    if reached(actual, target, direction):
        return "target"
    if baseline is not None and reached(actual, baseline, direction):
        return "baseline"
    return "none"


def pace_ratio(actual: float, expected: float, direction: str) -> float:
    """How far ahead of the expected-to-date value a cumulative goal is (1 = on pace)."""
    if direction == "higher":
        return math.inf if expected <= 0 else actual / expected
    return math.inf if actual <= 0 else expected / actual


def rated(ratio: float | None, thresholds: GoalThresholds) -> Status:
    """on_track at or above ``thresholds.on_track``, at_risk above ``at_risk``, else behind."""
    if ratio is None:
        return "behind"
    if ratio >= thresholds.on_track:
        return "on_track"
    if ratio >= thresholds.at_risk:
        return "at_risk"
    return "behind"


def judge(
    *,
    state: State,
    cumulative: bool,
    direction: str,
    actual: float | None,
    target: float,
    expected: float | None,
    thresholds: GoalThresholds,
) -> Status:
    """The status of a goal with a to-date ``actual`` (None: no usable data).

    * Over: achieved when the target is reached, else missed.
    * Running, cumulative: achieved as soon as a higher-is-better target is reached (it can
      only grow), missed as soon as a lower-is-better one is exceeded; otherwise rated on
      the pace (actual against the expected-to-date value).
    * Running, rate: rated on the attainment of the to-date value (a target met is
      on_track, not achieved: a rate can still fall).
    """
    if actual is None or state == "upcoming":
        return "no_data"
    if state == "over":
        return "achieved" if reached(actual, target, direction) else "missed"
    if cumulative:
        if reached(actual, target, direction):
            if direction == "higher":
                return "achieved"
        elif direction == "lower":
            return "missed"
        return rated(pace_ratio(actual, expected or 0.0, direction), thresholds)
    if reached(actual, target, direction):
        return "on_track"
    return rated(attainment(actual, target, direction), thresholds)
