"""Builders for goal tests: hand-written deals evaluated through the pure goal engine."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import pandas as pd

from tests.metrics.metrics_fixtures import deal, raw_frame, utc
from tracker.goals.engine import GoalInputs, evaluate
from tracker.goals.model import GoalConfig
from tracker.goals.plan import load_needs
from tracker.goals.result import GoalResult
from tracker.goals.validate import check_goal_configs
from tracker.metrics import prepare

__all__ = ["deal", "evaluate_deals", "frame_for", "goal", "one", "utc", "won"]


def goal(**fields: Any) -> GoalConfig:
    """A goal config with a why (so only the lint tests see a missing one)."""
    fields.setdefault("why", "because")
    if "period" not in fields and "every" not in fields:
        fields["period"] = "2026-Q3"
    return GoalConfig.model_validate(fields)


def won(external_id: str, close: date, amount: float = 100.0, **fields: Any) -> dict[str, Any]:
    """A won deal closed on ``close`` (created 30 days before unless given)."""
    fields.setdefault("created_at", utc(f"{close.isoformat()} 00:00") - pd.Timedelta(days=30))
    return deal(external_id, won=True, close_date=close, amount=amount, **fields)


def frame_for(
    deals: Sequence[dict[str, Any]],
    configs: Sequence[GoalConfig],
    *,
    timezone: str = "UTC",
    dimensions: Sequence[str] = (),
) -> pd.DataFrame:
    """The prepared deals frame the goals need."""
    fields, dims = load_needs(configs)
    return prepare(
        raw_frame(list(deals)),
        timezone=timezone,
        reporting_currency="USD",
        fields=fields,
        dimensions=list(dict.fromkeys([*dims, *dimensions])),
    )


def evaluate_deals(
    deals: Sequence[dict[str, Any]],
    configs: Sequence[GoalConfig],
    as_of: date,
    *,
    timezone: str = "UTC",
    wanted: Any = None,
    everything: bool = False,
    **inputs: Any,
) -> list[GoalResult]:
    """Validate ``configs`` and evaluate them over ``deals`` as of ``as_of``."""
    check_goal_configs(configs)
    frame = frame_for(deals, configs, timezone=timezone)
    return evaluate(
        frame,
        configs,
        GoalInputs(as_of=as_of, **inputs),
        wanted=wanted,
        everything=everything,
    )


def one(results: Sequence[GoalResult], goal_id: str | None = None) -> GoalResult:
    """The single result (with ``goal_id``)."""
    found = [r for r in results if goal_id is None or r.goal.id == goal_id]
    assert len(found) == 1, [r.goal.id for r in results]
    return found[0]
