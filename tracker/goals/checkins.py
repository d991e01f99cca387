"""Check-ins: an evaluation kept (``tracker report --save``) and the change since the last.

Every report compares each goal with the same goal and period in the *previous check-in*:
the latest one saved for an earlier as-of date. The change is in attainment points (0.84
→ 0.88 is +4 points) and status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from tracker.goals.result import GoalResult


@dataclass(frozen=True, slots=True)
class CheckinRow:
    """One goal as a check-in recorded it."""

    goal_id: str
    period: str
    actual: float | None
    attainment: float | None
    tier: str | None
    status: str


@dataclass(frozen=True, slots=True)
class Checkin:
    """A saved evaluation: its as-of date and its rows by (goal id, period label)."""

    checkin_id: int
    as_of: date
    rows: Mapping[tuple[str, str], CheckinRow]


def since(result: GoalResult, previous: Checkin | None) -> dict[str, Any] | None:
    """``since_last_checkin`` of ``result``: null without a previous check-in of the goal."""
    if previous is None:
        return None
    row = previous.rows.get((result.goal.id, result.goal.period.label))
    if row is None:
        return None
    points = None
    if result.attainment is not None and row.attainment is not None:
        points = round((result.attainment - row.attainment) * 100, 1)
    return {
        "as_of": previous.as_of.isoformat(),
        "actual": row.actual,
        "attainment_points": points,
        "status": row.status,
        "status_changed": row.status != result.status,
    }


def rows_of(results: list[GoalResult]) -> list[CheckinRow]:
    """What a check-in keeps of each result."""
    return [
        CheckinRow(
            goal_id=r.goal.id,
            period=r.goal.period.label,
            actual=r.actual,
            attainment=r.attainment,
            tier=r.tier,
            status=r.status,
        )
        for r in results
    ]
