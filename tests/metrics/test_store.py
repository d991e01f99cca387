"""Metrics from a real store (SQLite and PostgreSQL): loading, snapshots, as-of."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert as insert_into

from tests.metrics.metrics_fixtures import deal, insert, raw_frame, utc, value
from tests.metrics.test_definitions import _customers, _priced
from tracker.metrics import REGISTRY, MetricRequest, compute, prepare, required_fields
from tracker.metrics.load import build_report, deals_query, last_syncs, load_deals
from tracker.models import SyncRun
from tracker.periods import parse_period
from tracker.reports.metrics import to_dict
from tracker.snapshots import list_snapshots, load_snapshot, save_snapshot
from tracker.store import Store

TODAY = date(2026, 11, 25)
DIMS = ("owner", "team", "region", "source", "pipeline", "segment")


def _sample() -> list[dict[str, object]]:
    extra = [
        deal(
            "t1",
            won=True,
            close_date=date(2026, 8, 31),
            created_at=utc("2026-06-30 23:30"),
            amount=70.0,
            owner_external_id="o3",
            owner_name="Cy",
            team="US",
            region="NA",
            pipeline="new",
            account_external_id="zed",
            segment="smb",
        ),
        deal(
            "t2",
            lost=True,
            close_date=date(2026, 9, 1),
            created_at=utc("2026-07-01 00:30"),
            amount=30.0,
            owner_external_id="o3",
            owner_name="Cy",
            team="US",
            region="NA",
            pipeline="renewal",
        ),
    ]
    return [*_customers(), *_priced(), *extra]


def _request() -> MetricRequest:
    periods = ("2026-Q3", "2026-Q2", "2026-07", "2026")
    return MetricRequest(
        metrics=tuple(REGISTRY.names("deals")),
        periods=tuple(parse_period(p, TODAY, 1) for p in periods),
        by=DIMS,
    )


def test_store_figures_equal_the_hand_built_frame_on_every_database(store: Store) -> None:
    sample = _sample()
    insert(store.engine, sample)
    request = _request()
    report = build_report(
        store.engine,
        request,
        timezone="Asia/Tokyo",
        currency="USD",
        generated_at=datetime(2026, 11, 25, 12, tzinfo=UTC),
    )
    frame = prepare(
        raw_frame(sample),
        timezone="Asia/Tokyo",
        reporting_currency="USD",
        fields=required_fields(request.metrics),
        dimensions=DIMS,
    )
    expected = compute(frame, request)
    assert [(r.metric, r.period.label, r.scope) for r in report.rows] == [
        (r.metric, r.period.label, r.scope) for r in expected
    ]
    for got, want in zip(report.rows, expected, strict=True):
        assert got.value == pytest.approx(want.value), (got, want)
        assert (got.n, got.coverage) == (want.n, pytest.approx(want.coverage))
        assert got.stats == pytest.approx(want.stats)
    # A few figures by hand, from the store itself.
    assert value(report.rows, "new_customers", "2026-Q3").value == 4  # bolt, core, hub, zed
    assert value(report.rows, "discount_pct", "2026-Q3", segment=None).n == 4
    assert value(report.rows, "pipeline_created", "2026-07", team="US").value == 100.0


def test_loader_selects_only_the_needed_columns() -> None:
    sql = str(deals_query(["amount"], []))
    assert "amount_reporting" in sql
    for absent in ("line_items", "owners", "accounts", "created_at", "list_amount", "custom"):
        assert absent not in sql
    full = str(deals_query(["net", "list", "cost", "created", "account"], ["team", "segment"]))
    assert "line_items" in full and "owners" in full and "accounts" in full
    assert "GROUP BY" in full


def test_loader_skips_deleted_deals_and_line_items(store: Store) -> None:
    insert(store.engine, _priced())
    raw = load_deals(store.engine, ["net", "list", "cost"], [])
    li = raw.set_index("external_id").loc["li"]
    assert (li["li_count"], li["li_list"], li["li_net"], li["li_cost"]) == (2, 150.0, 120.0, 50.0)
    assert set(raw["external_id"]) == {"li", "eur", "above", "bare", "mixed", "lost"}


def test_snapshot_round_trip_reproduces_what_was_reported(store: Store) -> None:
    insert(store.engine, _sample())
    first_time = datetime(2026, 11, 18, 9, tzinfo=UTC)
    first = build_report(
        store.engine, _request(), timezone="UTC", currency="USD", generated_at=first_time
    )
    first_id = save_snapshot(store.engine, first)
    # The data changes afterwards; last week's figures stay reproducible.
    insert(store.engine, [deal("late", won=True, close_date=date(2026, 7, 9), amount=1e6)])
    second = build_report(
        store.engine,
        _request(),
        timezone="UTC",
        currency="USD",
        generated_at=first_time + timedelta(days=7),
    )
    save_snapshot(store.engine, second)
    assert (
        value(second.rows, "revenue", "2026-Q3").value
        != value(first.rows, "revenue", "2026-Q3").value
    )
    again = load_snapshot(store.engine, at=first_time + timedelta(days=1))
    assert again is not None
    assert to_dict(again) == to_dict(first)
    assert load_snapshot(store.engine, snapshot_id=first_id) == again
    latest = load_snapshot(store.engine)
    assert latest is not None and to_dict(latest) == to_dict(second)
    assert [t for _, t in list_snapshots(store.engine)] == [
        first_time,
        first_time + timedelta(days=7),
    ]
    assert load_snapshot(store.engine, at=first_time - timedelta(days=1)) is None


def test_as_of_is_the_last_successful_sync_per_source(store: Store) -> None:
    runs = [
        ("crm", "ok", datetime(2026, 11, 20, 1, tzinfo=UTC)),
        ("crm", "ok", datetime(2026, 11, 24, 1, tzinfo=UTC)),
        ("crm", "failed", datetime(2026, 11, 25, 1, tzinfo=UTC)),
        ("hub", "running", None),
    ]
    with store.engine.begin() as conn:
        conn.execute(
            insert_into(SyncRun.__table__),  # type: ignore[attr-defined]
            [
                {
                    "source": s,
                    "kind": "csv",
                    "outcome": o,
                    "finished_at": f,
                    "started_at": datetime(2026, 11, 1, tzinfo=UTC),
                    "counts": {},
                }
                for s, o, f in runs
            ],
        )
    assert last_syncs(store.engine) == {"crm": datetime(2026, 11, 24, 1, tzinfo=UTC)}


def test_json_is_identical_on_sqlite_and_the_parametrized_database(
    store: Store, tmp_path: Path
) -> None:
    """PostgreSQL's report equals SQLite's, byte for byte once serialised."""
    if store.engine.dialect.name == "sqlite":
        pytest.skip("SQLite against the SQLite reference compares a database with itself")
    reference = Store(f"sqlite:///{tmp_path / 'reference.db'}")
    reference.ensure_ready()
    reports = []
    for target in (reference, store):
        insert(target.engine, _sample())
        reports.append(
            to_dict(
                build_report(
                    target.engine,
                    _request(),
                    timezone="Europe/Berlin",
                    currency="USD",
                    generated_at=datetime(2026, 11, 25, tzinfo=UTC),
                )
            )
        )
    reference.close()
    assert reports[0] == reports[1]


def test_deleted_deals_count_nowhere(store: Store) -> None:
    """The loader's filter drops deleted deals: a deleted won deal adds to no figure."""
    common = dict(
        won=True,
        close_date=date(2026, 7, 1),
        created_at=utc("2026-06-01 00:00"),
        amount=100.0,
        list_amount=200.0,
        cost_amount=50.0,
        account_external_id="a",
        owner_external_id="o",
        owner_name="Ann",
    )
    insert(store.engine, [deal("gone", is_deleted=True, **common), deal("live", **common)])
    request = MetricRequest(
        metrics=tuple(REGISTRY.names("deals")),
        periods=(parse_period("2026-Q3", TODAY, 1),),
        by=("owner",),
        filters={},
    )
    report = build_report(
        store.engine, request, timezone="UTC", currency="USD", generated_at=utc("2026-11-25 00:00")
    )
    # one live deal: every deal-based figure rests on exactly it
    assert value(report.rows, "revenue").value == 100.0
    assert value(report.rows, "deals_won").value == 1
    assert value(report.rows, "new_customers").value == 1
    assert value(report.rows, "pipeline_created").value == 0.0  # created in Q2
    assert value(report.rows, "revenue", owner="Ann").n == 1
    assert value(report.rows, "discount_pct").value == 0.5  # 1 − 100 / 200, one deal only
