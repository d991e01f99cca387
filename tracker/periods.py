"""Reporting periods: parsing, labels and the fiscal calendar.

Pure functions: the evaluation date (``today``) is always a parameter, there is no clock
here. Every period is a closed range of calendar dates ``start..end`` (both inclusive) in
the organisation's time zone; turning timestamps into local dates is the caller's job.

Forms understood by :func:`parse_period`:

* ISO week ``2026-W37`` (Monday to Sunday; the week belongs to the ISO year of its
  Thursday, so ``2026-W01`` starts on 2025-12-29); ``this-week``, ``last-week``;
* month ``2026-07``;
* quarter ``2026-Q3`` (calendar) or ``FY2027-Q1`` (fiscal);
* year ``2026`` or ``FY2027``;
* range ``2026-07-01..2026-09-30``;
* relative ``this-quarter``, ``last-quarter``, ``this-month``, ``last-month``, ``qtd``, ``ytd``.

With ``fiscal_year_start_month`` 1, quarters and years are calendar ones labelled
``2026-Q3`` and ``2026``. With any other start month they are fiscal, labelled
``FY2027-Q1`` and ``FY2027``, the fiscal year being named by the calendar year in which it
ends (with a February start, FY2027 runs from 2026-02-01 to 2027-01-31). In fiscal mode
``2027-Q1`` and ``2027`` are read as ``FY2027-Q1`` and ``FY2027``. Relative periods
resolve to concrete ones: ``this-quarter`` on 2026-11-25 is ``2026-Q4``; ``qtd`` and ``ytd``
are ranges ending on ``today`` and labelled as such (``2026-10-01..2026-11-25``). Every
label parses back to the same period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from tracker.errors import UsageError

PeriodKind = Literal["week", "month", "quarter", "year", "range"]

RELATIVE_PERIODS: tuple[str, ...] = (
    "this-quarter",
    "last-quarter",
    "this-month",
    "last-month",
    "qtd",
    "ytd",
    "this-week",
    "last-week",
)
PERIOD_FORMS = (
    "YYYY-MM, YYYY-Qn, FYYYYY-Qn, YYYY, FYYYYY, YYYY-Wnn, YYYY-MM-DD..YYYY-MM-DD, "
    + ", ".join(RELATIVE_PERIODS)
)

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$", re.IGNORECASE)
_QUARTER = re.compile(r"^(FY)?(\d{4})-Q(\d+)$", re.IGNORECASE)
_YEAR = re.compile(r"^(FY)?(\d{4})$", re.IGNORECASE)
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True, slots=True)
class Period:
    """A closed range of local calendar dates with its canonical label."""

    label: str
    start: date
    end: date
    kind: PeriodKind

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @property
    def days(self) -> int:
        """Number of days in the period (both ends included)."""
        return (self.end - self.start).days + 1


def add_months(day: date, months: int) -> date:
    """The first of the month ``months`` after the month of ``day``."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _check_start_month(fiscal_year_start_month: int) -> None:
    if not 1 <= fiscal_year_start_month <= 12:
        raise ValueError(f"fiscal_year_start_month must be 1..12, not {fiscal_year_start_month}")


def fiscal_year_of(day: date, fiscal_year_start_month: int = 1) -> int:
    """The (fiscal) year containing ``day``, named by the calendar year in which it ends."""
    _check_start_month(fiscal_year_start_month)
    if fiscal_year_start_month == 1 or day.month < fiscal_year_start_month:
        return day.year
    return day.year + 1


def fiscal_year_start(year: int, fiscal_year_start_month: int = 1) -> date:
    """First day of (fiscal) year ``year``."""
    _check_start_month(fiscal_year_start_month)
    if fiscal_year_start_month == 1:
        return date(year, 1, 1)
    return date(year - 1, fiscal_year_start_month, 1)


def _fiscal(fiscal_year_start_month: int) -> bool:
    return fiscal_year_start_month != 1


def year_period(year: int, fiscal_year_start_month: int = 1) -> Period:
    """The (fiscal) year ``year`` as a period."""
    start = fiscal_year_start(year, fiscal_year_start_month)
    end = add_months(start, 12) - timedelta(days=1)
    label = f"FY{year}" if _fiscal(fiscal_year_start_month) else f"{year}"
    return Period(label, start, end, "year")


def quarter_period(year: int, quarter: int, fiscal_year_start_month: int = 1) -> Period:
    """Quarter ``quarter`` (1..4) of (fiscal) year ``year``."""
    if not 1 <= quarter <= 4:
        raise ValueError(f"quarter must be 1..4, not {quarter}")
    start = add_months(fiscal_year_start(year, fiscal_year_start_month), 3 * (quarter - 1))
    end = add_months(start, 3) - timedelta(days=1)
    prefix = "FY" if _fiscal(fiscal_year_start_month) else ""
    return Period(f"{prefix}{year}-Q{quarter}", start, end, "quarter")


def week_period(iso_year: int, week: int) -> Period:
    """ISO week ``week`` of ``iso_year`` (``ValueError`` when the year has no such week)."""
    start = date.fromisocalendar(iso_year, week, 1)
    return Period(f"{iso_year}-W{week:02d}", start, start + timedelta(days=6), "week")


def week_of(day: date) -> Period:
    """The ISO week containing ``day``."""
    iso_year, week, _ = day.isocalendar()
    return week_period(iso_year, week)


def month_period(year: int, month: int) -> Period:
    """Calendar month ``year-month``."""
    start = date(year, month, 1)
    end = add_months(start, 1) - timedelta(days=1)
    return Period(f"{year:04d}-{month:02d}", start, end, "month")


def range_period(start: date, end: date) -> Period:
    """An arbitrary closed range, labelled ``start..end``."""
    if end < start:
        raise ValueError(f"range ends ({end}) before it starts ({start})")
    return Period(f"{start.isoformat()}..{end.isoformat()}", start, end, "range")


def quarter_of(day: date, fiscal_year_start_month: int = 1) -> Period:
    """The (fiscal) quarter containing ``day``."""
    year = fiscal_year_of(day, fiscal_year_start_month)
    months_in = (day.month - fiscal_year_start_month) % 12
    return quarter_period(year, months_in // 3 + 1, fiscal_year_start_month)


def month_of(day: date) -> Period:
    """The calendar month containing ``day``."""
    return month_period(day.year, day.month)


def year_of(day: date, fiscal_year_start_month: int = 1) -> Period:
    """The (fiscal) year containing ``day``."""
    return year_period(fiscal_year_of(day, fiscal_year_start_month), fiscal_year_start_month)


def previous(period: Period, fiscal_year_start_month: int = 1) -> Period:
    """The period of the same kind just before ``period`` (ranges: same length)."""
    before = period.start - timedelta(days=1)
    if period.kind == "week":
        return week_of(before)
    if period.kind == "month":
        return month_of(before)
    if period.kind == "quarter":
        return quarter_of(before, fiscal_year_start_month)
    if period.kind == "year":
        return year_of(before, fiscal_year_start_month)
    return range_period(period.start - timedelta(days=period.days), before)


def last_quarters(today: date, count: int, fiscal_year_start_month: int = 1) -> list[Period]:
    """The ``count`` complete quarters before the one containing ``today``, oldest first."""
    current = quarter_of(today, fiscal_year_start_month)
    out: list[Period] = []
    for _ in range(count):
        current = previous(current, fiscal_year_start_month)
        out.append(current)
    return out[::-1]


def _bad(text: str) -> UsageError:
    return UsageError(f"unknown period '{text}': use one of {PERIOD_FORMS}")


def _iso_date(text: str, part: str) -> date:
    try:
        return date.fromisoformat(part)
    except ValueError:
        raise UsageError(f"period '{text}': {part} is not a valid date") from None


def _relative(name: str, today: date, fiscal_year_start_month: int) -> Period:
    if name == "this-week":
        return week_of(today)
    if name == "last-week":
        return previous(week_of(today))
    if name == "this-quarter":
        return quarter_of(today, fiscal_year_start_month)
    if name == "last-quarter":
        return previous(quarter_of(today, fiscal_year_start_month), fiscal_year_start_month)
    if name == "this-month":
        return month_of(today)
    if name == "last-month":
        return previous(month_of(today))
    if name == "qtd":
        return range_period(quarter_of(today, fiscal_year_start_month).start, today)
    return range_period(year_of(today, fiscal_year_start_month).start, today)


def parse_period(text: str, today: date, fiscal_year_start_month: int = 1) -> Period:
    """Parse a period argument; an unknown form raises ``UsageError`` listing the valid ones.

    ``today`` is the evaluation date used by the relative forms.
    """
    _check_start_month(fiscal_year_start_month)
    value = text.strip()
    lowered = value.lower()
    if lowered in RELATIVE_PERIODS:
        return _relative(lowered, today, fiscal_year_start_month)
    try:
        if match := _WEEK.match(value):
            return week_period(int(match.group(1)), int(match.group(2)))
        if match := _MONTH.match(value):
            month = int(match.group(2))
            if not 1 <= month <= 12:
                raise _bad(text)
            return month_period(int(match.group(1)), month)
        if match := _QUARTER.match(value):
            fiscal_prefix, year, quarter = match.groups()
            if not 1 <= int(quarter) <= 4:
                raise _bad(text)
            del fiscal_prefix  # FY is the label of the configured calendar either way
            return quarter_period(int(year), int(quarter), fiscal_year_start_month)
        if match := _YEAR.match(value):
            return year_period(int(match.group(2)), fiscal_year_start_month)
        if match := _RANGE.match(value):
            start, end = (_iso_date(text, match.group(i)) for i in (1, 2))
            if end < start:
                raise UsageError(f"period '{text}' ends before it starts")
            return range_period(start, end)
    except ValueError:
        raise _bad(text) from None
    raise _bad(text)
