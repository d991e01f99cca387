"""HubSpot activities (``activities = true``): calls, meetings and emails through the real
SDK against the sandbox, checked against the sandbox's truth."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy import text

from tests.connectors.hubspot.conftest import SOURCE, Portal
from tests.connectors.store_truth import activity_differences


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
