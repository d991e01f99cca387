"""The truth of the Salesforce org: what a perfect sync would store (see ``sandbox.truth``)."""

from __future__ import annotations

from datetime import date

from sandbox.generator import DatedSchedule, rate_on
from sandbox.salesforce.load import NEW_TYPE
from sandbox.salesforce.sobjects import SObjectDatabase
from sandbox.truth import Truth, line_item
from tracker.records import (
    AccountRecord,
    ActivityRecord,
    DealRecord,
    LineItemRecord,
    OwnerRecord,
    line_totals,
)


def salesforce_truth(
    db: SObjectDatabase,
    rates: dict[str, float],
    gone: set[str],
    dated: DatedSchedule | None = None,
) -> Truth:
    """The truth of the Salesforce org (``dated``: its dated rates, when it has them)."""
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
    use_dated = dated is not None and "DatedConversionRate" in db.objects
    active = {r["IsoCode"] for r in db.rows["CurrencyType"].values() if r["IsActive"]}

    def rate(currency: str, close: date | None) -> float | None:
        # advanced currency management converts at the rate in force on the close date;
        # outside every dated range (or without them) at the active CurrencyType rate;
        # a currency with neither has no rate: the deal stays unconverted
        if use_dated and dated is not None and close is not None:
            in_force = rate_on(dated, currency, close)
            if in_force is not None:
                return in_force
        return rates[currency] if currency in active else None

    for o in db.rows["Opportunity"].values():
        items = [li for li in lines.get(o["Id"], []) if not li.is_deleted or o["IsDeleted"]]
        list_amount, cost = line_totals(items)
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
            amount_reporting=_times(amount, rate(currency, o["CloseDate"])),
            list_amount=list_amount,
            cost_amount=cost,
            deal_type=o["Type"],
            is_new_business=None if o["Type"] is None else o["Type"] == NEW_TYPE,
            source_modified_at=o["SystemModstamp"],
            is_deleted=o["IsDeleted"],
            line_items=items,
        )
    _activities(db, truth)
    return truth


def _activities(db: SObjectDatabase, truth: Truth) -> None:
    kinds = {"Call": "call", "Email": "email", "ListEmail": "email"}
    for sobject in ("Task", "Event"):
        for r in db.rows[sobject].values():
            what = r["WhatId"]
            common = {
                "external_id": r["Id"],
                "subject": r["Subject"],
                "owner_external_id": r["OwnerId"],
                "occurred_on": r["ActivityDate"],
                "deal_external_id": what if what and what.startswith("006") else None,
                "account_external_id": r["AccountId"],
                "source_modified_at": r["SystemModstamp"],
                "is_deleted": r["IsDeleted"],
            }
            if sobject == "Event":
                truth.activities[r["Id"]] = ActivityRecord(
                    kind="meeting",
                    occurred_at=None if r["IsAllDayEvent"] else r["StartDateTime"],
                    duration_minutes=r["DurationInMinutes"],
                    is_completed=None,
                    **common,
                )
                continue
            seconds = r["CallDurationInSeconds"]
            truth.activities[r["Id"]] = ActivityRecord(
                kind=kinds.get(r["TaskSubtype"] or "", "task"),
                occurred_at=r["CompletedDateTime"],
                duration_minutes=None if seconds is None else seconds / 60,
                is_completed=r["IsClosed"],
                outcome=r["CallDisposition"] or r["Status"],
                **common,
            )


def _times(amount: float | None, rate: float | None) -> float | None:
    return None if amount is None or rate is None else amount * rate
