"""The canonical truth: what a perfect sync of each CRM would store, as core records.

It is read from the sandbox's *current* data, so mutations (updates, deletes, merges) are
reflected at once. The conventions a perfect connector follows:

Both CRMs
    * ``external_id`` is the CRM id (Salesforce 18-character Id, HubSpot numeric id string).
    * ``amount_reporting = amount × rates[currency]`` with the sandbox's rates
      (``Sandbox.rates``: USD 1.0, EUR 1.08, GBP 1.27; reporting currency USD); None when
      amount is None. Salesforce publishes the same rates as ``CurrencyType.ConversionRate``
      (= 1 / rate), HubSpot deals without ``deal_currency_code`` are in USD. The Salesforce
      org uses advanced currency management: its opportunities convert at the dated rate
      in force on their close date (``generator.dated_schedule``, published as
      ``DatedConversionRate``; ``Sandbox.set_dated_rates`` changes it), and at the
      ``CurrencyType`` rate outside every dated range; a currency deactivated in
      ``CurrencyType`` with no dated rate in force has none (``amount_reporting`` None).
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
    ``probability`` "1.0"); account = the primary company (labelled "Primary"; some deals
    also have an unlabelled one, listed first); team = primary team name,
    region = the team name up to " - "; owners have no manager; an owner is active unless
    archived; account segment = ``customer_segment``.

Activities (sources with ``activities = true``)
    Salesforce: a Task is a call (``TaskSubtype`` Call), an email (Email, ListEmail) or a
    task; ``occurred_at`` = CompletedDateTime, ``occurred_on`` = ActivityDate,
    ``is_completed`` = IsClosed, ``duration_minutes`` = CallDurationInSeconds / 60,
    ``outcome`` = CallDisposition or else Status. An Event is a meeting at StartDateTime,
    ``duration_minutes`` = DurationInMinutes, ``is_completed`` None. Deal = WhatId when it
    is an opportunity; account = AccountId. Archived activities (``IsArchived``) are live.
    HubSpot: calls, meetings, emails at ``hs_timestamp``; completed when
    ``hs_call_status`` COMPLETED, ``hs_meeting_outcome`` COMPLETED, ``hs_email_status``
    SENT; ``duration_minutes`` = ``hs_call_duration`` ms / 60,000 or the meeting's end −
    start; ``outcome`` the status / outcome value; deal and account = the associated
    deal and company (the lowest id when several); archived ones are deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tracker.records import (
    AccountRecord,
    ActivityRecord,
    DealRecord,
    LineItemRecord,
    OwnerRecord,
)


@dataclass
class Truth:
    """What a perfect sync of one CRM would store."""

    deals: dict[str, DealRecord] = field(default_factory=dict)
    accounts: dict[str, AccountRecord] = field(default_factory=dict)
    owners: dict[str, OwnerRecord] = field(default_factory=dict)
    gone_deal_ids: set[str] = field(default_factory=set)
    activities: dict[str, ActivityRecord] = field(default_factory=dict)

    def live_deals(self) -> dict[str, DealRecord]:
        """Deals not deleted."""
        return {k: d for k, d in self.deals.items() if not d.is_deleted}


def as_float(value: Any) -> float | None:
    """A CRM number (text or number) as a float; None for empty."""
    return None if value is None or value == "" else float(value)


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
