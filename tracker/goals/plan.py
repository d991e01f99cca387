"""One computation for every goal: which metrics, periods and breakdowns to ask the engine
for, and a lookup of the rows it returns.

Every goal's windows go into one ``MetricRequest`` (metrics of the goals, their guardrails
and the win rates pipeline coverage needs × every window × every scope's breakdown) and
one request of the goal-only measures; the engine runs one grouped computation per metric
× layer of disjoint periods × breakdown, never a query per goal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from tracker.goals.expand import Goal, Scope, canonical
from tracker.goals.measures import MEASURES
from tracker.goals.model import GoalConfig
from tracker.goals.pipeline import PIPELINE_METRICS
from tracker.goals.thresholds import DEFAULT_GUARDRAILS
from tracker.goals.windows import Windows
from tracker.metrics import REGISTRY, MetricRequest, MetricRow, compute
from tracker.metrics.compute import required_fields
from tracker.metrics.registry import Field
from tracker.periods import Period

CLUSTERING_METRICS = ("revenue",)
CLUSTERING_MEASURES = ("discount_given",)


def _periods(found: Iterable[Period]) -> tuple[Period, ...]:
    """Distinct periods by their dates (a quarter and the range of its days are one)."""
    out: dict[tuple[object, object], Period] = {}
    for period in found:
        out.setdefault((period.start, period.end), period)
    return tuple(sorted(out.values(), key=lambda p: (p.start, p.end)))


@dataclass(frozen=True, slots=True)
class Plan:
    """The two requests behind an evaluation, and what the loader must read for them."""

    metrics: MetricRequest
    measures: MetricRequest | None

    @property
    def fields(self) -> tuple[Field, ...]:
        """Deal fields to load."""
        found = list(required_fields(self.metrics.metrics))
        if self.measures is not None:
            found += required_fields(self.measures.metrics, MEASURES)
        return tuple(dict.fromkeys(found))

    @property
    def dimensions(self) -> tuple[str, ...]:
        """Dimensions to load."""
        return tuple(dict.fromkeys(d for b in self.metrics.breakdowns for d in b))


def goal_metrics(configs: Sequence[GoalConfig]) -> set[str]:
    """The metrics of the goals and of their guardrails."""
    metrics = {c.metric for c in configs}
    return metrics | {
        g for c in configs for g in (DEFAULT_GUARDRAILS if c.guardrails is None else c.guardrails)
    }


def load_needs(configs: Sequence[GoalConfig]) -> tuple[tuple[Field, ...], tuple[str, ...]]:
    """The deal fields and dimensions to load before goals can be expanded and computed
    (every measure a goal of these kinds may need)."""
    metrics = goal_metrics(configs)
    measures: set[str] = set()
    if metrics & set(PIPELINE_METRICS):
        metrics |= {PIPELINE_METRICS[m][1] for m in metrics if m in PIPELINE_METRICS}
        measures |= {"open_pipeline", "open_deals"}
    if "discount_pct" in metrics:
        metrics |= set(CLUSTERING_METRICS)
        measures |= set(CLUSTERING_MEASURES)
    fields = [*required_fields(sorted(metrics)), *required_fields(sorted(measures), MEASURES)]
    dims = [d for c in configs for d in (*c.scope, *([c.each] if c.each else []))]
    return tuple(dict.fromkeys(fields)), tuple(dict.fromkeys(dims))


def plan(goals: Sequence[Goal], windows: Sequence[Windows]) -> Plan:
    """The requests computing every window of every goal (``goals`` and ``windows`` pair up)."""
    metrics: dict[str, None] = {}
    measures: dict[str, None] = {}
    periods: list[Period] = []
    measure_periods: list[Period] = []
    for goal, window in zip(goals, windows, strict=True):
        metrics[goal.metric] = None
        metrics.update(dict.fromkeys(goal.guardrails))
        periods.extend(window.all())
        if goal.metric in PIPELINE_METRICS and window.remaining is not None:
            _, rate = PIPELINE_METRICS[goal.metric]
            metrics[rate] = None
            measures.update(dict.fromkeys(("open_pipeline", "open_deals")))
            measure_periods.append(window.remaining)
        if "discount_pct" in goal.guardrails and window.closing is not None:
            metrics.update(dict.fromkeys(CLUSTERING_METRICS))
            measures.update(dict.fromkeys(CLUSTERING_MEASURES))
            assert window.to_date is not None
            measure_periods.extend([window.closing, window.to_date])
    breakdowns = tuple(dict.fromkeys(tuple(d for d, _ in g.scope) for g in goals))
    main = MetricRequest(
        metrics=tuple(metrics), periods=_periods(periods), breakdowns=breakdowns or ((),)
    )
    extra = None
    if measures:
        extra = MetricRequest(
            metrics=tuple(measures), periods=_periods(measure_periods), breakdowns=breakdowns
        )
    return Plan(main, extra)


class Values:
    """The computed rows by (metric, period dates, scope)."""

    def __init__(self, rows: Iterable[MetricRow]) -> None:
        # rows share scope mappings: order each one once (keeping the mapping, so its id
        # stays its own while in use)
        scopes: dict[int, tuple[dict[str, str | None], Scope]] = {}
        self._rows: dict[tuple[str, object, object, Scope], MetricRow] = {}
        for r in rows:
            known = scopes.get(id(r.scope))
            if known is None:
                known = scopes[id(r.scope)] = (r.scope, canonical(r.scope))
            self._rows[(r.metric, r.period.start, r.period.end, known[1])] = r

    def row(self, metric: str, period: Period | None, scope: Scope) -> MetricRow | None:
        """The row of ``metric`` over ``period`` for ``scope``; None when the scope has no
        deal in any requested period (or no period is given)."""
        if period is None:
            return None
        return self._rows.get((metric, period.start, period.end, scope))

    def value(self, metric: str, period: Period | None, scope: Scope) -> float | None:
        """The row's value as a float (None when undefined or absent)."""
        found = self.row(metric, period, scope)
        return None if found is None or found.value is None else float(found.value)


def run(frame: pd.DataFrame, work: Plan, activities: pd.DataFrame | None = None) -> Values:
    """Compute both requests over the deals frame (and the activities frame, which goals
    on activity metrics need)."""
    rows = compute(frame, work.metrics, REGISTRY, activities)
    if work.measures is not None:
        rows += compute(frame, work.measures, MEASURES)
    return Values(rows)
