"""A computed set of metric rows with the context needed to read and reproduce them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tracker.metrics.compute import MetricRow


@dataclass(frozen=True, slots=True)
class Report:
    """Computed rows with the context needed to read and reproduce them; ``filters`` is
    the scope every row lies within (``--filter``), empty for the whole company."""

    timezone: str
    definitions_version: int
    generated_at: datetime
    as_of: dict[str, datetime]
    rows: list[MetricRow]
    filters: Mapping[str, tuple[str | None, ...]] = field(default_factory=dict)
