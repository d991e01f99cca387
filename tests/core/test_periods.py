"""Periods: forms, labels, the fiscal calendar and relative periods (pure, no clock)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracker.errors import UsageError
from tracker.periods import (
    Period,
    fiscal_year_of,
    last_quarters,
    parse_period,
    previous,
    quarter_of,
    range_period,
    year_of,
    year_period,
)

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "label", "start", "end"),
    [
        ("2026-07", "2026-07", date(2026, 7, 1), date(2026, 7, 31)),
        ("2024-02", "2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-Q3", "2026-Q3", date(2026, 7, 1), date(2026, 9, 30)),
        ("2026-q4", "2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026", "2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-07-01..2026-09-30", "2026-07-01..2026-09-30", date(2026, 7, 1), date(2026, 9, 30)),
        ("2026-07-04..2026-07-04", "2026-07-04..2026-07-04", date(2026, 7, 4), date(2026, 7, 4)),
        ("this-quarter", "2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("last-quarter", "2026-Q3", date(2026, 7, 1), date(2026, 9, 30)),
        ("this-month", "2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        ("last-month", "2026-10", date(2026, 10, 1), date(2026, 10, 31)),
        ("qtd", "2026-10-01..2026-11-25", date(2026, 10, 1), TODAY),
        ("ytd", "2026-01-01..2026-11-25", date(2026, 1, 1), TODAY),
    ],
)
def test_calendar_forms(text: str, label: str, start: date, end: date) -> None:
    period = parse_period(text, TODAY, 1)
    assert (period.label, period.start, period.end) == (label, start, end)


@pytest.mark.parametrize(
    ("text", "label", "start", "end"),
    [
        # February start: FY2027 runs 2026-02-01..2027-01-31 (named by the year it ends).
        ("FY2027", "FY2027", date(2026, 2, 1), date(2027, 1, 31)),
        ("2027", "FY2027", date(2026, 2, 1), date(2027, 1, 31)),
        ("FY2027-Q1", "FY2027-Q1", date(2026, 2, 1), date(2026, 4, 30)),
        ("2027-Q1", "FY2027-Q1", date(2026, 2, 1), date(2026, 4, 30)),
        ("FY2027-Q4", "FY2027-Q4", date(2026, 11, 1), date(2027, 1, 31)),
        ("2026-07", "2026-07", date(2026, 7, 1), date(2026, 7, 31)),
        ("this-quarter", "FY2027-Q4", date(2026, 11, 1), date(2027, 1, 31)),
        ("last-quarter", "FY2027-Q3", date(2026, 8, 1), date(2026, 10, 31)),
        ("qtd", "2026-11-01..2026-11-25", date(2026, 11, 1), TODAY),
        ("ytd", "2026-02-01..2026-11-25", date(2026, 2, 1), TODAY),
    ],
)
def test_fiscal_year_starting_in_february(text: str, label: str, start: date, end: date) -> None:
    period = parse_period(text, TODAY, 2)
    assert (period.label, period.start, period.end) == (label, start, end)


def test_fiscal_boundaries_in_february_calendar() -> None:
    assert quarter_of(date(2026, 1, 31), 2).label == "FY2026-Q4"
    assert quarter_of(date(2026, 2, 1), 2).label == "FY2027-Q1"
    assert year_of(date(2027, 1, 31), 2).label == "FY2027"
    # A July start: FY2027 = 2026-07-01..2027-06-30.
    assert parse_period("FY2027-Q1", TODAY, 7).start == date(2026, 7, 1)
    assert year_of(date(2026, 6, 30), 7).label == "FY2026"


def test_relative_periods_across_a_year_boundary() -> None:
    january = date(2027, 1, 10)
    assert parse_period("last-month", january, 1).label == "2026-12"
    assert parse_period("last-quarter", january, 1).label == "2026-Q4"
    assert parse_period("ytd", january, 1).label == "2027-01-01..2027-01-10"
    assert parse_period("this-quarter", january, 2).label == "FY2027-Q4"


def test_last_quarters_are_complete_and_ordered() -> None:
    labels = [p.label for p in last_quarters(TODAY, 3)]
    assert labels == ["2026-Q1", "2026-Q2", "2026-Q3"]


def test_last_quarters_of_a_fiscal_year_starting_in_february() -> None:
    # today (25 Nov) is in FY2027-Q4 (Nov–Jan); the three before it, oldest first
    got = [(p.label, p.start, p.end) for p in last_quarters(TODAY, 3, 2)]
    assert got == [
        ("FY2027-Q1", date(2026, 2, 1), date(2026, 4, 30)),
        ("FY2027-Q2", date(2026, 5, 1), date(2026, 7, 31)),
        ("FY2027-Q3", date(2026, 8, 1), date(2026, 10, 31)),
    ]
    # in January the fiscal quarter (Nov–Jan) and the calendar one (Jan–Mar) differ
    [last] = last_quarters(date(2027, 1, 15), 1, 2)
    assert (last.label, last.start, last.end) == ("FY2027-Q3", date(2026, 8, 1), date(2026, 10, 31))


def test_previous_year_range_month_and_quarter() -> None:
    def spans(period: Period) -> tuple[object, ...]:
        return (period.label, period.kind, period.start, period.end)

    assert spans(previous(year_period(2026))) == (
        "2025",
        "year",
        date(2025, 1, 1),
        date(2025, 12, 31),
    )
    assert spans(previous(year_of(TODAY, 2), 2)) == (
        "FY2026",
        "year",
        date(2025, 2, 1),
        date(2026, 1, 31),
    )
    # a range: the same number of days (25) just before it
    nov = range_period(date(2026, 11, 1), TODAY)
    assert spans(nov) == ("2026-11-01..2026-11-25", "range", date(2026, 11, 1), TODAY)
    assert spans(previous(nov)) == (
        "2026-10-07..2026-10-31",
        "range",
        date(2026, 10, 7),
        date(2026, 10, 31),
    )
    assert spans(previous(parse_period("2026-03", TODAY))) == (
        "2026-02",
        "month",
        date(2026, 2, 1),
        date(2026, 2, 28),
    )
    assert spans(previous(parse_period("2026-Q1", TODAY))) == (
        "2025-Q4",
        "quarter",
        date(2025, 10, 1),
        date(2025, 12, 31),
    )


def test_a_backwards_range_is_refused_naming_both_ends() -> None:
    with pytest.raises(ValueError) as caught:
        range_period(date(2026, 9, 30), date(2026, 7, 1))
    assert str(caught.value) == "range ends (2026-07-01) before it starts (2026-09-30)"


def test_year_of_defaults_to_the_calendar_year() -> None:
    year = year_of(date(2026, 1, 15))
    assert (year.label, year.start, year.end) == ("2026", date(2026, 1, 1), date(2026, 12, 31))
    assert year_period(2026) == year
    assert quarter_of(TODAY) == parse_period("2026-Q4", TODAY)
    assert fiscal_year_of(date(2026, 3, 15)) == 2026  # (FY2027 with a February start)


def test_an_impossible_date_in_a_range_is_named() -> None:
    with pytest.raises(UsageError) as caught:
        parse_period("2026-02-30..2026-03-31", TODAY, 1)
    assert str(caught.value) == "period '2026-02-30..2026-03-31': 2026-02-30 is not a valid date"


@pytest.mark.parametrize(
    "text",
    [
        "2026-Q5",
        "2026-Q0",
        "2026-13",
        "2026-00",
        "Q3",
        "next-quarter",
        "2026-09-30..2026-07-01",
        "",
    ],
)
def test_bad_periods_are_usage_errors_listing_the_forms(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_period(text, TODAY, 1)
    message = str(caught.value)
    assert f"'{text}'" in message
    assert "\n" not in message
    assert caught.value.exit_code == 2
    if text != "2026-09-30..2026-07-01":
        assert "YYYY-Qn" in message and "this-quarter" in message


days = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
months = st.integers(min_value=1, max_value=12)


@given(day=days, start_month=months)
def test_quarter_and_year_contain_the_day_and_labels_round_trip(
    day: date, start_month: int
) -> None:
    quarter = quarter_of(day, start_month)
    year = year_of(day, start_month)
    assert day in quarter and day in year
    assert year.start <= quarter.start and quarter.end <= year.end
    assert parse_period(quarter.label, day, start_month) == quarter
    assert parse_period(year.label, day, start_month) == year
    assert previous(quarter, start_month).end + timedelta(days=1) == quarter.start
    assert year.label.startswith("FY") == (start_month != 1)
    assert str(year.end.year) in year.label


@given(day=days, start_month=months)
def test_relative_periods_contain_or_precede_today(day: date, start_month: int) -> None:
    for name in ("this-quarter", "this-month", "qtd", "ytd"):
        assert day in parse_period(name, day, start_month)
    for name in ("last-quarter", "last-month"):
        assert parse_period(name, day, start_month).end < day
    qtd = parse_period("qtd", day, start_month)
    assert parse_period(qtd.label, day, start_month) == qtd


# ISO weeks (hand-checked against a calendar: 2026-01-01 is a Thursday)


def test_iso_weeks_parse_to_monday_through_sunday() -> None:
    from tracker.periods import parse_period, previous, week_of

    today = date(2026, 9, 9)
    w37 = parse_period("2026-W37", today)
    assert (w37.start, w37.end, w37.kind, w37.label) == (
        date(2026, 9, 7),
        date(2026, 9, 13),
        "week",
        "2026-W37",
    )
    first = parse_period("2026-w01", today)
    assert (first.start, first.end) == (date(2025, 12, 29), date(2026, 1, 4))
    assert week_of(date(2027, 1, 1)).label == "2026-W53"  # 2026 has 53 ISO weeks
    assert previous(first).label == "2025-W52"
    assert parse_period("this-week", today) == w37
    assert parse_period("last-week", today).label == "2026-W36"
    assert parse_period(w37.label, today) == w37


def test_a_week_a_year_does_not_have_is_refused() -> None:
    from tracker.errors import UsageError
    from tracker.periods import parse_period

    with pytest.raises(UsageError, match="2025-W53"):
        parse_period("2025-W53", date(2026, 1, 1))
