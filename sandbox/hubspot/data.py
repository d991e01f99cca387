"""The HubSpot portal's data: objects, associations, pipelines, owners, property definitions.

Objects are kept as HubSpot serves them: every property value a string (or None), ids numeric
strings increasing with creation, datetimes ISO-8601 UTC with milliseconds and ``Z``.

Portal conventions (what ``truth.py`` reads back and a perfect connector must follow):

* deals: ``amount`` in ``deal_currency_code`` (None means the portal currency, USD);
  ``closedate`` is an instant: the deal closed on its date *in the portal's time zone*
  (``America/New_York``), many in the evening, so reading the UTC date is a day off;
  ``dealtype`` ``newbusiness`` / ``existingbusiness`` / None; ``dealstage`` is a stage id
  of ``pipeline`` whose metadata says ``isClosed`` and ``probability`` ("1.0" won,
  "0.0" lost); the account is the associated company (association type 5, "Primary").
* line items: ``price`` is the list unit price, ``amount`` the net total, discount either
  ``hs_discount_percentage`` (percent) or ``discount`` (absolute per unit),
  ``hs_cost_of_goods_sold`` the unit cost; associated to their deal (type 20).
* companies: ``industry`` and the custom property ``customer_segment``.
* owners: team = the primary team's name, region = that name up to `` - `` (teams are
  named "APAC - Commercial"); owners have no manager; inactive owners are archived.
* archived (deleted) objects: ``archived`` true, never in search; merged deals vanish and
  their ids are listed in the winner's ``hs_merged_object_ids`` (``;``-separated).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sandbox.activity_gen import GenActivity
from sandbox.generator import Company, GenDeal

PORTAL_TZ = "America/New_York"
ACTIVITY_TYPES = ("calls", "meetings", "emails")
OBJECT_TYPES = ("deals", "companies", "line_items", "products", *ACTIVITY_TYPES)
_BASE_ID = {
    "deals": 20_000_000_000,
    "companies": 30_000_000_000,
    "line_items": 40_000_000_000,
    "products": 50_000_000_000,
    "calls": 60_000_000_000,
    "meetings": 61_000_000_000,
    "emails": 62_000_000_000,
}
DEFAULT_PROPERTIES = {
    "deals": (
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "line_items": (
        "createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
        "name",
        "price",
        "quantity",
        "amount",
    ),
    "products": ("createdate", "hs_lastmodifieddate", "hs_object_id", "name", "price"),
    "calls": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
    "meetings": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
    "emails": ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
}
# pipeline id, label, [(stage id, label, probability, closed)]
PIPELINES = (
    (
        "default",
        "Sales Pipeline",
        (
            ("appointmentscheduled", "Appointment Scheduled", "0.2", False),
            ("qualifiedtobuy", "Qualified To Buy", "0.4", False),
            ("presentationscheduled", "Presentation Scheduled", "0.6", False),
            ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8", False),
            ("contractsent", "Contract Sent", "0.9", False),
            ("closedwon", "Closed Won", "1.0", True),
            ("closedlost", "Closed Lost", "0.0", True),
        ),
    ),
    (
        "87654321",
        "Renewals & Upsell",
        (
            ("1001", "Renewal Due", "0.3", False),
            ("1002", "In Review", "0.5", False),
            ("1003", "Verbal Yes", "0.7", False),
            ("1004", "Quote Out", "0.8", False),
            ("1005", "Paperwork", "0.9", False),
            ("1006", "Renewed / Won", "1.0", True),
            ("1007", "Churned / Lost", "0.0", True),
        ),
    ),
)
ASSOC_TYPES: dict[
    tuple[str, str], list[tuple[int, str | None]]
] = {  # (from, to): [(typeId, label)] of the primary/unlabelled association
    ("deals", "companies"): [(5, "Primary"), (341, None)],
    ("companies", "deals"): [(6, "Primary"), (342, None)],
    ("deals", "line_items"): [(19, None)],
    ("line_items", "deals"): [(20, None)],
    # engagements: HUBSPOT_DEFINED type ids of each direction
    ("calls", "deals"): [(206, None)],
    ("deals", "calls"): [(205, None)],
    ("calls", "companies"): [(182, None)],
    ("companies", "calls"): [(181, None)],
    ("meetings", "deals"): [(212, None)],
    ("deals", "meetings"): [(211, None)],
    ("meetings", "companies"): [(188, None)],
    ("companies", "meetings"): [(187, None)],
    ("emails", "deals"): [(210, None)],
    ("deals", "emails"): [(209, None)],
    ("emails", "companies"): [(186, None)],
    ("companies", "emails"): [(185, None)],
}


def iso(dt: datetime) -> str:
    """HubSpot's datetime format: UTC, milliseconds, ``Z``."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def num(value: float | None) -> str | None:
    """A number as HubSpot serialises it ("1500", "1499.5"); None stays None."""
    if value is None:
        return None
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def parse_iso(value: str) -> datetime:
    """Parse a HubSpot datetime string."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(slots=True)
class HsObject:
    """One CRM object as stored; ``updated_at`` mirrors ``hs_lastmodifieddate``."""

    id: str
    properties: dict[str, str | None]
    created_at: str
    updated_at: str
    archived: bool = False
    archived_at: str | None = None


@dataclass
class HsOwner:
    """A portal owner (user)."""

    id: str
    email: str
    first_name: str
    last_name: str
    user_id: int
    team: tuple[str, str] | None  # (team id, team name)
    created_at: str
    updated_at: str
    archived: bool = False


@dataclass
class HubSpotData:
    """Everything the emulated portal holds."""

    timezone: str = PORTAL_TZ
    objects: dict[str, dict[str, HsObject]] = field(
        default_factory=lambda: {t: {} for t in OBJECT_TYPES}
    )
    order: dict[str, list[int]] = field(default_factory=lambda: {t: [] for t in OBJECT_TYPES})
    assoc: dict[tuple[str, str], dict[str, list[str]]] = field(
        default_factory=lambda: {k: {} for k in ASSOC_TYPES}
    )
    primary: set[tuple[str, str]] = field(default_factory=set)
    """(deal id, company id) pairs labelled "Primary": the deal's primary company."""
    owners: list[HsOwner] = field(default_factory=list)
    merged: dict[str, str] = field(default_factory=dict)
    """Merged-away deal id → the id it was merged into."""
    gone: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in OBJECT_TYPES})
    """Ids hard-deleted or merged away, per object type."""
    _next: dict[str, int] = field(default_factory=lambda: dict(_BASE_ID))

    def new_id(self, object_type: str) -> str:
        """A fresh id, larger than every earlier one of the type."""
        self._next[object_type] += 1
        return str(self._next[object_type])

    def add(self, object_type: str, obj: HsObject) -> HsObject:
        """Store a new object (its id must be the largest so far)."""
        self.objects[object_type][obj.id] = obj
        self.order[object_type].append(int(obj.id))
        return obj

    def remove(self, object_type: str, object_id: str) -> None:
        """Remove an object for good (hard delete / merged away)."""
        del self.objects[object_type][object_id]
        ids = self.order[object_type]
        ids.pop(bisect.bisect_left(ids, int(object_id)))
        self.gone[object_type].add(object_id)

    def associate(
        self,
        from_type: str,
        from_id: str,
        to_type: str,
        to_id: str,
        *,
        primary: bool = False,
        first: bool = False,
    ) -> None:
        """Associate two objects both ways; a deal→company ``primary`` one carries the
        "Primary" label; ``first`` lists it before the others (HubSpot's order means
        nothing)."""
        forward = self.assoc[(from_type, to_type)].setdefault(from_id, [])
        forward.insert(0, to_id) if first else forward.append(to_id)
        self.assoc[(to_type, from_type)].setdefault(to_id, []).append(from_id)
        if primary and (from_type, to_type) == ("deals", "companies"):
            self.primary.add((from_id, to_id))

    def is_primary(self, from_type: str, from_id: str, to_type: str, to_id: str) -> bool:
        """Whether the association is a deal's primary company (either direction)."""
        if (from_type, to_type) == ("deals", "companies"):
            return (from_id, to_id) in self.primary
        if (from_type, to_type) == ("companies", "deals"):
            return (to_id, from_id) in self.primary
        return False

    def associated(self, from_type: str, from_id: str, to_type: str) -> list[str]:
        """Ids of live objects of ``to_type`` associated with one object."""
        live = self.objects[to_type]
        return [i for i in self.assoc[(from_type, to_type)].get(from_id, []) if i in live]

    def page_after(self, object_type: str, after: str | None) -> int:
        """Index in ``order`` of the first id greater or equal to cursor ``after``."""
        if not after:
            return 0
        return bisect.bisect_left(self.order[object_type], int(after))

    def stage(self, pipeline: str | None, stage: str | None) -> tuple[str, str, bool] | None:
        """(stage label, probability, closed) of a stage id in a pipeline, or None."""
        for pid, _, stages in PIPELINES:
            if pid == pipeline:
                for sid, label, prob, closed in stages:
                    if sid == stage:
                        return label, prob, closed
        return None

    def pipeline_label(self, pipeline: str | None) -> str | None:
        """The label of a pipeline id."""
        return next((label for pid, label, _ in PIPELINES if pid == pipeline), None)


def deal_stage(d: GenDeal) -> tuple[str, str, str]:
    """(pipeline id, stage id, probability) of a generated deal."""
    pipeline = "default" if d.new_business is not False else "87654321"
    stages = next(s for pid, _, s in PIPELINES if pid == pipeline)
    if d.status == "won":
        sid, _, prob, _ = stages[5]
    elif d.status == "lost":
        sid, _, prob, _ = stages[6]
    else:
        sid, _, prob, _ = stages[d.stage_index]
    return pipeline, sid, prob


def close_instant(d: GenDeal, tz: ZoneInfo) -> datetime:
    """The close as HubSpot stores it: the deal's local close date at a local time of day."""
    local_t = (d.close_time.hour + d.key) % 15 + 9  # 09:00 to 23:00 in the portal's zone
    return datetime.combine(d.close, time(local_t, d.key % 60), tzinfo=tz).astimezone(UTC)


def load_hubspot(data: HubSpotData, company: Company) -> dict[int, str]:
    """Write the company's HubSpot users, companies, deals and line items; deal key → id."""
    tz = ZoneInfo(data.timezone)
    boot = iso(company.now - timedelta(days=3000))
    products: dict[str, str] = {}
    from sandbox.generator import PRODUCTS

    for code, name, price, cost in PRODUCTS:
        pid = data.new_id("products")
        props: dict[str, str | None] = {
            "name": name,
            "price": num(price),
            "hs_sku": code,
            "hs_cost_of_goods_sold": num(cost),
        }
        _stamp(props, pid, boot, boot)
        data.add("products", HsObject(pid, props, boot, boot))
        products[code] = pid
    users = [u for u in company.users if u.crm == "hubspot"]
    by_key = {u.key: u for u in company.users}
    owners: dict[int, str] = {}
    for n, u in enumerate(users):
        team = u.team or (by_key[u.manager].team if u.manager is not None else None)
        oid = str(70_000_000 + u.key)
        owners[u.key] = oid
        data.owners.append(
            HsOwner(
                oid,
                u.email,
                u.first,
                u.last,
                9_000_000 + n,
                (str(4000 + sum(map(ord, team))), team) if team else None,
                iso(u.created),
                iso(u.created),
                archived=not u.is_active,
            )
        )
    companies: dict[int, str] = {}
    for a in company.accounts:
        if a.crm != "hubspot":
            continue
        cid = data.new_id("companies")
        created = iso(a.created)
        domain = f"company{a.key}.example.com"
        props = {
            "name": a.name,
            "domain": domain,
            "industry": a.industry,
            "customer_segment": a.segment,
            "hubspot_owner_id": owners[a.owner],
        }
        _stamp(props, cid, created, created)
        data.add("companies", HsObject(cid, props, created, created))
        companies[a.key] = cid
    ids: dict[int, str] = {}
    for d in company.deals:
        if d.crm == "hubspot":
            ids[d.key] = _add_deal(data, d, tz, owners[d.owner], companies, products)
    deal_account = {d.key: d.account for d in company.deals if d.crm == "hubspot"}
    for act in company.activities:
        if act.crm == "hubspot":
            account = deal_account.get(act.deal) if act.deal is not None else None
            add_activity(
                data,
                act,
                owners[act.owner],
                ids.get(act.deal) if act.deal is not None else None,
                companies.get(account) if account is not None else None,
            )
    return ids


ACTIVITY_TYPE = {"call": "calls", "meeting": "meetings", "email": "emails"}


def add_activity(
    data: HubSpotData, a: GenActivity, owner: str, deal: str | None, company: str | None
) -> str:
    """Add one generated activity as a call, meeting or email engagement associated with
    its deal and company: ``hs_timestamp`` when it happened; calls carry
    ``hs_call_status`` (COMPLETED, NO_ANSWER, or QUEUED when planned) and
    ``hs_call_duration`` in ms; meetings ``hs_meeting_outcome`` (COMPLETED, NO_SHOW,
    SCHEDULED) with start and end times; emails ``hs_email_status`` (SENT, SCHEDULED)."""
    object_type = ACTIVITY_TYPE[a.kind]
    oid = data.new_id(object_type)
    when, modified = iso(a.when), iso(a.modified)
    created = iso(min(a.when, a.modified))
    props: dict[str, str | None] = {"hs_timestamp": when, "hubspot_owner_id": owner}
    if a.kind == "call":
        status = {"held": "COMPLETED", "no_answer": "NO_ANSWER"}.get(a.result, "QUEUED")
        props.update(
            hs_call_title=f"Call #{a.key}",
            hs_call_status=status,
            hs_call_direction="OUTBOUND",
            hs_call_duration=None if a.minutes is None else str(a.minutes * 60_000),
        )
    elif a.kind == "meeting":
        outcome = {"held": "COMPLETED", "no_show": "NO_SHOW"}.get(a.result, "SCHEDULED")
        props.update(
            hs_meeting_title=f"Meeting #{a.key}",
            hs_meeting_outcome=outcome,
            hs_meeting_start_time=when,
            hs_meeting_end_time=iso(a.when + timedelta(minutes=a.minutes or 30)),
        )
    else:
        props.update(
            hs_email_subject=f"Email #{a.key}",
            hs_email_status="SENT" if a.completed else "SCHEDULED",
            hs_email_direction="EMAIL",
        )
    props["hs_createdate"] = created
    props["hs_lastmodifieddate"] = modified
    props["hs_object_id"] = oid
    obj = data.add(object_type, HsObject(oid, props, created, modified))
    if deal is not None:
        data.associate(object_type, oid, "deals", deal)
    if company is not None:
        data.associate(object_type, oid, "companies", company)
    if a.deleted:
        obj.archived, obj.archived_at = True, modified
    return oid


def _stamp(props: dict[str, str | None], oid: str, created: str, modified: str) -> None:
    props["createdate"] = created
    props["hs_lastmodifieddate"] = modified
    props["hs_object_id"] = oid


def _add_deal(
    data: HubSpotData,
    d: GenDeal,
    tz: ZoneInfo,
    owner: str,
    companies: dict[int, str],
    products: dict[str, str],
) -> str:
    did = data.new_id("deals")
    created, modified = iso(d.created), iso(d.modified)
    pipeline, stage, prob = deal_stage(d)
    closed = d.status != "open"
    no_close = not closed and d.key % 20 == 0  # some open deals carry no close date yet
    dealtype = (
        None
        if d.new_business is None
        else ("newbusiness" if d.new_business else "existingbusiness")
    )
    props: dict[str, str | None] = {
        "dealname": d.name,
        "amount": num(d.amount),
        "closedate": None if no_close else iso(close_instant(d, tz)),
        "dealstage": stage,
        "pipeline": pipeline,
        "hubspot_owner_id": owner,
        "deal_currency_code": None if d.currency == "USD" and d.key % 3 else d.currency,
        "dealtype": dealtype,
        "hs_is_closed": "true" if closed else "false",
        "hs_is_closed_won": "true" if d.status == "won" else "false",
        "hs_deal_stage_probability": prob,
        "hs_num_of_associated_line_items": str(len(d.lines)),
        "hs_merged_object_ids": None,
    }
    _stamp(props, did, created, modified)
    obj = data.add("deals", HsObject(did, props, created, modified))
    if d.account is not None and d.account in companies:
        data.associate("deals", did, "companies", companies[d.account], primary=True)
        if d.key % 7 == 0 and len(companies) > 1:
            # a second company, unlabelled and listed first (a partner, a reseller)
            others = sorted(c for c in companies.values() if c != companies[d.account])
            data.associate("deals", did, "companies", others[d.key % len(others)], first=True)
    for line in d.lines:
        lid = data.new_id("line_items")
        lp: dict[str, str | None] = {
            "name": line.product,
            "price": num(line.list_price),
            "quantity": num(line.quantity),
            "amount": num(line.total),
            "hs_discount_percentage": None if line.discount_in_price else num(line.discount * 100),
            "discount": num(round(line.list_price * line.discount, 2))
            if line.discount_in_price
            else None,
            "hs_pre_discount_amount": num(round(line.list_price * line.quantity, 2)),
            "hs_cost_of_goods_sold": num(line.unit_cost),
            "hs_product_id": products[line.code],
            "hs_sku": line.code,
            "hs_line_item_currency_code": d.currency,
        }
        _stamp(lp, lid, created, modified)
        data.add(
            "line_items",
            HsObject(lid, lp, created, modified, d.deleted, modified if d.deleted else None),
        )
        data.associate("deals", did, "line_items", lid)
    if d.deleted:
        obj.archived, obj.archived_at = True, modified
    return did
