"""Goal reports as people and programs read them: the JSON contract, CSV, Markdown and a
table, worst first (``docs/goals.md``).

The JSON is a stable contract, versioned by ``definitions_version``::

    {"as_of": "2026-08-15", "timezone": "UTC", "definitions_version": 1,
     "data_as_of": {"<source>": "<last successful sync, ISO>"},
     "goals": [{"id", "metric", "period", "scope", "why", "actual", "n", "coverage",
                "baseline", "target", "stretch", "variance", "variance_pct",
                "attainment", "tier", "status", "expected_to_date", "projected",
                "pacing_method", "needed_run_rate", "pipeline", "guardrails", "lint",
                "since_last_checkin"}]}
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from tracker.errors import UsageError
from tracker.goals.result import GoalReport, GoalResult
from tracker.reports.cells import neutral
from tracker.reports.pivot import figure
from tracker.wording import unknown_name

FORMATS: tuple[str, ...] = ("table", "md", "json", "csv")

STATUS_WORDS = {
    "achieved": "achieved",
    "on_track": "on track",
    "at_risk": "at risk",
    "behind": "behind",
    "missed": "missed",
    "no_data": "no data",
}


def check_format(name: str) -> str:
    """``name`` if it is a report format, else a ``UsageError`` listing them."""
    lowered = name.strip().lower()
    if lowered not in FORMATS:
        raise UsageError(unknown_name("format", name, FORMATS))
    return lowered


def tidy(value: Any) -> Any:
    """Floats to 12 significant digits (whole levels as integers), recursively."""
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {k: tidy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [tidy(v) for v in value]
    return value


def level(value: float | None) -> float | int | None:
    """A goal level as written in the config: 45, not 45.0."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


def goal_dict(result: GoalResult) -> dict[str, Any]:
    """One goal as in the JSON contract."""
    goal, pacing = result.goal, result.pacing
    return {
        "id": goal.id,
        "metric": goal.metric,
        "period": goal.period.label,
        "scope": goal.scope_dict,
        "why": goal.config.why,
        "actual": tidy(result.actual),
        "n": result.n,
        "coverage": tidy(result.coverage),
        "baseline": tidy(result.baseline),
        "target": level(goal.target),
        "stretch": level(goal.stretch),
        "variance": tidy(result.variance),
        "variance_pct": tidy(result.variance_pct),
        "attainment": tidy(result.attainment),
        "tier": result.tier,
        "status": result.status,
        "expected_to_date": None if pacing is None else tidy(pacing.expected_to_date),
        "projected": None if pacing is None else tidy(pacing.projected),
        "pacing_method": None if pacing is None else pacing.method,
        "needed_run_rate": None if pacing is None else tidy(pacing.needed_run_rate),
        "pipeline": tidy(result.pipeline),
        "guardrails": [tidy(flag.as_dict()) for flag in result.guardrails],
        "lint": [item.as_dict() for item in result.lint],
        "since_last_checkin": tidy(result.since_last_checkin),
    }


def to_dict(report: GoalReport) -> dict[str, Any]:
    """The whole report as in the JSON contract (goals worst first)."""
    return {
        "as_of": report.as_of.isoformat(),
        "timezone": report.timezone,
        "definitions_version": report.definitions_version,
        "data_as_of": {k: v.isoformat() for k, v in sorted(report.data_as_of.items())},
        "goals": [goal_dict(r) for r in report.worst_first()],
    }


def to_json(report: GoalReport) -> str:
    """The JSON document (undefined values are null, never NaN)."""
    return json.dumps(to_dict(report), indent=2, allow_nan=False, ensure_ascii=False) + "\n"


CSV_COLUMNS = (
    "id",
    "metric",
    "period",
    "scope",
    "status",
    "tier",
    "actual",
    "n",
    "coverage",
    "baseline",
    "target",
    "stretch",
    "variance",
    "variance_pct",
    "attainment",
    "expected_to_date",
    "projected",
    "pacing_method",
    "attainment_points_since_last_checkin",
    "guardrails",
    "lint",
    "why",
)


def _scope_text(scope: dict[str, str | None]) -> str:
    return ", ".join(f"{k}={v}" for k, v in scope.items()) or "company"


def to_csv(report: GoalReport) -> str:
    """One line per goal, worst first; guardrail and lint messages joined by '; '."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for result in report.worst_first():
        row = goal_dict(result)
        since = row["since_last_checkin"] or {}
        row.update(
            scope=_scope_text(row["scope"]),
            attainment_points_since_last_checkin=since.get("attainment_points"),
            guardrails="; ".join(f["message"] for f in row["guardrails"]),
            lint="; ".join(f"{i['level']}: {i['message']}" for i in row["lint"]),
        )
        writer.writerow(["" if row[c] is None else neutral(row[c]) for c in CSV_COLUMNS])
    return buffer.getvalue()


def _figure(value: float | None, unit: str) -> str:
    return figure(value, unit)  # type: ignore[arg-type]


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def _since(result: GoalResult) -> str:
    since = result.since_last_checkin
    if not since:
        return ""
    points = since["attainment_points"]
    text = "" if points is None else f"{points:+.1f} pts"
    if since["status_changed"]:
        text += f" (was {STATUS_WORDS.get(since['status'], since['status'])})"
    return text.strip()


def cells(result: GoalResult) -> list[str]:
    """A goal's cells in the people's table and Markdown (money in whole units)."""
    goal, pacing = result.goal, result.pacing
    return [
        STATUS_WORDS[result.status],
        goal.id,
        goal.period.label,
        _scope_text(goal.scope_dict),
        _figure(result.actual, result.unit),
        _figure(goal.target, result.unit),
        _percent(result.attainment),
        result.tier or "—",
        "" if pacing is None else _figure(pacing.expected_to_date, result.unit),
        "" if pacing is None else _figure(pacing.projected, result.unit),
        _since(result),
        str(len(result.guardrails)) if result.guardrails else "",
    ]


HEADERS = (
    "status",
    "goal",
    "period",
    "scope",
    "actual",
    "target",
    "attained",
    "tier",
    "expected",
    "projected",
    "since last",
    "flags",
)
NUMERIC = frozenset({"actual", "target", "attained", "expected", "projected", "flags"})


def notes(report: GoalReport) -> list[str]:
    """One line per guardrail flag and lint finding."""
    out = []
    for result in report.worst_first():
        for flag in result.guardrails:
            out.append(f"flag {result.goal.id}: {flag.message}")
        for item in result.lint:
            out.append(f"{item.level} {result.goal.id}: {item.rule}: {item.message}")
    return out


def _title(report: GoalReport, currency: str) -> str:
    return f"Goals as of {report.as_of.isoformat()} ({report.timezone}; money in {currency})"


TABLE_COLUMNS = {
    "status": "status",
    "goal": "goal",
    "actual": "actual",
    "target": "target",
    "attained": "att.",
    "tier": "tier",
    "expected": "expected",
    "since last": "since last",
}
"""The terminal's columns and their headers (Markdown and CSV have them all; guardrail
flags follow the table, one line each)."""


def to_table(report: GoalReport, currency: str) -> Table:
    """A rich table of the goals, worst first: the goal's cell holds its id, then its
    period and scope. Columns empty for every goal (no pace, no check-in yet) are left
    out, so the goal's own column keeps the room."""
    table = Table(
        title=_title(report, currency), box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False
    )
    rows = []
    for result in report.worst_first():
        row = dict(zip(HEADERS, cells(result), strict=True))
        row["goal"] = f"{row['goal']}\n{row['period']} · {row['scope']}"
        rows.append(row)
    shown = [
        name
        for name in TABLE_COLUMNS
        if name in ("status", "goal") or any(row[name] not in ("", "—") for row in rows)
    ]
    widest_id = max((len(r.goal.id) for r in report.results), default=12)
    for name in shown:
        wraps = name in ("goal", "since last")
        table.add_column(
            TABLE_COLUMNS[name],
            justify="right" if name in NUMERIC else "left",
            no_wrap=not wraps,
            min_width=min(max(widest_id, 12), 20) if name == "goal" else None,
            overflow="fold",
        )
    for row in rows:
        table.add_row(*(row[name] for name in shown))
    return table


def to_markdown(report: GoalReport, currency: str) -> str:
    """The variance summary as a Markdown table, then flags, findings and whys."""
    lines = [
        f"# {_title(report, currency)}",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---:" if h in NUMERIC else "---" for h in HEADERS) + "|",
    ]
    for result in report.worst_first():
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells(result)) + " |")
    extra = notes(report)
    if extra:
        lines += ["", *(f"- {line}" for line in extra)]
    whys = [(r.goal.id, r.goal.config.why) for r in report.worst_first() if r.goal.config.why]
    if whys:
        lines += ["", "## Why", "", *(f"- **{goal_id}**: {why}" for goal_id, why in whys)]
    return "\n".join(lines) + "\n"


def render(report: GoalReport, fmt: str, currency: str, width: int = 80) -> str:
    """The report in ``fmt`` (see ``FORMATS``) as text; tables are ``width`` wide."""
    if fmt == "json":
        return to_json(report)
    if fmt == "csv":
        return to_csv(report)
    if fmt == "md":
        return to_markdown(report, currency)
    if not report.results:
        return f"no goals running on {report.as_of.isoformat()} (--period selects others)\n"
    console = Console(record=True, width=width, file=io.StringIO())
    console.print(to_table(report, currency))
    for line in notes(report):
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    return console.export_text()
