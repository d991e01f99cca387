"""``tracker goals suggest`` output: a ``[[goals]]`` table ready to paste, or a quotas
CSV (``--for-each owner``)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence

from tracker.goals.suggest import Suggestion
from tracker.metrics import REGISTRY
from tracker.reports.cells import neutral
from tracker.reports.pivot import figure

KIND_WORDS = {
    "week": "weeks",
    "month": "months",
    "quarter": "quarters",
    "year": "years",
    "range": "periods",
}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def goal_id(suggestion: Suggestion) -> str:
    """``revenue-emea-2026-q4``: metric, scope values and period, lower-case."""
    parts = [suggestion.metric, *(v or "none" for v in suggestion.scope.values())]
    parts.append(suggestion.period.label)
    return re.sub(r"[^a-z0-9_.:]+", "-", "-".join(parts).lower()).strip("-")


def to_toml(suggestion: Suggestion) -> str:
    """One ``[[goals]]`` table with comments saying where each level comes from."""
    unit = REGISTRY.get(suggestion.metric).unit
    kind = KIND_WORDS[suggestion.period.kind]
    where = ", ".join(f"{k}={v}" for k, v in suggestion.scope.items()) or "the company"
    last_label, last = suggestion.history[-1]
    best = max(v for _, v in suggestion.history)
    if REGISTRY.get(suggestion.metric).direction == "lower":
        best = min(v for _, v in suggestion.history)
    history = " · ".join(f"{label} {figure(v, unit)}" for label, v in suggestion.history)
    scope = ", ".join(f"{k} = {json.dumps(v)}" for k, v in suggestion.scope.items())
    lines = [
        f"# {suggestion.metric} for {where} in {suggestion.period.label}, from "
        f"{len(suggestion.history)} {kind} on record:",
        f"#   {history}",
    ]
    if len(suggestion.history) < 4:
        lines.append(f"# only {len(suggestion.history)} {kind} on record: take these with care")
    lines += [
        "[[goals]]",
        f"id = {json.dumps(goal_id(suggestion))}",
        f"metric = {json.dumps(suggestion.metric)}",
        f"period = {json.dumps(suggestion.period.label)}",
        *([f"scope = {{ {scope} }}"] if scope else []),
        f'baseline = "previous"  # {last_label}: {figure(last, unit)}',
        f"target = {_number(suggestion.target)}  # the 75th percentile of the {kind} on "
        "record, at least 5 % better than the baseline",
        f"stretch = {_number(suggestion.stretch)}  # 10 % beyond the best on record "
        f"({figure(best, unit)}) or the target",
        'why = ""  # say why this goal matters (`tracker goals check` requires it)',
    ]
    return "\n".join(lines) + "\n"


def to_quotas_csv(suggestions: Sequence[Suggestion], dimension: str = "owner") -> str:
    """A quotas file: owner, target, stretch, baseline (the most recent period's value)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["owner", "target", "stretch", "baseline"])
    for suggestion in suggestions:
        writer.writerow(
            [
                neutral(suggestion.scope.get(dimension)),
                _number(suggestion.target),
                _number(suggestion.stretch),
                _number(round(suggestion.baseline, 6)),
            ]
        )
    return buffer.getvalue()
