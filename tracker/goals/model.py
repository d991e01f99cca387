"""The goal configuration: one ``[[goals]]`` table, validated on its own.

This model checks what it can without the metric registry (keys, types, the period's form,
exactly one of ``period``/``every``, a target unless quotas give them); the checks that need
the registry (known metric and dimensions, stretch beyond target in the metric's direction)
are in ``tracker.goals.validate`` and run when a command loads goals. Keeping this module
free of ``tracker.metrics`` lets ``tracker.settings`` import it without a cycle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tracker.errors import UsageError
from tracker.periods import RELATIVE_PERIODS, parse_period

Every = Literal["week", "month", "quarter", "year"]
BaselineKind = Literal["previous", "same-last-year", "average", "number"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
_AVERAGE = re.compile(r"^average:(\d+)$")
MAX_AVERAGE = 12
BASELINE_FORMS = '"previous", "same-last-year", "average:N" (N = 1..12) or a number'


@dataclass(frozen=True, slots=True)
class BaselineSpec:
    """How a goal's baseline is found: the previous period, the same period last year, the
    average of the ``count`` previous periods, or a fixed ``value``."""

    kind: BaselineKind
    count: int = 1
    value: float | None = None


def parse_baseline(value: str | float) -> BaselineSpec:
    """A ``baseline`` key as a spec; a bad form raises ``ValueError`` naming the forms."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return BaselineSpec("number", value=float(value))
    text = str(value).strip().lower()
    if text in ("previous", "same-last-year"):
        return BaselineSpec(text)  # type: ignore[arg-type]
    match = _AVERAGE.match(text)
    if match and 1 <= int(match.group(1)) <= MAX_AVERAGE:
        return BaselineSpec("average", count=int(match.group(1)))
    raise ValueError(f"{value!r} is not a baseline: write {BASELINE_FORMS}")


class GoalConfig(BaseModel):
    """One ``[[goals]]`` table (``docs/goals.md``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    id: str
    """Unique id of the goal (letters, digits, - _ . :)."""
    metric: str
    """The metric the goal is on (see docs/metrics.md)."""
    period: str | None = None
    """A fixed period (2026-Q3, 2026-08, FY2026); or use every."""
    every: Every | None = None
    """A recurring goal: ISO week, month, quarter or year (each period in turn)."""
    scope: dict[str, str] = Field(default_factory=dict)
    """Dimension = value the goal is about (team, region, owner...); none = company-wide."""
    for_each: str | None = None
    """Split the goal into one per value of this dimension (owner, team...)."""
    baseline: int | float | str = "previous"
    """A number, previous, same-last-year or average-N: where the metric stood."""
    target: int | float | None = None
    """The level to reach."""
    stretch: int | float | None = None
    """A level beyond target."""
    why: str | None = None
    """Why the goal matters (the relevant of SMART); shown in reports and mail."""
    notify: tuple[str, ...] = ()
    """Who receives this goal's digest (instead of its owner and manager)."""
    guardrails: tuple[str, ...] | None = None
    """Metrics that must not worsen while chasing this goal (default: discount, margin, cycle)."""
    quotas: Path | None = None
    """A CSV file of per-owner targets (owner,target[,stretch])."""
    _origin: str = PrivateAttr(default="config")

    @property
    def origin(self) -> str:
        """Where the goal is written (the config file's or a goal file's name)."""
        return self._origin

    @field_validator("id")
    @classmethod
    def _id_form(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(
                f"{value!r}: ids use letters, digits, '-', '_', '.', ':' (at most 100)"
            )
        return value

    @field_validator("metric", "for_each")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return None if value is None else value.strip().lower()

    @field_validator("scope")
    @classmethod
    def _scope_values(cls, value: dict[str, str]) -> dict[str, str]:
        out = {}
        for key, item in value.items():
            if not item.strip():
                raise ValueError(f"{key}: give a value (the company-wide goal omits the key)")
            out[key.strip().lower()] = item.strip()
        return out

    @field_validator("period")
    @classmethod
    def _period_form(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.strip().lower() in RELATIVE_PERIODS:
            raise ValueError(
                f"{value!r} is relative: give a period such as 2026-Q3, or "
                'every = "week" | "month" | "quarter" | "year" for a recurring goal'
            )
        try:
            parse_period(value, date(2000, 1, 1))
        except UsageError as exc:
            raise ValueError(str(exc)) from None
        return value.strip()

    @field_validator("baseline")
    @classmethod
    def _baseline_form(cls, value: int | float | str) -> int | float | str:
        parse_baseline(value)
        return value

    @field_validator("notify")
    @classmethod
    def _emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for address in value:
            if "@" not in address:
                raise ValueError(f"{address!r} is not an email address")
        return value

    @field_validator("quotas")
    @classmethod
    def _beside_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        base = (info.context or {}).get("base_dir")
        if value is None or base is None or value.expanduser().is_absolute():
            return None if value is None else value.expanduser()
        return Path(base) / value

    @model_validator(mode="after")
    def _consistent(self) -> GoalConfig:
        if (self.period is None) == (self.every is None):
            raise ValueError('give exactly one of period = "2026-Q3" or every = "quarter"')
        if self.quotas is not None:
            if self.target is not None or self.stretch is not None:
                raise ValueError("with quotas, target and stretch come from the quotas file")
            if self.for_each not in (None, "owner"):
                raise ValueError('quotas are per owner: leave for_each out or set it to "owner"')
        elif self.target is None:
            raise ValueError("target: required key is missing (or give quotas = FILE)")
        if self.for_each is not None and self.for_each in self.scope:
            raise ValueError(f"for_each = {self.for_each!r} is also a key of scope")
        return self

    @property
    def baseline_spec(self) -> BaselineSpec:
        """The parsed ``baseline``."""
        return parse_baseline(self.baseline)

    @property
    def each(self) -> str | None:
        """The dimension the goal is split by (quotas imply owners)."""
        return "owner" if self.quotas is not None else self.for_each
