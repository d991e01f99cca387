"""The SMART linter: each goal checked against the data (``docs/goals.md``).

* Specific: every scope value exists in the data (error).
* Measurable: the fields the metric needs are carried by at least ``min_coverage`` of the
  eligible deals over the recent periods (error, naming the field and the config key that
  maps it when no deal carries it).
* Achievable: target and stretch placed in the distribution of the metric over the past
  periods: ``too_safe`` (not beyond the baseline), ``realistic`` (up to the 75th
  percentile), ``stretch`` (up to the best period plus ``moonshot_margin``), ``moonshot``
  (beyond it); warnings for a too safe target or stretch and for moonshots.
* Relevant: a ``why`` is given (error).
* Time-bound: the period resolves (else the config is invalid); one already over is a
  warning (for reviews).
* Rollups: split goals (owners of a team...) whose targets sum to less than the target
  of the goal of their common scope: "not covered" (warning).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date

from tracker.goals.evaluate import usable
from tracker.goals.expand import Goal, Scope, unknown_value
from tracker.goals.plan import Values
from tracker.goals.result import GoalResult, LintItem
from tracker.goals.thresholds import GoalThresholds
from tracker.goals.validate import beyond, number
from tracker.metrics import REGISTRY, MetricRow
from tracker.periods import Period

LIMITING_FIELD: dict[str, tuple[str, str]] = {
    "revenue": ("amount", "amount"),
    "avg_deal_size": ("amount", "amount"),
    "win_rate_value": ("amount", "amount"),
    "pipeline_created": ("amount", "amount"),
    "sales_cycle_days": ("created date", "created"),
    "new_customers": ("account", "account"),
    "discount_pct": ("list price", "list"),
    "gross_margin_pct": ("cost", "cost"),
}
"""Metric → the field that usually limits its coverage (words, canonical field)."""

CONFIG_KEYS: dict[str, dict[str, str]] = {
    "csv": {
        "amount": "columns.amount",
        "created": "columns.created",
        "account": "columns.account",
        "list": "columns.list_amount",
        "cost": "columns.cost_amount",
    },
    "salesforce": {"cost": "fields.line_item_cost"},
    "hubspot": {"cost": "properties.line_item_cost"},
}
"""Source kind → canonical field → the key of ``[sources.NAME]`` that maps it."""


def mapping_hint(field: str, source_kinds: Mapping[str, str]) -> str:
    """Where to map ``field``: ``[sources.export.columns] cost_amount``, one per source."""
    keys = []
    for name, kind in sorted(source_kinds.items()):
        key = CONFIG_KEYS.get(kind, {}).get(field)
        if key is not None:
            table, _, item = key.rpartition(".")
            keys.append(f"[sources.{name}.{table}] {item}")
    return "map it with " + " or ".join(keys) if keys else "the source does not provide it"


def _specific(goal: Goal, present: Mapping[str, set[str]]) -> list[LintItem]:
    out = []
    for dim, value in goal.scope:
        known = present.get(dim, set())
        if value not in known:
            message = unknown_value(dim, str(value), sorted(known))
            out.append(LintItem("error", "specific", f"{message} (not in the data)", goal.id))
    return out


def _measurable(
    result: GoalResult, values: Values, thresholds: GoalThresholds, kinds: Mapping[str, str]
) -> list[LintItem]:
    goal, window = result.goal, result.windows
    where = window.recent or window.to_date
    row = values.row(goal.metric, where, goal.scope)
    if row is None or row.coverage is None or row.coverage >= thresholds.min_coverage:
        return []
    words, field = LIMITING_FIELD.get(goal.metric, ("the fields it needs", ""))
    span = "" if where is None else f" over {where.label}"
    if row.coverage == 0:
        text = f"no deal{span} carries the {words} {goal.metric} needs; "
        text += mapping_hint(field, kinds)
    else:
        text = f"only {row.coverage:.0%} of the deals{span} carry the {words} {goal.metric} "
        text += f"needs (at least {thresholds.min_coverage:.0%} must)"
    return [LintItem("error", "measurable", text, goal.id)]


def classify(
    level: float, baseline: float | None, history: Sequence[float], direction: str, margin: float
) -> str:
    """``too_safe``, ``realistic``, ``stretch`` or ``moonshot`` (see the module doc)."""
    ordered = sorted(history) if direction == "higher" else sorted(history, reverse=True)
    floor = baseline if baseline is not None else ordered[len(ordered) // 2]
    if not beyond(level, floor, direction):
        return "too_safe"
    best = ordered[-1]
    sign = 1 if direction == "higher" else -1
    if beyond(level, best + sign * abs(best) * margin, direction):
        return "moonshot"
    rank = 0.75 * (len(ordered) - 1)
    low = ordered[int(rank)]
    high = ordered[min(int(rank) + 1, len(ordered) - 1)]
    p75 = low + (high - low) * (rank - int(rank))
    return "stretch" if beyond(level, p75, direction) else "realistic"


def history_values(result: GoalResult, values: Values, thresholds: GoalThresholds) -> list[float]:
    """The goal's metric over each complete past period, where usable."""
    goal = result.goal
    rows = [(p, values.row(goal.metric, p, goal.scope)) for p in result.windows.history]
    return [value for _, value in on_record(rows, goal.metric, thresholds)]


def on_record(
    rows: Sequence[tuple[Period, MetricRow | None]], metric: str, thresholds: GoalThresholds
) -> list[tuple[Period, float]]:
    """The usable values of past periods' rows (oldest first), from the first period the
    scope has any deal in: periods before its data began are not on record."""
    definition = REGISTRY.get(metric)
    started = False
    out = []
    for period, row in rows:
        started = started or (row is not None and row.n > 0)
        if (
            started
            and row is not None
            and row.value is not None
            and usable(row, definition, thresholds)
        ):
            out.append((period, float(row.value)))
    return out


def _achievable(
    result: GoalResult, values: Values, thresholds: GoalThresholds
) -> tuple[dict[str, str], list[LintItem]]:
    goal = result.goal
    history = history_values(result, values, thresholds)
    if len(history) < thresholds.min_history:
        return {"target": "not_judged", "stretch": "not_judged"}, []
    levels = {"target": goal.target, "stretch": goal.stretch}
    found: dict[str, str] = {}
    out = []
    for name, level in levels.items():
        if level is None:
            continue
        margin = thresholds.moonshot_margin
        kind = classify(level, result.baseline, history, result.direction, margin)
        found[name] = kind
        if kind == "too_safe":
            text = f"{name} {number(level)} is no better than the baseline"
            text += "" if result.baseline is None else f" ({number(result.baseline)})"
            out.append(LintItem("warning", "achievable", text + ": too safe", goal.id))
        elif kind == "moonshot":
            best = max(history) if result.direction == "higher" else min(history)
            text = f"{name} {number(level)} is beyond the best of {len(history)} past periods "
            text += f"({number(best)}) by more than {thresholds.moonshot_margin:.0%}: a moonshot"
            out.append(LintItem("warning", "achievable", text, goal.id))
    return found, out


def _config_level(result: GoalResult) -> list[LintItem]:
    goal = result.goal
    subject = goal.parent or goal.id
    out = []
    if not (goal.config.why or "").strip():
        text = 'no why: say why this goal matters (why = "...")'
        out.append(LintItem("error", "relevant", text, subject))
    if result.windows.state == "over":
        text = f"{goal.period.label} ended on {goal.period.end.isoformat()} (for reviews only)"
        out.append(LintItem("warning", "time_bound", text, subject))
    return out


def _rollups(results: Sequence[GoalResult]) -> dict[str, list[LintItem]]:
    """Split goals whose targets do not add up to the target of their common scope."""
    by_key: dict[tuple[str, date, date, Scope], GoalResult] = {}
    for r in results:
        by_key[(r.goal.metric, r.goal.period.start, r.goal.period.end, r.goal.scope)] = r
    children: dict[tuple[tuple[str, date, date, Scope], str], list[GoalResult]] = {}
    for r in results:
        for index, (dim, _) in enumerate(r.goal.scope):
            parent_scope = r.goal.scope[:index] + r.goal.scope[index + 1 :]
            key = (r.goal.metric, r.goal.period.start, r.goal.period.end, parent_scope)
            if key in by_key:
                children.setdefault((key, dim), []).append(r)
    out: dict[str, list[LintItem]] = {}
    for (key, dim), members in children.items():
        parent = by_key[key]
        if not parent.cumulative or parent.direction != "higher":
            continue
        total = sum(m.goal.target for m in members)
        if total < parent.goal.target:
            short = number(parent.goal.target - total)
            text = f"{dim} targets sum to {number(total)}, {short} short "
            text += f"of this goal's {number(parent.goal.target)} (not covered)"
            out.setdefault(parent.goal.id, []).append(
                LintItem("warning", "rollup", text, parent.goal.id)
            )
    return out


def lint(
    results: Sequence[GoalResult],
    values: Values,
    *,
    present: Mapping[str, set[str]],
    source_kinds: Mapping[str, str],
    thresholds: GoalThresholds,
) -> list[GoalResult]:
    """``results`` with their lint findings and achievability filled in. ``present`` gives
    the values each scope dimension has in the data."""
    rollups = _rollups(results)
    out = []
    for result in results:
        achievable, findings = _achievable(result, values, thresholds)
        items = [
            *_specific(result.goal, present),
            *_measurable(result, values, thresholds, source_kinds),
            *findings,
            *_config_level(result),
            *rollups.get(result.goal.id, []),
        ]
        out.append(replace(result, lint=tuple(items), achievable=achievable))
    return out
