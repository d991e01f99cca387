"""``tracker goals check`` output: one line per finding, naming the goal; JSON."""

from __future__ import annotations

import json
from typing import Any

from tracker.goals.result import GoalReport, LintItem

CHECK_FORMATS: tuple[str, ...] = ("table", "json")


def findings(report: GoalReport) -> list[LintItem]:
    """Every finding once (a split goal's shared findings name the goal they come from),
    errors first, then by goal."""
    seen: dict[tuple[str, str, str], LintItem] = {}
    for result in report.results:
        for item in result.lint:
            seen.setdefault((item.subject, item.rule, item.message), item)
    return sorted(seen.values(), key=lambda i: (i.level != "error", i.subject, i.rule))


def counts(report: GoalReport) -> tuple[int, int]:
    """(errors, warnings) among the findings."""
    found = findings(report)
    return sum(i.level == "error" for i in found), sum(i.level == "warning" for i in found)


def to_lines(report: GoalReport) -> str:
    """``error   emea-cycle: measurable: ...`` lines, then a summary line."""
    lines = [f"{i.level:<8}{i.subject}: {i.rule}: {i.message}" for i in findings(report)]
    errors, warnings = counts(report)
    goals = len(report.results)
    lines.append(
        f"checked {goals} goal{'s' * (goals != 1)} as of {report.as_of.isoformat()}: "
        f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    )
    return "\n".join(lines) + "\n"


def to_dict(report: GoalReport) -> dict[str, Any]:
    """The findings, the counts and where each goal's levels sit in its history."""
    errors, warnings = counts(report)
    return {
        "as_of": report.as_of.isoformat(),
        "goals_checked": len(report.results),
        "errors": errors,
        "warnings": warnings,
        "findings": [
            {"goal": i.subject, "level": i.level, "rule": i.rule, "message": i.message}
            for i in findings(report)
        ],
        "goals": [
            {
                "id": r.goal.id,
                "metric": r.goal.metric,
                "period": r.goal.period.label,
                "scope": r.goal.scope_dict,
                "achievable": r.achievable,
            }
            for r in report.results
        ],
    }


def render_check(report: GoalReport, fmt: str) -> str:
    """The check in ``fmt`` (``table``: lines; ``json``)."""
    if fmt == "json":
        return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"
    return to_lines(report)
