"""Cells of an activities file: when it happened (a moment or a day) and yes/no values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from connectors.csv.activity_mapping import parse_flag, parse_when
from connectors.csv.mapping import RowError

BERLIN = ZoneInfo("Europe/Berlin")
EU = ["%d/%m/%Y %H:%M", "%d/%m/%Y"]


@pytest.mark.parametrize(
    ("value", "at", "on"),
    [
        # Berlin: UTC+1 until 29 March 2026 02:00, UTC+2 until 25 October 03:00
        ("29/03/2026 01:30", datetime(2026, 3, 29, 0, 30, tzinfo=UTC), None),
        ("29/03/2026 03:30", datetime(2026, 3, 29, 1, 30, tzinfo=UTC), None),
        ("31/12/2026", None, date(2026, 12, 31)),
        ("2026-12-31", None, date(2026, 12, 31)),  # ISO always
        ("2026-12-31T23:30:00Z", datetime(2026, 12, 31, 23, 30, tzinfo=UTC), None),
        ("2026-07-01T09:00:00-04:00", datetime(2026, 7, 1, 13, 0, tzinfo=UTC), None),
        (datetime(2026, 7, 1, 9, 0), datetime(2026, 7, 1, 7, 0, tzinfo=UTC), None),
        (datetime(2026, 7, 1), None, date(2026, 7, 1)),  # an XLSX date cell
        (date(2026, 7, 1), None, date(2026, 7, 1)),
        (
            datetime(2026, 7, 1, 9, 0, tzinfo=timezone(timedelta(hours=3))),
            datetime(2026, 7, 1, 6, 0, tzinfo=UTC),
            None,
        ),
        ("  ", None, None),
        (None, None, None),
    ],
)
def test_when_is_a_utc_moment_or_a_day(value: object, at: datetime | None, on: date | None) -> None:
    assert parse_when(value, "Date", EU, BERLIN) == (at, on)


def test_an_unreadable_date_names_the_column_and_the_formats() -> None:
    with pytest.raises(RowError) as err:
        parse_when("12/31/2026", "Date", EU, BERLIN)
    assert str(err.value) == (
        "Date: '12/31/2026' is not a date in '%d/%m/%Y %H:%M' or '%d/%m/%Y' or ISO 8601"
    )
    with pytest.raises(RowError, match=r"ISO 8601 \(set date_format for others\)"):
        parse_when("31/12/2026", "Date", [], BERLIN)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("yes", True),
        ("No", False),
        ("TRUE", True),
        ("false", False),
        ("1", True),
        (0, False),
        (1.0, True),
        (True, True),
        ("", None),
        (None, None),
    ],
)
def test_flags(value: object, expected: bool | None) -> None:
    assert parse_flag(value, "Done") is expected


def test_an_unreadable_flag_says_what_to_write() -> None:
    with pytest.raises(RowError, match="Done: 'maybe' is not true/false"):
        parse_flag("maybe", "Done")
