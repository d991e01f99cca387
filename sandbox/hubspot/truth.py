"""The truth of the HubSpot portal: what a perfect sync would store (see ``sandbox.truth``)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sandbox.hubspot.data import HsObject, HubSpotData, parse_iso
from sandbox.truth import Truth, as_float, line_item
from tracker.records import (
    AccountRecord,
    ActivityRecord,
    DealRecord,
    LineItemRecord,
    OwnerRecord,
    line_totals,
)


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
    _activities(data, truth)
    return truth


_KINDS = {"calls": "call", "meetings": "meeting", "emails": "email"}
_DONE = {"calls": "hs_call_status", "meetings": "hs_meeting_outcome", "emails": "hs_email_status"}
_DONE_VALUE = {"calls": "COMPLETED", "meetings": "COMPLETED", "emails": "SENT"}


def _activities(data: HubSpotData, truth: Truth) -> None:
    for object_type, kind in _KINDS.items():
        for a in data.objects[object_type].values():
            p = a.properties
            status = p.get(_DONE[object_type])
            minutes = None
            if object_type == "calls" and p.get("hs_call_duration") is not None:
                minutes = float(p["hs_call_duration"] or 0) / 60_000
            start, end = _dt(p.get("hs_meeting_start_time")), _dt(p.get("hs_meeting_end_time"))
            if object_type == "meetings" and start is not None and end is not None:
                minutes = (end - start).total_seconds() / 60
            deals = data.assoc[(object_type, "deals")].get(a.id, [])
            companies = data.assoc[(object_type, "companies")].get(a.id, [])
            truth.activities[a.id] = ActivityRecord(
                external_id=a.id,
                kind=kind,
                subject=p.get("hs_call_title")
                or p.get("hs_meeting_title")
                or p.get("hs_email_subject"),
                owner_external_id=p.get("hubspot_owner_id"),
                occurred_at=_dt(p.get("hs_timestamp")),
                duration_minutes=minutes,
                is_completed=None if status is None else status == _DONE_VALUE[object_type],
                outcome=status,
                deal_external_id=min(deals, key=int) if deals else None,
                account_external_id=min(companies, key=int) if companies else None,
                source_modified_at=_dt(p.get("hs_lastmodifieddate")),
                is_deleted=a.archived,
            )


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
                as_float(lp.get("price")),
                as_float(lp.get("quantity")),
                as_float(lp.get("amount")),
                as_float(lp.get("hs_cost_of_goods_sold")),
                _dt(lp.get("hs_lastmodifieddate")),
                li.archived,
            )
        )
    list_amount, cost = line_totals(items)
    stage = data.stage(p.get("pipeline"), p.get("dealstage"))
    # the account is the primary company (HubSpot's "Primary" label), whatever the order
    companies = [
        c for c in data.associated("deals", d.id, "companies") if (d.id, c) in data.primary
    ] or sorted(data.associated("deals", d.id, "companies"), key=int)[:1]
    currency = p.get("deal_currency_code") or "USD"
    amount = as_float(p.get("amount"))
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
