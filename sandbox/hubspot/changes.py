"""HubSpot-side data changes the sandbox makes: stamping an edit, merging two deals."""

from __future__ import annotations

from datetime import datetime

from sandbox.hubspot.data import iso
from sandbox.state import SandboxState


def touch(state: SandboxState, object_type: str, oid: str, stamp: datetime | None) -> None:
    """Stamp an edit of one object: ``updatedAt`` and ``hs_lastmodifieddate``."""
    obj = state.hubspot.objects[object_type][oid]
    obj.updated_at = iso(stamp or state.now())
    obj.properties["hs_lastmodifieddate"] = obj.updated_at


def merge_hubspot_deals(state: SandboxState, winner: str, loser: str) -> None:
    """HubSpot merge: the loser vanishes, its line items and company move to the winner, the
    winner lists it in ``hs_merged_object_ids`` and a GET of the loser's id answers the winner."""
    data = state.hubspot
    for to_type in ("line_items", "companies"):
        have = set(data.associated("deals", winner, to_type))
        for oid in data.associated("deals", loser, to_type):
            if oid not in have:
                data.associate("deals", winner, to_type, oid)
    props = data.objects["deals"][winner].properties
    merged = [x for x in (props.get("hs_merged_object_ids") or "").split(";") if x]
    props["hs_merged_object_ids"] = ";".join([*merged, loser])
    data.remove("deals", loser)
    data.merged[loser] = winner
    touch(state, "deals", winner, None)
