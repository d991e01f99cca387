"""What an evaluation produces: one ``GoalResult`` per goal, gathered in a ``GoalReport``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from tracker.goals.expand import Goal
from tracker.goals.guardrails import Flag
from tracker.goals.pacing import Pacing
from tracker.goals.scoring import STATUSES, Status, Tier
from tracker.goals.windows import Windows

Level = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class LintItem:
    """One finding of the SMART linter: ``subject`` is the goal it is about (the id of the
    ``[[goals]]`` table for what its split goals share, such as a missing why)."""

    level: Level
    rule: str
    message: str
    subject: str

    def as_dict(self) -> dict[str, str]:
        """As in the JSON contract."""
        return {"level": self.level, "rule": self.rule, "message": self.message}


@dataclass(frozen=True, slots=True)
class GoalResult:
    """A goal evaluated as of a date (``docs/goals.md`` explains each field)."""

    goal: Goal
    windows: Windows
    unit: str
    direction: str
    cumulative: bool
    actual: float | None
    n: int
    coverage: float | None
    baseline: float | None
    variance: float | None
    variance_pct: float | None
    attainment: float | None
    tier: Tier | None
    status: Status
    pacing: Pacing | None = None
    pipeline: dict[str, Any] | None = None
    guardrails: tuple[Flag, ...] = ()
    lint: tuple[LintItem, ...] = ()
    achievable: dict[str, str] = field(default_factory=dict)
    since_last_checkin: dict[str, Any] | None = None

    @property
    def order(self) -> tuple[int, float, str]:
        """Worst first: status, then attainment (lowest first), then id."""
        attained = self.attainment if self.attainment is not None else float("inf")
        return (STATUSES.index(self.status), attained, self.goal.id)


@dataclass(frozen=True, slots=True)
class GoalReport:
    """Every goal evaluated as of ``as_of``, with the context to read and reproduce it."""

    as_of: date
    timezone: str
    definitions_version: int
    data_as_of: dict[str, datetime]
    results: list[GoalResult]

    def worst_first(self) -> list[GoalResult]:
        """The results in the order of the variance summary."""
        return sorted(self.results, key=lambda r: r.order)
