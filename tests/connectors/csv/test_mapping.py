"""Cell parsing of CRM exports: numbers, dates, time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.csv.mapping import RowError, parse_date, parse_datetime, parse_number

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.5", 1234.5),
        ("1,234.50", 1234.5),
        ("$1,234,567.89", 1234567.89),
        ("USD 1,200", 1200.0),
        ("€ 99", 99.0),
        ("(1,200.00)", -1200.0),
        ("-3", -3.0),
        ("  ", None),
        ("", None),
        (None, None),
        (7, 7.0),
        (2.5, 2.5),
        ("1 200", 1200.0),
    ],
)
def test_numbers(text: object, expected: float | None) -> None:
    assert parse_number(text, "amount") == expected


@pytest.mark.parametrize(("text", "expected"), [("1.234,50", 1234.5), ("12,5", 12.5)])
def test_numbers_with_decimal_comma(text: str, expected: float) -> None:
    assert parse_number(text, "amount", decimal=",") == expected


@pytest.mark.parametrize("text", ["abc", "1,23", "12,34,567", "1.2.3", "nan", "inf", "1e999"])
def test_bad_numbers_name_the_column(text: str) -> None:
    with pytest.raises(RowError, match=r"^close_value: '.*' is not a (finite )?number"):
        parse_number(text, "close_value")


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False))
def test_formatted_numbers_round_trip(value: object) -> None:
    assert parse_number(f"${value:,}", "amount") == pytest.approx(float(str(value)))


def test_dates_are_local_to_the_org() -> None:
    assert parse_date("2026-03-31", "c", None, NY) == date(2026, 3, 31)
    # 01:30 UTC on 1 April is still 31 March in New York
    assert parse_date("2026-04-01T01:30:00Z", "c", None, NY) == date(2026, 3, 31)
    assert parse_date("31/03/2026", "c", "%d/%m/%Y", NY) == date(2026, 3, 31)
    assert parse_date(datetime(2026, 4, 1, 1, 30, tzinfo=UTC), "c", None, NY) == date(2026, 3, 31)
    assert parse_date("", "c", None, NY) is None


def test_datetimes_become_utc() -> None:
    assert parse_datetime("2026-03-31", "c", None, NY) == datetime(2026, 3, 31, 4, tzinfo=UTC)
    assert parse_datetime("2026-03-31T10:00:00+02:00", "c", None, NY) == datetime(
        2026, 3, 31, 8, tzinfo=UTC
    )
    assert parse_datetime(date(2026, 1, 1), "c", None, NY) == datetime(2026, 1, 1, 5, tzinfo=UTC)


def test_bad_date_says_the_expected_form() -> None:
    with pytest.raises(
        RowError, match=r"^engage_date: '31.03.2026' is not a date in '%Y-%m-%d' or ISO 8601"
    ):
        parse_date("31.03.2026", "engage_date", "%Y-%m-%d", NY)
