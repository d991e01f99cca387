"""What the sync engine records: run rows, rejected rows, cursors, progress and exit codes.

Every expected figure is counted by hand from the batches the test yields.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from tracker.errors import BudgetExhausted, SourceError
from tracker.models import SyncRun
from tracker.records import Batch, DealRecord, JsonDict, RejectedRow
from tracker.store import Store
from tracker.sync import (
    MAX_REJECTS_KEPT,
    Progress,
    SyncResult,
    SyncSummary,
    load_cursor,
    run_sync,
    save_cursor,
)
from tracker.writer import WriteCounts


def _deals(*ids: str) -> list[DealRecord]:
    return [DealRecord(external_id=i, amount=1.0) for i in ids]


def _rejects(prefix: str, n: int) -> list[RejectedRow]:
    return [
        RejectedRow(f"{prefix}.csv:{i + 2}", f"bad {prefix}{i}", f"{prefix}{i}") for i in range(n)
    ]


def _runs(store: Store) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, source, kind, outcome, error, counts, started_at, finished_at "
                "FROM sync_runs ORDER BY id"
            )
        ).mappings()
        out = []
        for row in rows:
            run = dict(row)
            if isinstance(run["counts"], str):
                run["counts"] = json.loads(run["counts"])
            out.append(run)
        return out


def _stored_rejects(store: Store) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT run_id, source, location, reason, external_id FROM sync_rejects ORDER BY id"
            )
        )
        return [tuple(r) for r in rows]


def test_summary_exit_code_and_outcome() -> None:
    def summary(*codes: int) -> tuple[int, str]:
        s = SyncSummary(
            [SyncResult(source=f"s{i}", outcome="x", exit_code=c) for i, c in enumerate(codes)]
        )
        return s.exit_code, s.outcome

    assert summary(0, 0) == (0, "ok")
    assert summary(0, 1) == (3, "partial")  # one synced, one failed
    assert summary(3, 0) == (3, "partial")
    assert summary(2, 2) == (2, "config error")  # none synced, all for the configuration
    assert summary(1, 1) == (1, "failed")
    assert summary(2, 1) == (1, "failed")  # none synced, for different reasons
    assert summary(3, 3) == (3, "partial")
    assert summary(2) == (2, "config error")


def test_progress_rate_is_rows_per_second() -> None:
    assert Progress("s", records=30, expected_total=None, elapsed=2.0).rate == 15.0
    assert Progress("s", records=30, expected_total=None, elapsed=0.5).rate == 60.0
    assert Progress("s", records=30, expected_total=None, elapsed=0.0).rate == 0.0
    assert Progress("s", records=100, expected_total=100, elapsed=1.0).total == 100


def test_result_as_json_lists_every_count_and_the_first_rejects() -> None:
    counts = WriteCounts(
        received={"deals": 7}, changed={"deals": 5}, inserted={"deals": 4}, deleted=2
    )
    counts.activities_deleted = 1
    rejected = _rejects("r", MAX_REJECTS_KEPT + 3)
    result = SyncResult(
        source="s",
        outcome="partial",
        counts=counts,
        records=9,
        api_calls=4,
        rejected=rejected,
        rejected_total=MAX_REJECTS_KEPT + 3,
        notes=["a note"],
        warnings=["a warning"],
        unconverted={"JPY": 2},
    )
    assert MAX_REJECTS_KEPT == 50
    assert result.as_json() == {
        "records": 9,
        "api_calls": 4,
        "received": {"deals": 7},
        "changed": {"deals": 5},
        "inserted": {"deals": 4},
        "deleted": 2,
        "activities_deleted": 1,
        "rejected": 53,
        "rejected_examples": [f"r.csv:{i + 2}: bad r{i}" for i in range(50)],
        "notes": ["a note"],
        "warnings": ["a warning"],
        "unconverted": {"JPY": 2},
    }


def test_a_run_records_its_batches_rejects_notes_and_progress(store: Store) -> None:
    first_rejects, second_rejects = _rejects("a", 2), _rejects("b", 1)

    def source(cursor: JsonDict | None) -> Iterator[Batch]:
        yield Batch(
            deals=_deals("D1", "D2", "D3"),
            rejected=first_rejects,
            cursor={"p": 1},
            expected_total=10,
            api_calls=2,
            notes=["n1"],
            warnings=["w1"],
        )
        yield Batch(deals=_deals("D4", "D5"), rejected=second_rejects, api_calls=3, notes=["n2"])

    seen: list[Progress] = []
    before = datetime.now(UTC)
    result = run_sync(store, "src", "csv", source, on_progress=seen.append)
    assert (result.outcome, result.exit_code, result.error) == ("partial", 3, None)
    assert (result.records, result.api_calls, result.rejected_total) == (5, 5, 3)
    assert result.rejected == first_rejects + second_rejects
    assert (result.notes, result.warnings) == (["n1", "n2"], ["w1"])
    assert (result.counts.received["deals"], result.counts.inserted["deals"]) == (5, 5)
    # progress: deal rows handled = stored + rejected so far, with each batch's estimate
    assert [(p.source, p.records, p.expected_total) for p in seen] == [
        ("src", 5, 10),
        ("src", 8, None),
    ]
    assert 0 <= seen[0].elapsed <= seen[1].elapsed <= result.seconds < 600

    [run] = _runs(store)
    assert result.run_id == run["id"]
    assert (run["source"], run["kind"], run["outcome"], run["error"]) == (
        "src",
        "csv",
        "partial",
        None,
    )
    assert run["counts"] == result.as_json()
    assert run["counts"]["records"] == 5 and run["counts"]["rejected"] == 3
    started = run["started_at"]
    finished = run["finished_at"]
    if isinstance(started, str):
        started, finished = datetime.fromisoformat(started), datetime.fromisoformat(finished)
    assert started.replace(tzinfo=UTC) >= before - timedelta(seconds=1)
    assert finished >= started
    assert _stored_rejects(store) == [
        (run["id"], "src", "a.csv:2", "bad a0", "a0"),
        (run["id"], "src", "a.csv:3", "bad a1", "a1"),
        (run["id"], "src", "b.csv:2", "bad b0", "b0"),
    ]
    # the second batch had no cursor: the first one's stays
    with store.engine.connect() as conn:
        assert load_cursor(conn, "src") == {"p": 1}


def test_only_the_first_rejects_are_kept_in_the_result_but_all_are_stored(store: Store) -> None:
    def source(cursor: JsonDict | None) -> Iterator[Batch]:
        yield Batch(rejected=_rejects("a", 40))
        yield Batch(rejected=_rejects("b", 20))
        yield Batch(rejected=_rejects("c", 5))

    result = run_sync(store, "src", "csv", source)
    assert result.rejected_total == 65
    assert result.rejected == _rejects("a", 40) + _rejects("b", 10)
    assert len(_stored_rejects(store)) == 65


def test_the_cursor_is_replaced_not_duplicated(store: Store) -> None:
    with store.engine.begin() as conn:
        assert load_cursor(conn, "src") is None
        save_cursor(conn, "src", {"page": 1})
        save_cursor(conn, "other", {"page": 7})
    replaced_after = datetime.now(UTC)
    with store.engine.begin() as conn:
        save_cursor(conn, "src", {"page": 2})
    with store.engine.connect() as conn:
        assert load_cursor(conn, "src") == {"page": 2}
        updated = conn.execute(text("SELECT updated_at FROM sync_cursors WHERE source = 'src'"))
        [(updated_at,)] = updated.all()
    if isinstance(updated_at, str):
        updated_at = datetime.fromisoformat(updated_at).replace(tzinfo=UTC)
    assert updated_at >= replaced_after  # the time of the replacement, not of the first save
    with store.engine.connect() as conn:
        assert load_cursor(conn, "other") == {"page": 7}
        rows = conn.execute(text("SELECT source, updated_at FROM sync_cursors ORDER BY source"))
        rows = [tuple(r) for r in rows]
    assert [r[0] for r in rows] == ["other", "src"]
    assert all(r[1] is not None for r in rows)


def test_a_dry_run_with_rejects_exits_3_and_keeps_nothing(store: Store) -> None:
    def source(cursor: JsonDict | None) -> Iterator[Batch]:
        yield Batch(deals=_deals("D1", "D2"), rejected=_rejects("a", 1), cursor={"p": 1})

    result = run_sync(store, "src", "csv", source, dry_run=True)
    assert (result.outcome, result.exit_code, result.run_id) == ("dry-run", 3, None)
    assert (result.counts.changed["deals"], result.rejected_total) == (2, 1)
    assert _runs(store) == [] and _stored_rejects(store) == []
    with store.engine.connect() as conn:
        assert load_cursor(conn, "src") is None
        assert conn.execute(text("SELECT count(*) FROM deals")).scalar_one() == 0


@pytest.mark.parametrize(
    ("error", "outcome", "code"),
    [
        (SourceError("the CRM went away"), "failed", 1),
        (BudgetExhausted("budget spent"), "stopped", 3),
    ],
)
def test_a_source_error_is_recorded_with_the_run(
    store: Store, error: Exception, outcome: str, code: int
) -> None:
    def source(cursor: JsonDict | None) -> Iterator[Batch]:
        yield Batch(deals=_deals("D1"), cursor={"p": 1})
        raise error

    result = run_sync(store, "src", "csv", source)
    assert (result.outcome, result.exit_code, result.error) == (outcome, code, str(error))
    [run] = _runs(store)
    assert (run["outcome"], run["error"], run["counts"]["records"]) == (outcome, str(error), 1)
    assert run["finished_at"] is not None


@pytest.mark.parametrize(
    ("raised", "outcome", "error"),
    [
        (KeyboardInterrupt(), "interrupted", "interrupted"),
        (ValueError("x"), "failed", "internal error: ValueError"),
    ],
)
def test_an_interrupt_or_a_bug_is_recorded_then_raised(
    store: Store, raised: BaseException, outcome: str, error: str
) -> None:
    def source(cursor: JsonDict | None) -> Iterator[Batch]:
        yield Batch(deals=_deals("D1", "D2"), cursor={"p": 1})
        raise raised

    with pytest.raises(type(raised)):
        run_sync(store, "src", "csv", source)
    [run] = _runs(store)
    assert (run["outcome"], run["error"], run["counts"]["records"]) == (outcome, error, 2)
    assert run["finished_at"] is not None
    # the lock is released: the next sync runs
    assert run_sync(store, "src", "csv", lambda c: iter([])).outcome == "ok"


def test_a_run_left_running_by_a_crash_is_marked_interrupted(store: Store) -> None:
    table = SyncRun.__table__  # type: ignore[attr-defined]
    stamp = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    with store.engine.begin() as conn:
        for source in ("src", "other"):
            conn.execute(
                table.insert().values(
                    source=source, kind="csv", started_at=stamp, outcome="running", counts={}
                )
            )
    assert run_sync(store, "src", "csv", lambda c: iter([])).outcome == "ok"
    runs = [(r["source"], r["outcome"], r["error"]) for r in _runs(store)]
    assert runs == [
        ("src", "interrupted", "the process ended before the sync finished"),
        ("other", "running", None),  # another source's run is not ours to close
        ("src", "ok", None),
    ]


def test_the_run_row_is_running_from_the_start_and_counts_each_committed_batch(
    store: Store,
) -> None:
    # an earlier, finished run of the same source must not be touched
    assert run_sync(store, "src", "csv", lambda c: iter([])).outcome == "ok"
    seen: list[tuple[Any, ...]] = []

    def stored_run() -> tuple[Any, ...]:
        run = _runs(store)[-1]
        return (run["outcome"], run["kind"], run["finished_at"], run["counts"])

    def source(cursor: JsonDict | None) -> Iterator[Batch]:
        seen.append(stored_run())  # before the first batch
        yield Batch(deals=_deals("D1", "D2"), rejected=_rejects("a", 1), cursor={"p": 1})
        yield Batch(deals=_deals("D3"), cursor={"p": 2})

    def progress(p: Progress) -> None:
        seen.append(stored_run())

    run_sync(store, "src", "csv", source, on_progress=progress)
    counts = [None if s[3] == {} else (s[3]["records"], s[3]["rejected"]) for s in seen]
    assert [s[:3] for s in seen] == [("running", "csv", None)] * 3
    assert counts == [None, (2, 1), (3, 1)]
    first, last = _runs(store)
    assert (first["outcome"], first["counts"]["records"]) == ("ok", 0)
    assert (last["outcome"], last["counts"]["records"]) == ("partial", 3)


def test_a_failed_sync_logs_its_traceback_for_verbose(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    def source(cursor: JsonDict | None) -> Iterator[Batch]:
        raise SourceError("the CRM went away")
        yield Batch()

    with caplog.at_level(logging.DEBUG, logger="tracker.sync"):
        run_sync(store, "src", "csv", source)
    [record] = [r for r in caplog.records if r.name == "tracker.sync"]
    assert (record.levelno, record.getMessage()) == (
        logging.DEBUG,
        "sync of src ended on an error",
    )
    assert record.exc_info is not None and record.exc_info[0] is SourceError


def test_a_busy_source_is_skipped_at_once_naming_the_holder_and_records_nothing(
    store: Store,
) -> None:
    from tracker.locks import named_lock

    results: dict[str, SyncResult] = {}

    def sync(source: str) -> None:
        batches = [Batch(deals=_deals("D1"), cursor={"p": 1})]
        results[source] = run_sync(store, source, "csv", lambda c: iter(batches))

    with named_lock(store, "sync:busy", wait=False):  # another sync holds it
        for source in ("busy", "free"):
            worker = threading.Thread(target=sync, args=(source,))
            worker.start()
            worker.join()
    busy, free = results["busy"], results["free"]
    assert (busy.source, busy.outcome, busy.exit_code, busy.run_id, busy.records) == (
        "busy",
        "skipped",
        0,
        None,
        0,
    )
    assert busy.error is not None
    assert busy.error.startswith("already being synced (")
    assert busy.error.endswith("); skipped, `tracker sync --wait` waits")
    assert (free.source, free.outcome, free.exit_code, free.records) == ("free", "ok", 0, 1)
    assert [(r["source"], r["outcome"]) for r in _runs(store)] == [("free", "ok")]
    with store.engine.connect() as conn:
        assert (load_cursor(conn, "busy"), load_cursor(conn, "free")) == (None, {"p": 1})


def test_every_time_a_sync_stores_is_utc_whatever_the_machine_zone(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        before = datetime.now(UTC)
        run_sync(store, "src", "csv", lambda c: iter([Batch(deals=_deals("D1"), cursor={"p": 1})]))
        after = datetime.now(UTC)
    finally:
        monkeypatch.undo()
        time.tzset()
    [run] = _runs(store)
    with store.engine.connect() as conn:
        [(synced_at,)] = conn.execute(text("SELECT synced_at FROM deals")).all()
        [(updated_at,)] = conn.execute(text("SELECT updated_at FROM sync_cursors")).all()
    stored = [run["started_at"], run["finished_at"], synced_at, updated_at]
    for value in stored:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        assert before - timedelta(seconds=1) <= value <= after + timedelta(seconds=1), stored


def test_batches_commit_while_another_process_writes_the_store(store: Store) -> None:
    """A batch reads the stored deals before it writes them; another writer committing in
    between (the scheduler's heartbeat, a second source's sync) must not fail it. On SQLite
    a deferred transaction cannot take the write lock once its read snapshot is stale
    ("database is locked" at once, whatever the busy timeout): a batch takes it first."""
    from tracker.jobruns import beat

    since = datetime.now(UTC)
    done = threading.Event()
    beats = 0

    def heartbeat() -> None:
        nonlocal beats
        other = Store(store.url)
        try:
            while not done.is_set():
                beat(other, "elsewhere", 1, since)
                beats += 1
        finally:
            other.close()

    ids = [f"D{i}" for i in range(40)]
    batches = [Batch(deals=_deals(*ids[: n + 1]), cursor={"p": n}) for n in range(40)]
    writer = threading.Thread(target=heartbeat)
    writer.start()
    try:
        results = [run_sync(store, "src", "csv", lambda c: iter(batches)) for _ in range(3)]
    finally:
        done.set()
        writer.join()
    assert beats > 0
    assert [(r.outcome, r.error, r.records) for r in results] == [("ok", None, 820)] * 3
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM deals")).scalar() == 40
        assert load_cursor(conn, "src") == {"p": 39}
