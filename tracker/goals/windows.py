"""The periods a goal is judged over, as of a date: to date, history, baseline, rest.

Everything is a ``tracker.periods.Period`` (ranges for the partial ones), so the metrics
engine computes every window of every goal in one request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from tracker.goals.model import BaselineSpec, Every, GoalConfig
from tracker.periods import (
    Period,
    month_of,
    month_period,
    parse_period,
    previous,
    quarter_of,
    range_period,
    week_of,
    year_of,
)

State = Literal["upcoming", "ongoing", "over"]
RECENT_PERIODS = 4  # the window over which coverage and historical win rates are read


def _year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def same_last_year(period: Period, fiscal_year_start_month: int = 1) -> Period:
    """The period a year before ``period`` (same month, quarter, year or dates)."""
    if period.kind == "week":  # the same ISO week number, a year earlier
        return week_of(_year_earlier(period.start))
    if period.kind == "month":
        return month_period(period.start.year - 1, period.start.month)
    if period.kind == "quarter":
        return quarter_of(_year_earlier(period.start), fiscal_year_start_month)
    if period.kind == "year":
        return year_of(_year_earlier(period.start), fiscal_year_start_month)
    return range_period(_year_earlier(period.start), _year_earlier(period.end))


def current(every: Every, as_of: date, fiscal_year_start_month: int = 1) -> Period:
    """The ISO week, month, quarter or year containing ``as_of``."""
    if every == "week":
        return week_of(as_of)
    if every == "month":
        return month_of(as_of)
    if every == "quarter":
        return quarter_of(as_of, fiscal_year_start_month)
    return year_of(as_of, fiscal_year_start_month)


def goal_periods(
    goal: GoalConfig,
    as_of: date,
    fiscal_year_start_month: int,
    *,
    wanted: Period | None = None,
    everything: bool = False,
) -> list[Period]:
    """The periods ``goal`` is evaluated for: ``wanted`` if it is the goal's period (or
    of the kind a recurring goal repeats); else, for a fixed period, that period when it
    contains ``as_of`` (any time with ``everything``); for a recurring goal the current
    one."""
    if goal.every is not None:
        if wanted is not None:
            return [wanted] if wanted.kind == goal.every else []
        return [current(goal.every, as_of, fiscal_year_start_month)]
    assert goal.period is not None
    period = parse_period(goal.period, as_of, fiscal_year_start_month)
    if wanted is not None:
        return [period] if (period.start, period.end) == (wanted.start, wanted.end) else []
    return [period] if everything or as_of in period else []


def earlier(period: Period, count: int, fiscal_year_start_month: int) -> list[Period]:
    """The ``count`` periods before ``period``, oldest first."""
    out: list[Period] = []
    for _ in range(count):
        period = previous(period, fiscal_year_start_month)
        out.append(period)
    return out[::-1]


@dataclass(frozen=True, slots=True)
class Windows:
    """What a goal's period is made of as of ``as_of``.

    * ``to_date``: the period up to ``as_of`` (the whole period once over; None before).
    * ``history``: up to N complete periods before it (oldest first), for curves,
      achievability and suggestions; ``history_to_date`` the same periods cut at the
      same day of the period as ``as_of`` (ongoing goals only).
    * ``baseline``: the periods the baseline is read from (the previous period for a
      fixed-number baseline: guardrails compare against it).
    * ``recent``: the last few history periods as one range (coverage, win rates).
    * ``remaining``: after ``as_of`` to the end (ongoing goals only).
    * ``closing``: the period's closing days up to ``as_of``, once they have begun.
    """

    period: Period
    as_of: date
    state: State
    to_date: Period | None
    history: tuple[Period, ...]
    history_to_date: tuple[Period, ...]
    baseline: tuple[Period, ...]
    recent: Period | None
    remaining: Period | None
    closing: Period | None

    @property
    def elapsed(self) -> int:
        """Days of the period up to and including ``as_of``."""
        return 0 if self.to_date is None else self.to_date.days

    def all(self) -> list[Period]:
        """Every period the goal's metrics are computed over (``remaining`` is only read
        by the pipeline measures)."""
        found = [self.to_date, *self.history, *self.history_to_date, *self.baseline]
        found += [self.recent, self.closing]
        return [p for p in found if p is not None]


def _cut(period: Period, days: int) -> Period:
    """``period``'s first ``days`` days as a range (the whole period if it is shorter)."""
    end = min(period.start + timedelta(days=days - 1), period.end)
    return period if end == period.end else range_period(period.start, end)


def complete_history(period: Period, as_of: date, count: int, fiscal: int) -> list[Period]:
    """Up to ``count`` periods before ``period`` that are over by ``as_of``, oldest first."""
    out: list[Period] = []
    for candidate in reversed(earlier(period, count + 12, fiscal)):
        if candidate.end <= as_of:
            out.append(candidate)
        if len(out) == count:
            break
    return out[::-1]


def windows(
    period: Period,
    as_of: date,
    baseline: BaselineSpec,
    *,
    fiscal_year_start_month: int = 1,
    history_periods: int = 8,
    closing_days: int = 14,
) -> Windows:
    """The windows of a goal for ``period`` evaluated on ``as_of``."""
    fiscal = fiscal_year_start_month
    if as_of < period.start:
        state: State = "upcoming"
        to_date = None
    elif as_of >= period.end:
        state, to_date = "over", period
    else:
        state, to_date = "ongoing", range_period(period.start, as_of)
    history = complete_history(period, as_of, history_periods, fiscal)
    history_to_date: list[Period] = []
    remaining = None
    if state == "ongoing" and to_date is not None:
        history_to_date = [_cut(p, to_date.days) for p in history]
        remaining = range_period(as_of + timedelta(days=1), period.end)
    if baseline.kind == "same-last-year":
        base = [same_last_year(period, fiscal)]
    elif baseline.kind == "average":
        base = earlier(period, baseline.count, fiscal)
    else:
        base = [previous(period, fiscal)]
    recent = None
    if history:
        last = history[-RECENT_PERIODS:]
        recent = range_period(last[0].start, last[-1].end)
    closing_start = max(period.start, period.end - timedelta(days=closing_days - 1))
    closing = None
    if as_of >= closing_start:
        closing = range_period(closing_start, min(as_of, period.end))
    return Windows(
        period=period,
        as_of=as_of,
        state=state,
        to_date=to_date,
        history=tuple(history),
        history_to_date=tuple(history_to_date),
        baseline=tuple(base),
        recent=recent,
        remaining=remaining,
        closing=closing,
    )
