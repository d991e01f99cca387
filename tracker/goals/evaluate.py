"""One goal as of a date, from the computed values: actual, baseline, variance,
attainment, tier, status, pacing, pipeline coverage and guardrails (``docs/goals.md``)."""

from __future__ import annotations

from tracker.goals.expand import Goal
from tracker.goals.guardrails import Flag, baseline_value, clustering, moved
from tracker.goals.pacing import Pacing, curve, pace, shares
from tracker.goals.pipeline import PIPELINE_METRICS, coverage
from tracker.goals.plan import Values
from tracker.goals.result import GoalResult
from tracker.goals.scoring import attainment, judge, tier, variance, variance_pct
from tracker.goals.thresholds import GoalThresholds
from tracker.goals.windows import Windows
from tracker.metrics import REGISTRY, MetricDef, MetricRow


def usable(
    row: MetricRow | None, definition: MetricDef, thresholds: GoalThresholds
) -> float | None:
    """The row's value if it can be judged by: defined, its fields covered enough and
    (rates) resting on enough deals; else None."""
    if row is None or row.value is None:
        return None
    if row.coverage is not None and row.coverage < thresholds.min_coverage:
        return None
    if definition.kind == "cumulative" or row.n >= thresholds.min_n:
        return float(row.value)
    return None


def baseline_of(
    goal: Goal, window: Windows, values: Values, thresholds: GoalThresholds
) -> float | None:
    """The goal's baseline: its fixed number, else the mean of the usable values of its
    baseline periods (None when none is usable)."""
    if goal.baseline.kind == "number":
        return goal.baseline.value
    definition = REGISTRY.get(goal.metric)
    rows = [values.row(goal.metric, p, goal.scope) for p in window.baseline]
    found = [v for v in (usable(r, definition, thresholds) for r in rows) if v is not None]
    return sum(found) / len(found) if found else None


def _pacing(
    goal: Goal, window: Windows, values: Values, actual: float, thresholds: GoalThresholds
) -> Pacing:
    def history(scope: tuple[tuple[str, str | None], ...]) -> list[float]:
        totals = [values.value(goal.metric, p, scope) for p in window.history]
        parts = [values.value(goal.metric, p, scope) for p in window.history_to_date]
        return shares(totals, parts)

    share, method = curve(
        history(goal.scope),
        history(()),
        elapsed=window.elapsed,
        days=window.period.days,
        min_history=thresholds.min_history,
    )
    return pace(
        actual=actual,
        target=goal.target,
        stretch=goal.stretch,
        share=share,
        method=method,
        remaining=window.remaining,
        direction=REGISTRY.get(goal.metric).direction,
    )


def _guardrails(
    goal: Goal, window: Windows, values: Values, status: str, thresholds: GoalThresholds
) -> tuple[Flag, ...]:
    flags: list[Flag | None] = []
    if status in ("on_track", "achieved"):
        for metric in goal.guardrails:
            rows = [values.row(metric, p, goal.scope) for p in window.baseline]
            base = baseline_value(rows, thresholds.min_n)
            now = values.row(metric, window.to_date, goal.scope)
            flags.append(moved(metric, now, base, thresholds))
    if "discount_pct" in goal.guardrails and window.closing is not None:
        flags.append(
            clustering(
                discount_closing=values.value("discount_given", window.closing, goal.scope),
                discount_period=values.value("discount_given", window.to_date, goal.scope),
                revenue_closing=values.value("revenue", window.closing, goal.scope),
                revenue_period=values.value("revenue", window.to_date, goal.scope),
                thresholds=thresholds,
            )
        )
    return tuple(f for f in flags if f is not None)


def evaluate_goal(
    goal: Goal, window: Windows, values: Values, thresholds: GoalThresholds
) -> GoalResult:
    """Evaluate ``goal`` over its ``window`` from the computed ``values``."""
    definition = REGISTRY.get(goal.metric)
    direction = definition.direction
    cumulative = definition.kind == "cumulative"
    row = values.row(goal.metric, window.to_date, goal.scope)
    actual = usable(row, definition, thresholds)
    if actual is not None and definition.unit == "count":
        actual = int(actual)
    baseline = baseline_of(goal, window, values, thresholds)
    pacing = None
    if cumulative and window.state == "ongoing" and actual is not None:
        pacing = _pacing(goal, window, values, actual, thresholds)
    status = judge(
        state=window.state,
        cumulative=cumulative,
        direction=direction,
        actual=actual,
        target=goal.target,
        expected=None if pacing is None else pacing.expected_to_date,
        thresholds=thresholds,
    )
    pipeline = None
    if goal.metric in PIPELINE_METRICS and window.remaining is not None and actual is not None:
        measure, rate = PIPELINE_METRICS[goal.metric]
        pipeline = coverage(
            actual=actual,
            target=goal.target,
            open_value=values.row(measure, window.remaining, goal.scope),
            open_deals=values.row("open_deals", window.remaining, goal.scope),
            scope_rate=values.row(rate, window.recent, goal.scope),
            company_rate=values.row(rate, window.recent, ()),
            min_n=thresholds.min_n,
        )
    return GoalResult(
        goal=goal,
        windows=window,
        unit=definition.unit,
        direction=direction,
        cumulative=cumulative,
        actual=actual,
        n=0 if row is None else row.n,
        coverage=None if row is None else row.coverage,
        baseline=baseline,
        variance=None if actual is None else variance(actual, goal.target),
        variance_pct=None if actual is None else variance_pct(actual, goal.target),
        attainment=None if actual is None else attainment(actual, goal.target, direction),
        tier=None
        if actual is None
        else tier(actual, baseline, goal.target, goal.stretch, direction),
        status=status,
        pacing=pacing,
        pipeline=pipeline,
        guardrails=_guardrails(goal, window, values, status, thresholds),
    )
