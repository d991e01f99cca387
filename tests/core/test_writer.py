"""The batch writer on every database: each column stored as given, each change detected,
the counts of every table, activities and their deletions. Expected rows are written out
by hand."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tracker.records import (
    AccountRecord,
    ActivityRecord,
    Batch,
    DealRecord,
    LineItemRecord,
    OwnerRecord,
)
from tracker.store import Store
from tracker.writer import BatchWriter, WriteCounts

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
T1 = datetime(2026, 1, 6, 7, 30, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def write(store: Store, batch: Batch, at: datetime = T0, source: str = "s") -> WriteCounts:
    with store.engine.begin() as conn:
        return BatchWriter(conn, source).write(batch, at)


def select(store: Store, sql: str) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def utc(value: Any) -> datetime | None:
    """A stored timestamp (SQLite text, PostgreSQL datetime) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def js(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


FULL_DEAL = DealRecord(
    external_id="D1",
    name="Acme renewal",
    account_external_id="A1",
    owner_external_id="U1",
    stage="Closed Won",
    pipeline="Direct",
    is_closed=True,
    is_won=True,
    # 23:59:59.123456 in Berlin on 31 March (CEST, UTC+2) is 21:59:59.123456 UTC
    created_at=datetime(2026, 3, 31, 23, 59, 59, 123456, tzinfo=BERLIN),
    close_date=date(2026, 3, 31),
    amount=1000.5,
    currency="EUR",
    amount_reporting=1100.55,
    list_amount=1200.0,
    cost_amount=400.25,
    deal_type="New Business",
    is_new_business=True,
    source_modified_at=datetime(2026, 4, 1, 8, 0, tzinfo=UTC),
    custom={"tier": "gold", "n": 2},
)

DEAL_COLUMNS = (
    "source, external_id, name, account_external_id, owner_external_id, stage, pipeline, "
    "is_closed, is_won, created_at, close_date, amount, currency, amount_reporting, "
    "list_amount, cost_amount, deal_type, is_new_business, source_modified_at, is_deleted, "
    "custom, synced_at, deleted_at"
)


def test_every_deal_column_is_stored_as_given(store: Store) -> None:
    gone = DealRecord(external_id="D2", stage="Open", is_deleted=True)
    write(store, Batch(deals=[FULL_DEAL, gone]))
    got = select(store, f"SELECT {DEAL_COLUMNS} FROM deals ORDER BY external_id")
    normalised = [
        (
            *r[:7],
            bool(r[7]),
            bool(r[8]),
            utc(r[9]),
            day(r[10]),
            *r[11:17],
            None if r[17] is None else bool(r[17]),
            utc(r[18]),
            bool(r[19]),
            js(r[20]),
            utc(r[21]),
            utc(r[22]),
        )
        for r in got
    ]
    assert normalised == [
        (
            "s",
            "D1",
            "Acme renewal",
            "A1",
            "U1",
            "Closed Won",
            "Direct",
            True,
            True,
            datetime(2026, 3, 31, 21, 59, 59, 123456, tzinfo=UTC),
            date(2026, 3, 31),
            1000.5,
            "EUR",
            1100.55,
            1200.0,
            400.25,
            "New Business",
            True,
            datetime(2026, 4, 1, 8, 0, tzinfo=UTC),
            False,
            {"tier": "gold", "n": 2},
            T0,
            None,
        ),
        # arriving deleted: stored with its deletion time; empty JSON is an empty object
        ("s", "D2", None, None, None, "Open", None, False, False, None, None)
        + (None,) * 6
        + (None, None, True, {}, T0, T0),
    ]
    if store.dialect == "sqlite":
        # SQLAlchemy's text forms, always with microseconds (so the strings sort)
        assert select(
            store,
            "SELECT created_at, close_date, source_modified_at, synced_at, custom "
            "FROM deals WHERE external_id = 'D1'",
        ) == [
            (
                "2026-03-31 21:59:59.123456",
                "2026-03-31",
                "2026-04-01 08:00:00.000000",
                "2026-01-05 12:00:00.000000",
                '{"n": 2, "tier": "gold"}',
            )
        ]
        # a naive datetime is taken as UTC
        write(
            store,
            Batch(deals=[replace(FULL_DEAL, external_id="D3", created_at=T1.replace(tzinfo=None))]),
        )
        assert select(store, "SELECT created_at FROM deals WHERE external_id = 'D3'") == [
            ("2026-01-06 07:30:00.000000",)
        ]


CHANGES: dict[str, Any] = {
    "name": "Acme renewal 2",
    "account_external_id": "A2",
    "owner_external_id": "U2",
    "stage": "Closed Lost",
    "pipeline": None,
    "is_closed": False,
    "is_won": False,
    "created_at": datetime(2026, 3, 31, 21, 59, 59, 123457, tzinfo=UTC),
    "close_date": date(2026, 4, 1),
    "amount": 1000.25,
    "currency": "GBP",
    "amount_reporting": None,
    "list_amount": 1300.0,
    "cost_amount": None,
    "deal_type": "Renewal",
    "is_new_business": False,
    "source_modified_at": datetime(2026, 4, 2, tzinfo=UTC),
    "custom": {"tier": "silver", "n": 2},
}


def test_a_change_to_any_one_column_is_detected_and_only_then_synced_at_moves(
    store: Store,
) -> None:
    assert write(store, Batch(deals=[FULL_DEAL])).changed["deals"] == 1
    current = FULL_DEAL
    for number, (column, value) in enumerate(CHANGES.items(), start=1):
        same = write(store, Batch(deals=[current]), at=T1)
        assert (same.changed["deals"], same.inserted["deals"]) == (0, 0), column
        current = replace(current, **{column: value})
        at = datetime(2026, 2, 1, tzinfo=UTC).replace(day=number)
        changed = write(store, Batch(deals=[current]), at=at)
        assert (changed.changed["deals"], changed.inserted["deals"]) == (1, 0), column
        [(synced_at,)] = select(store, "SELECT synced_at FROM deals")
        assert utc(synced_at) == at, column
    # and back from null to a value
    current = replace(current, amount_reporting=5.0, pipeline="Partner", cost_amount=1.0)
    assert write(store, Batch(deals=[current])).changed["deals"] == 1
    got = select(store, "SELECT pipeline, amount_reporting, cost_amount, name FROM deals")
    assert got == [("Partner", 5.0, 1.0, "Acme renewal 2")]


def test_counts_per_table_and_line_items_replaced_as_a_set(store: Store) -> None:
    items = [
        LineItemRecord(external_id=f"L{i}", deal_external_id="D1", quantity=i, total=10.0 * i)
        for i in (1, 2)
    ]
    first = Batch(
        accounts=[
            AccountRecord(external_id="A1", name="Acme"),
            AccountRecord(external_id="A2", name="Beta"),
        ],
        owners=[OwnerRecord(external_id="U1", name="Ann")],
        deals=[
            replace(FULL_DEAL, line_items=items),
            DealRecord(external_id="D2", amount=1.0),
            DealRecord(external_id="D2", amount=2.0),  # the last record of a key wins
        ],
    )
    counts = write(store, first)
    assert counts == WriteCounts(
        received={"accounts": 2, "owners": 1, "deals": 3, "line_items": 2},
        changed={"accounts": 2, "owners": 1, "deals": 2, "line_items": 2},
        inserted={"accounts": 2, "owners": 1, "deals": 2, "line_items": 2},
    )
    assert select(store, "SELECT amount FROM deals WHERE external_id = 'D2'") == [(2.0,)]
    second = Batch(
        accounts=[
            AccountRecord(external_id="A1", name="Acme"),
            AccountRecord(external_id="A2", name="Beta Ltd"),
        ],
        owners=[OwnerRecord(external_id="U1", name="Ann")],
        deals=[
            replace(FULL_DEAL, line_items=items[:1]),
            DealRecord(external_id="D2", amount=3.0),
            DealRecord(
                external_id="D3",
                line_items=[LineItemRecord(external_id="L9", deal_external_id="D3")],
            ),
        ],
    )
    counts = write(store, second, at=T1)
    assert counts == WriteCounts(
        received={"accounts": 2, "owners": 1, "deals": 3, "line_items": 2},
        changed={"accounts": 1, "owners": 0, "deals": 2, "line_items": 1},
        inserted={"accounts": 0, "owners": 0, "deals": 1, "line_items": 1},
    )
    got = select(store, "SELECT external_id, is_deleted, synced_at FROM line_items ORDER BY 1")
    # L1 unchanged keeps its time; L2, missing from D1's new set, is marked deleted at T1
    assert [(r[0], bool(r[1]), utc(r[2])) for r in got] == [
        ("L1", False, T0),
        ("L2", True, T1),
        ("L9", False, T1),
    ]
    # an empty batch writes nothing and counts every table at zero
    assert write(store, Batch()) == WriteCounts(
        received={"accounts": 0, "owners": 0, "deals": 0, "line_items": 0},
        changed={"accounts": 0, "owners": 0, "deals": 0, "line_items": 0},
        inserted={"accounts": 0, "owners": 0, "deals": 0, "line_items": 0},
    )


def activity(external_id: str, **fields: Any) -> ActivityRecord:
    return ActivityRecord(external_id=external_id, kind=fields.pop("kind", "call"), **fields)


FULL_ACTIVITY = activity(
    "C1",
    subject="Intro call",
    owner_external_id="U1",
    occurred_at=datetime(2026, 3, 2, 10, 15, tzinfo=BERLIN),  # CET: 09:15 UTC
    occurred_on=date(2026, 3, 2),
    duration_minutes=12.5,
    is_completed=True,
    outcome="Connected",
    deal_external_id="D1",
    account_external_id="A1",
    source_modified_at=datetime(2026, 3, 2, 11, 0, tzinfo=UTC),
)

ACTIVITY_COLUMNS = (
    "source, external_id, kind, subject, owner_external_id, occurred_at, occurred_on, "
    "duration_minutes, is_completed, outcome, deal_external_id, account_external_id, "
    "source_modified_at, is_deleted, synced_at, deleted_at"
)


def live_activities(store: Store, source: str = "s") -> list[str]:
    got = select(
        store,
        f"SELECT external_id FROM activities WHERE source = '{source}' "
        "AND is_deleted = false ORDER BY 1",
    )
    return [r[0] for r in got]


def test_activities_are_stored_counted_and_deleted(store: Store) -> None:
    meeting = activity("M1", kind="meeting")
    counts = write(store, Batch(activities=[FULL_ACTIVITY, meeting]))
    assert (counts.received["activities"], counts.changed["activities"]) == (2, 2)
    assert (counts.inserted["activities"], counts.activities_deleted) == (2, 0)
    [row] = select(store, f"SELECT {ACTIVITY_COLUMNS} FROM activities WHERE external_id = 'C1'")
    assert (
        *row[:5],
        utc(row[5]),
        day(row[6]),
        row[7],
        bool(row[8]),
        *row[9:12],
        utc(row[12]),
        bool(row[13]),
        utc(row[14]),
        row[15],
    ) == (
        "s",
        "C1",
        "call",
        "Intro call",
        "U1",
        datetime(2026, 3, 2, 9, 15, tzinfo=UTC),
        date(2026, 3, 2),
        12.5,
        True,
        "Connected",
        "D1",
        "A1",
        datetime(2026, 3, 2, 11, 0, tzinfo=UTC),
        False,
        T0,
        None,
    )
    # the same activities again change nothing; another source's are other rows
    again = write(store, Batch(activities=[FULL_ACTIVITY, meeting]), at=T1)
    assert (again.changed["activities"], again.inserted["activities"]) == (0, 0)
    write(store, Batch(activities=[meeting]), source="other")

    # arriving deleted: counted when it was live (C1), not when it is new (X9)
    gone = write(
        store,
        Batch(
            activities=[replace(FULL_ACTIVITY, is_deleted=True), activity("X9", is_deleted=True)]
        ),
        at=T1,
    )
    assert (gone.changed["activities"], gone.inserted["activities"]) == (2, 1)
    assert gone.activities_deleted == 1 and gone.deleted == 0
    [(deleted_at,)] = select(store, "SELECT deleted_at FROM activities WHERE external_id = 'C1'")
    assert utc(deleted_at) == T1
    assert live_activities(store) == ["M1"]

    # deletions by id: each live one once
    by_id = write(store, Batch(deleted_activity_ids=["M1", "M1", "missing"]), at=T1)
    assert by_id.activities_deleted == 1 and live_activities(store) == []
    deleted_m1 = "SELECT deleted_at, synced_at FROM activities WHERE external_id = 'M1'"
    assert [tuple(map(utc, r)) for r in select(store, deleted_m1 + " AND source = 's'")] == [
        (T1, T1)
    ]
    assert live_activities(store, "other") == ["M1"]

    # coming back: undeleted, deletion time cleared
    back_again = [meeting, *(activity(i, kind="email") for i in ("N1", "P1", "Q1"))]
    back = write(store, Batch(activities=back_again))
    assert back.activities_deleted == 0 and live_activities(store) == ["M1", "N1", "P1", "Q1"]
    assert select(
        store, "SELECT deleted_at FROM activities WHERE external_id = 'M1' AND source = 's'"
    ) == [(None,)]

    # every way at once, each counted: arriving deleted (N1), by id (P1), and the live ones
    # missing from a complete set (M1), in this source only
    t2 = datetime(2026, 1, 7, tzinfo=UTC)
    every = Batch(
        activities=[activity("N1", kind="email", is_deleted=True)],
        deleted_activity_ids=["P1"],
        complete_activity_ids=frozenset({"N1", "Q1"}),
    )
    assert write(store, every, at=t2).activities_deleted == 3
    assert live_activities(store) == ["Q1"] and live_activities(store, "other") == ["M1"]
    got = select(
        store,
        "SELECT external_id, deleted_at, synced_at FROM activities "
        "WHERE source = 's' AND external_id IN ('M1', 'N1', 'P1') ORDER BY 1",
    )
    assert [(r[0], utc(r[1]), utc(r[2])) for r in got] == [
        ("M1", t2, t2),
        ("N1", t2, t2),
        ("P1", t2, t2),
    ]
    # deleting a deleted one again counts nothing and keeps its deletion time
    assert write(store, Batch(deleted_activity_ids=["M1"]), at=T1).activities_deleted == 0
    assert [tuple(map(utc, r)) for r in select(store, deleted_m1 + " AND source = 's'")] == [
        (t2, t2)
    ]


def test_times_are_stored_in_utc_whatever_the_zones_of_the_machine_and_the_caller(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        at = datetime(2026, 1, 5, 13, 0, tzinfo=BERLIN)  # T0, 12:00 UTC
        write(store, Batch(deals=[FULL_DEAL]), at=at)
        write(store, Batch(deleted_deal_ids=["D1"]), at=T1.astimezone(BERLIN))
    finally:
        monkeypatch.undo()
        time.tzset()
    [(created, synced, deleted)] = select(
        store, "SELECT created_at, synced_at, deleted_at FROM deals"
    )
    assert [utc(created), utc(synced), utc(deleted)] == [
        datetime(2026, 3, 31, 21, 59, 59, 123456, tzinfo=UTC),
        T1,
        T1,
    ]
    if store.dialect == "sqlite":
        assert (synced, deleted) == ("2026-01-06 07:30:00.000000", "2026-01-06 07:30:00.000000")


def test_json_values_equal_in_python_keep_their_types(store: Store) -> None:
    # 1, 1.0 and True are equal (and hash alike) but are different JSON
    values: list[Any] = [1, True, 1.0, [1, 2], {"a": None}, 1, "1"]
    deals = [DealRecord(external_id=f"D{i}", custom={"k": v}) for i, v in enumerate(values)]
    write(store, Batch(deals=deals))
    got = select(store, "SELECT external_id, custom FROM deals ORDER BY external_id")
    stored = [js(custom)["k"] for _, custom in got]
    assert stored == values
    assert [type(v) for v in stored] == [int, bool, float, list, dict, int, str]


def test_the_same_custom_fields_in_another_order_are_no_change(store: Store) -> None:
    write(store, Batch(deals=[DealRecord(external_id="D1", custom={"a": 1, "é": "ü"})]))
    again = write(store, Batch(deals=[DealRecord(external_id="D1", custom={"é": "ü", "a": 1})]))
    assert again.changed["deals"] == 0
    [(custom,)] = select(store, "SELECT custom FROM deals")
    assert js(custom) == {"a": 1, "é": "ü"}
    # JSON stored as the same text on both: sorted keys, non-ASCII kept as it is
    sql = (
        "SELECT custom FROM deals"
        if store.dialect == "sqlite"
        else "SELECT custom::text FROM deals"
    )
    assert select(store, sql) == [('{"a": 1, "é": "ü"}',)]


def test_write_counts_add_and_merge_table_by_table() -> None:
    total = WriteCounts()
    total.add("deals", 3, 2, 1)
    total.add("deals", 1, 1)
    other = WriteCounts(received={"deals": 1, "owners": 4}, changed={"owners": 1}, deleted=2)
    other.activities_deleted = 1
    total.merge(other)
    total.merge(WriteCounts(deleted=1))
    assert total == WriteCounts(
        received={"deals": 5, "owners": 4},
        changed={"deals": 3, "owners": 1},
        inserted={"deals": 1, "owners": 0},
        deleted=3,
        activities_deleted=1,
    )


def test_deal_deletions_of_every_kind_in_one_batch_are_each_counted(store: Store) -> None:
    write(store, Batch(deals=[DealRecord(external_id=f"D{i}") for i in range(1, 6)]))
    write(store, Batch(deals=[DealRecord(external_id="D1")]), source="other")
    # arriving deleted (D1), by id (D2), live but missing from the complete set (D3)
    every = Batch(
        deals=[DealRecord(external_id="D1", is_deleted=True)],
        deleted_deal_ids=["D2"],
        complete_deal_ids=frozenset({"D1", "D4", "D5"}),
    )
    counts = write(store, every, at=T1)
    assert (counts.deleted, counts.activities_deleted) == (3, 0)
    got = select(
        store, "SELECT source, external_id, is_deleted, deleted_at FROM deals ORDER BY 1, 2"
    )
    assert [(r[0], r[1], bool(r[2]), utc(r[3])) for r in got] == [
        ("other", "D1", False, None),
        ("s", "D1", True, T1),
        ("s", "D2", True, T1),
        ("s", "D3", True, T1),
        ("s", "D4", False, None),
        ("s", "D5", False, None),
    ]


def test_a_postgresql_session_in_another_zone_stores_the_same_instants(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("SQLite has no session time zone")
    url = make_url(store.url)
    options = f"{url.query['options']} -ctimezone=America/New_York"
    new_york = Store(url.update_query_dict({"options": options}).render_as_string(False))
    try:
        write(new_york, Batch(deals=[FULL_DEAL]))
        write(new_york, Batch(deleted_deal_ids=["D1"]), at=T1)
    finally:
        new_york.close()
    [(created, synced, deleted)] = select(
        store, "SELECT created_at, synced_at, deleted_at FROM deals"
    )
    assert [utc(created), utc(synced), utc(deleted)] == [
        datetime(2026, 3, 31, 21, 59, 59, 123456, tzinfo=UTC),
        T1,
        T1,
    ]


def test_line_items_of_more_deals_than_one_query_holds_are_all_replaced(store: Store) -> None:
    # the stored line items are looked up 500 deals at a time
    def deals(with_items: bool) -> list[DealRecord]:
        return [
            DealRecord(
                external_id=f"D{i:03}",
                line_items=[LineItemRecord(external_id=f"L{i:03}", deal_external_id=f"D{i:03}")]
                if with_items
                else [],
            )
            for i in range(501)
        ]

    write(store, Batch(deals=deals(True)))
    write(store, Batch(deals=deals(False)), at=T1)
    got = select(store, "SELECT is_deleted, count(*) FROM line_items GROUP BY is_deleted")
    assert [(bool(d), n) for d, n in got] == [(True, 501)]
