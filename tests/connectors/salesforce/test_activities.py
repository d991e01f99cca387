"""Salesforce activities (``activities = true``): Task and Event through the real SDK
against the sandbox, checked against the sandbox's truth."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.connectors.salesforce.conftest import SANDBOX_NOW, Harness
from tests.connectors.store_truth import activity_differences
from tracker.sync import load_cursor, save_cursor


def _acts(h: Harness) -> list[str]:
    return activity_differences(h.store, "sf", h.sb.truth("salesforce").activities.values())


def _count(h: Harness, where: str = "1 = 1") -> int:
    with h.store.engine.connect() as conn:
        return int(
            conn.execute(text(f"SELECT count(*) FROM activities WHERE {where}")).scalar_one()
        )


def test_full_sync_stores_every_activity_as_the_truth(
    harness_factory: Callable[..., Harness],
) -> None:
    h = harness_factory(deals=120, activities_per_deal=6)
    truth = h.sb.truth("salesforce").activities
    kinds = Counter(a.kind for a in truth.values() if not a.is_deleted)
    assert set(kinds) == {"call", "email", "meeting", "task"}
    result = h.sync(activities=True)
    assert result.outcome == "ok", result.error
    assert _acts(h) == [] and h.differences() == []
    assert _count(h, "is_deleted = 0") == sum(kinds.values())
    # archived activities (a year old and done) are read too: queryAll
    archived = [
        i
        for i, r in {
            **h.sb.state.salesforce.rows["Task"],
            **h.sb.state.salesforce.rows["Event"],
        }.items()
        if r["IsArchived"] and not r["IsDeleted"]
    ]
    assert archived and _count(h, f"external_id = '{archived[0]}' AND is_deleted = 0") == 1
    # unlinked ones: no deal
    assert _count(h, "deal_external_id IS NULL") > 0
    again = h.sync(activities=True)
    assert again.outcome == "ok" and again.counts.changed.get("activities", 0) == 0


def test_default_sync_reads_no_activity(h: Harness) -> None:
    result = h.sync()
    assert result.outcome == "ok"
    assert _count(h) == 0 and "activities" not in result.counts.received


def test_incremental_changes_and_deletions_are_mirrored(
    harness_factory: Callable[..., Harness],
) -> None:
    h = harness_factory(deals=120, activities_per_deal=5)
    assert h.sync(activities=True).outcome == "ok"
    h.sb.advance_clock(3600)
    pool = h.sb.activity_ids("salesforce")[::7]  # tasks and events
    changed = h.sb.update_activities("salesforce", pool[:5])
    binned = h.sb.delete_activities("salesforce", pool[5:8])
    purged = h.sb.purge_activities("salesforce", [pool[8], pool[-1]])
    h.sb.advance_clock(120)  # getDeleted covers whole minutes up to the server's time
    result = h.sync(activities=True)
    assert result.outcome == "ok", result.error
    assert _acts(h) == []
    for i in changed:
        assert _count(h, f"external_id = '{i}' AND subject LIKE '%(edited)'") == 1
    for i in [*binned, *purged]:
        assert _count(h, f"external_id = '{i}' AND is_deleted = 1") == 1
    assert result.counts.activities_deleted == 5


def test_reconcile_marks_activities_missing_from_salesforce(
    harness_factory: Callable[..., Harness],
) -> None:
    h = harness_factory(deals=60, activities_per_deal=4)
    assert h.sync(activities=True).outcome == "ok"
    gone = h.sb.activity_ids("salesforce")[0]
    with h.sb.state.lock:  # purged with no trace in the deleted log either
        db = h.sb.state.salesforce
        kind = "Task" if gone in db.rows["Task"] else "Event"
        db.hard_delete(kind, gone, keep_log=False)
    result = h.sync(activities=True, reconcile=True)
    assert result.outcome == "ok", result.error
    assert _count(h, f"external_id = '{gone}' AND is_deleted = 1") == 1
    assert _acts(h) == []


def test_archived_activities_are_left_out_of_query_but_not_query_all(
    harness_factory: Callable[..., Harness],
) -> None:
    h = harness_factory(deals=60, activities_per_deal=4)
    from sandbox.salesforce.soql_exec import execute

    db = h.sb.state.salesforce
    soql = "SELECT Id FROM Task WHERE IsArchived = true"
    assert execute(db, soql).records() == []
    assert execute(db, soql, include_deleted=True).records()
    cutoff = SANDBOX_NOW - timedelta(days=365)
    assert all(r["CompletedDateTime"] < cutoff for r in db.rows["Task"].values() if r["IsArchived"])


@pytest.mark.parametrize(("shift", "calls"), [(0, 2), (-3600, 5)])
def test_an_incremental_sync_reads_activity_deletions_in_the_composite_calls(
    harness_factory: Callable[..., Harness], shift: float, calls: int
) -> None:
    # the Task and Event getDeleted windows and first pages ride in the opening composite
    # calls (two: seven queries, five a call), so the sync makes no other call; when the
    # server's clock moved past the guessed window end (the saved offset an hour short),
    # each getDeleted (Opportunity, Task, Event) goes alone, and the result is the same
    h = harness_factory(deals=120, activities_per_deal=5)
    assert h.sync(activities=True).outcome == "ok"
    with h.store.engine.begin() as conn:
        cursor = load_cursor(conn, "sf")
        assert cursor is not None and isinstance(cursor.get("skew"), int | float)
        save_cursor(conn, "sf", {**cursor, "skew": cursor["skew"] + shift})
    pool = h.sb.activity_ids("salesforce")[::7]  # tasks and events
    changed = h.sb.update_activities("salesforce", pool[:4])
    purged = h.sb.purge_activities("salesforce", [pool[5], pool[-1]])
    h.sb.advance_clock(90)
    h.sb.counters.reset()
    result = h.sync(activities=True)
    assert result.outcome == "ok", result.error
    assert result.api_calls == calls
    requests = h.sb.counters.snapshot()["requests"]
    assert requests["salesforce.composite"] == 2
    assert requests["salesforce.deleted"] == 3 + (calls - 2)  # 3 subrequests, + direct ones
    assert _acts(h) == [] and h.differences() == []
    for i in changed:
        assert _count(h, f"external_id = '{i}' AND subject LIKE '%(edited)'") == 1
    for i in purged:  # only getDeleted tells of these
        assert _count(h, f"external_id = '{i}' AND is_deleted = 1") == 1
