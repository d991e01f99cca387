"""HubSpot activities (``activities = true``): the v3 ``calls``, ``meetings`` and ``emails``
objects, mapped to the core's ``ActivityRecord``.

Per object type, as for deals:

* *backfill* (no state yet): the newest ``hs_lastmodifieddate`` is noted first (``since``),
  then every live record through ``GET /crm/v3/objects/{type}`` with its deal and company
  associations inline (100 a page, ordered by id, resumable at ``after``); the next pages
  are read in a thread (one) while the current ones are stored, and pages are gathered
  into steps of ``batch_size`` activities (one commit each);
* *incremental*: records modified since the saved position minus ``overlap_minutes``,
  through ``search.changed_since`` (windows that never page past the 10,000 cap, 200 a
  page); their associations through the v4 batch endpoint, steps of at most 1,000
  records (its maximum), so each step costs one association read per link type;
* *archived* records (search never returns them) are listed with ``archived=true`` when
  the deals' archived listing is due, and stored deleted.

Mapping: ``hs_timestamp`` is when it happened; completed when ``hs_call_status`` is
COMPLETED, ``hs_meeting_outcome`` COMPLETED, ``hs_email_status`` SENT (None when the
property is empty); the status / outcome is kept as ``outcome``; ``duration_minutes`` is
``hs_call_duration`` (ms) / 60,000, or a meeting's end − start; the deal and the account
are the associated deal and company (the lowest id when several).

State, kept under ``"activities"`` in the source's cursor: per type either
``{"after": ID | null, "since": MS}`` (backfill) or ``{"modified": MS, "id": ID}``
(incremental position).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from connectors.feed import ThreadedFeed
from connectors.hubspot.client import (
    ACTIVITY_TYPES,
    ASSOCIATION_BATCH_LIMIT,
    LIST_LIMIT,
    HubSpotClient,
)
from connectors.hubspot.mapping import parse_datetime
from connectors.hubspot.search import Position, changed_since, latest_stamp
from tracker.records import ActivityRecord, JsonDict

JsonObj = dict[str, Any]
KINDS = {"calls": "call", "meetings": "meeting", "emails": "email"}
TITLE = {"calls": "hs_call_title", "meetings": "hs_meeting_title", "emails": "hs_email_subject"}
STATUS = {"calls": "hs_call_status", "meetings": "hs_meeting_outcome", "emails": "hs_email_status"}
DONE = {"calls": "COMPLETED", "meetings": "COMPLETED", "emails": "SENT"}
COMMON = ("hs_timestamp", "hubspot_owner_id", "hs_lastmodifieddate", "hs_object_id")
EXTRA = {
    "calls": ("hs_call_duration",),
    "meetings": ("hs_meeting_start_time", "hs_meeting_end_time"),
    "emails": (),
}
LINKS = ("deals", "companies")


def properties(object_type: str) -> list[str]:
    """The properties read for one activity type."""
    return [*COMMON, TITLE[object_type], STATUS[object_type], *EXTRA[object_type]]


def _minutes(object_type: str, p: JsonObj) -> float | None:
    if object_type == "calls":
        ms = p.get("hs_call_duration")
        return None if ms in (None, "") else float(ms) / 60_000
    if object_type == "meetings":
        start = parse_datetime(p.get("hs_meeting_start_time"))
        end = parse_datetime(p.get("hs_meeting_end_time"))
        if start is not None and end is not None:
            return (end - start).total_seconds() / 60
    return None


def _lowest(ids: list[str]) -> str | None:
    return min(ids, key=int) if ids else None


def activity(
    object_type: str, obj: JsonObj, deals: list[str], companies: list[str]
) -> ActivityRecord:
    """One call, meeting or email as an activity."""
    p = obj.get("properties") or {}
    status = p.get(STATUS[object_type]) or None
    return ActivityRecord(
        external_id=str(obj["id"]),
        kind=KINDS[object_type],
        subject=p.get(TITLE[object_type]),
        owner_external_id=p.get("hubspot_owner_id") or None,
        occurred_at=parse_datetime(p.get("hs_timestamp")),
        duration_minutes=_minutes(object_type, p),
        is_completed=None if status is None else status == DONE[object_type],
        outcome=status,
        deal_external_id=_lowest(deals),
        account_external_id=_lowest(companies),
        source_modified_at=parse_datetime(p.get("hs_lastmodifieddate")),
        is_deleted=bool(obj.get("archived")),
    )


def _inline(obj: JsonObj, to_type: str) -> list[str]:
    found = ((obj.get("associations") or {}).get(to_type) or {}).get("results") or ()
    return list(dict.fromkeys(str(r["id"]) for r in found))


@dataclass
class Step:
    """What one page produced: activities, archived ids, the state after it."""

    activities: list[ActivityRecord] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    state: JsonDict = field(default_factory=dict)


class ActivityReader:
    """Pages of calls, meetings and emails from a saved state (see the module docstring).

    ``batch_records``: how many activities the backfill gathers into one step (the
    source's ``batch_size``: fewer, larger commits); ``link_records``: how many changed
    records an incremental step holds, one v4 association read per link type for them.
    """

    def __init__(
        self,
        client: HubSpotClient,
        overlap_ms: int,
        batch_records: int,
        link_records: int = ASSOCIATION_BATCH_LIMIT,
    ) -> None:
        self.client = client
        self.overlap_ms = overlap_ms
        self.batch_records = max(batch_records, 1)
        self.link_records = max(link_records, 1)

    def pages(self, state: JsonDict) -> Iterator[Step]:
        """Every type's changes since ``state``; each Step's ``state`` is the whole new one."""
        state = dict(state)
        for object_type in ACTIVITY_TYPES:
            saved = state.get(object_type)
            if not isinstance(saved, dict) or "modified" not in saved:
                for step_state, acts in self._backfill(object_type, saved):
                    state[object_type] = step_state
                    yield Step(activities=acts, state=dict(state))
                continue
            start = Position.from_json(saved)
            start = Position(max(start.modified - self.overlap_ms, 0))
            for position, acts in self._changed(object_type, start):
                state[object_type] = position.as_json()
                yield Step(activities=acts, state=dict(state))

    def _backfill(
        self, object_type: str, saved: Any
    ) -> Iterator[tuple[JsonDict, list[ActivityRecord]]]:
        since = saved.get("since") if isinstance(saved, dict) else None
        after = saved.get("after") if isinstance(saved, dict) else None
        if not isinstance(since, int):
            since, _ = latest_stamp(self.client, object_type)
        props = properties(object_type)
        pages = self.client.list_pages(
            object_type, after=after, properties=props, associations=LINKS
        )
        mapped = (
            (
                [
                    activity(object_type, r, _inline(r, "deals"), _inline(r, "companies"))
                    for r in results
                ],
                nxt,
            )
            for results, nxt in pages
        )
        held: list[ActivityRecord] = []
        # the next pages are read (and mapped) in a thread while this batch is stored
        ahead = max(self.batch_records // LIST_LIMIT, 1)
        with ThreadedFeed([mapped], ahead=ahead, name=f"hs-{object_type}") as feed:
            for acts, nxt in feed:
                held += acts
                if nxt is None:
                    yield Position(since).as_json(), held
                elif len(held) >= self.batch_records:
                    yield {"after": nxt, "since": since}, held
                    held = []

    def _changed(
        self, object_type: str, start: Position
    ) -> Iterator[tuple[Position, list[ActivityRecord]]]:
        props = properties(object_type)
        held: list[JsonObj] = []
        position = start
        for page in changed_since(self.client, object_type, props, start):
            # a step never holds more than one association read's worth of records
            if held and len(held) + len(page.results) > self.link_records:
                yield position, self._linked(object_type, held)
                held = []
            held += page.results
            position = page.position
        yield position, self._linked(object_type, held)

    def _linked(self, object_type: str, objects: list[JsonObj]) -> list[ActivityRecord]:
        """Activities with their deal and company, read in v4 batches."""
        unique = {str(o["id"]): o for o in objects}
        ids = list(unique)
        links = {
            to: self.client.associations(object_type, to, ids, self.link_records) if ids else {}
            for to in LINKS
        }
        return [
            activity(object_type, o, links["deals"].get(i, []), links["companies"].get(i, []))
            for i, o in unique.items()
        ]

    def archived(self) -> list[str]:
        """Ids of every archived call, meeting and email."""
        out: list[str] = []
        for object_type in ACTIVITY_TYPES:
            for results, _ in self.client.list_pages(
                object_type, properties=("hs_object_id",), archived=True
            ):
                out += [str(r["id"]) for r in results]
        return out
