"""A computed set of metric rows with the context needed to read and reproduce them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tracker.metrics.compute import MetricRow


@dataclass(frozen=True, slots=True)
class Report:
    """Computed rows with the context needed to read and reproduce them."""

    timezone: str
    definitions_version: int
    generated_at: datetime
    as_of: dict[str, datetime]
    rows: list[MetricRow]
