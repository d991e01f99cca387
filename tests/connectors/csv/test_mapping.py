"""Cell parsing of CRM exports: numbers, dates, time zones."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
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
        ("(1,234.56)", -1234.56),  # both parentheses off, nothing more
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


@pytest.mark.parametrize(
    "text",
    [
        "abc",
        "1,23",
        "12,34,567",
        "1234,567",  # four digits before the first thousands separator
        "1.2.3",
        "2.,",  # passes the pattern, not float()
        "12)",  # one parenthesis is not a negative amount
        "(12",
        "nan",
        "inf",
        "1e999",
    ],
)
def test_bad_numbers_name_the_column(text: str) -> None:
    with pytest.raises(RowError) as caught:
        parse_number(text, "close_value")
    assert str(caught.value).startswith(f"close_value: {text!r} is not a number")


def test_a_number_too_large_for_a_float_is_refused_as_not_finite() -> None:
    digits = "9" * 400  # float() gives inf
    with pytest.raises(RowError) as caught:
        parse_number(digits, "close_value")
    assert str(caught.value) == f"close_value: {digits!r} is not a finite number"


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


@pytest.fixture
def machine_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Set this process's local time zone (``TZ``); the original is restored after."""

    def use(zone: str) -> None:
        monkeypatch.setenv("TZ", zone)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


def test_a_naive_datetime_cell_is_already_local_to_the_org(
    machine_zone: Callable[[str], None],
) -> None:
    """A spreadsheet's date cell (naive) keeps its calendar date, whatever the machine's."""
    machine_zone("UTC")
    berlin = ZoneInfo("Europe/Berlin")
    assert parse_date(datetime(2026, 3, 31, 23, 30), "c", None, berlin) == date(2026, 3, 31)
    assert parse_date(datetime(2026, 3, 31, 0, 30), "c", None, NY) == date(2026, 3, 31)


def test_datetimes_are_utc_whatever_the_machine_zone(
    machine_zone: Callable[[str], None],
) -> None:
    machine_zone("Asia/Tokyo")
    parsed = parse_datetime("2026-03-31T10:00:00+02:00", "c", None, NY)
    assert parsed is not None and parsed.tzinfo is UTC
    assert parsed.isoformat() == "2026-03-31T08:00:00+00:00"


def test_a_bad_datetime_names_its_column() -> None:
    with pytest.raises(RowError) as caught:
        parse_datetime("soon", "Created On", None, NY)
    assert str(caught.value).startswith("Created On: 'soon' is not a date")


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
