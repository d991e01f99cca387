"""The metrics engine: every requested metric × period × scope from one deals frame (and,
for activity metrics, one activities frame).

Pure: it reads a prepared deals frame (``tracker.metrics.frame``), and the activities frame
(``tracker.metrics.activity_frame``) when an activity metric is asked for, and returns rows;
no I/O and no clock. Periods that do not overlap are computed together: each deal gets the
index of the period containing its date (one vectorised ``searchsorted``), and each metric
runs one ``groupby`` per scope over all those periods at once. Overlapping periods
(``2026-Q3`` and ``2026-07``) go into separate layers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from tracker.errors import UsageError
from tracker.metrics.frame import DIMENSIONS, NONE_VALUE
from tracker.metrics.registry import REGISTRY, Field, MetricDef, MetricRegistry
from tracker.periods import Period, parse_period
from tracker.wording import unknown_name

PERIOD_KEY = "_p"
NO_ACTIVITIES = "activity metrics need the activities frame (load.activities_frame)"
_EPOCH = date(1970, 1, 1)

Value = float | int | None


@dataclass(frozen=True, slots=True)
class MetricRequest:
    """What to compute: metrics × periods, company-wide plus one breakdown per ``by``, or
    with ``cross`` one breakdown by every ``by`` dimension together (team × owner rows, as
    a pivot table does: only the combinations that occur).

    ``filters`` keeps only deals whose dimension value is one of the given values ('' or
    None selects deals without a value). ``breakdowns``, when given, lists the breakdowns
    explicitly instead (each a tuple of dimensions, e.g. ``("team", "owner")``), as goals
    of several scopes need.
    """

    metrics: tuple[str, ...]
    periods: tuple[Period, ...]
    by: tuple[str, ...] = ()
    filters: Mapping[str, tuple[str | None, ...]] = field(default_factory=dict)
    cross: bool = False
    breakdowns: tuple[tuple[str, ...], ...] = ()

    @property
    def scopes(self) -> list[tuple[str, ...]]:
        """The breakdowns, company-wide (``()``) first."""
        if self.breakdowns:
            return [(), *(b for b in dict.fromkeys(self.breakdowns) if b)]
        if self.cross and self.by:
            return [(), tuple(self.by)]
        return [(), *((dim,) for dim in self.by)]


@dataclass(frozen=True, slots=True)
class MetricRow:
    """One computed value: a metric for a period and a scope (``{}`` is company-wide)."""

    metric: str
    period: Period
    scope: dict[str, str | None]
    value: Value
    n: int
    coverage: float | None
    stats: dict[str, Value]


def check_dimension(name: str) -> str:
    """``name`` (any case) as a dimension, else a ``UsageError`` listing them."""
    lowered = name.strip().lower()
    if lowered not in DIMENSIONS:
        raise UsageError(unknown_name("dimension", name, DIMENSIONS))
    return lowered


def required_fields(
    metrics: Sequence[str], registry: MetricRegistry = REGISTRY
) -> tuple[Field, ...]:
    """The deal fields the given metrics need (for the loader), in a stable order."""
    out: dict[Field, None] = {}
    for name in metrics:
        for item in registry.get(name).required_fields:
            out[item] = None
    return tuple(out)


def request_dimensions(request: MetricRequest) -> tuple[str, ...]:
    """Dimensions a request breaks down or filters by."""
    broken = [dim for breakdown in request.breakdowns for dim in breakdown]
    return tuple(dict.fromkeys([*request.by, *broken, *request.filters]))


def _day(value: date) -> float:
    return float((value - _EPOCH).days)


def _layers(periods: Sequence[Period]) -> list[list[int]]:
    """Group period indexes into layers of pairwise disjoint periods (first fit)."""
    order = sorted(range(len(periods)), key=lambda i: (periods[i].start, periods[i].end))
    layers: list[list[int]] = []
    ends: list[date] = []
    for index in order:
        for number, end in enumerate(ends):
            if end < periods[index].start:
                layers[number].append(index)
                ends[number] = periods[index].end
                break
        else:
            layers.append([index])
            ends.append(periods[index].end)
    return layers


def _assign(days: pd.Series, periods: Sequence[Period]) -> np.ndarray[Any, np.dtype[np.int64]]:
    """Index (into ``periods``, sorted and disjoint) of the period containing each day; -1."""
    starts = np.array([_day(p.start) for p in periods])
    ends = np.array([_day(p.end) for p in periods])
    values = days.to_numpy(dtype="float64")
    index = np.searchsorted(starts, values, side="right") - 1
    clipped = np.clip(index, 0, len(periods) - 1)
    inside = (index >= 0) & (values <= ends[clipped])
    return np.where(inside, clipped, -1).astype("int64")


class PeriodData:
    """The deals of one layer of disjoint periods, with the per-basis subsets metrics use.

    ``closed``/``won``/``lost`` hold deals whose close date falls in one of the periods,
    ``created`` those whose created date does, ``activities`` the calls, meetings and
    emails (completed or not) that occurred in one; each has the period index in ``_p``.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        periods: Sequence[Period],
        activities: pd.DataFrame | None = None,
    ) -> None:
        self.frame = frame
        self.periods = list(periods)
        self._activities = activities

    def _subset(
        self, column: str, mask: pd.Series | None = None, frame: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        frame = self.frame if frame is None else frame
        index = _assign(frame[column], self.periods)
        keep = index >= 0
        if mask is not None:
            keep &= mask.to_numpy()
        subset = frame[keep]
        return subset.assign(**{PERIOD_KEY: index[keep]})

    @cached_property
    def activities(self) -> pd.DataFrame:
        """Calls, meetings and emails (completed or not) that occurred in a period."""
        if self._activities is None:
            raise ValueError(NO_ACTIVITIES)
        return self._subset("day", frame=self._activities)

    @cached_property
    def open_at_end(self) -> pd.DataFrame:
        """Deals open at each period's end, once per period: created by then (or with no
        created date) and not closed by then (still open, or closed after it)."""
        created = self.frame["created_day"].to_numpy(dtype="float64")
        closed = self.frame["close_day"].to_numpy(dtype="float64")
        is_closed = self.frame["is_closed"].to_numpy(dtype=bool)
        parts = []
        for position, period in enumerate(self.periods):
            end = _day(period.end)
            begun = np.isnan(created) | (created <= end)
            still_open = ~is_closed | (closed > end)
            part = self.frame[begun & still_open]
            parts.append(part.assign(**{PERIOD_KEY: position}))
        together: pd.DataFrame = pd.concat(parts)
        return together

    @cached_property
    def closed(self) -> pd.DataFrame:
        """Closed deals (won or lost) whose close date is in a period."""
        return self._subset("close_day", self.frame["is_closed"])

    @cached_property
    def won(self) -> pd.DataFrame:
        """Won deals whose close date is in a period."""
        return self.closed[self.closed["is_won"].to_numpy()]

    @cached_property
    def lost(self) -> pd.DataFrame:
        """Lost deals whose close date is in a period."""
        return self.closed[~self.closed["is_won"].to_numpy()]

    @cached_property
    def scheduled(self) -> pd.DataFrame:
        """Deals of any stage (open ones by their expected close) whose close date is in a
        period."""
        return self._subset("close_day")

    @cached_property
    def created(self) -> pd.DataFrame:
        """Deals (any stage) whose local created date is in a period."""
        return self._subset("created_day")


def apply_filters(frame: pd.DataFrame, filters: Mapping[str, Sequence[str | None]]) -> pd.DataFrame:
    """Keep deals whose dimension values match every filter (any of its values).

    A value no deal has is a ``UsageError`` naming the values there are (a typo would
    otherwise read as a scope with nothing in it).
    """
    return filter_frames(filters, frame)[0]


def filter_frames(
    filters: Mapping[str, Sequence[str | None]], *frames: pd.DataFrame
) -> list[pd.DataFrame]:
    """:func:`apply_filters` over several frames (deals and activities) at once: a value
    is known when any of them has it."""
    if not filters:
        return list(frames)
    keeps = [np.ones(len(frame), dtype=bool) for frame in frames]
    for dim, values in filters.items():
        check_dimension(dim)
        columns = [frame[dim].astype(object) for frame in frames]
        present = {v for column in columns for v in pd.unique(column)}
        wanted = [NONE_VALUE if v is None else v for v in values]
        for value, raw in zip(wanted, values, strict=True):
            if value not in present and any(len(frame) for frame in frames):
                shown = sorted(str(v) for v in present if v != NONE_VALUE)
                raise UsageError(
                    f"{dim} '{raw or ''}' not found; values: {', '.join(shown) or 'none'}"
                )
        for keep, column in zip(keeps, columns, strict=True):
            keep &= column.isin(wanted).to_numpy()
    return [frame[keep] for frame, keep in zip(frames, keeps, strict=True)]


def _sort_key(combo: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(item for v in combo for item in (v == NONE_VALUE, str(v)))


def _scope_values(
    frames: Sequence[tuple[pd.DataFrame, np.ndarray[Any, Any]]], scope: tuple[str, ...]
) -> list[tuple[Any, ...]]:
    """The value combinations of ``scope``'s dimensions among the relevant rows of each
    (frame, relevant mask) pair, sorted with '' (none) last in each dimension."""
    if not scope:
        return [()]
    found: set[tuple[Any, ...]] = set()
    for frame, relevant in frames:
        present = frame.loc[relevant, list(scope)].astype(object).drop_duplicates()
        found.update(present.itertuples(index=False, name=None))
    return sorted(found, key=_sort_key)


def _relevant(frame: pd.DataFrame, periods: Sequence[Period]) -> np.ndarray[Any, Any]:
    """Rows dated (deals closed or created, activities occurred) inside any requested
    period."""
    mask = np.zeros(len(frame), dtype=bool)
    for column in ("close_day", "created_day", "day"):
        if column not in frame:
            continue
        values = frame[column].to_numpy(dtype="float64")
        for period in periods:
            mask |= (values >= _day(period.start)) & (values <= _day(period.end))
    return mask


def _complete(
    out: pd.DataFrame,
    definition: MetricDef,
    layer_size: int,
    scope: tuple[str, ...],
    combos: list[tuple[Any, ...]],
) -> pd.DataFrame:
    """Reindex a metric's output on every period × scope value, filling empty groups."""
    if not scope:
        full: pd.Index[Any] = pd.Index(range(layer_size), name=PERIOD_KEY)
    else:
        names = [PERIOD_KEY, *scope]
        full = pd.MultiIndex.from_tuples(
            [(p, *combo) for p in range(layer_size) for combo in combos], names=names
        )
        out.index = pd.MultiIndex.from_arrays(
            [
                out.index.get_level_values(0).astype("int64"),
                *(out.index.get_level_values(i + 1).astype(object) for i in range(len(scope))),
            ],
            names=names,
        )
    had_deals = full.isin(out.index)
    out = out.reindex(full)
    out["value"] = out["value"].astype("float64")
    if definition.empty_value is not None:
        # a group without any eligible deal takes the empty value (revenue 0); one whose
        # deals all lack the field (amounts without a rate) stays null, never a silent 0
        out.loc[~had_deals, "value"] = definition.empty_value
    out["n"] = out["n"].fillna(0).astype("int64")
    for name in definition.count_stats:
        out[name] = out[name].fillna(0).astype("int64")
    return out


def _clean(value: Any, as_int: bool = False) -> Value:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (np.integer, int)):
        return int(value)
    number = float(value)
    if as_int and number.is_integer():
        return int(number)
    return number


ScopeCache = dict[tuple[tuple[str, ...], tuple[Any, ...]], dict[str, str | None]]


def _to_rows(
    definition: MetricDef,
    period: Period,
    dims: tuple[str, ...],
    part: pd.DataFrame,
    shared: ScopeCache,
) -> list[MetricRow]:
    """The rows of one metric, period and breakdown. Rows of the same scope value share
    one scope mapping (``shared``): with thousands of owners × periods × metrics, a dict
    per row would be most of the memory a goal evaluation takes."""
    as_int = definition.unit == "count"
    columns = [list(part.index.get_level_values(dim)) for dim in dims]
    labels: list[tuple[Any, ...]] = list(zip(*columns, strict=True)) if dims else [()]
    rows: list[MetricRow] = []
    for record, combo in zip(part.to_dict("records"), labels, strict=True):
        scope = shared.get((dims, combo))
        if scope is None:
            scope = {
                dim: None if label == NONE_VALUE else str(label)
                for dim, label in zip(dims, combo, strict=True)
            }
            shared[(dims, combo)] = scope
        stats = {
            name: _clean(record.get(name), name in definition.count_stats)
            for name in definition.stats
        }
        rows.append(
            MetricRow(
                metric=definition.name,
                period=period,
                scope=scope,
                value=_clean(record["value"], as_int),
                n=int(record["n"]),
                coverage=_clean(record["coverage"]),
                stats=stats,
            )
        )
    return rows


def compute(
    frame: pd.DataFrame,
    request: MetricRequest,
    registry: MetricRegistry = REGISTRY,
    activities: pd.DataFrame | None = None,
) -> list[MetricRow]:
    """Compute ``request`` over a prepared deals frame (and the activities frame, which
    activity metrics need: a ``ValueError`` without it).

    Rows come ordered by metric (request order), period (request order), then scope:
    company-wide first, then each breakdown (``MetricRequest.scopes``) with its values
    sorted ('' last). Every period × scope value among the deals (and activities) dated in
    the requested periods gets a row, with the metric's empty value when none qualifies.
    """
    definitions = [registry.get(name) for name in request.metrics]
    if activities is None and registry.needs_activities(request.metrics):
        raise ValueError(NO_ACTIVITIES)
    for name in request_dimensions(request):
        check_dimension(name)
    periods = list(request.periods)
    if activities is None:
        frame = apply_filters(frame, request.filters)
        dated = [(frame, _relevant(frame, periods))]
    else:
        frame, activities = filter_frames(request.filters, frame, activities)
        dated = [(frame, _relevant(frame, periods)), (activities, _relevant(activities, periods))]
    scopes = request.scopes
    values = [_scope_values(dated, scope) for scope in scopes]
    found: dict[tuple[int, int, int], pd.DataFrame] = {}
    for layer in _layers(periods):
        data = PeriodData(frame, [periods[i] for i in layer], activities)
        for m_index, definition in enumerate(definitions):
            for s_index, scope in enumerate(scopes):
                out = definition.compute(data, [PERIOD_KEY, *scope])
                out = _complete(out, definition, len(layer), scope, values[s_index])
                positions = out.index.get_level_values(0).to_numpy()
                for local, p_index in enumerate(layer):
                    found[(m_index, p_index, s_index)] = out[positions == local]
    rows: list[MetricRow] = []
    shared: ScopeCache = {}
    for m_index, definition in enumerate(definitions):
        for p_index, period in enumerate(periods):
            for s_index, scope in enumerate(scopes):
                part = found.pop((m_index, p_index, s_index))
                rows.extend(_to_rows(definition, period, scope, part, shared))
    return rows


def parse_filter(text: str) -> tuple[str, str | None]:
    """``dim=value`` (``dim=`` selects deals without a value) as (dimension, value)."""
    dim, sep, value = text.partition("=")
    if not sep:
        raise UsageError(f"bad filter '{text}': write DIMENSION=VALUE, e.g. team=EMEA")
    return check_dimension(dim.strip()), value.strip() or None


def build_request(
    *,
    periods: Sequence[str],
    today: date,
    fiscal_year_start_month: int,
    metrics: Sequence[str] = (),
    by: Sequence[str] = (),
    filters: Sequence[str] = (),
    cross: bool = False,
    registry: MetricRegistry = REGISTRY,
) -> MetricRequest:
    """A request from command-line style arguments; bad values raise ``UsageError``.

    No metrics means every registered metric; no periods means ``this-quarter``; ``cross``
    crosses the ``by`` dimensions (see ``MetricRequest``).
    """
    names = [registry.get(name).name for name in metrics] or registry.names()
    dims = [check_dimension(name) for name in by]
    wanted: dict[str, list[str | None]] = {}
    for text in filters:
        dim, value = parse_filter(text)
        wanted.setdefault(dim, []).append(value)
    parsed = [parse_period(p, today, fiscal_year_start_month) for p in periods or ["this-quarter"]]
    return MetricRequest(
        metrics=tuple(dict.fromkeys(names)),
        periods=tuple(dict.fromkeys(parsed)),
        by=tuple(dict.fromkeys(dims)),
        filters={dim: tuple(values) for dim, values in wanted.items()},
        cross=cross,
    )
