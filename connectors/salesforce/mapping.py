"""Salesforce payloads → the core's records, and the SOQL that fetches them.

A :class:`FieldPlan` is built once per sync from the settings and ``describe()``: which
mapped fields exist (a missing one stops the sync naming its config key), whether the org
is multi-currency, and the rates into the reporting currency (read by ``currency.py``).
Everything that knows a Salesforce field name lives here, and the currency objects' in
``currency.py`` (ARCHITECTURE rule 2).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tracker.errors import SourceError
from tracker.money import Rates
from tracker.records import AccountRecord, DealRecord, LineItemRecord, OwnerRecord, line_totals

Record = dict[str, Any]
_ZERO = timedelta(0)
_ID = re.compile(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")

OPPORTUNITY_FIELDS = (
    "Id",
    "Name",
    "AccountId",
    "OwnerId",
    "StageName",
    "IsClosed",
    "IsWon",
    "CreatedDate",
    "CloseDate",
    "Amount",
    "Type",
    "SystemModstamp",
    "IsDeleted",
)
LINE_ITEM_FIELDS = (
    "Id",
    "Name",
    "ListPrice",
    "UnitPrice",
    "Quantity",
    "TotalPrice",
    "SystemModstamp",
    "IsDeleted",
)
ACCOUNT_FIELDS = ("Id", "Name", "CreatedDate", "SystemModstamp", "IsDeleted")
USER_FIELDS = ("Id", "Name", "Email", "ManagerId", "IsActive", "SystemModstamp")
#: standard fields the connector needs on each object (checked against describe too)
REQUIRED = {
    "Opportunity": OPPORTUNITY_FIELDS,
    "OpportunityLineItem": (*LINE_ITEM_FIELDS, "OpportunityId"),
    "Account": ACCOUNT_FIELDS,
    "User": USER_FIELDS,
}
#: config key under ``fields`` → the object its field lives on
MAPPED_ON = {
    "line_item_cost": "OpportunityLineItem",
    "segment": "Account",
    "industry": "Account",
    "team": "User",
    "region": "User",
}


@dataclass
class FieldPlan:
    """What to select and how to map it, validated against the org's describe."""

    cost: str | None = None
    segment: str | None = None
    industry: str | None = None
    team: str | None = None
    region: str | None = None
    multi_currency: bool = False
    default_currency: str = "USD"
    rates: Rates = field(default_factory=lambda: Rates("USD"))
    new_customer: frozenset[str] = frozenset()

    # -- SOQL

    def opportunity_fields(self) -> str:
        """The Opportunity fields (without line items)."""
        opp = list(OPPORTUNITY_FIELDS)
        if self.multi_currency:
            opp.append("CurrencyIsoCode")
        return ", ".join(opp)

    def line_item_fields(self, *, parent: bool = False) -> str:
        """The OpportunityLineItem fields (with ``OpportunityId`` when ``parent``)."""
        items = [*LINE_ITEM_FIELDS, *(["OpportunityId"] if parent else [])]
        return ", ".join([*items, *([self.cost] if self.cost else [])])

    def opportunity_select(self) -> str:
        """The select list of Opportunity with its line items as a child subquery."""
        return (
            f"{self.opportunity_fields()}, "
            f"(SELECT {self.line_item_fields()} FROM OpportunityLineItems)"
        )

    def account_select(self) -> str:
        """The select list of Account."""
        extra = [f for f in (self.industry, self.segment) if f]
        return ", ".join(dict.fromkeys([*ACCOUNT_FIELDS, *extra]))

    def user_select(self) -> str:
        """The select list of User."""
        extra = [f for f in (self.team, self.region) if f]
        return ", ".join(dict.fromkeys([*USER_FIELDS, *extra]))

    # -- records

    def deal(self, rec: Record) -> DealRecord:
        """An Opportunity record (with its ``OpportunityLineItems``) → DealRecord."""
        deal_id = rec["Id"]
        deleted = bool(rec.get("IsDeleted"))
        children = rec.get("OpportunityLineItems") or {}
        if children and not children.get("done", True):
            raise SourceError(f"Opportunity {deal_id}: its line items were not read to the end")
        lines = [
            self.line_item(li, deal_id)
            for li in children.get("records", ())
            if deleted or not li.get("IsDeleted")
        ]
        list_amount, cost = line_totals(lines)
        currency = (rec.get("CurrencyIsoCode") if self.multi_currency else None) or (
            self.default_currency
        )
        amount = _num(rec.get("Amount"))
        close_date = _date(rec.get("CloseDate"))
        deal_type = rec.get("Type") or None
        return DealRecord(
            external_id=deal_id,
            name=rec.get("Name"),
            account_external_id=rec.get("AccountId"),
            owner_external_id=rec.get("OwnerId"),
            stage=rec.get("StageName"),
            pipeline=None,
            is_closed=bool(rec.get("IsClosed")),
            is_won=bool(rec.get("IsWon")),
            created_at=parse_datetime(rec.get("CreatedDate")),
            close_date=close_date,
            amount=amount,
            currency=currency,
            amount_reporting=self.rates.convert(amount, currency, close_date),
            list_amount=list_amount,
            cost_amount=cost,
            deal_type=deal_type,
            is_new_business=None if deal_type is None else deal_type in self.new_customer,
            source_modified_at=parse_datetime(rec.get("SystemModstamp")),
            is_deleted=deleted,
            line_items=lines,
        )

    def line_item(self, rec: Record, deal_id: str) -> LineItemRecord:
        """An OpportunityLineItem record → LineItemRecord (derived fields the canonical way)."""
        quantity = _num(rec.get("Quantity"))
        list_price = _num(rec.get("ListPrice"))
        total = _num(rec.get("TotalPrice"))
        return LineItemRecord.from_totals(
            external_id=rec["Id"],
            deal_external_id=deal_id,
            quantity=quantity,
            list_price=list_price,
            total=total,
            product=rec.get("Name"),
            unit_cost=_num(rec.get(self.cost)) if self.cost else None,
            source_modified_at=parse_datetime(rec.get("SystemModstamp")),
            is_deleted=bool(rec.get("IsDeleted")),
        )

    def account(self, rec: Record) -> AccountRecord:
        """An Account record → AccountRecord."""
        return AccountRecord(
            external_id=rec["Id"],
            name=rec.get("Name"),
            industry=rec.get(self.industry) if self.industry else None,
            segment=rec.get(self.segment) if self.segment else None,
            created_at=parse_datetime(rec.get("CreatedDate")),
            source_modified_at=parse_datetime(rec.get("SystemModstamp")),
            is_deleted=bool(rec.get("IsDeleted")),
        )

    def owners(self, records: Iterable[Record]) -> list[OwnerRecord]:
        """Every User → OwnerRecord; team and region fall back to the manager's."""
        users = {r["Id"]: r for r in records}
        out = []
        for u in users.values():
            manager = users.get(u.get("ManagerId") or "")
            out.append(
                OwnerRecord(
                    external_id=u["Id"],
                    name=u.get("Name"),
                    email=u.get("Email"),
                    manager_external_id=u.get("ManagerId"),
                    team=_own_or_manager(u, manager, self.team),
                    region=_own_or_manager(u, manager, self.region),
                    is_active=u.get("IsActive"),
                    source_modified_at=parse_datetime(u.get("SystemModstamp")),
                )
            )
        return out


def field_problems(
    source: str, describes: dict[str, Record], mapped: dict[str, str | None]
) -> list[str]:
    """One message per standard field the API user cannot read and per mapped field that
    does not exist (naming its config key), from the objects' describes."""
    names = {obj: _field_names(body) for obj, body in describes.items()}
    out = [
        f"Salesforce: field {obj}.{name} is not readable by the API user "
        "(describe); grant read access to it (see docs/salesforce.md)"
        for obj, needed in REQUIRED.items()
        for name in needed
        if name.lower() not in names[obj]
    ]
    for key, value in mapped.items():
        if value is None:
            continue
        obj = MAPPED_ON[key]
        if value.lower() not in names[obj]:
            shown = "Owner" if obj == "User" else obj
            out.append(
                f"sources.{source}.fields.{key}: field {shown}.{value} does not exist "
                f"(describe of {obj}); check the API name (custom fields end in __c) and "
                "the API user's field-level security"
            )
    return out


def check_fields(
    source: str, describes: dict[str, Record], plan: FieldPlan, mapped: dict[str, str | None]
) -> None:
    """Stop (``SourceError``) naming the config key when a mapped field is not in describe."""
    problems = field_problems(source, describes, mapped)
    if problems:
        raise SourceError(problems[0])
    plan.multi_currency = "currencyisocode" in _field_names(describes["Opportunity"])


def calculated_fields(describe: Record) -> set[str]:
    """Names of formula / roll-up fields of an object (they change without a new stamp)."""
    return {f["name"] for f in describe.get("fields", ()) if f.get("calculated")}


def soql_datetime(value: datetime) -> str:
    """A SOQL datetime literal (UTC, ``Z``)."""
    value = value.astimezone(UTC)
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def soql_id(value: str) -> str:
    """An Id quoted for SOQL (Ids are alphanumeric; anything else is refused)."""
    if not _ID.match(value):
        raise SourceError(f"Salesforce returned an unexpected record Id {value!r}")
    return f"'{value}'"


def parse_datetime(value: Any) -> datetime | None:
    """``2024-05-01T12:34:56.000+0000`` (REST) or ``...000Z`` (Bulk) → aware UTC datetime."""
    if not value:
        return None
    # fromisoformat (C, Python 3.11+) reads both; strptime cost a third of a sync's CPU
    parsed = datetime.fromisoformat(value if isinstance(value, str) else str(value))
    if parsed.tzinfo is UTC:  # both wire formats (``Z``, ``+0000``) parse to UTC itself
        return parsed
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed if parsed.utcoffset() == _ZERO else parsed.astimezone(UTC)


def _date(value: Any) -> date | None:
    return date.fromisoformat(str(value)[:10]) if value else None


def _num(value: Any) -> float | None:
    if value is None or value == "":
        return None
    return float(value)


def _own_or_manager(user: Record, manager: Record | None, name: str | None) -> Any:
    if name is None:
        return None
    own = user.get(name)
    if own:
        return own
    return (manager.get(name) or None) if manager is not None else None


def _field_names(describe: Record) -> set[str]:
    return {str(f["name"]).lower() for f in describe.get("fields", ())}
