"""The core's own record types: what every connector yields and the sync engine stores.

Connectors map CRM payloads into these right where they arrive (ARCHITECTURE rule 2);
nothing past ``connectors/<kind>/`` ever sees an SDK object or a CRM field name.

Conventions shared by every record:

* ``external_id`` is the id in the source; with the configured source name it forms the
  key of the row in the store.
* datetimes are timezone-aware UTC; ``close_date`` is a plain date in the org's calendar.
* money is a float in the deal's own currency, except ``amount_reporting`` which is in the
  reporting currency (``[tracker] currency``).
* ``None`` always means "unknown / not in the source", never zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

JsonDict = dict[str, Any]


@dataclass(slots=True, kw_only=True)
class AccountRecord:
    """A customer account (Salesforce Account, HubSpot company, a CSV account name)."""

    external_id: str
    name: str | None = None
    industry: str | None = None
    segment: str | None = None
    created_at: datetime | None = None
    source_modified_at: datetime | None = None
    is_deleted: bool = False
    custom: JsonDict = field(default_factory=dict)


@dataclass(slots=True, kw_only=True)
class OwnerRecord:
    """A deal owner (a CRM user) with the dimensions metrics break down by."""

    external_id: str
    name: str | None = None
    email: str | None = None
    manager_external_id: str | None = None
    team: str | None = None
    region: str | None = None
    is_active: bool | None = None
    source_modified_at: datetime | None = None


@dataclass(slots=True, kw_only=True)
class LineItemRecord:
    """One product line of a deal; money in the deal's currency.

    ``discount_pct`` is a fraction (0.15 for 15 %); ``total`` is the net line amount.
    """

    external_id: str
    deal_external_id: str
    product: str | None = None
    quantity: float | None = None
    list_price: float | None = None
    unit_price: float | None = None
    discount_pct: float | None = None
    total: float | None = None
    unit_cost: float | None = None
    source_modified_at: datetime | None = None
    is_deleted: bool = False

    @classmethod
    def from_totals(
        cls,
        *,
        external_id: str,
        deal_external_id: str,
        quantity: float | None,
        list_price: float | None,
        total: float | None,
        **other: Any,
    ) -> LineItemRecord:
        """A line item whose ``unit_price`` and ``discount_pct`` derive from the net total,
        whichever way the CRM expressed the discount: ``unit_price = total / quantity``,
        ``discount_pct = 1 − total / (list_price × quantity)``."""
        gross = list_price * quantity if list_price is not None and quantity is not None else None
        return cls(
            external_id=external_id,
            deal_external_id=deal_external_id,
            quantity=quantity,
            list_price=list_price,
            total=total,
            unit_price=total / quantity if total is not None and quantity else None,
            discount_pct=1 - total / gross if total is not None and gross else None,
            **other,
        )


def line_totals(lines: Sequence[LineItemRecord]) -> tuple[float | None, float | None]:
    """A deal's (list amount, cost amount) from its line items: Σ list price × quantity and
    Σ unit cost × quantity; both None without line items, the cost None when any line
    lacks a unit cost."""
    if not lines:
        return None, None
    list_amount = sum((li.list_price or 0.0) * (li.quantity or 0.0) for li in lines)
    if any(li.unit_cost is None for li in lines):
        return list_amount, None
    return list_amount, sum((li.unit_cost or 0.0) * (li.quantity or 0.0) for li in lines)


@dataclass(slots=True, kw_only=True)
class DealRecord:
    """A deal / opportunity.

    ``line_items`` is ``None`` when the source did not say anything about line items
    (they are left as stored), and a list when it is the deal's complete set: stored line
    items of the deal missing from it are then marked deleted.
    """

    external_id: str
    name: str | None = None
    account_external_id: str | None = None
    owner_external_id: str | None = None
    stage: str | None = None
    pipeline: str | None = None
    is_closed: bool = False
    is_won: bool = False
    created_at: datetime | None = None
    close_date: date | None = None
    amount: float | None = None
    currency: str | None = None
    amount_reporting: float | None = None
    list_amount: float | None = None
    cost_amount: float | None = None
    deal_type: str | None = None
    is_new_business: bool | None = None
    source_modified_at: datetime | None = None
    is_deleted: bool = False
    custom: JsonDict = field(default_factory=dict)
    line_items: list[LineItemRecord] | None = None


ACTIVITY_KINDS = ("call", "meeting", "email", "task")
"""The kinds of activity the store knows."""


@dataclass(slots=True, kw_only=True)
class ActivityRecord:
    """A sales activity: a call, meeting, email or task, and what it is about.

    * ``occurred_at``: when it happened (UTC); ``occurred_on``: the day, when the CRM gives
      only a day (a Salesforce Task's ``ActivityDate`` without a completion time). Metrics
      read ``occurred_at`` in the org's time zone, else ``occurred_on`` as it is.
    * ``duration_minutes``: how long (calls and meetings), None when unknown.
    * ``is_completed``: done (a held call, a sent email, a closed task, a meeting marked
      completed); None when the CRM does not say (a Salesforce Event: metrics count a
      meeting as held once it has started by the period's end).
    * ``outcome``: the CRM's own status / disposition / outcome text.
    * ``deal_external_id`` / ``account_external_id``: what it is about, when linked.
    """

    external_id: str
    kind: str
    subject: str | None = None
    owner_external_id: str | None = None
    occurred_at: datetime | None = None
    occurred_on: date | None = None
    duration_minutes: float | None = None
    is_completed: bool | None = None
    outcome: str | None = None
    deal_external_id: str | None = None
    account_external_id: str | None = None
    source_modified_at: datetime | None = None
    is_deleted: bool = False


@dataclass(slots=True, frozen=True)
class RejectedRow:
    """A source row that could not be mapped; ``location`` is e.g. ``deals.csv:17``."""

    location: str
    reason: str
    external_id: str | None = None

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


@dataclass(slots=True, kw_only=True)
class Batch:
    """One unit of work a connector yields: records, deletions and the cursor after them.

    The sync engine writes everything in a batch *and* saves ``cursor`` in a single
    transaction, so a crash never leaves half a batch or a cursor ahead of its data.

    * ``cursor``: JSON-serialisable state to save after this batch (``None``: keep the
      saved one).
    * ``deleted_deal_ids``: deals the source reports as deleted/archived.
    * ``complete_deal_ids``: when set, the complete set of live deal ids in the source;
      every stored, non-deleted deal of the source missing from it is marked deleted
      (used by full exports and reconciliation).
    * ``activities`` / ``deleted_activity_ids`` / ``complete_activity_ids``: the same for
      activities (sources with ``activities = true`` only).
    * ``expected_total``: an estimate of the records the whole sync will yield, for
      progress display.
    * ``api_calls``: requests the connector made to produce this batch (reported by
      ``--dry-run`` as the cost of a real sync).
    * ``notes``: facts about the run a user should see but need not act on
      (``deals.csv: footer: 4 rows skipped``).
    * ``warnings``: facts that make the run less exact than it should be and want action
      (``deletions not applied: 1 row without an id, deals.csv:14``).
    """

    accounts: list[AccountRecord] = field(default_factory=list)
    owners: list[OwnerRecord] = field(default_factory=list)
    deals: list[DealRecord] = field(default_factory=list)
    deleted_deal_ids: list[str] = field(default_factory=list)
    complete_deal_ids: frozenset[str] | None = None
    activities: list[ActivityRecord] = field(default_factory=list)
    deleted_activity_ids: list[str] = field(default_factory=list)
    complete_activity_ids: frozenset[str] | None = None
    rejected: list[RejectedRow] = field(default_factory=list)
    cursor: JsonDict | None = None
    expected_total: int | None = None
    api_calls: int = 0
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def record_count(self) -> int:
        """Records in this batch (deals, accounts, owners, activities), for progress and
        rates."""
        return len(self.deals) + len(self.accounts) + len(self.owners) + len(self.activities)
