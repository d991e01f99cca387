"""The store on every database: migrations, readiness checks, bulk upserts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from tracker.errors import StoreError
from tracker.records import AccountRecord, Batch, DealRecord, LineItemRecord, OwnerRecord
from tracker.store import Store, metadata
from tracker.writer import ACCOUNTS, DEALS, LINE_ITEMS, OWNERS, BatchWriter, TableSpec

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def deal(i: int, **kw: object) -> DealRecord:
    fields: dict[str, object] = dict(
        external_id=f"D{i}",
        name=f'Deal {i} "q" <script>\r\n✓',
        account_external_id="A1",
        owner_external_id="U1",
        stage="Won",
        is_closed=True,
        is_won=True,
        created_at=T0,
        close_date=date(2026, 2, 1),
        amount=100.0 * i,
        currency="USD",
        amount_reporting=100.0 * i,
        custom={"k": i},
    )
    fields.update(kw)
    return DealRecord(**fields)  # type: ignore[arg-type]


def rows(store: Store, sql: str) -> list[tuple[object, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def write(store: Store, batch: Batch, source: str = "s") -> tuple[int, int]:
    with store.engine.begin() as conn:
        counts = BatchWriter(conn, source).write(batch, T0)
    return sum(counts.changed.values()), counts.deleted


def test_migrations_match_the_models(store: Store) -> None:
    assert store.current_revision() == store.head_revision()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata())
    assert diff == []


def test_ensure_ready_refuses_an_outdated_store(store_url: str) -> None:
    from alembic import command

    store = Store(store_url)

    cfg = store._alembic_config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    if store.head_revision() == "0001":
        pytest.fail("needs a second migration to test an outdated store")
    with pytest.raises(
        StoreError, match=r"is at revision 0001 but this tracker needs .*: run `tracker db upgrade`"
    ):
        store.ensure_ready()
    before, after = store.upgrade()
    assert (before, after) == ("0001", store.head_revision())
    store.ensure_ready()


def test_ensure_ready_refuses_a_newer_store(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="newer than this tracker knows"):
        store.ensure_ready()


def test_unreachable_store_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError, match="cannot open the store at sqlite:///"):
        Store(f"sqlite:///{tmp_path / 'dir.db'}").current_revision()


def test_upsert_is_idempotent_and_detects_changes(store: Store) -> None:
    batch = Batch(
        deals=[deal(i) for i in range(1, 6)],
        owners=[OwnerRecord(external_id="U1", name="Ana", team="EMEA", region="EU")],
        accounts=[AccountRecord(external_id="A1", name="Acme", segment="SMB")],
    )
    assert write(store, batch) == (7, 0)
    assert write(store, batch) == (0, 0)
    batch.deals[2].amount = 999.5
    assert write(store, batch) == (1, 0)
    got = rows(store, "SELECT external_id, amount, name, custom FROM deals ORDER BY external_id")
    assert [r[0] for r in got] == ["D1", "D2", "D3", "D4", "D5"]
    assert got[2][1] == 999.5
    assert got[0][2] == 'Deal 1 "q" <script>\r\n✓'
    assert rows(store, "SELECT count(*) FROM deals")[0][0] == 5
    # the same external ids under another source are other rows
    write(store, batch, source="other")
    assert rows(store, "SELECT count(*) FROM deals")[0][0] == 10


def test_deal_types_round_trip(store: Store) -> None:
    d = deal(
        1,
        close_date=date(2026, 3, 31),
        created_at=datetime(2026, 3, 31, 23, 59, 59, 123456, tzinfo=UTC),
        is_new_business=None,
        amount=None,
    )
    write(store, Batch(deals=[d]))
    with store.engine.connect() as conn:
        from sqlmodel import Session, select

        from tracker.models import Deal

        with Session(conn) as session:
            stored = session.exec(select(Deal)).one()
    assert stored.close_date == date(2026, 3, 31)
    assert stored.created_at is not None
    assert stored.created_at.replace(tzinfo=UTC) == d.created_at
    assert stored.amount is None and stored.is_new_business is None
    assert stored.custom == {"k": 1}


def test_deletes_and_undeletes(store: Store) -> None:
    write(store, Batch(deals=[deal(i) for i in range(1, 5)]))
    assert write(store, Batch(complete_deal_ids=frozenset({"D1", "D2"}))) == (0, 2)
    assert write(store, Batch(deleted_deal_ids=["D1", "D1", "missing"])) == (0, 1)
    got = rows(
        store, "SELECT external_id, is_deleted, deleted_at IS NOT NULL FROM deals ORDER BY 1"
    )
    assert [(r[0], bool(r[1]), bool(r[2])) for r in got] == [
        ("D1", True, True),
        ("D2", False, False),
        ("D3", True, True),
        ("D4", True, True),
    ]
    # a deal arriving deleted (e.g. queryAll's IsDeleted) counts when it was live
    assert write(store, Batch(deals=[deal(2, is_deleted=True), deal(9, is_deleted=True)])) == (2, 1)
    # a deal coming back is undeleted and loses its deletion time
    assert write(store, Batch(deals=[deal(3)])) == (1, 0)
    [(is_deleted, deleted_at)] = rows(
        store, "SELECT is_deleted, deleted_at FROM deals WHERE external_id='D3'"
    )
    assert (bool(is_deleted), deleted_at) == (False, None)


def test_line_items_replaced_as_a_set(store: Store) -> None:
    items = [
        LineItemRecord(
            external_id=f"L{i}",
            deal_external_id="D1",
            quantity=2,
            list_price=10,
            unit_price=9,
            total=18,
        )
        for i in range(3)
    ]
    write(store, Batch(deals=[deal(1, line_items=items)]))
    write(store, Batch(deals=[deal(1, line_items=items[:1])]))
    got = rows(store, "SELECT external_id, is_deleted FROM line_items ORDER BY 1")
    assert [(r[0], bool(r[1])) for r in got] == [("L0", False), ("L1", True), ("L2", True)]
    # None means "not said": stored line items stay as they are
    write(store, Batch(deals=[deal(1, name="renamed")]))
    assert rows(store, "SELECT count(*) FROM line_items WHERE is_deleted = false")[0][0] == 1


def test_failure_mid_batch_leaves_store_as_before(store: Store) -> None:
    write(store, Batch(deals=[deal(1)]))
    bad = Batch(deals=[deal(1, amount=5.0), deal(2), deal(3, external_id=None)])
    with pytest.raises(Exception, match="(?i)null|not-null|constraint"):
        write(store, bad)
    assert rows(store, "SELECT external_id, amount FROM deals") == [("D1", 100.0)]


def test_nul_characters_are_stored_as_replacement_characters_on_postgresql(store: Store) -> None:
    write(store, Batch(deals=[deal(1, name="bad\x00name")]))
    [(name,)] = rows(store, "SELECT name FROM deals")
    assert name == ("bad\ufffdname" if store.dialect == "postgresql" else "bad\x00name")


@pytest.mark.parametrize("spec", [ACCOUNTS, OWNERS, DEALS, LINE_ITEMS], ids=lambda s: s.table)
def test_records_models_and_migrated_schema_have_one_column_list(
    store: Store, spec: TableSpec
) -> None:
    """The record dataclass, the SQLModel table and the migrated database agree column for
    column, so a field added to a record cannot be silently dropped by the writer."""
    from_records = {"id", *spec.columns}
    from_models = {c.name for c in metadata().tables[spec.table].columns}
    with store.engine.connect() as conn:
        migrated = {c["name"] for c in inspect(conn).get_columns(spec.table)}
    assert from_records == from_models == migrated


def test_source_counts_and_drop_source(store: Store) -> None:
    line = LineItemRecord(external_id="L1", deal_external_id="D1", quantity=1.0, total=5.0)
    batch = Batch(
        accounts=[
            AccountRecord(external_id="A1"),
            AccountRecord(external_id="A2", is_deleted=True),
        ],
        owners=[OwnerRecord(external_id="U1")],
        deals=[deal(1, line_items=[line]), deal(2), deal(3, is_deleted=True)],
    )
    write(store, batch, source="s")
    write(store, Batch(deals=[deal(9)]), source="t")
    assert store.source_counts() == {
        "s": {"deals_live": 2, "deals_deleted": 1, "accounts": 1, "owners": 1, "line_items": 1},
        "t": {"deals_live": 1, "deals_deleted": 0, "accounts": 0, "owners": 0, "line_items": 0},
    }
    deleted = store.drop_source("s")
    assert deleted == {
        "line_items": 1,
        "deals": 3,
        "accounts": 2,
        "owners": 1,
        "sync_cursors": 0,
        "sync_rejects": 0,
        "sync_runs": 0,
    }
    assert set(store.source_counts()) == {"t"}


def test_column_specs_follow_the_record_types() -> None:
    """Each table's spec, written out by hand from ``tracker/records.py``: its columns in
    declaration order, which are encoded as datetimes, dates and JSON, and the bookkeeping
    columns (the specs are built at import, so this calls the builder again)."""
    from tracker.writer import spec_from_record

    deals = spec_from_record(
        "deals",
        DealRecord,
        extra=("synced_at", "deleted_at"),
        not_stored=frozenset({"line_items"}),
    )
    assert deals == DEALS
    assert deals == TableSpec(
        "deals",
        (
            "external_id",
            "name",
            "account_external_id",
            "owner_external_id",
            "stage",
            "pipeline",
            "is_closed",
            "is_won",
            "created_at",
            "close_date",
            "amount",
            "currency",
            "amount_reporting",
            "list_amount",
            "cost_amount",
            "deal_type",
            "is_new_business",
            "source_modified_at",
            "is_deleted",
            "custom",
        ),
        datetimes=frozenset({"created_at", "source_modified_at"}),
        dates=frozenset({"close_date"}),
        jsons=frozenset({"custom"}),
        extra=("synced_at", "deleted_at"),
    )
    accounts = spec_from_record("accounts", AccountRecord)
    assert (
        accounts
        == ACCOUNTS
        == TableSpec(
            "accounts",
            (
                "external_id",
                "name",
                "industry",
                "segment",
                "created_at",
                "source_modified_at",
                "is_deleted",
                "custom",
            ),
            datetimes=frozenset({"created_at", "source_modified_at"}),
            jsons=frozenset({"custom"}),
        )
    )
    owners = spec_from_record("owners", OwnerRecord)
    assert (
        owners
        == OWNERS
        == TableSpec(
            "owners",
            (
                "external_id",
                "name",
                "email",
                "manager_external_id",
                "team",
                "region",
                "is_active",
                "source_modified_at",
            ),
            datetimes=frozenset({"source_modified_at"}),
        )
    )
    items = spec_from_record("line_items", LineItemRecord)
    assert (
        items
        == LINE_ITEMS
        == TableSpec(
            "line_items",
            (
                "external_id",
                "deal_external_id",
                "product",
                "quantity",
                "list_price",
                "unit_price",
                "discount_pct",
                "total",
                "unit_cost",
                "source_modified_at",
                "is_deleted",
            ),
            datetimes=frozenset({"source_modified_at"}),
        )
    )
    assert deals.columns == ("source", *deals.record_fields, "synced_at", "deleted_at")
