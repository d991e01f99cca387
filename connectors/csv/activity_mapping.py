"""One row of an activities file → an ``ActivityRecord``, or a reason it cannot be imported.

``occurred`` holds a date or a date and time: a value with a time of day is a moment
(``occurred_at``, local to the org's time zone unless it carries an offset, stored in UTC);
a plain date (text without a time, an XLSX date cell, which reads as midnight) is a day
(``occurred_on``), as a CRM's due date is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from connectors.csv.mapping import MAX_ID, RowError, cell_text, parse_number
from connectors.csv.settings import CsvActivities, CsvSourceSettings
from tracker.records import ACTIVITY_KINDS, ActivityRecord

_TIME_DIRECTIVES = re.compile(r"%[HIMSfpXcTR]")
_TRUE = {"true", "yes", "y", "1", "x"}
_FALSE = {"false", "no", "n", "0"}


def parse_when(
    value: Any, column: str, formats: Sequence[str], tz: ZoneInfo
) -> tuple[datetime | None, date | None]:
    """``(occurred_at, occurred_on)`` of a cell: a UTC moment when it has a time of day,
    else the day it names; ``(None, None)`` when blank. Text is read with each of
    ``formats`` in turn, then as ISO 8601."""
    if isinstance(value, datetime):
        if value.tzinfo is None and value.time() == time():
            return None, value.date()
        moment = value
    elif isinstance(value, date):
        return None, value
    else:
        text = cell_text(value)
        if text is None:
            return None, None
        moment, date_only = _parse_text(text, column, formats)
        if date_only:
            return None, moment.date()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC), None


def _parse_text(text: str, column: str, formats: Sequence[str]) -> tuple[datetime, bool]:
    """The value and whether it names only a day."""
    for fmt in formats:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed, _TIME_DIRECTIVES.search(fmt) is None
    try:
        return datetime.combine(date.fromisoformat(text), time()), True
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text), False
    except ValueError:
        tried = " or ".join(repr(f) for f in formats)
        expected = f"{tried} or ISO 8601" if formats else "ISO 8601 (set date_format for others)"
        raise RowError(f"{column}: {text!r} is not a date in {expected}") from None


def parse_flag(value: Any, column: str) -> bool | None:
    """true/yes/y/1/x or false/no/n/0 (any case); ``None`` when blank."""
    if value is None or isinstance(value, bool):
        return value
    text = cell_text(value)
    if text is None:
        return None
    key = text.casefold()
    if key in _TRUE or key in _FALSE:
        return key in _TRUE
    raise RowError(f"{column}: {text!r} is not true/false (write yes/no, true/false or 1/0)")


class ActivityMapper:
    """Maps rows of one source's activities file, in the org's time zone."""

    def __init__(
        self, source: str, acts: CsvActivities, settings: CsvSourceSettings, tz: ZoneInfo
    ) -> None:
        self.acts = acts
        self.cols = self.acts.columns.mapped()
        self.kinds = self.acts.kinds.lookup()
        self.kinds_key = f"sources.{source}.activities.kinds"
        # the table's own format first, then the source's: a file may mix dates and times
        self.formats = list(
            dict.fromkeys(f for f in (self.acts.date_format, settings.date_format) if f)
        )
        self.decimal = settings.decimal_separator
        self.tz = tz

    def _get(self, row: dict[str, Any], field: str) -> Any:
        column = self.cols.get(field)
        return None if column is None else row.get(column)

    def _text(self, row: dict[str, Any], field: str) -> str | None:
        return cell_text(self._get(row, field))

    def row_id(self, row: dict[str, Any]) -> str | None:
        """The row's activity id, if it has one."""
        return self._text(row, "id")

    def map(self, row: dict[str, Any]) -> ActivityRecord:
        """The activity of ``row``; raises ``RowError`` naming the column on any problem."""
        cols = self.cols
        activity_id = self.row_id(row)
        if activity_id is None:
            raise RowError(f"{cols['id']}: the activity id is blank")
        if len(activity_id) > MAX_ID:
            raise RowError(f"{cols['id']}: the activity id is longer than {MAX_ID} characters")
        kind_value = self._text(row, "kind")
        if kind_value is None:
            raise RowError(f"{cols['kind']}: the kind is blank")
        kind = self.kinds.get(kind_value.casefold())
        if kind is None:
            raise RowError(
                f"{cols['kind']}: {kind_value!r} is not a known activity kind; list it under "
                f"{self.kinds_key} as one of {', '.join(ACTIVITY_KINDS)}"
            )
        occurred_at, occurred_on = parse_when(
            self._get(row, "occurred"), cols["occurred"], self.formats, self.tz
        )
        if occurred_at is None and occurred_on is None:
            raise RowError(f"{cols['occurred']}: the date is blank")
        minutes_column = cols.get("duration_minutes", "duration_minutes")
        minutes = parse_number(self._get(row, "duration_minutes"), minutes_column, self.decimal)
        if minutes is not None and minutes < 0:
            raise RowError(f"{minutes_column}: {minutes:g} minutes is negative")
        return ActivityRecord(
            external_id=activity_id,
            kind=kind,
            subject=self._text(row, "subject"),
            owner_external_id=self._text(row, "owner"),
            occurred_at=occurred_at,
            occurred_on=occurred_on,
            duration_minutes=minutes,
            is_completed=parse_flag(self._get(row, "completed"), cols.get("completed", "")),
            outcome=self._text(row, "outcome"),
            deal_external_id=self._text(row, "deal"),
            account_external_id=self._text(row, "account"),
        )
