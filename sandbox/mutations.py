"""Data changes during a sync, on both CRMs: updates, deletes, undeletes, late commits,
shared modstamps, hard deletes and merges.

Every function takes the :class:`SandboxState`, the api (``"salesforce"``/``"hubspot"``)
and deal ids, and must run under ``state.lock`` (the control handle and the fault rules
take it). Stamps come from the sandbox clock unless given.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sandbox.hubspot.changes import merge_hubspot_deals, touch
from sandbox.hubspot.data import num
from sandbox.state import SandboxState

LATE_COMMIT_LAG = timedelta(minutes=10)


def _sf_stamp(state: SandboxState, stamp: datetime | None) -> datetime:
    return (stamp or state.now()).astimezone(UTC).replace(microsecond=0)


def deal_ids(state: SandboxState, api: str, *, deleted: bool = False) -> list[str]:
    """Ids of the api's live deals (or of its deleted ones), in creation order."""
    if api == "salesforce":
        rows = state.salesforce.rows["Opportunity"]
        return [i for i, r in rows.items() if r["IsDeleted"] == deleted]
    objects = state.hubspot.objects["deals"]
    return [str(i) for i in state.hubspot.order["deals"] if objects[str(i)].archived == deleted]


def _sf_lines(state: SandboxState, opp_id: str) -> list[str]:
    rows = state.salesforce.rows["OpportunityLineItem"]
    return [i for i, r in rows.items() if r["OpportunityId"] == opp_id]


def update_deal(
    state: SandboxState,
    api: str,
    deal_id: str,
    *,
    amount: float | None = None,
    name: str | None = None,
    stamp: datetime | None = None,
) -> None:
    """Change a deal (amount +10 % unless given, optionally its name) and stamp it."""
    if api == "salesforce":
        db = state.salesforce
        row = db.rows["Opportunity"][deal_id]
        new_amount = amount if amount is not None else round((row["Amount"] or 1000.0) * 1.1, 2)
        values: dict[str, object] = {"Amount": new_amount}
        if name is not None:
            values["Name"] = name
        db.update("Opportunity", deal_id, values, modstamp=_sf_stamp(state, stamp))
        return
    obj = state.hubspot.objects["deals"][deal_id]
    old = obj.properties.get("amount")
    new = amount if amount is not None else round(float(old or 1000.0) * 1.1, 2)
    obj.properties["amount"] = num(new)
    if name is not None:
        obj.properties["dealname"] = name
    touch(state, "deals", deal_id, stamp)


def set_deleted(state: SandboxState, api: str, deal_id: str, deleted: bool) -> None:
    """Soft-delete (Salesforce recycle bin with its line items; HubSpot archive) or restore."""
    if api == "salesforce":
        db, stamp = state.salesforce, _sf_stamp(state, None)
        change = db.delete if deleted else db.undelete
        change("Opportunity", deal_id, modstamp=stamp)
        for li in _sf_lines(state, deal_id):
            change("OpportunityLineItem", li, modstamp=stamp)
        return
    obj = state.hubspot.objects["deals"][deal_id]
    touch(state, "deals", deal_id, None)
    obj.archived, obj.archived_at = deleted, obj.updated_at if deleted else None


def delete_deal(state: SandboxState, api: str, deal_id: str) -> None:
    """Soft-delete a deal."""
    set_deleted(state, api, deal_id, True)


def undelete_deal(state: SandboxState, api: str, deal_id: str) -> None:
    """Restore a soft-deleted deal."""
    set_deleted(state, api, deal_id, False)


def hard_delete_deal(state: SandboxState, api: str, deal_id: str) -> None:
    """Remove a deal for good: not even queryAll / archived listings show it again."""
    if api == "salesforce":
        for li in _sf_lines(state, deal_id):
            state.salesforce.hard_delete("OpportunityLineItem", li)
        state.salesforce.hard_delete("Opportunity", deal_id)
        state.salesforce_gone.add(deal_id)
        return
    state.hubspot.remove("deals", deal_id)


def merge_deals(state: SandboxState, api: str, winner: str, loser: str) -> None:
    """Merge ``loser`` into ``winner``. Salesforce cannot merge opportunities: the admin's
    equivalent is adding the loser's amount to the winner and deleting the loser."""
    if api == "hubspot":
        merge_hubspot_deals(state, winner, loser)
        return
    rows = state.salesforce.rows["Opportunity"]
    total = (rows[winner]["Amount"] or 0.0) + (rows[loser]["Amount"] or 0.0)
    update_deal(state, api, winner, amount=round(total, 2))
    delete_deal(state, api, loser)


def late_commit(state: SandboxState, api: str, ids: Sequence[str], lag: timedelta) -> None:
    """Change deals but stamp them ``lag`` in the past (a transaction committing late)."""
    stamp = state.now() - lag
    for i in ids:
        update_deal(state, api, i, stamp=stamp)


def same_stamp(state: SandboxState, api: str, ids: Sequence[str]) -> datetime:
    """Change deals all stamped with one identical modstamp; returns it."""
    stamp = _sf_stamp(state, None)
    for i in ids:
        update_deal(state, api, i, stamp=stamp)
    return stamp


def apply_data_fault(
    state: SandboxState, api: str, kind: str, n: int, rng: random.Random
) -> list[str]:
    """Apply a data-change fault rule of ``kind`` to ``n`` random deals; returns their ids."""
    pool = deal_ids(state, api, deleted=kind == "undelete")
    if kind == "merge":
        picked = rng.sample(pool, min(len(pool) - len(pool) % 2, 2 * n))
        for winner, loser in zip(picked[::2], picked[1::2], strict=True):
            merge_deals(state, api, winner, loser)
        return picked
    picked = rng.sample(pool, min(n, len(pool)))
    if kind == "update":
        for i in picked:
            update_deal(state, api, i)
    elif kind == "delete":
        for i in picked:
            delete_deal(state, api, i)
    elif kind == "undelete":
        for i in picked:
            undelete_deal(state, api, i)
    elif kind == "late":
        late_commit(state, api, picked, LATE_COMMIT_LAG)
    elif kind == "samestamp":
        same_stamp(state, api, picked)
    elif kind == "harddelete":
        for i in picked:
            hard_delete_deal(state, api, i)
    else:
        raise ValueError(f"not a data fault: {kind!r}")
    return picked


ACTIVITY_TYPES = {"salesforce": ("Task", "Event"), "hubspot": ("calls", "meetings", "emails")}


def activity_ids(state: SandboxState, api: str) -> list[str]:
    """Ids of the api's live activities, object by object in creation order."""
    if api == "salesforce":
        rows = state.salesforce.rows
        return [i for t in ACTIVITY_TYPES[api] for i, r in rows[t].items() if not r["IsDeleted"]]
    data = state.hubspot
    return [
        str(i)
        for t in ACTIVITY_TYPES[api]
        for i in data.order[t]
        if not data.objects[t][str(i)].archived
    ]


def _activity_type(state: SandboxState, api: str, activity_id: str) -> str:
    if api == "salesforce":
        return next(t for t in ACTIVITY_TYPES[api] if activity_id in state.salesforce.rows[t])
    return next(t for t in ACTIVITY_TYPES[api] if activity_id in state.hubspot.objects[t])


def change_activity(state: SandboxState, api: str, activity_id: str, *, delete: bool) -> None:
    """Edit an activity's subject (or soft-delete / archive it) with a fresh stamp."""
    kind = _activity_type(state, api, activity_id)
    if api == "salesforce":
        db, stamp = state.salesforce, _sf_stamp(state, None)
        if delete:
            db.delete(kind, activity_id, modstamp=stamp)
        else:
            subject = f"{db.rows[kind][activity_id]['Subject']} (edited)"
            db.update(kind, activity_id, {"Subject": subject}, modstamp=stamp)
        return
    obj = state.hubspot.objects[kind][activity_id]
    if delete:
        touch(state, kind, activity_id, None)
        obj.archived, obj.archived_at = True, obj.updated_at
        return
    title = {"calls": "hs_call_title", "meetings": "hs_meeting_title", "emails": "hs_email_subject"}
    obj.properties[title[kind]] = f"{obj.properties.get(title[kind])} (edited)"
    touch(state, kind, activity_id, None)


def purge_activity(state: SandboxState, activity_id: str) -> None:
    """Salesforce: soft-delete then purge (the row leaves queryAll; getDeleted keeps it)."""
    kind = _activity_type(state, "salesforce", activity_id)
    db = state.salesforce
    db.delete(kind, activity_id, modstamp=_sf_stamp(state, None))
    db.hard_delete(kind, activity_id)
