"""From goal configuration to concrete goals: one metric, one scope, one period each.

A recurring goal (``every``) becomes the goal of the period asked for; ``for_each`` makes
one goal per value of a dimension inside the scope (the values the deals of the period and
the one before it carry); a quotas file one goal per row, its owner matched by name or
email. Pure: the loader hands in the quota rows and the owner directory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from difflib import get_close_matches
from pathlib import Path

import numpy as np
import pandas as pd

from tracker.errors import ConfigError
from tracker.goals.model import BaselineSpec, GoalConfig
from tracker.goals.thresholds import DEFAULT_GUARDRAILS
from tracker.goals.validate import beyond, goal_error, number
from tracker.goals.windows import goal_periods
from tracker.metrics import DIMENSIONS, REGISTRY
from tracker.metrics.frame import NONE_VALUE
from tracker.periods import Period, previous, range_period

Scope = tuple[tuple[str, str | None], ...]
"""A scope as (dimension, value) pairs in ``DIMENSIONS`` order; ``()`` is company-wide."""


def canonical(scope: Mapping[str, str | None]) -> Scope:
    """``scope`` as a ``Scope`` (its dimensions in ``DIMENSIONS`` order)."""
    if len(scope) < 2:
        return tuple(scope.items())
    return tuple(sorted(scope.items(), key=lambda item: DIMENSIONS.index(item[0])))


@dataclass(frozen=True, slots=True)
class OwnerRef:
    """An owner as the store knows them; deals show ``name``, else ``external_id``."""

    external_id: str
    name: str | None = None
    email: str | None = None

    @property
    def label(self) -> str:
        """The owner's value in the ``owner`` dimension."""
        return self.name or self.external_id


@dataclass(frozen=True, slots=True)
class QuotaRow:
    """A data row of a quotas file, as read (``line`` counts the header as 1)."""

    line: int
    values: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Goal:
    """A concrete goal: one metric, period and scope, with its levels."""

    id: str
    config: GoalConfig
    metric: str
    period: Period
    scope: Scope
    baseline: BaselineSpec
    target: float
    stretch: float | None
    guardrails: tuple[str, ...]
    parent: str | None = None
    """The id of the goal it was split from (for_each, quotas), if any."""

    @property
    def scope_dict(self) -> dict[str, str | None]:
        """The scope as a mapping (JSON)."""
        return dict(self.scope)


def members(
    frame: pd.DataFrame,
    dim: str,
    scope: Scope,
    window: Period,
    activities: pd.DataFrame | None = None,
) -> list[str]:
    """The values of ``dim`` among deals of ``scope`` closed or created in ``window`` (and
    among ``activities`` of ``scope`` that occurred in it, when given)."""
    start = float((window.start - date(1970, 1, 1)).days)
    end = float((window.end - date(1970, 1, 1)).days)
    found: set[str] = set()
    for rows in (frame, activities):
        if rows is None:
            continue
        keep = np.ones(len(rows), dtype=bool)
        for key, value in scope:
            keep &= (rows[key].astype(object) == (value or NONE_VALUE)).to_numpy()
        dated = np.zeros(len(rows), dtype=bool)
        for column in ("close_day", "created_day", "day"):
            if column in rows:
                days = rows[column].to_numpy(dtype="float64")
                dated |= (days >= start) & (days <= end)
        found.update(str(v) for v in pd.unique(rows.loc[keep & dated, dim].astype(object)))
    return sorted(found - {NONE_VALUE})


def present_values(
    frame: pd.DataFrame, dims: Sequence[str], activities: pd.DataFrame | None = None
) -> dict[str, set[str]]:
    """The values each dimension has in the deals frame (and the activities frame, when
    given), none excluded."""
    out: dict[str, set[str]] = {}
    for dim in dims:
        out[dim] = set()
        for rows in (frame, activities):
            if rows is not None and dim in rows:
                out[dim].update(str(v) for v in pd.unique(rows[dim].astype(object)))
        out[dim].discard(NONE_VALUE)
    return out


def unknown_value(dim: str, value: str, known: Sequence[str]) -> str:
    """``unknown team 'EMAE': did you mean 'EMEA'? values: EMEA, US`` (case kept: scope
    values are the CRM's)."""
    close = get_close_matches(value, list(known), n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown {dim} '{value}': {hint}values: {', '.join(known) or 'none'}"


def _guardrails(config: GoalConfig) -> tuple[str, ...]:
    if config.guardrails is not None:
        return config.guardrails
    unit = REGISTRY.get(config.metric).unit
    return DEFAULT_GUARDRAILS if unit in ("money", "count") else ()


def _number(text: str | None, what: str, where: str) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        return float(text.replace(",", "").strip())
    except ValueError:
        raise ConfigError(f"{where}: {what} {text!r} is not a number") from None


def owner_index(owners: Sequence[OwnerRef]) -> dict[str, str]:
    """Lower-cased names, emails and external ids → the owner's dimension value."""
    index: dict[str, str] = {}
    for owner in owners:
        for key in (owner.external_id, owner.name, owner.email):
            if key:
                index.setdefault(key.strip().lower(), owner.label)
    return index


def quota_goals(
    config: GoalConfig, period: Period, rows: Sequence[QuotaRow], owners: Mapping[str, str]
) -> list[Goal]:
    """One goal per row of ``config``'s quotas file; errors name ``file:line``."""
    direction = REGISTRY.get(config.metric).direction
    seen: dict[str, int] = {}
    out = []
    for row in rows:
        where = f"{config.origin}: goal {config.id}: {config.quotas}:{row.line}"
        name = (row.values.get("owner") or "").strip()
        owner = owners.get(name.lower())
        if owner is None:
            raise ConfigError(f"{where}: unknown owner {name!r} (not a name or email in the store)")
        if owner in seen:
            raise ConfigError(f"{where}: owner {name!r} is also on line {seen[owner]}")
        seen[owner] = row.line
        target = _number(row.values.get("target"), "target", where)
        if target is None:
            raise ConfigError(f"{where}: target is missing")
        stretch = _number(row.values.get("stretch"), "stretch", where)
        if stretch is not None and not beyond(stretch, target, direction):
            levels = f"stretch {number(stretch)} is not beyond target {number(target)}"
            raise ConfigError(f"{where}: {levels}")
        fixed = _number(row.values.get("baseline"), "baseline", where)
        baseline = config.baseline_spec if fixed is None else BaselineSpec("number", value=fixed)
        scope = canonical({**config.scope, "owner": owner})
        out.append(
            Goal(
                id=f"{config.id}/{owner}",
                config=config,
                metric=config.metric,
                period=period,
                scope=scope,
                baseline=baseline,
                target=target,
                stretch=stretch,
                guardrails=_guardrails(config),
                parent=config.id,
            )
        )
    return out


def expand(
    configs: Sequence[GoalConfig],
    frame: pd.DataFrame,
    *,
    as_of: date,
    fiscal_year_start_month: int = 1,
    wanted: Period | None = None,
    everything: bool = False,
    owners: Sequence[OwnerRef] = (),
    quotas: Mapping[Path, Sequence[QuotaRow]] | None = None,
    activities: pd.DataFrame | None = None,
) -> list[Goal]:
    """The concrete goals of ``configs`` (see ``windows.goal_periods`` for which periods),
    in configuration order, split goals by value (for a goal on an activity metric, the
    values among the ``activities`` too)."""
    index = owner_index(owners)
    out: list[Goal] = []
    for config in configs:
        for period in goal_periods(
            config, as_of, fiscal_year_start_month, wanted=wanted, everything=everything
        ):
            if config.quotas is not None:
                rows = (quotas or {}).get(config.quotas)
                if rows is None:
                    raise goal_error(config, f"quotas file {config.quotas} was not read")
                out.extend(quota_goals(config, period, rows, index))
                continue
            assert config.target is not None
            scope = canonical(config.scope)
            base = Goal(
                id=config.id,
                config=config,
                metric=config.metric,
                period=period,
                scope=scope,
                baseline=config.baseline_spec,
                target=float(config.target),
                stretch=None if config.stretch is None else float(config.stretch),
                guardrails=_guardrails(config),
            )
            if config.for_each is None:
                out.append(base)
                continue
            window = range_period(previous(period, fiscal_year_start_month).start, period.end)
            mine = activities if REGISTRY.get(config.metric).source == "activities" else None
            for value in members(frame, config.for_each, scope, window, mine):
                out.append(
                    replace(
                        base,
                        id=f"{config.id}/{value}",
                        scope=canonical({**config.scope, config.for_each: value}),
                        parent=config.id,
                    )
                )
    return out
