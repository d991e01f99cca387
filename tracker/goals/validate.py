"""Checks of the goal configuration that need the metric registry.

Run when a command loads goals (``jobs.tasks``); each problem is a ``ConfigError`` naming
the file and the goal id, so an invalid goal stops the command with exit 2.
"""

from __future__ import annotations

from collections.abc import Sequence

from tracker.errors import ConfigError, UsageError
from tracker.goals.model import GoalConfig
from tracker.goals.thresholds import GUARDRAIL_TOLERANCES
from tracker.metrics import DIMENSIONS, REGISTRY, MetricRegistry
from tracker.wording import unknown_name


def goal_error(goal: GoalConfig, message: str) -> ConfigError:
    """A configuration error about ``goal``: ``goals/q3.toml: goal emea-cycle: ...``."""
    return ConfigError(f"{goal.origin}: goal {goal.id}: {message}")


def number(value: float) -> str:
    """A level in a message: ``2,400,000``, ``45``, ``0.35``, ``1,234.6``."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.4g}"


def beyond(level: float, other: float, direction: str) -> bool:
    """``level`` is strictly better than ``other`` in the metric's ``direction``."""
    return level > other if direction == "higher" else level < other


def check_goal_configs(goals: Sequence[GoalConfig], registry: MetricRegistry = REGISTRY) -> None:
    """Known metric, dimensions and guardrails; stretch beyond target in the metric's
    direction. Raises the first problem as a ``ConfigError``."""
    for goal in goals:
        try:
            definition = registry.get(goal.metric)
        except UsageError as exc:
            raise goal_error(goal, str(exc)) from None
        dims = [*goal.scope, *([goal.for_each] if goal.for_each else [])]
        for dim in dims:
            if dim not in DIMENSIONS:
                raise goal_error(goal, unknown_name("dimension", dim, DIMENSIONS))
        for name in goal.guardrails or ():
            if name not in GUARDRAIL_TOLERANCES:
                raise goal_error(goal, unknown_name("guardrail", name, GUARDRAIL_TOLERANCES))
        if (
            goal.target is not None
            and goal.stretch is not None
            and not beyond(goal.stretch, goal.target, definition.direction)
        ):
            word = "above" if definition.direction == "higher" else "below"
            raise goal_error(
                goal,
                f"stretch {goal.stretch} is not beyond target {goal.target}: "
                f"{goal.metric} is better {definition.direction}, so stretch must be {word} it",
            )
