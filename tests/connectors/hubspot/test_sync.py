"""Full, incremental and deletion syncs of the sandbox portal: the store equals the truth."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select

from tests.connectors.hubspot.conftest import SOURCE, Portal
from tracker.models import Deal, Owner, SyncCursor
from tracker.store import Store


def _deal_rows(portal: Portal) -> dict[str, dict[str, object]]:
    table = Deal.__table__  # type: ignore[attr-defined]
    with portal.store.engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.source == SOURCE)).mappings()
        return {r["external_id"]: dict(r) for r in rows}


def _cursor(portal: Portal) -> dict[str, object] | None:
    table = SyncCursor.__table__  # type: ignore[attr-defined]
    with portal.store.engine.connect() as conn:
        row = conn.execute(select(table.c.value).where(table.c.source == SOURCE)).first()
        return None if row is None else dict(row[0])


def test_full_sync_equals_truth(portal: Portal) -> None:
    result = portal.sync()
    assert result.exit_code == 0, result.error
    assert portal.differences() == []
    assert result.api_calls == portal.requests()
    counts = portal.sb.counters.snapshot()["requests"]
    assert counts["hubspot.deals.list"] >= 1  # the backfill used the list endpoint
    assert _cursor(portal)["phase"] == "incremental"  # type: ignore[index]


def test_full_incremental_and_archived_on_every_database(
    portal_factory: Callable[..., Portal], store: Store
) -> None:
    portal = portal_factory(deals=600, store=store)  # SQLite, and PostgreSQL when configured
    assert portal.sync().exit_code == 0
    portal.sb.update_deals("hubspot", n=4)
    portal.sb.delete_deals("hubspot", n=2)
    winner, loser = portal.sb.deal_ids("hubspot")[3:5]
    portal.sb.merge_deals("hubspot", winner, loser)
    result = portal.sync()
    assert result.exit_code == 0, result.error
    assert portal.differences() == []


def test_incremental_reads_only_changes(portal: Portal) -> None:
    assert portal.sync().exit_code == 0
    full_calls = portal.requests()
    updated = portal.sb.update_deals("hubspot", n=7)
    archived = portal.sb.delete_deals("hubspot", n=2)
    before = portal.sb.counters.snapshot()["requests"]
    result = portal.sync()
    assert result.exit_code == 0, result.error
    assert portal.differences() == []
    after = portal.sb.counters.snapshot()["requests"]
    # changes came through search; the list endpoint only served the archived listing
    assert after["hubspot.deals.search"] > before.get("hubspot.deals.search", 0)
    assert after["hubspot.deals.list"] - before["hubspot.deals.list"] == 1
    assert result.api_calls < full_calls
    live = set(updated) - set(archived)
    assert result.counts.received["deals"] >= len(live)
    rows = _deal_rows(portal)
    assert all(rows[i]["is_deleted"] for i in archived)
    assert all(not rows[i]["is_deleted"] for i in live)


def test_rerun_without_changes_changes_nothing(portal: Portal) -> None:
    assert portal.sync().exit_code == 0
    again = portal.sync()
    assert again.exit_code == 0
    assert sum(again.counts.changed.values()) == 0
    assert again.counts.deleted == 0


def test_undelete_restores_the_deal(portal: Portal) -> None:
    assert portal.sync().exit_code == 0
    gone = portal.sb.delete_deals("hubspot", n=3)
    assert portal.sync().exit_code == 0
    back = portal.sb.undelete_deals("hubspot", ids=gone[:2])
    assert portal.sync().exit_code == 0
    rows = _deal_rows(portal)
    assert [rows[i]["is_deleted"] for i in back] == [False, False]
    assert rows[gone[2]]["is_deleted"] is True
    assert portal.differences() == []


def test_merged_deal_is_marked_deleted_and_winner_has_its_lines(portal: Portal) -> None:
    assert portal.sync().exit_code == 0
    winner, loser = portal.sb.deal_ids("hubspot")[10:12]
    portal.sb.merge_deals("hubspot", winner, loser)
    result = portal.sync()
    assert result.exit_code == 0, result.error
    rows = _deal_rows(portal)
    assert rows[loser]["is_deleted"] is True
    assert rows[winner]["is_deleted"] is False
    assert portal.differences() == []


def test_changes_during_the_backfill_land_in_the_same_run(portal: Portal) -> None:
    portal.sb.faults.add(
        "update@hs.deals.list,after=1,n=15;delete@hs.line_items.batch_read,after=2,n=3;"
        "merge@hs.deals.list,after=2,n=2;undelete@hs.deals.list,after=3,n=1;"
        "samestamp@hs.line_items.batch_read,after=4,n=30"
    )
    result = portal.sync()
    assert result.exit_code == 0, result.error
    assert not portal.sb.faults.pending()
    assert portal.differences() == []


def test_hard_delete_needs_reconcile(portal: Portal) -> None:
    assert portal.sync().exit_code == 0
    gone = portal.sb.hard_delete_deals("hubspot", n=2)
    assert portal.sync().exit_code == 0
    assert portal.differences()  # plain incremental sync cannot see hard deletes
    result = portal.sync(reconcile=True)
    assert result.exit_code == 0, result.error
    assert result.counts.deleted == 2
    rows = _deal_rows(portal)
    assert all(rows[i]["is_deleted"] for i in gone)
    assert portal.differences() == []


def test_archived_listing_is_throttled_but_always_on_reconcile(portal: Portal) -> None:
    assert portal.sync(archived_every_minutes=60).exit_code == 0
    gone = portal.sb.delete_deals("hubspot", n=2)
    # listed less than an hour ago: this sync skips the archived listing
    assert portal.sync(archived_every_minutes=60).exit_code == 0
    assert not any(_deal_rows(portal)[i]["is_deleted"] for i in gone)
    assert portal.sync(archived_every_minutes=60, reconcile=True).exit_code == 0
    assert portal.differences() == []
    # and with 0 every sync lists them
    gone = portal.sb.delete_deals("hubspot", n=1)
    assert portal.sync(archived_every_minutes=0).exit_code == 0
    assert all(_deal_rows(portal)[i]["is_deleted"] for i in gone)


def test_late_commit_inside_the_overlap_is_caught(portal: Portal) -> None:
    assert portal.sync(overlap_minutes=15).exit_code == 0
    portal.sb.advance_clock(60)
    portal.sb.update_deals("hubspot", n=3)  # moves the cursor past the late stamps below
    assert portal.sync(overlap_minutes=15).exit_code == 0
    portal.sb.late_commit("hubspot", n=4)  # stamped 10 minutes in the past
    assert portal.sync(overlap_minutes=15).exit_code == 0
    assert portal.differences() == []


def test_shared_stamp_across_pages_walks_ids(portal_factory: Callable[..., Portal]) -> None:
    portal = portal_factory(deals=2000)
    assert portal.sync().exit_code == 0
    ids, _ = portal.sb.same_stamp("hubspot", n=450)  # > 2 search pages in one millisecond
    searches = portal.sb.counters.snapshot()["requests"]["hubspot.deals.search"]
    result = portal.sync()
    assert result.exit_code == 0, result.error
    assert result.counts.changed["deals"] == len(ids)  # each re-stamped deal, once
    # one full page inside one millisecond, then 200 + 200 + 50 walking hs_object_id
    assert portal.sb.counters.snapshot()["requests"]["hubspot.deals.search"] - searches >= 4
    assert portal.differences() == []


def test_close_date_is_read_in_the_configured_zone(portal: Portal) -> None:
    deal_id = portal.sb.deal_ids("hubspot")[5]
    with portal.sb.state.lock:  # closed 31 March, 22:30 in New York = 1 April 02:30 UTC
        props = portal.sb.state.hubspot.objects["deals"][deal_id].properties
        props["closedate"] = "2026-04-01T02:30:00.000Z"
    assert portal.sync().exit_code == 0
    stored = _deal_rows(portal)[deal_id]["close_date"]
    assert stored == date(2026, 3, 31)
    assert (stored.year, (stored.month - 1) // 3 + 1) == (2026, 1)  # stays in Q1
    assert portal.differences() == []
    # the source's own zone wins over [tracker] timezone
    portal.sb.update_deals("hubspot", ids=[deal_id])
    assert portal.sync(timezone="UTC").exit_code == 0
    assert _deal_rows(portal)[deal_id]["close_date"] == date(2026, 3, 31) + timedelta(days=1)


def test_team_and_region_mappings(portal: Portal) -> None:
    regions = {"APAC - Commercial": "Asia-Pacific"}
    names = {"EMEA - SMB": "EMEA Small Business"}
    assert portal.sync(teams={"regions": regions, "names": names}).exit_code == 0
    table = Owner.__table__  # type: ignore[attr-defined]
    with portal.store.engine.connect() as conn:
        rows = list(conn.execute(select(table.c.team, table.c.region)).mappings())
    pairs = {(r["team"], r["region"]) for r in rows if r["team"]}
    assert ("APAC - Commercial", "Asia-Pacific") in pairs
    assert ("EMEA Small Business", "EMEA") in pairs


def test_new_customer_deal_types_are_configurable(portal: Portal) -> None:
    assert portal.sync(deal_types={"new_customer": ["existingbusiness"]}).exit_code == 0
    rows = _deal_rows(portal).values()
    assert {r["is_new_business"] for r in rows if r["deal_type"] == "existingbusiness"} == {True}
    assert {r["is_new_business"] for r in rows if r["deal_type"] == "newbusiness"} == {False}


def test_custom_deal_properties_are_kept(portal: Portal) -> None:
    assert portal.sync(custom={"probability": "hs_deal_stage_probability"}).exit_code == 0
    rows = _deal_rows(portal)
    # each live deal keeps the portal's own property value, as HubSpot sends it (text)
    with portal.sb.state.lock:
        portal_values = {
            i: o.properties["hs_deal_stage_probability"]
            for i, o in portal.sb.state.hubspot.objects["deals"].items()
            if not o.archived
        }
    stored = {i: r["custom"] for i, r in rows.items() if not r["is_deleted"]}
    assert len(stored) == len(portal_values) > 0
    assert stored == {i: {"probability": v} for i, v in portal_values.items()}


def test_dry_run_writes_nothing_and_reports_calls(portal: Portal) -> None:
    assert portal.sync().exit_code == 0
    cursor = _cursor(portal)
    changed = portal.sb.update_deals("hubspot", n=4)
    calls_before = portal.requests()
    dry = portal.sync(dry_run=True)
    assert dry.outcome == "dry-run"
    assert dry.counts.changed["deals"] == len(changed)  # the four updated deals only
    assert dry.api_calls == portal.requests() - calls_before
    assert _cursor(portal) == cursor
    assert portal.differences()  # the store still has the old amounts
    assert portal.sync().exit_code == 0
    assert portal.differences() == []


def test_archived_company_is_marked_deleted(portal: Portal) -> None:
    assert portal.sync().exit_code == 0
    hs = portal.sb.state.hubspot
    with portal.sb.state.lock:
        company = next(iter(hs.objects["companies"].values()))
        company.archived, company.archived_at = True, company.updated_at
    assert portal.sync().exit_code == 0  # the conftest lists archived records every sync
    from tracker.models import Account

    table = Account.__table__  # type: ignore[attr-defined]
    with portal.store.engine.connect() as conn:
        deleted = conn.execute(
            select(table.c.is_deleted).where(table.c.external_id == company.id)
        ).scalar_one()
    assert deleted
    assert portal.differences() == []


def test_reconcile_fetches_deals_the_store_lacks(portal: Portal) -> None:
    assert portal.sync().exit_code == 0
    lost = sorted(_deal_rows(portal))[:3]
    table = Deal.__table__  # type: ignore[attr-defined]
    with portal.store.engine.begin() as conn:  # rows lost from the store (a restored backup)
        conn.execute(table.delete().where(table.c.external_id.in_(lost)))
    assert portal.sync().exit_code == 0  # nothing changed in HubSpot: still missing
    assert not set(lost) & set(_deal_rows(portal))
    assert portal.sync(reconcile=True).exit_code == 0
    assert set(lost) <= set(_deal_rows(portal))
    assert portal.differences() == []
