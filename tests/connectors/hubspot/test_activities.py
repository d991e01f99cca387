"""HubSpot activities (``activities = true``): calls, meetings and emails through the real
SDK against the sandbox, checked against the sandbox's truth."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import text

from tests.connectors.hubspot.conftest import SOURCE, Portal
from tests.connectors.store_truth import activity_differences
from tracker.records import Batch, JsonDict
from tracker.sync import SyncResult, run_sync


def _acts(p: Portal) -> list[str]:
    return activity_differences(p.store, SOURCE, p.sb.truth("hubspot").activities.values())


def _count(p: Portal, where: str = "1 = 1") -> int:
    with p.store.engine.connect() as conn:
        return int(
            conn.execute(text(f"SELECT count(*) FROM activities WHERE {where}")).scalar_one()
        )


def test_full_then_incremental_sync_matches_the_truth(
    portal_factory: Callable[..., Portal],
) -> None:
    p = portal_factory(deals=200, hubspot_share=1.0, activities_per_deal=5)
    truth = p.sb.truth("hubspot").activities
    live = [a for a in truth.values() if not a.is_deleted]
    assert Counter(a.kind for a in live).keys() == {"call", "meeting", "email"}
    first = p.sync(activities=True)
    assert first.outcome == "ok", first.error
    assert _acts(p) == [] and p.differences() == []
    assert _count(p, "is_deleted = 0") == len(live)
    assert _count(p, "deal_external_id IS NULL AND is_deleted = 0") > 0  # unlinked ones
    # archived before the first sync: never stored live (as for deals)
    assert sum(a.is_deleted for a in truth.values()) > 0 and _count(p, "is_deleted = 1") == 0
    again = p.sync(activities=True)
    assert again.outcome == "ok" and again.counts.changed.get("activities", 0) == 0
    p.sb.advance_clock(600)
    pool = p.sb.activity_ids("hubspot")[::5]  # calls, meetings, emails
    edited = p.sb.update_activities("hubspot", [*pool[:2], pool[-1]])
    gone = p.sb.delete_activities("hubspot", pool[2:5])
    later = p.sync(activities=True)
    assert later.outcome == "ok", later.error
    assert _acts(p) == []
    for i in edited:
        assert _count(p, f"external_id = '{i}' AND subject LIKE '%(edited)'") == 1
    for i in gone:
        assert _count(p, f"external_id = '{i}' AND is_deleted = 1") == 1


def test_more_than_ten_thousand_changes_sync_past_the_search_cap(
    portal_factory: Callable[..., Portal],
) -> None:
    p = portal_factory(deals=500, hubspot_share=1.0, activities_per_deal=60)
    assert p.sync(activities=True).outcome == "ok"
    p.sb.advance_clock(600)
    calls = [i for i in p.sb.activity_ids("hubspot") if i.startswith("60")]
    assert len(calls) > 10_000
    with p.sb.state.lock:  # one bulk edit: every call shares one stamp
        from sandbox.mutations import change_activity

        for i in calls:
            change_activity(p.sb.state, "hubspot", i, delete=False)
    result = p.sync(activities=True)
    assert result.outcome == "ok", result.error
    assert _count(p, "kind = 'call' AND subject LIKE '%(edited)' AND is_deleted = 0") == len(calls)
    assert _acts(p) == []


def test_default_sync_reads_no_activity(portal_factory: Callable[..., Portal]) -> None:
    p = portal_factory(deals=100, activities_per_deal=3)
    result = p.sync()
    assert result.outcome == "ok"
    assert _count(p) == 0 and "activities" not in result.counts.received


def _sync_batches(p: Portal, **overrides: Any) -> tuple[SyncResult, list[Batch]]:
    """One sync through the real engine, keeping the batches the connector yielded."""
    conn = p.connector(activities=True, **overrides)
    conn.check()
    seen: list[Batch] = []

    def batches(cursor: JsonDict | None) -> Iterator[Batch]:
        for batch in conn.batches(cursor):
            seen.append(batch)
            yield batch

    return run_sync(p.store, SOURCE, "hubspot", batches), seen


def test_the_backfill_gathers_list_pages_into_batches_of_batch_size(
    portal_factory: Callable[..., Portal],
) -> None:
    # list pages hold 100 activities; with batch_size 200 every batch but a type's last
    # holds two pages, so a type of n live activities takes ceil(n / 200) commits
    p = portal_factory(deals=300, hubspot_share=1.0, activities_per_deal=5)
    live = Counter(a.kind for a in p.sb.truth("hubspot").activities.values() if not a.is_deleted)
    result, seen = _sync_batches(p, batch_size=200)
    assert result.outcome == "ok", result.error
    assert _acts(p) == [] and p.differences() == []
    sizes: dict[str, list[int]] = {}
    for batch in seen:
        if batch.activities:
            kinds = {a.kind for a in batch.activities}
            assert len(kinds) == 1  # one type per batch: the cursor keeps a type's position
            sizes.setdefault(kinds.pop(), []).append(len(batch.activities))
    assert {k: sum(v) for k, v in sizes.items()} == dict(live)
    for kind, n in live.items():
        assert len(sizes[kind]) == math.ceil(n / 200), kind
        assert all(s == 200 for s in sizes[kind][:-1]), kind


def test_incremental_steps_hold_at_most_one_association_read(
    portal_factory: Callable[..., Portal],
) -> None:
    # changed records are linked to their deal and company by the v4 batch read (1,000
    # ids at most); a step gathers search pages up to that and never past it
    p = portal_factory(deals=500, hubspot_share=1.0, activities_per_deal=12)
    assert p.sync(activities=True).outcome == "ok"
    p.sb.advance_clock(3600)
    calls = [i for i in p.sb.activity_ids("hubspot") if i.startswith("60")]
    assert len(calls) > 2500
    edited = p.sb.update_activities("hubspot", calls[:2500])
    result, seen = _sync_batches(p)
    assert result.outcome == "ok", result.error
    assert _acts(p) == []
    assert _count(p, "subject LIKE '%(edited)' AND is_deleted = 0") == len(edited)
    steps = [len(b.activities) for b in seen if b.activities]
    assert sum(steps) >= len(edited) and all(s <= 1000 for s in steps)
    assert all(s > 800 for s in steps[:2])  # the calls: pages of 200 gathered, not one each
