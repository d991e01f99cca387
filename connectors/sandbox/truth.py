"""The canonical truth: what a perfect sync of each CRM would store, as core records.

It is read from the sandbox's *current* data, so mutations (updates, deletes, merges) are
reflected at once. The conventions a perfect connector follows:

Both CRMs
    * ``external_id`` is the CRM id (Salesforce 18-character Id, HubSpot numeric id string).
    * ``amount_reporting = amount × rates[currency]`` with the sandbox's rates
      (``Sandbox.rates``: USD 1.0, EUR 1.08, GBP 1.27; reporting currency USD); None when
      amount is None. Salesforce publishes the same rates as ``CurrencyType.ConversionRate``
      (= 1 / rate), HubSpot deals without ``deal_currency_code`` are in USD.
    * line items: ``list_price`` the list unit price, ``total`` the net line amount,
      ``unit_price = total / quantity``, ``discount_pct = 1 − total / (list_price × quantity)``
      (a fraction, whichever way the CRM expressed the discount), ``unit_cost`` per unit.
      Deal ``list_amount = Σ list_price × quantity``, ``cost_amount = Σ unit_cost × quantity``
      (None when any line lacks a cost), both None without line items.
    * ``deal_type`` is the CRM's raw value; ``is_new_business`` is True for Salesforce
      "New Customer" / HubSpot "newbusiness", False for any other value, None when empty.
    * soft-deleted / archived deals are present with ``is_deleted=True``; hard-deleted and
      merged-away deals are listed in ``Truth.gone_deal_ids`` (a sync that saw them before
      marks them deleted; one that never did does not have them).
    * ``custom`` is empty; ``source_modified_at`` is SystemModstamp / hs_lastmodifieddate.

Salesforce
    ``close_date`` = CloseDate; ``stage`` = StageName; ``pipeline`` None; owner team/region =
    the user's Department / Region__c, or the manager's when the user's is empty;
    account segment = ``Segment__c``.

HubSpot
    ``close_date`` = the date of ``closedate`` in the portal's time zone
    (``America/New_York``), None without a close date; ``stage`` / ``pipeline`` are the
    *labels* of the stage / pipeline; closed and won from the stage metadata (``isClosed``,
    ``probability`` "1.0"); account = the associated company; team = primary team name,
    region = the team name up to " - "; owners have no manager; an owner is active unless
    archived; account segment = ``customer_segment``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tracker.records import AccountRecord, DealRecord, LineItemRecord, OwnerRecord

from .hsdata import HsObject, HubSpotData, parse_iso
from .sfload import NEW_TYPE
from .sobjects import SObjectDatabase


@dataclass
class Truth:
    """What a perfect sync of one CRM would store."""

    deals: dict[str, DealRecord] = field(default_factory=dict)
    accounts: dict[str, AccountRecord] = field(default_factory=dict)
    owners: dict[str, OwnerRecord] = field(default_factory=dict)
    gone_deal_ids: set[str] = field(default_factory=set)

    def live_deals(self) -> dict[str, DealRecord]:
        """Deals not deleted."""
        return {k: d for k, d in self.deals.items() if not d.is_deleted}


def _f(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)


def _lines_totals(lines: list[LineItemRecord]) -> tuple[float | None, float | None]:
    if not lines:
        return None, None
    list_amount = sum((li.list_price or 0.0) * (li.quantity or 0.0) for li in lines)
    if any(li.unit_cost is None for li in lines):
        return list_amount, None
    return list_amount, sum((li.unit_cost or 0.0) * (li.quantity or 0.0) for li in lines)


def line_item(
    ext_id: str,
    deal_id: str,
    product: str | None,
    list_price: float | None,
    quantity: float | None,
    total: float | None,
    unit_cost: float | None,
    modified: datetime | None,
    deleted: bool,
) -> LineItemRecord:
    """A line item with the derived fields computed the canonical way."""
    unit = total / quantity if total is not None and quantity else None
    gross = list_price * quantity if list_price is not None and quantity is not None else None
    discount = 1 - total / gross if total is not None and gross else None
    return LineItemRecord(
        external_id=ext_id,
        deal_external_id=deal_id,
        product=product,
        quantity=quantity,
        list_price=list_price,
        unit_price=unit,
        discount_pct=discount,
        total=total,
        unit_cost=unit_cost,
        source_modified_at=modified,
        is_deleted=deleted,
    )


def salesforce_truth(db: SObjectDatabase, rates: dict[str, float], gone: set[str]) -> Truth:
    """The truth of the Salesforce org."""
    truth = Truth(gone_deal_ids=set(gone))
    users = db.rows["User"]
    for u in users.values():
        mgr = users.get(u["ManagerId"]) if u["ManagerId"] else None
        truth.owners[u["Id"]] = OwnerRecord(
            external_id=u["Id"],
            name=u["Name"],
            email=u["Email"],
            manager_external_id=u["ManagerId"],
            team=u["Department"] or (mgr["Department"] if mgr else None),
            region=u["Region__c"] or (mgr["Region__c"] if mgr else None),
            is_active=u["IsActive"],
            source_modified_at=u["SystemModstamp"],
        )
    for a in db.rows["Account"].values():
        truth.accounts[a["Id"]] = AccountRecord(
            external_id=a["Id"],
            name=a["Name"],
            industry=a["Industry"],
            segment=a["Segment__c"],
            created_at=a["CreatedDate"],
            source_modified_at=a["SystemModstamp"],
            is_deleted=a["IsDeleted"],
        )
    lines: dict[str, list[LineItemRecord]] = {}
    for li in db.rows["OpportunityLineItem"].values():
        lines.setdefault(li["OpportunityId"], []).append(
            line_item(
                li["Id"],
                li["OpportunityId"],
                li["Name"],
                li["ListPrice"],
                li["Quantity"],
                li["TotalPrice"],
                li["Unit_Cost__c"],
                li["SystemModstamp"],
                li["IsDeleted"],
            )
        )
    for o in db.rows["Opportunity"].values():
        items = [li for li in lines.get(o["Id"], []) if not li.is_deleted or o["IsDeleted"]]
        list_amount, cost = _lines_totals(items)
        currency = o.get("CurrencyIsoCode") or "USD"
        amount = o["Amount"]
        truth.deals[o["Id"]] = DealRecord(
            external_id=o["Id"],
            name=o["Name"],
            account_external_id=o["AccountId"],
            owner_external_id=o["OwnerId"],
            stage=o["StageName"],
            pipeline=None,
            is_closed=o["IsClosed"],
            is_won=o["IsWon"],
            created_at=o["CreatedDate"],
            close_date=o["CloseDate"],
            amount=amount,
            currency=currency,
            amount_reporting=None if amount is None else amount * rates[currency],
            list_amount=list_amount,
            cost_amount=cost,
            deal_type=o["Type"],
            is_new_business=None if o["Type"] is None else o["Type"] == NEW_TYPE,
            source_modified_at=o["SystemModstamp"],
            is_deleted=o["IsDeleted"],
            line_items=items,
        )
    return truth


def _dt(value: str | None) -> datetime | None:
    return None if not value else parse_iso(value)


def _close(value: str | None, tz: ZoneInfo) -> date | None:
    return None if not value else parse_iso(value).astimezone(tz).date()


def hubspot_truth(data: HubSpotData, rates: dict[str, float]) -> Truth:
    """The truth of the HubSpot portal."""
    tz = ZoneInfo(data.timezone)
    truth = Truth(gone_deal_ids=set(data.gone["deals"]))
    for o in data.owners:
        team = o.team[1] if o.team else None
        truth.owners[o.id] = OwnerRecord(
            external_id=o.id,
            name=f"{o.first_name} {o.last_name}",
            email=o.email,
            manager_external_id=None,
            team=team,
            region=team.split(" - ")[0] if team else None,
            is_active=not o.archived,
            source_modified_at=_dt(o.updated_at),
        )
    for c in data.objects["companies"].values():
        p = c.properties
        truth.accounts[c.id] = AccountRecord(
            external_id=c.id,
            name=p.get("name"),
            industry=p.get("industry"),
            segment=p.get("customer_segment"),
            created_at=_dt(p.get("createdate")),
            source_modified_at=_dt(p.get("hs_lastmodifieddate")),
            is_deleted=c.archived,
        )
    for d in data.objects["deals"].values():
        truth.deals[d.id] = _hubspot_deal(data, d, rates, tz)
    return truth


def _hubspot_deal(
    data: HubSpotData, d: HsObject, rates: dict[str, float], tz: ZoneInfo
) -> DealRecord:
    p = d.properties
    items: list[LineItemRecord] = []
    for lid in data.associated("deals", d.id, "line_items"):
        li = data.objects["line_items"][lid]
        if li.archived and not d.archived:
            continue
        lp = li.properties
        items.append(
            line_item(
                lid,
                d.id,
                lp.get("name"),
                _f(lp.get("price")),
                _f(lp.get("quantity")),
                _f(lp.get("amount")),
                _f(lp.get("hs_cost_of_goods_sold")),
                _dt(lp.get("hs_lastmodifieddate")),
                li.archived,
            )
        )
    list_amount, cost = _lines_totals(items)
    stage = data.stage(p.get("pipeline"), p.get("dealstage"))
    companies = data.associated("deals", d.id, "companies")
    currency = p.get("deal_currency_code") or "USD"
    amount = _f(p.get("amount"))
    dealtype = p.get("dealtype")
    return DealRecord(
        external_id=d.id,
        name=p.get("dealname"),
        account_external_id=companies[0] if companies else None,
        owner_external_id=p.get("hubspot_owner_id"),
        stage=stage[0] if stage else p.get("dealstage"),
        pipeline=data.pipeline_label(p.get("pipeline")),
        is_closed=bool(stage and stage[2]),
        is_won=bool(stage and stage[1] == "1.0"),
        created_at=_dt(p.get("createdate")),
        close_date=_close(p.get("closedate"), tz),
        amount=amount,
        currency=currency,
        amount_reporting=None if amount is None else amount * rates[currency],
        list_amount=list_amount,
        cost_amount=cost,
        deal_type=dealtype,
        is_new_business=None if dealtype is None else dealtype == "newbusiness",
        source_modified_at=_dt(p.get("hs_lastmodifieddate")),
        is_deleted=d.archived,
        line_items=items,
    )
