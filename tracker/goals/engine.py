"""Evaluating every goal at once: expand, plan one computation, evaluate, lint, compare.

Pure: a prepared deals frame (``tracker.metrics.frame``), the goal configuration and the
inputs below; the loader and ``jobs.tasks`` do the reading.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import pandas as pd

from tracker.goals.checkins import Checkin, since
from tracker.goals.evaluate import evaluate_goal
from tracker.goals.expand import OwnerRef, QuotaRow, expand, present_values
from tracker.goals.lint import lint
from tracker.goals.model import BaselineSpec, GoalConfig
from tracker.goals.plan import plan, run
from tracker.goals.result import GoalResult
from tracker.goals.thresholds import GoalThresholds
from tracker.goals.windows import Windows, windows
from tracker.periods import Period


@dataclass(frozen=True, slots=True)
class GoalInputs:
    """What an evaluation reads besides the deals frame and the goals.

    ``source_kinds`` (source name → kind) lets the linter name the config key that maps a
    missing field; ``owners`` and ``quotas`` (file → rows) resolve quotas files;
    ``previous`` is the check-in reports compare with; ``activities`` is the activities
    frame (``tracker.metrics.activity_frame``) goals on activity metrics need, else None.
    """

    as_of: date
    fiscal_year_start_month: int = 1
    thresholds: GoalThresholds = field(default_factory=GoalThresholds)
    source_kinds: Mapping[str, str] = field(default_factory=dict)
    owners: Sequence[OwnerRef] = ()
    quotas: Mapping[Path, Sequence[QuotaRow]] = field(default_factory=dict)
    previous: Checkin | None = None
    activities: pd.DataFrame | None = None


def evaluate(
    frame: pd.DataFrame,
    configs: Sequence[GoalConfig],
    inputs: GoalInputs,
    *,
    wanted: Period | None = None,
    everything: bool = False,
) -> list[GoalResult]:
    """Every goal of ``configs`` evaluated as of ``inputs.as_of``, in configuration order.

    By default the goals whose period contains the as-of date (recurring goals in their
    current period); ``wanted`` selects a period instead, ``everything`` every fixed one.
    """
    goals = expand(
        configs,
        frame,
        as_of=inputs.as_of,
        fiscal_year_start_month=inputs.fiscal_year_start_month,
        wanted=wanted,
        everything=everything,
        owners=inputs.owners,
        quotas=inputs.quotas,
        activities=inputs.activities,
    )
    thresholds = inputs.thresholds
    found: dict[tuple[Period, BaselineSpec], Windows] = {}
    for goal in goals:  # goals share periods: each set of windows is worked out once
        key = (goal.period, goal.baseline)
        if key not in found:
            found[key] = windows(
                goal.period,
                inputs.as_of,
                goal.baseline,
                fiscal_year_start_month=inputs.fiscal_year_start_month,
                history_periods=thresholds.history_periods,
                closing_days=thresholds.clustering_days,
            )
    spans = [found[(goal.period, goal.baseline)] for goal in goals]
    if not goals:
        return []
    values = run(frame, plan(goals, spans), inputs.activities)
    results = [
        evaluate_goal(goal, span, values, thresholds)
        for goal, span in zip(goals, spans, strict=True)
    ]
    dims = sorted({dim for goal in goals for dim, _ in goal.scope})
    results = lint(
        results,
        values,
        present=present_values(frame, dims, inputs.activities),
        source_kinds=inputs.source_kinds,
        thresholds=thresholds,
    )
    return [replace(r, since_last_checkin=since(r, inputs.previous)) for r in results]
