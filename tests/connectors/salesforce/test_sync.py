"""Full, incremental, delete/undelete, ties, late commits, reconcile and mapping errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sandbox.mutations import update_deal
from tests.connectors.salesforce.conftest import Harness, strip_multi_currency
from tracker.store import Store
from tracker.sync import load_cursor


def deleted_flags(store: Store) -> dict[str, bool]:
    """external_id → is_deleted of every stored deal of source sf."""
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT external_id, is_deleted FROM deals WHERE source = 'sf'")
        return {str(r[0]): bool(r[1]) for r in rows}


def test_full_sync_equals_truth_on_every_database(
    harness_factory: Callable[..., Harness], store: Store
) -> None:
    h = harness_factory(store=store)
    result = h.sync()
    assert result.outcome == "ok", result.error
    assert h.differences() == []
    # the cursor sits at the data's newest stamp, never past the sync's start
    with store.engine.connect() as conn:
        cursor = load_cursor(conn, "sf")
    assert cursor is not None and cursor["opp"]["done"] is True
    newest = max(
        d.source_modified_at for d in h.sb.truth("sf").deals.values() if d.source_modified_at
    )
    assert cursor["opp"]["stamp"] == newest.isoformat()


def test_incremental_reads_only_changes(h: Harness) -> None:
    full = h.sync()
    assert full.outcome == "ok"
    h.sb.update_deals("sf", n=4)
    h.sb.delete_deals("sf", n=3)
    h.sb.advance_clock(60)
    incremental = h.sync()
    assert incremental.outcome == "ok", incremental.error
    assert h.differences() == []
    assert incremental.counts.received.get("deals", 0) < 20
    # an unchanged org: nothing changes, nothing is written twice
    again = h.sync()
    assert again.counts.changed.get("deals", 0) == 0
    assert h.differences() == []


def test_deletes_and_undeletes_round_trip(
    harness_factory: Callable[..., Harness], store: Store
) -> None:
    h = harness_factory(store=store)
    assert h.sync().outcome == "ok"
    gone = h.sb.delete_deals("sf", n=5)
    h.sb.advance_clock(30)
    assert h.sync().outcome == "ok"
    assert h.differences() == []
    h.sb.undelete_deals("sf", ids=gone[:2])
    h.sb.advance_clock(30)
    assert h.sync().outcome == "ok"
    assert h.differences() == []
    rows = deleted_flags(h.store)
    assert all(not rows[i] for i in gone[:2]) and all(rows[i] for i in gone[2:])


def test_ties_across_a_page_boundary_survive_a_stop(
    harness_factory: Callable[..., Harness],
) -> None:
    h = harness_factory(deals=900)  # 605 live: 450 of them re-stamped
    assert h.sync(page_size=200).outcome == "ok"
    h.sb.same_stamp("sf", n=450)  # one stamp spanning three pages
    h.sb.advance_clock(30)
    # a budget of a few calls stops inside the run of equal stamps
    # the composite call brings page 1: one more call allowed (page 2), page 3 is refused
    h.sb.set_budget("sf", total=15_000, used=15_000 - 8)
    stopped = h.sync(page_size=200, max_api_percent=25)
    assert stopped.outcome == "stopped" and stopped.exit_code == 3
    h.sb.set_budget("sf", total=15_000)
    resumed = h.sync(page_size=200)
    assert resumed.outcome == "ok", resumed.error
    assert h.differences() == []


def test_late_commit_inside_the_overlap_is_caught(h: Harness) -> None:
    assert h.sync(overlap_minutes=15).outcome == "ok"
    h.sb.update_deals("sf", n=3)  # moves the cursor up to "now"
    assert h.sync(overlap_minutes=15).outcome == "ok"
    late = h.sb.late_commit("sf", n=2, lag=timedelta(minutes=10))
    # a 5-minute overlap misses a commit 10 minutes late (what the overlap is for)...
    assert h.sync(overlap_minutes=5).outcome == "ok"
    assert h.differences() != []
    # ...a 15-minute one catches it
    assert h.sync(overlap_minutes=15).outcome == "ok"
    assert h.differences() == []
    # the late deals themselves, as stored, equal the org's values
    truth = h.sb.truth("sf").deals
    with h.store.engine.connect() as conn:
        stored = dict(
            conn.exec_driver_sql("SELECT external_id, amount FROM deals WHERE source = 'sf'").all()
        )
    assert {i: stored[i] for i in late} == {i: truth[i].amount for i in late}


def test_hard_deletes_need_reconcile(h: Harness) -> None:
    assert h.sync().outcome == "ok"
    purged = h.sb.hard_delete_deals("sf", n=3)
    assert h.sync().outcome == "ok"
    # hard-deleted records never show up in queryAll: only the Id-set comparison sees them
    result = h.sync(reconcile=True)
    assert result.outcome == "ok", result.error
    assert result.counts.deleted == 3
    assert h.differences() == []
    flags = deleted_flags(h.store)
    assert all(flags[i] for i in purged)  # still stored, for audit


def test_reconcile_refreshes_changes_without_a_new_stamp(h: Harness) -> None:
    assert h.sync().outcome == "ok"
    deal = h.sb.deal_ids("sf")[0]
    old_stamp = h.sb.state.salesforce.rows["Opportunity"][deal]["SystemModstamp"]
    with h.sb.state.lock:  # a formula-like change: the value moves, the stamp does not
        update_deal(h.sb.state, "salesforce", deal, amount=123.45, stamp=old_stamp)
    assert h.sync().outcome == "ok"
    assert h.sync(reconcile=True).outcome == "ok"
    assert h.differences() == []


def test_hostile_strings_survive(harness_factory: Callable[..., Harness], store: Store) -> None:
    h = harness_factory(store=store)
    # (no NUL: Salesforce text fields cannot hold one, and PostgreSQL text cannot either)
    hostile = "Robert'); DROP TABLE deals;-- \u202e\U0001f4a5 \\ \" ' \x01\x7f\t <b>&amp;</b> 名前"
    ids = h.sb.deal_ids("sf")[:2]
    with h.sb.state.lock:
        for i in ids:
            update_deal(h.sb.state, "salesforce", i, name=hostile)
    assert h.sync().outcome == "ok"
    assert h.differences() == []
    with h.store.engine.connect() as conn:
        names = {r[0] for r in conn.exec_driver_sql("SELECT name FROM deals WHERE source='sf'")}
    assert hostile in names


def test_missing_mapped_field_stops_the_sync_naming_it(h: Harness) -> None:
    result = h.sync(fields={"line_item_cost": "Unit_Costs__c", "region": "Owner.Region__c"})
    assert result.outcome == "failed"
    assert result.error is not None
    assert result.error.startswith(
        "sources.sf.fields.line_item_cost: field OpportunityLineItem.Unit_Costs__c does not exist"
    )
    with h.store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM deals").scalar() == 0


def test_since_limits_the_backfill(h: Harness) -> None:
    truth = h.sb.truth("sf").deals
    stamps = sorted(d.source_modified_at for d in truth.values() if d.source_modified_at)
    since = stamps[len(stamps) // 2]
    assert h.sync(since=since.isoformat()).outcome == "ok"
    with h.store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT COUNT(*) FROM deals").scalar()
    assert stored == sum(1 for s in stamps if s >= since)


def test_dry_run_writes_nothing_and_counts_calls(h: Harness) -> None:
    result = h.sync(dry_run=True)
    assert result.outcome == "dry-run"
    # the opening composite call, CurrencyType (first sync) and one page of opportunities
    # every opportunity of the org (its recycle bin too) would be new
    assert result.api_calls == 3
    assert result.counts.changed.get("deals", 0) == len(h.sb.truth("sf").deals)
    with h.store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM deals").scalar() == 0
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM sync_cursors").scalar() == 0


def test_single_currency_org(h: Harness) -> None:
    strip_multi_currency(h.sb)
    result = h.sync()
    assert result.outcome == "ok", result.error
    assert h.differences() == []
    queries = h.sb.counters.snapshot()["requests"]
    assert "salesforce.query" in queries  # and no INVALID_FIELD on the way
    assert h.sb.counters.snapshot()["statuses"].get("salesforce.400") is None


def test_bulk_backfill_equals_truth_then_incremental(h: Harness) -> None:
    hostile = 'Quote "x", comma, new\nline \u202e 名前'
    deal = h.sb.deal_ids("sf")[3]
    with h.sb.state.lock:
        update_deal(h.sb.state, "salesforce", deal, name=hostile)
    result = h.sync(bulk_threshold=50)
    assert result.outcome == "ok", result.error
    requests = h.sb.counters.snapshot()["requests"]
    assert requests["salesforce.bulk2.create"] == 2
    assert h.differences() == []
    h.sb.update_deals("sf", n=3)
    h.sb.delete_deals("sf", n=2)
    h.sb.advance_clock(30)
    assert h.sync(bulk_threshold=50).outcome == "ok"
    assert h.sb.counters.snapshot()["requests"]["salesforce.bulk2.create"] == 2  # REST now
    assert h.differences() == []


def test_pages_split_by_the_server_stay_consistent(
    harness_factory: Callable[..., Harness],
) -> None:
    # Salesforce counts child records toward its batch size, so a LIMIT 2000 query with
    # line items comes back in several responses; make the sandbox answer 200 at a time
    from sandbox.salesforce.api import SalesforceOptions

    h = harness_factory(deals=900)
    h.sb.salesforce_api.options = SalesforceOptions(page_size=200)
    h.sb.set_budget("sf", total=15_000, used=15_000 - 12)
    # after the composite call, 25 % of 11: CurrencyType and one page of opportunities
    stopped = h.sync(max_api_percent=25)  # stops part-way through the opportunities
    assert stopped.outcome == "stopped"
    assert 0 < stopped.counts.received.get("deals", 0) < 900
    h.sb.update_deals("sf", n=20)
    h.sb.set_budget("sf", total=15_000)
    result = h.sync()
    assert result.outcome == "ok", result.error
    assert h.differences() == []
    assert "salesforce.query.more" not in h.sb.counters.snapshot()["requests"]
