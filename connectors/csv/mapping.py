"""One CSV/XLSX row → the core's records, or a reason it cannot be imported."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from connectors.csv.settings import CsvSourceSettings
from tracker.money import Rates
from tracker.records import AccountRecord, DealRecord, OwnerRecord
from tracker.settings import TrackerSection

MAX_ID = 255  # the store's key column


class RowError(ValueError):
    """Why a row is rejected (the message names the column)."""


_SYMBOL = "[$€£¥₹₩₽¤]"
_AMOUNT = re.compile(
    rf"(?P<sign>-)?\s*(?:[A-Z]{{3}}\s*)?{_SYMBOL}?\s*"
    rf"(?P<num>[-+]?\d[\d.,'\s\u00a0]*?)\s*{_SYMBOL}?\s*(?:[A-Z]{{3}})?"
)


def parse_number(value: Any, column: str, decimal: str = ".") -> float | None:
    """A number from a cell: thousands separators, currency symbols and codes allowed.

    ``(1,200)`` and ``-1,200`` are negative; a blank cell is ``None``.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if not text:
        return None
    negative = text.startswith("(") and text.endswith(")")
    match = _AMOUNT.fullmatch(text[1:-1].strip() if negative else text)
    if match is None:
        raise RowError(f"{column}: {text!r} is not a number")
    negative = negative or match["sign"] is not None
    core = re.sub(r"[\s\u00a0']", "", match["num"])
    group = "," if decimal == "." else "."
    if core.count(decimal) > 1:
        raise RowError(f"{column}: {text!r} is not a number")
    whole, _, frac = core.partition(decimal)
    if group in whole:
        sign = whole[0] if whole[:1] in "+-" and whole[:1] else ""
        groups = whole[len(sign) :].split(group)
        if not groups[0] or len(groups[0]) > 3 or any(len(g) != 3 for g in groups[1:]):
            raise RowError(f"{column}: {text!r} is not a number (misplaced {group!r})")
        whole = sign + "".join(groups)
    try:
        number = float(f"{whole}.{frac}" if frac else whole)
    except ValueError:
        raise RowError(f"{column}: {text!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise RowError(f"{column}: {text!r} is not a finite number")
    return -number if negative else number


def parse_datetime(value: Any, column: str, fmt: str | None, tz: ZoneInfo) -> datetime | None:
    """An aware UTC datetime; dates and naive datetimes are local to ``tz``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    else:
        text = str(value).strip()
        if not text:
            return None
        parsed = _parse_text(text, column, fmt)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def parse_date(value: Any, column: str, fmt: str | None, tz: ZoneInfo) -> date | None:
    """A calendar date in ``tz``; an aware datetime is first converted to ``tz``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value.astimezone(tz) if value.tzinfo else value).date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    parsed = _parse_text(text, column, fmt)
    return (parsed.astimezone(tz) if parsed.tzinfo else parsed).date()


def _parse_text(text: str, column: str, fmt: str | None) -> datetime:
    if fmt:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            pass
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        expected = f"{fmt!r} or ISO 8601" if fmt else "ISO 8601 (set date_format for others)"
        raise RowError(f"{column}: {text!r} is not a date in {expected}") from None


def cell_text(value: Any) -> str | None:
    """A cell as trimmed text (a whole float without its ``.0``); blank is ``None``."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


@dataclass
class MappedRow:
    """The records one row produces."""

    deal: DealRecord
    owner: OwnerRecord | None
    account: AccountRecord | None


class RowMapper:
    """Maps rows of one source, with its settings and the org's calendar and currency."""

    def __init__(self, settings: CsvSourceSettings, tracker: TrackerSection) -> None:
        self.s = settings
        self.cols = settings.columns.mapped()
        self.tz = tracker.tz
        self.rates = Rates(tracker.currency, tracker.exchange_rates)
        self.default_currency = (settings.currency or tracker.currency).upper()
        self.won = {v.strip().casefold() for v in settings.stages.won}
        self.lost = {v.strip().casefold() for v in settings.stages.lost}
        self.new_types = {v.strip().casefold() for v in settings.deal_types.new_customer}

    def _get(self, row: dict[str, Any], field: str) -> Any:
        column = self.cols.get(field)
        return None if column is None else row.get(column)

    def _col(self, field: str) -> str:
        return self.cols.get(field, field)

    def row_id(self, row: dict[str, Any]) -> str | None:
        """The row's deal id, if it has one."""
        return cell_text(self._get(row, "id"))

    def map(self, row: dict[str, Any]) -> MappedRow:
        """Records for ``row``; raises ``RowError`` and produces nothing on any problem."""
        deal_id = self.row_id(row)
        if deal_id is None:
            raise RowError(f"{self._col('id')}: the deal id is blank")
        if len(deal_id) > MAX_ID:
            raise RowError(f"{self._col('id')}: the deal id is longer than {MAX_ID} characters")
        stage = cell_text(self._get(row, "stage"))
        if stage is None:
            raise RowError(f"{self._col('stage')}: the stage is blank")
        key = stage.casefold()
        is_won, is_lost = key in self.won, key in self.lost
        fmt = self.s.date_format
        created = parse_datetime(self._get(row, "created"), self._col("created"), fmt, self.tz)
        closed = parse_date(self._get(row, "closed"), self._col("closed"), fmt, self.tz)
        dec = self.s.decimal_separator
        amount = parse_number(self._get(row, "amount"), self._col("amount"), dec)
        list_amount = parse_number(self._get(row, "list_amount"), self._col("list_amount"), dec)
        cost = parse_number(self._get(row, "cost_amount"), self._col("cost_amount"), dec)
        if (is_won or is_lost) and closed is None:
            raise RowError(
                f"{self._col('closed')}: a {'won' if is_won else 'lost'} deal needs a close date"
            )
        if is_won and amount is None:
            raise RowError(f"{self._col('amount')}: a won deal needs an amount")
        currency = (cell_text(self._get(row, "currency")) or self.default_currency).upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise RowError(f"{self._col('currency')}: {currency!r} is not a 3-letter currency code")
        deal_type = cell_text(self._get(row, "type"))
        owner_id = cell_text(self._get(row, "owner"))
        account_id = cell_text(self._get(row, "account"))
        deal = DealRecord(
            external_id=deal_id,
            name=cell_text(self._get(row, "name")),
            account_external_id=account_id,
            owner_external_id=owner_id,
            stage=stage,
            pipeline=cell_text(self._get(row, "pipeline")),
            is_closed=is_won or is_lost,
            is_won=is_won,
            created_at=created,
            close_date=closed,
            amount=amount,
            currency=currency,
            amount_reporting=self.rates.convert(amount, currency, closed),
            list_amount=list_amount,
            cost_amount=cost,
            deal_type=deal_type,
            is_new_business=(deal_type.casefold() in self.new_types)
            if deal_type is not None and self.new_types
            else None,
            custom={name: cell_text(row.get(col)) for name, col in self.s.custom.items()},
        )
        owner = None
        if owner_id is not None:
            owner = OwnerRecord(
                external_id=owner_id,
                name=owner_id,
                email=cell_text(self._get(row, "owner_email")),
                team=cell_text(self._get(row, "team")),
                region=cell_text(self._get(row, "region")),
            )
        account = None
        if account_id is not None:
            account = AccountRecord(
                external_id=account_id,
                name=account_id,
                segment=cell_text(self._get(row, "segment")),
                industry=cell_text(self._get(row, "industry")),
            )
        return MappedRow(deal=deal, owner=owner, account=account)
