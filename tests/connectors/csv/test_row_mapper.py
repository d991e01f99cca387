"""RowMapper: one export row → the deal, owner and account records, written out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from connectors.csv.mapping import RowError, RowMapper
from connectors.csv.settings import CsvSourceSettings
from tracker.records import AccountRecord, DealRecord, OwnerRecord
from tracker.settings import TrackerSection

# every canonical field under a column name that differs from it
EVERY_COLUMN = {
    "id": "Deal ID",
    "stage": "Deal Stage",
    "name": "Deal Name",
    "owner": "Deal Owner",
    "owner_email": "Owner Mail",
    "team": "Sales Team",
    "region": "Territory",
    "account": "Company",
    "segment": "Tier",
    "industry": "Sector",
    "created": "Created On",
    "closed": "Closed On",
    "amount": "Value",
    "list_amount": "List Value",
    "cost_amount": "Cost",
    "currency": "Cur",
    "type": "Kind",
    "pipeline": "Funnel",
}


def mapper(columns: dict[str, str], **keys: Any) -> RowMapper:
    settings = CsvSourceSettings.model_validate(
        {
            "kind": "csv",
            "path": "deals.csv",
            "columns": columns,
            "stages": {"won": [" Closed Won "], "lost": ["Closed Lost"]},
            **keys,
        }
    )
    tracker = TrackerSection(
        timezone="Europe/Berlin", currency="USD", exchange_rates={"EUR": 1.1, "GBP": 1.25}
    )
    return RowMapper(settings, tracker)


def test_every_column_of_a_won_row_lands_in_its_record() -> None:
    m = mapper(
        EVERY_COLUMN,
        deal_types={"new_customer": ["New Business"]},
        custom={"Channel": "Lead Source", "Partner": "Reseller"},
    )
    row = {
        "Deal ID": 1042.0,  # spreadsheets hand integral ids over as floats
        "Deal Stage": "closed won",
        "Deal Name": " Acme renewal ",
        "Deal Owner": "Ann",
        "Owner Mail": "ann@example.com",
        "Sales Team": "East",
        "Territory": "EMEA",
        "Company": "Acme",
        "Tier": "Enterprise",
        "Sector": "Retail",
        "Created On": "2026-03-01 09:30",  # Berlin, CET (UTC+1)
        "Closed On": "2026-03-31",
        "Value": "1,000.00",
        "List Value": "1,200",
        "Cost": "400",
        "Cur": "eur",
        "Kind": "new business",
        "Funnel": "Direct",
        "Lead Source": "Web",
        "Reseller": "",
    }
    mapped = m.map(row)
    assert mapped.deal == DealRecord(
        external_id="1042",
        name="Acme renewal",
        account_external_id="Acme",
        owner_external_id="Ann",
        stage="closed won",
        pipeline="Direct",
        is_closed=True,
        is_won=True,
        created_at=datetime(2026, 3, 1, 8, 30, tzinfo=UTC),
        close_date=date(2026, 3, 31),
        amount=1000.0,
        currency="EUR",
        amount_reporting=pytest.approx(1100.0),  # type: ignore[arg-type]
        list_amount=1200.0,
        cost_amount=400.0,
        deal_type="new business",
        is_new_business=True,
        custom={"Channel": "Web", "Partner": None},
    )
    assert mapped.owner == OwnerRecord(
        external_id="Ann", name="Ann", email="ann@example.com", team="East", region="EMEA"
    )
    assert mapped.account == AccountRecord(
        external_id="Acme", name="Acme", segment="Enterprise", industry="Retail"
    )
    assert m.row_id(row) == "1042"


def test_a_lost_row_and_an_open_row() -> None:
    m = mapper(EVERY_COLUMN, deal_types={"new_customer": ["New Business"]})
    lost = m.map({"Deal ID": "L1", "Deal Stage": "Closed Lost", "Closed On": "2026-02-02"})
    assert (lost.deal.is_closed, lost.deal.is_won, lost.deal.close_date) == (
        True,
        False,
        date(2026, 2, 2),
    )
    assert (lost.owner, lost.account) == (None, None)
    # an open deal of another type: not a new customer; no currency column value: USD
    open_ = m.map({"Deal ID": "O1", "Deal Stage": "Proposal", "Kind": "Renewal", "Value": "5"})
    assert (open_.deal.is_closed, open_.deal.is_won, open_.deal.is_new_business) == (
        False,
        False,
        False,
    )
    assert (open_.deal.currency, open_.deal.amount_reporting) == ("USD", 5.0)


def test_without_new_customer_types_the_flag_is_unknown() -> None:
    m = mapper({"id": "id", "stage": "stage", "type": "type"})
    assert m.map({"id": "1", "stage": "Open", "type": "New Business"}).deal.is_new_business is None


def test_the_source_currency_is_the_default_and_is_upper_cased() -> None:
    m = mapper({"id": "id", "stage": "stage", "amount": "amount"}, currency="gbp")
    deal = m.map({"id": "1", "stage": "Open", "amount": "10"}).deal
    assert (deal.currency, deal.amount_reporting) == ("GBP", 12.5)


def test_a_european_export_reads_every_amount_with_its_decimal_comma() -> None:
    m = mapper(EVERY_COLUMN, decimal_separator=",", date_format="%d/%m/%Y")
    deal = m.map(
        {
            "Deal ID": "E1",
            "Deal Stage": "Proposal",
            "Created On": "31/12/2026",  # Berlin midnight: 23:00 UTC the day before
            "Value": "1.234,50",
            "List Value": "1.500,25",
            "Cost": "400,75",
            "Cur": "EUR",
        }
    ).deal
    assert (deal.created_at, deal.amount, deal.list_amount, deal.cost_amount) == (
        datetime(2026, 12, 30, 23, tzinfo=UTC),
        1234.5,
        1500.25,
        400.75,
    )


def test_unmapped_fields_stay_empty_even_beside_extra_cells() -> None:
    # csv.DictReader puts the cells beyond the header under the key None
    m = mapper({"id": "id", "stage": "stage"})
    deal = m.map({"id": "7", "stage": "Open", None: ["stray", "cells"]}).deal
    assert deal == DealRecord(external_id="7", stage="Open", currency="USD")


@pytest.mark.parametrize(
    ("columns", "row", "message"),
    [
        (EVERY_COLUMN, {"Deal ID": " ", "Deal Stage": "Open"}, "Deal ID: the deal id is blank"),
        (
            EVERY_COLUMN,
            {"Deal ID": "x" * 256, "Deal Stage": "Open"},
            "Deal ID: the deal id is longer than 255 characters",
        ),
        (EVERY_COLUMN, {"Deal ID": "1", "Deal Stage": ""}, "Deal Stage: the stage is blank"),
        (
            EVERY_COLUMN,
            {"Deal ID": "x" * 255, "Deal Stage": ""},  # 255 characters is a valid id
            "Deal Stage: the stage is blank",
        ),
        (
            EVERY_COLUMN,
            {"Deal ID": "1", "Deal Stage": "Open", "Created On": "soon"},
            "Created On: 'soon' is not a date",
        ),
        (
            EVERY_COLUMN,
            {"Deal ID": "1", "Deal Stage": "Open", "Value": "ten"},
            "Value: 'ten' is not a number",
        ),
        (
            EVERY_COLUMN,
            {"Deal ID": "1", "Deal Stage": "Open", "List Value": "ten"},
            "List Value: 'ten' is not a number",
        ),
        (
            EVERY_COLUMN,
            {"Deal ID": "1", "Deal Stage": "Open", "Cost": "ten"},
            "Cost: 'ten' is not a number",
        ),
        (
            EVERY_COLUMN,
            {"Deal ID": "1", "Deal Stage": "Closed Won", "Value": "1"},
            "Closed On: a won deal needs a close date",
        ),
        (
            EVERY_COLUMN,
            {"Deal ID": "1", "Deal Stage": "Closed Lost"},
            "Closed On: a lost deal needs a close date",
        ),
        (
            EVERY_COLUMN,
            {"Deal ID": "1", "Deal Stage": "Closed Won", "Closed On": "2026-01-01"},
            "Value: a won deal needs an amount",
        ),
        (
            EVERY_COLUMN,
            {"Deal ID": "1", "Deal Stage": "Open", "Cur": "euro"},
            "Cur: 'EURO' is not a 3-letter currency code",
        ),
        # an unmapped column is named by its field
        ({"id": "id", "stage": "stage"}, {"id": "1", "stage": "Closed Won"}, "closed: a won"),
        (
            {"id": "id", "stage": "stage", "closed": "c"},
            {"id": "1", "stage": "Closed Won", "c": "2026-01-01"},
            "amount: a won deal needs an amount",
        ),
    ],
)
def test_a_bad_row_is_refused_naming_its_column(
    columns: dict[str, str], row: dict[str, Any], message: str
) -> None:
    with pytest.raises(RowError) as caught:
        mapper(columns).map(row)
    assert str(caught.value).startswith(message)
