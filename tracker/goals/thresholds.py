"""Every threshold goals are judged by, in one place: ``[goal_thresholds]`` in the config.

``docs/goals.md`` explains each one to a sales leader; the defaults are the issue's.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class GoalThresholds(BaseModel):
    """``[goal_thresholds]``: when a goal is on track, measurable, too safe, gamed..."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    min_n: int = Field(default=5, ge=1)
    """Rate metrics (win rate, cycle, discount, margin) resting on fewer deals: no_data."""
    min_coverage: float = Field(default=0.8, ge=0, le=1)
    """Share of eligible deals that must carry the fields a metric needs."""
    on_track: float = Field(default=0.95, gt=0)
    """Pace (actual ÷ expected to date) or attainment at or above which a goal is on track."""
    at_risk: float = Field(default=0.8, gt=0)
    """... at or above which it is at risk; below it is behind."""
    history_periods: int = Field(default=8, ge=1, le=24)
    """Past periods read for pacing curves, the achievability check and suggestions."""
    min_history: int = Field(default=4, ge=1)
    """Fewer usable past periods than this: the company curve, then a linear pace."""
    moonshot_margin: float = Field(default=0.2, ge=0)
    """A level beyond the best period on record by more than this share is a moonshot."""
    discount_points: float = Field(default=0.03, ge=0)
    """Guardrail: discount up by more than this (0.03 = 3 points) against its baseline."""
    margin_points: float = Field(default=0.02, ge=0)
    """Guardrail: gross margin down by more than this (0.02 = 2 points)."""
    cycle_pct: float = Field(default=0.2, ge=0)
    """Guardrail: median sales cycle up by more than this share (0.2 = 20 %)."""
    clustering_days: int = Field(default=14, ge=1)
    """The closing days of a period in which discounting may cluster."""
    clustering_ratio: float = Field(default=1.5, ge=1)
    """Flag when the share of the period's discount given in its closing days is at least
    this many times the share of its revenue closed in them ..."""
    clustering_min_share: float = Field(default=0.2, ge=0, le=1)
    """... and at least this share of the period's discount."""

    def tolerance(self, metric: str) -> float | None:
        """The guardrail tolerance of ``metric`` (None: not a guardrail metric)."""
        name = GUARDRAIL_TOLERANCES.get(metric)
        return None if name is None else float(getattr(self, name))


GUARDRAIL_TOLERANCES: dict[str, str] = {
    "discount_pct": "discount_points",
    "gross_margin_pct": "margin_points",
    "sales_cycle_days": "cycle_pct",
}
"""Metrics that can be guardrails, with the threshold that is their tolerance."""

DEFAULT_GUARDRAILS: tuple[str, ...] = ("discount_pct", "gross_margin_pct")
"""Guardrails of money and count goals unless the goal lists its own."""
