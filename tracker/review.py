"""What the quarterly review pack shows, as plain data (built by ``jobs/review.py``,
rendered by ``tracker/reports/review_html.py`` and ``review_xlsx.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tracker.goals.result import GoalReport
from tracker.goals.suggest import Suggestion
from tracker.metrics import MetricRow
from tracker.periods import Period
from tracker.status import StoreStatus

CORE_METRICS = (
    "revenue",
    "deals_won",
    "win_rate",
    "avg_deal_size",
    "sales_cycle_days",
    "discount_pct",
    "gross_margin_pct",
    "new_customers",
    "pipeline_created",
)
GUARDRAIL_METRICS = ("discount_pct", "gross_margin_pct", "sales_cycle_days")
TREND_PERIODS = 8
TOP_DEALS = 10


@dataclass(frozen=True)
class Review:
    """Everything the pack shows, computed once."""

    period: Period
    as_of: date
    generated_at: datetime
    timezone: str
    currency: str
    fiscal_year_start_month: int
    definitions_version: int
    goals: GoalReport | None
    trend_periods: list[Period]
    trends: list[MetricRow]  # CORE_METRICS × trend periods × (company, each team)
    by_team: list[MetricRow]
    by_owner: list[MetricRow]
    won: list[dict[str, Any]]
    lost: list[dict[str, Any]]
    guardrails: list[MetricRow]  # the period and the one before, company and teams
    suggestions: list[Suggestion] = field(default_factory=list)
    status: StoreStatus | None = None
    rejected: dict[str, int] = field(default_factory=dict)
    clustering: list[dict[str, Any]] = field(default_factory=list)
    """Per scope: share of the period's discount in its closing days against its revenue's."""


def deal_row(deal: dict[str, Any], timezone: str) -> dict[str, Any]:
    """A top deal as the pack shows it: cycle in days (close date minus the local created
    date, as ``sales_cycle_days`` counts it) and discount (1 − amount ÷ list amount)."""
    created = deal.get("created_at")
    cycle = None
    if created is not None and deal.get("close_date") is not None:
        local = created.astimezone(ZoneInfo(timezone)).date() if created.tzinfo else created.date()
        cycle = (deal["close_date"] - local).days
    amount, listed = deal.get("amount"), deal.get("list_amount")
    discount = 1 - amount / listed if amount is not None and listed else None
    return {**deal, "cycle_days": cycle, "discount": discount}
