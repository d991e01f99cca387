"""Salesforce activities (``activities = true``): Task (calls, emails, to-dos) and Event
(meetings), mapped to the core's ``ActivityRecord``.

* Both objects are read in (SystemModstamp, Id) keyset passes (``streams.py``) through
  ``queryAll``, with the same cursor rules as opportunities (half-open windows, an overlap
  re-read, never past the pass's start). ``queryAll`` also returns *archived* activities
  (``IsArchived``: events and closed tasks older than a year, which ``query`` leaves out),
  so a backfill reads the whole history, and the recycle bin (``IsDeleted``).
* Deletions: records arriving with ``IsDeleted``, plus ``getDeleted`` per object for the
  window since the last sync (purged rows); on an incremental sync those windows and each
  pass's first page come with the sync's opening composite call (``activity_reads``); on
  ``--reconcile`` or when the log no longer reaches back, the complete set of live Task
  and Event Ids.
* A Task's kind comes from ``TaskSubtype`` (``Call`` → call, ``Email``/``ListEmail`` →
  email, anything else → task); an Event is a meeting. What an activity is about:
  ``WhatId`` when it is an Opportunity (key prefix ``006``); the account is ``AccountId``
  (Salesforce derives it from ``WhatId``/``WhoId``), else ``WhatId`` when it is an
  Account (``001``).
* When: a Task's ``CompletedDateTime`` (API 44+), else its ``ActivityDate`` (a plain due
  date, stored as ``occurred_on``); an Event's ``StartDateTime`` (all-day events: their
  ``ActivityDate``). Completed: a Task's ``IsClosed``; an Event does not say (None).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING

from connectors.salesforce.budget import ReplicationWindowError
from connectors.salesforce.composite import Read, ask_deleted
from connectors.salesforce.mapping import Record, _date, _num, parse_datetime
from connectors.salesforce.streams import iter_query, keyset_pages
from tracker.records import ActivityRecord, Batch

if TYPE_CHECKING:
    from connectors.salesforce.connector import SalesforceRun

log = logging.getLogger(__name__)

TASK_FIELDS = (
    "Id",
    "Subject",
    "TaskSubtype",
    "ActivityDate",
    "CompletedDateTime",
    "Status",
    "IsClosed",
    "WhatId",
    "AccountId",
    "OwnerId",
    "CallDurationInSeconds",
    "CallDisposition",
    "IsArchived",
    "IsDeleted",
    "SystemModstamp",
)
EVENT_FIELDS = (
    "Id",
    "Subject",
    "StartDateTime",
    "ActivityDate",
    "IsAllDayEvent",
    "DurationInMinutes",
    "WhatId",
    "AccountId",
    "OwnerId",
    "IsArchived",
    "IsDeleted",
    "SystemModstamp",
)
#: (cursor key of the pass, sObject, select list)
STREAMS = (
    ("task", "Task", ", ".join(TASK_FIELDS)),
    ("event", "Event", ", ".join(EVENT_FIELDS)),
)
#: the passes that start at ``since_datetime`` on a first sync
SINCE_KEYS = ("opp", *(key for key, _, _ in STREAMS))
TASK_KINDS = {"Call": "call", "Email": "email", "ListEmail": "email"}
OPPORTUNITY_PREFIX = "006"
ACCOUNT_PREFIX = "001"


def _about(rec: Record) -> tuple[str | None, str | None]:
    """(deal id, account id) an activity is about."""
    what = rec.get("WhatId") or None
    deal = what if what is not None and what.startswith(OPPORTUNITY_PREFIX) else None
    account = rec.get("AccountId") or None
    if account is None and what is not None and what.startswith(ACCOUNT_PREFIX):
        account = what
    return deal, account


def task_activity(rec: Record) -> ActivityRecord:
    """A Task row as an activity (call, email or task)."""
    deal, account = _about(rec)
    seconds = _num(rec.get("CallDurationInSeconds"))
    return ActivityRecord(
        external_id=rec["Id"],
        kind=TASK_KINDS.get(rec.get("TaskSubtype") or "", "task"),
        subject=rec.get("Subject"),
        owner_external_id=rec.get("OwnerId"),
        occurred_at=parse_datetime(rec.get("CompletedDateTime")),
        occurred_on=_date(rec.get("ActivityDate")),
        duration_minutes=None if seconds is None else seconds / 60,
        is_completed=bool(rec.get("IsClosed")),
        outcome=rec.get("CallDisposition") or rec.get("Status"),
        deal_external_id=deal,
        account_external_id=account,
        source_modified_at=parse_datetime(rec.get("SystemModstamp")),
        is_deleted=bool(rec.get("IsDeleted")),
    )


def event_activity(rec: Record) -> ActivityRecord:
    """An Event row as a meeting."""
    deal, account = _about(rec)
    all_day = bool(rec.get("IsAllDayEvent"))
    return ActivityRecord(
        external_id=rec["Id"],
        kind="meeting",
        subject=rec.get("Subject"),
        owner_external_id=rec.get("OwnerId"),
        occurred_at=None if all_day else parse_datetime(rec.get("StartDateTime")),
        occurred_on=_date(rec.get("ActivityDate")),
        duration_minutes=_num(rec.get("DurationInMinutes")),
        is_completed=None,
        deal_external_id=deal,
        account_external_id=account,
        source_modified_at=parse_datetime(rec.get("SystemModstamp")),
        is_deleted=bool(rec.get("IsDeleted")),
    )


MAPPERS = {"Task": task_activity, "Event": event_activity}


def _mapped(
    mapper: Callable[[Record], ActivityRecord], records: list[Record]
) -> list[ActivityRecord]:
    return [mapper(r) for r in records]


def activity_reads(run: SalesforceRun) -> list[Read]:
    """What the sync's opening composite call may read for the activities: each pass's
    first page and each ``getDeleted`` window (once the passes have a cursor), so an
    incremental sync makes none of these calls on its own."""
    deleted: list[Read] = []
    pages: list[Read] = []
    for key, sobject, select in STREAMS:
        if run.state(key) is None:
            continue
        window = run.deleted_window(estimate=True, key=f"{key}_deleted")
        if window is not None:
            deleted.append(ask_deleted(sobject, *window))
        pages.append(run.first_page(key, sobject, select))
    return [*deleted, *pages]


def activity_batches(run: SalesforceRun) -> Iterator[Batch]:
    """Every Task and Event changed since the cursor, then the activity deletions."""
    fresh: set[str] = set()
    for key, sobject, select in STREAMS:
        first_pass = run.state(key) is None
        mapper = MAPPERS[sobject]
        for page in keyset_pages(
            run.client,
            sobject,
            select,
            run.state(key),
            now=run.now,
            overlap=run.overlap,
            since=run.s.since_datetime,
            page_size=run.s.page_size,
            transform=partial(_mapped, mapper),  # in the thread fetching the page
        ):
            run.cursor[key] = page.state.dump()
            if page.last and first_pass:
                run.cursor.setdefault(f"{key}_deleted", run.cursor[key]["stamp"])
            if len(fresh) < 200_000:
                fresh.update(r["Id"] for r in page.records)
            yield run.batch(activities=page.mapped)
    gone, need_ids = _deleted_logs(run, fresh)
    if gone:
        yield run.batch(deleted_activity_ids=gone)
    if run.context.reconcile or need_ids:
        yield run.batch(complete_activity_ids=live_activity_ids(run))


def _deleted_logs(run: SalesforceRun, fresh: set[str]) -> tuple[list[str], bool]:
    """getDeleted of Task and Event since the last sync: (ids, whether a log fell short)."""
    gone: set[str] = set()
    short = False
    for key, sobject, _ in STREAMS:
        window = run.deleted_window(key=f"{key}_deleted")
        if window is None:
            continue
        start, end = window
        try:
            body = run.client.deleted(sobject, start, end, reuse_until=run.now)
        except ReplicationWindowError as exc:
            log.warning("salesforce %s: %s; comparing activity Id sets", run.name, exc)
            short = True
            continue
        gone.update(
            str(r["id"])
            for r in body.get("deletedRecords", ())
            if r.get("id") and r["id"] not in fresh
        )
        covered = parse_datetime(body.get("latestDateCovered"))
        if covered is not None:
            run.cursor[f"{key}_deleted"] = covered.isoformat()
        earliest = parse_datetime(body.get("earliestDateAvailable"))
        short = short or (earliest is not None and earliest > start)
    return sorted(gone), short


def live_activity_ids(run: SalesforceRun) -> frozenset[str]:
    """Every live Task and Event Id, archived ones included (``queryAll`` without the
    recycle bin: ``query`` leaves archived activities out)."""
    ids: set[str] = set()
    for _, sobject, _ in STREAMS:
        soql = f"SELECT Id FROM {sobject} WHERE IsDeleted = false"
        for page in iter_query(run.client, soql, include_deleted=True):
            ids.update(r["Id"] for r in page)
    return frozenset(ids)
