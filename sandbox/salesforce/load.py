"""Write the generated company's Salesforce half into an ``SObjectDatabase``.

What lands where (the truth in ``truth.py`` reads it back the same way):

* ``User``: reps and managers; ``Department`` is the team and ``Region__c`` the region,
  both empty on some reps (a perfect connector takes them from ``Manager``).
* ``Account``: ``Segment__c``, ``Industry``, ``CurrencyIsoCode`` USD.
* ``Opportunity``: ``Type`` "New Customer" (new business) or "Existing Customer - Upgrade",
  sometimes empty; ``CurrencyIsoCode``; deleted deals are in the recycle bin (IsDeleted).
* ``OpportunityLineItem``: ``ListPrice``, ``UnitPrice``, ``Quantity``, ``Discount`` (percent,
  empty when the discount is baked into UnitPrice), ``TotalPrice`` (net), ``Unit_Cost__c``.
* ``CurrencyType``: USD corporate; ``ConversionRate`` is units of the currency per USD
  (Salesforce's convention), i.e. ``1 / rates[code]``.
* ``DatedConversionRate`` (orgs with advanced currency management): the generator's dated
  schedule, the same way (``publish_dated_rates``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sandbox.activity_gen import GenActivity
from sandbox.generator import PRODUCTS, Company, GenDeal
from sandbox.salesforce.sobjects import SObjectDatabase, standard_schema

OPEN_STAGES = (
    ("Prospecting", 10.0),
    ("Qualification", 10.0),
    ("Value Proposition", 50.0),
    ("Proposal/Price Quote", 75.0),
    ("Negotiation/Review", 90.0),
)
NEW_TYPE = "New Customer"
EXISTING_TYPE = "Existing Customer - Upgrade"


def new_database(clock: Any, *, dated_rates: bool = True) -> SObjectDatabase:
    """An empty multi-currency org whose audit stamps come from ``clock``; with
    ``dated_rates`` it uses advanced currency management (``DatedConversionRate``)."""
    return SObjectDatabase(
        standard_schema(multi_currency=True, dated_rates=dated_rates), clock=clock
    )


def load_salesforce(db: SObjectDatabase, company: Company) -> dict[int, str]:
    """Insert the company's Salesforce users, accounts, deals; returns deal key → Id."""
    boot = company.now
    for code, rate in sorted(company.rates.items()):
        db.insert(
            "CurrencyType",
            {
                "IsoCode": code,
                "ConversionRate": round(1 / rate, 6),
                "IsCorporate": code == "USD",
                "IsActive": True,
                "DecimalPlaces": 2,
            },
            modstamp=boot,
        )
    if "DatedConversionRate" in db.objects:
        for code, ranges in sorted(company.dated_rates.items()):
            publish_dated_rates(db, code, ranges, boot)
    users: dict[int, str] = {}
    for u in company.users:
        if u.crm != "salesforce":
            continue
        uid = db.new_id("User")
        users[u.key] = uid
        db.insert(
            "User",
            {
                "Id": uid,
                "FirstName": u.first,
                "LastName": u.last,
                "Name": f"{u.first} {u.last}",
                "Email": u.email,
                "Username": u.email + ".sandbox",
                "ManagerId": users.get(u.manager) if u.manager is not None else None,
                "IsActive": u.is_active,
                "Department": u.team,
                "Region__c": u.region,
            },
            modstamp=u.created,
        )
    db.default_user_id = next(iter(users.values()), None)
    products = {
        code: db.insert(
            "Product2",
            {"Name": name, "ProductCode": code, "Family": "Software", "IsActive": True},
            modstamp=boot,
        )
        for code, name, _, _ in PRODUCTS
    }
    accounts: dict[int, str] = {}
    for a in company.accounts:
        if a.crm != "salesforce":
            continue
        accounts[a.key] = db.insert(
            "Account",
            {
                "Name": a.name,
                "Industry": a.industry,
                "Type": "Customer",
                "OwnerId": users[a.owner],
                "Segment__c": a.segment,
                "CurrencyIsoCode": "USD",
            },
            modstamp=a.created,
        )
    ids: dict[int, str] = {}
    for d in company.deals:
        if d.crm == "salesforce":
            ids[d.key] = _insert_deal(db, d, users, accounts, products)
    deal_account = {d.key: d.account for d in company.deals if d.crm == "salesforce"}
    for act in company.activities:
        if act.crm == "salesforce":
            insert_activity(db, act, users, ids, accounts, deal_account, company.now)
    return ids


ARCHIVE_AFTER = timedelta(days=365)
SUBTYPES = {"call": "Call", "email": "Email", "task": "Task"}


def insert_activity(
    db: SObjectDatabase,
    a: GenActivity,
    users: dict[int, str],
    deals: dict[int, str],
    accounts: dict[int, str],
    deal_account: dict[int, int | None],
    now: datetime,
) -> str:
    """Insert one generated activity as a Task (calls, emails, to-dos) or an Event
    (meetings), as Salesforce keeps them: a logged call is a closed Task with a
    ``CallDisposition``; events and closed tasks older than a year are archived."""
    account = deal_account.get(a.deal) if a.deal is not None else None
    common: dict[str, Any] = {
        "Subject": f"{a.kind.title()} #{a.key}",
        "WhatId": deals.get(a.deal) if a.deal is not None else None,
        "AccountId": accounts.get(account) if account is not None else None,
        "OwnerId": users[a.owner],
        "ActivityDate": a.when.date(),
    }
    if a.kind == "meeting":
        minutes = a.minutes or 30
        values = {
            **common,
            "EventSubtype": "Event",
            "StartDateTime": a.when,
            "EndDateTime": a.when + timedelta(minutes=minutes),
            "ActivityDateTime": a.when,
            "DurationInMinutes": minutes,
            "IsAllDayEvent": False,
            "ShowAs": "Busy",
            "IsArchived": now - a.when > ARCHIVE_AFTER,
        }
        sobject = "Event"
    else:
        values = {
            **common,
            "TaskSubtype": SUBTYPES[a.kind],
            "Type": {"call": "Call", "email": "Email"}.get(a.kind, "Other"),
            "Status": "Completed" if a.completed else "Not Started",
            "IsClosed": a.completed,
            "Priority": "Normal",
            "CompletedDateTime": a.when if a.completed else None,
            "IsArchived": a.completed and now - a.when > ARCHIVE_AFTER,
        }
        if a.kind == "call":
            values["CallType"] = "Outbound"
            values["CallDurationInSeconds"] = None if a.minutes is None else a.minutes * 60
            values["CallDisposition"] = {"held": "Connected", "no_answer": "No answer"}.get(
                a.result
            )
        sobject = "Task"
    created = min(a.modified, a.when)
    row_id = db.insert(sobject, values, modstamp=a.modified, created=created)
    if a.deleted:
        db.delete(sobject, row_id, modstamp=a.modified)
    return row_id


def publish_dated_rates(
    db: SObjectDatabase, code: str, schedule: Sequence[tuple[date, float]], stamp: datetime
) -> None:
    """Make ``schedule`` ((start, USD per 1 unit) in date order) the ``DatedConversionRate``
    rows of ``code``: each range ends where the next starts, the last is open-ended;
    ``ConversionRate`` is units of the currency per USD, as Salesforce gives it."""
    for row_id, row in list(db.rows["DatedConversionRate"].items()):
        if row["IsoCode"] == code:
            db.hard_delete("DatedConversionRate", row_id, keep_log=False)
    for number, (start, rate) in enumerate(schedule):
        following = schedule[number + 1][0] if number + 1 < len(schedule) else None
        db.insert(
            "DatedConversionRate",
            {
                "IsoCode": code,
                "ConversionRate": round(1 / rate, 6),
                "StartDate": start,
                "NextStartDate": following,
            },
            modstamp=stamp,
        )


def _insert_deal(
    db: SObjectDatabase,
    d: GenDeal,
    users: dict[int, str],
    accounts: dict[int, str],
    products: dict[str, str],
) -> str:
    values = opportunity_values(d)
    values["AccountId"] = accounts[d.account] if d.account is not None else None
    values["OwnerId"] = users[d.owner]
    opp_id = db.insert("Opportunity", values, modstamp=d.modified, created=d.created)
    for line in d.lines:
        if line.discount_in_price:
            unit = round(line.total / line.quantity, 2)
            discount = None
        else:
            unit = line.list_price
            discount = round(line.discount * 100, 2)
        db.insert(
            "OpportunityLineItem",
            {
                "OpportunityId": opp_id,
                "Product2Id": products[line.code],
                "Name": line.product,
                "ProductCode": line.code,
                "ListPrice": line.list_price,
                "UnitPrice": unit,
                "Quantity": line.quantity,
                "Discount": discount,
                "Subtotal": round(unit * line.quantity, 2),
                "TotalPrice": line.total,
                "Unit_Cost__c": line.unit_cost,
                "CurrencyIsoCode": d.currency,
                "IsDeleted": d.deleted,
            },
            modstamp=d.modified,
            created=d.created,
        )
    if d.deleted:
        db.delete("Opportunity", opp_id, modstamp=d.modified)
    return opp_id


def opportunity_values(d: GenDeal) -> dict[str, Any]:
    """Stage, amounts and dates of a generated deal as Opportunity fields."""
    if d.status == "won":
        stage, prob, forecast = "Closed Won", 100.0, "Closed"
    elif d.status == "lost":
        stage, prob, forecast = "Closed Lost", 0.0, "Omitted"
    else:
        stage, prob = OPEN_STAGES[d.stage_index]
        forecast = "Pipeline" if prob < 70 else "Forecast"
    deal_type = None if d.new_business is None else NEW_TYPE if d.new_business else EXISTING_TYPE
    return {
        "Name": d.name,
        "Amount": d.amount,
        "CloseDate": d.close,
        "StageName": stage,
        "IsClosed": d.status != "open",
        "IsWon": d.status == "won",
        "Type": deal_type,
        "ForecastCategory": forecast,
        "ForecastCategoryName": forecast,
        "Probability": prob,
        "FiscalYear": d.close.year,
        "FiscalQuarter": (d.close.month - 1) // 3 + 1,
        "HasOpportunityLineItem": bool(d.lines),
        "CurrencyIsoCode": d.currency,
    }


def stamp_of(row: dict[str, Any]) -> datetime:
    """A row's SystemModstamp."""
    value = row["SystemModstamp"]
    assert isinstance(value, datetime)
    return value
