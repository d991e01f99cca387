"""The sync engine: batch + cursor atomicity, run records, crashes, locks, dry runs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.core.sync_worker import PER_BATCH
from tracker.errors import BudgetExhausted, SourceError
from tracker.records import Batch, DealRecord, JsonDict, RejectedRow
from tracker.store import Store
from tracker.sync import Progress, load_cursor, run_sync

ROOT = Path(__file__).resolve().parents[2]


def count(store: Store, sql: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def cursor_of(store: Store, source: str) -> JsonDict | None:
    with store.engine.connect() as conn:
        return load_cursor(conn, source)


def deals(start: int, n: int) -> list[DealRecord]:
    return [DealRecord(external_id=f"D{i}", amount=float(i)) for i in range(start, start + n)]


def test_batches_commit_with_their_cursor_and_resume(store: Store) -> None:
    seen: list[JsonDict | None] = []

    def source(cursor: JsonDict | None) -> Iterator[Batch]:
        seen.append(cursor)
        start = int((cursor or {}).get("next", 0))
        for s in range(start, 30, 10):
            yield Batch(
                deals=deals(s, 10),
                cursor={"next": s + 10},
                rejected=[RejectedRow("f.csv:3", "bad")] if s == 0 else [],
            )

    first = run_sync(store, "src", "test", source)
    assert (first.outcome, first.exit_code) == ("partial", 3)  # one row rejected
    assert first.counts.received["deals"] == 30 and first.counts.changed["deals"] == 30
    assert first.rejected_total == 1
    second = run_sync(store, "src", "test", source)
    assert seen == [None, {"next": 30}]
    assert second.records == 0
    runs = count(
        store, "SELECT count(*) FROM sync_runs WHERE source='src' AND outcome IN ('ok', 'partial')"
    )
    assert runs == 2
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT counts FROM sync_runs ORDER BY id LIMIT 1")).scalar_one()
    if isinstance(stored, str):
        import json

        stored = json.loads(stored)
    assert stored["rejected"] == 1 and stored["rejected_examples"] == ["f.csv:3: bad"]


def test_failure_keeps_committed_batches_and_their_cursor(store: Store) -> None:
    def source(cursor: JsonDict | None) -> Iterator[Batch]:
        yield Batch(deals=deals(0, 5), cursor={"page": 1})
        raise SourceError("the CRM went away")

    result = run_sync(store, "src", "test", source)
    assert (result.outcome, result.exit_code, result.error) == ("failed", 1, "the CRM went away")
    assert count(store, "SELECT count(*) FROM deals") == 5
    assert cursor_of(store, "src") == {"page": 1}


def test_budget_exhaustion_stops_with_exit_3(store: Store) -> None:
    def source(cursor: JsonDict | None) -> Iterator[Batch]:
        yield Batch(deals=deals(0, 5), cursor={"page": 1})
        raise BudgetExhausted("API budget spent; rerun tomorrow to resume")

    result = run_sync(store, "src", "test", source)
    assert (result.outcome, result.exit_code) == ("stopped", 3)


def test_bad_batch_rolls_back_whole_and_cursor_stays(store: Store) -> None:
    def source(cursor: JsonDict | None) -> Iterator[Batch]:
        yield Batch(deals=deals(0, 5), cursor={"page": 1})
        yield Batch(
            deals=[*deals(5, 5), DealRecord(external_id=None)],  # type: ignore[arg-type]
            cursor={"page": 2},
        )

    with pytest.raises(Exception, match="(?i)null|constraint"):
        run_sync(store, "src", "test", source)
    assert count(store, "SELECT count(*) FROM deals") == 5
    assert cursor_of(store, "src") == {"page": 1}
    assert count(store, "SELECT count(*) FROM sync_runs WHERE outcome='failed'") == 1


def test_dry_run_writes_nothing(store: Store) -> None:
    run_sync(store, "src", "test", lambda c: iter([Batch(deals=deals(0, 3), cursor={"a": 1})]))
    result = run_sync(
        store,
        "src",
        "test",
        lambda c: iter(
            [
                Batch(
                    deals=deals(1, 4),
                    complete_deal_ids=frozenset(f"D{i}" for i in range(1, 5)),
                    cursor={"a": 2},
                )
            ]
        ),
        dry_run=True,
    )
    assert result.outcome == "dry-run"
    assert result.counts.changed["deals"] == 2 and result.counts.deleted == 1
    assert count(store, "SELECT count(*) FROM deals") == 3
    assert count(store, "SELECT count(*) FROM deals WHERE is_deleted = true") == 0
    assert cursor_of(store, "src") == {"a": 1}
    assert count(store, "SELECT count(*) FROM sync_runs") == 1


def _worker(store_url: str, source: str, total: int, delay: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.core.sync_worker", store_url, source, str(total), str(delay)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("kill_after", [1, 3])
def test_kill_9_mid_sync_then_rerun_is_exact(store: Store, kill_after: int) -> None:
    proc = _worker(store.url, "crash", 40, 0.05)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        cur = cursor_of(store, "crash")
        if cur and cur["n"] >= kill_after:
            break
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    cur = cursor_of(store, "crash")
    assert cur is not None
    # whatever the moment of the kill: whole batches only, and the cursor matches them
    assert count(store, "SELECT count(*) FROM deals") == cur["n"] * PER_BATCH
    rerun = _worker(store.url, "crash", 40, 0)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert out.startswith("ok")
    assert count(store, "SELECT count(*) FROM deals") == 40 * PER_BATCH
    assert count(store, "SELECT count(DISTINCT external_id) FROM deals") == 40 * PER_BATCH
    assert count(store, "SELECT count(*) FROM sync_runs WHERE outcome='interrupted'") == 1


def test_one_writer_per_source(store: Store) -> None:
    proc = _worker(store.url, "busy", 200, 0.05)
    try:
        deadline = time.monotonic() + 60
        while not cursor_of(store, "busy") and time.monotonic() < deadline:
            time.sleep(0.01)
        busy = run_sync(store, "busy", "test", lambda c: iter([Batch(deals=deals(0, 1))]))
        assert (busy.outcome, busy.exit_code) == ("skipped", 0)
        assert busy.error is not None
        assert busy.error.startswith(
            f"already being synced (host {socket.gethostname()}, pid {proc.pid}, since "
        )
        assert busy.error.endswith("; skipped, `tracker sync --wait` waits")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    # another source is not blocked
    assert (
        run_sync(store, "free", "test", lambda c: iter([Batch(deals=deals(0, 1))])).outcome == "ok"
    )


# every statement of a batch is covered: a batch runs at least three (data, cursor, run counts)
KILL_POINTS = ["commit", "data", "cursor", "run", "stmt:1", "stmt:2", "stmt:3"]


@pytest.mark.parametrize("point", KILL_POINTS)
@pytest.mark.parametrize("kill_at", [1, 3])
def test_kill_9_anywhere_in_a_batch_leaves_whole_batches_with_their_cursor(
    store: Store, kill_at: int, point: str
) -> None:
    """Killed at the commit, before the batch's data, between its data and its cursor, or
    at any statement: the store holds the batches before it, each with its cursor, and never
    a batch without its cursor or a cursor without its batch."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.core.sync_worker",
            store.url,
            "crash",
            "10",
            "0",
            str(kill_at),
            point,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, (point, proc.stdout, proc.stderr)
    cur = cursor_of(store, "crash") or {"n": 0}
    assert cur["n"] == kill_at - 1, point
    assert count(store, "SELECT count(*) FROM deals WHERE source = 'crash'") == (
        (kill_at - 1) * PER_BATCH
    ), point
    rerun = _worker(store.url, "crash", 10, 0)
    _, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert (
        count(store, "SELECT count(DISTINCT external_id) FROM deals WHERE source = 'crash'")
        == 10 * PER_BATCH
    )
    assert count(store, "SELECT count(*) FROM deals WHERE source = 'crash'") == 10 * PER_BATCH


def test_lock_excludes_threads_of_one_process(store: Store) -> None:
    import threading

    from tracker.locks import LockBusy, named_lock

    outcome: list[str] = []
    with named_lock(store, "sync:x", wait=False):

        def other() -> None:
            try:
                with named_lock(store, "sync:x", wait=False):
                    outcome.append("entered")
            except LockBusy:
                outcome.append("busy")

        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert outcome == ["busy"]
    with named_lock(store, "sync:x", wait=False):
        pass


def test_progress_total_follows_the_records_past_the_estimate() -> None:
    assert Progress("s", records=50, expected_total=100, elapsed=1.0).total == 100
    assert Progress("s", records=130, expected_total=100, elapsed=1.0).total == 130
    assert Progress("s", records=130, expected_total=None, elapsed=1.0).total is None


def test_unconverted_deals_are_counted_once_per_run(store: Store) -> None:
    jpy = DealRecord(external_id="J1", amount=100.0, currency="JPY")

    def source(cursor: JsonDict | None) -> Iterator[Batch]:
        converted = DealRecord(external_id="E1", amount=1.0, currency="EUR", amount_reporting=1.1)
        yield Batch(deals=[jpy, converted], cursor={"n": 1})
        gone = DealRecord(external_id="C1", amount=3.0, currency="CHF", is_deleted=True)
        again = [jpy, DealRecord(external_id="J2", amount=5.0, currency="JPY"), gone]
        yield Batch(deals=again, cursor={"n": 2})  # J1 read twice in one run: one deal

    result = run_sync(store, "src", "test", source)
    assert (result.outcome, result.exit_code) == ("ok", 0)
    assert result.unconverted == {"JPY": 2}
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT counts FROM sync_runs")).scalar_one()
    if isinstance(stored, str):
        import json

        stored = json.loads(stored)
    assert stored["unconverted"] == {"JPY": 2}
