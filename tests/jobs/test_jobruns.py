"""Job history, heartbeat and alert state on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest

from tracker.jobruns import (
    beat,
    clear_alert,
    consecutive_failures,
    heartbeat,
    last_runs,
    mark_mailed,
    open_alert,
    open_alerts,
    recent_runs,
    record_end,
    record_start,
)
from tracker.store import Store

SLOT = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)


def test_runs_are_recorded_and_read_newest_first(store: Store) -> None:
    first = record_start(store, "sync:hubspot", "sync", "hubspot", SLOT)
    record_end(store, first, "ok", counts={"deals": 12})
    second = record_start(store, "digest", "digest", None, SLOT + timedelta(days=7))
    runs = recent_runs(store)
    assert [r.id for r in runs] == [second, first]
    done = recent_runs(store, "sync:hubspot")[0]
    assert (done.kind, done.source, done.slot, done.outcome) == ("sync", "hubspot", SLOT, "ok")
    assert done.counts == {"deals": 12}
    assert done.ended_at is not None and done.ended_at >= done.started_at
    assert (done.host, done.pid) == (socket.gethostname(), os.getpid())
    running = runs[0]
    assert (running.outcome, running.ended_at, running.source) == ("running", None, None)
    assert set(last_runs(store)) == {"sync:hubspot", "digest"}
    assert recent_runs(store, limit=1)[0].id == second


def test_errors_are_one_line_and_outcomes_checked(store: Store) -> None:
    run = record_start(store, "sync", "sync", None, SLOT)
    record_end(store, run, "failed", error="boom\n  at line 3\n" + "x" * 2000)
    stored = recent_runs(store)[0]
    assert stored.error is not None and "\n" not in stored.error
    assert stored.error.startswith("boom at line 3 x") and len(stored.error) == 1000
    with pytest.raises(ValueError, match="unknown job outcome 'weird'"):
        record_end(store, run, "weird")


def test_consecutive_failures_count_back_to_the_last_success(store: Store) -> None:
    assert consecutive_failures(store, "sync") == 0
    for outcome in ("failed", "ok", "failed", "skipped", "failed"):
        record_end(store, record_start(store, "sync", "sync", None, SLOT), outcome)
    record_start(store, "sync", "sync", None, SLOT)  # still running: not counted
    record_end(store, record_start(store, "digest", "digest", None, SLOT), "failed")
    assert consecutive_failures(store, "sync") == 2
    assert consecutive_failures(store, "digest") == 1


def test_heartbeat_is_one_row(store: Store) -> None:
    assert heartbeat(store) is None
    since = datetime.now(UTC).replace(microsecond=0)
    beat(store, "host-a", 101, since)
    first = heartbeat(store)
    assert first is not None and (first.host, first.pid, first.since) == ("host-a", 101, since)
    beat(store, "host-b", 202, since + timedelta(minutes=1))
    second = heartbeat(store)
    assert second is not None and (second.host, second.pid) == ("host-b", 202)
    assert second.beat_at >= first.beat_at
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM scheduler_heartbeat").scalar() == 1


def test_alert_is_raised_once_until_cleared(store: Store) -> None:
    assert open_alert(store, "job:sync:hubspot", "failed twice:\nHTTP 500") is True
    assert open_alert(store, "job:sync:hubspot", "failed 3 times") is False
    mark_mailed(store, "job:sync:hubspot")
    (alert,) = open_alerts(store)
    assert (alert.key, alert.detail, alert.cleared_at) == (
        "job:sync:hubspot",
        "failed 3 times",
        None,
    )
    assert alert.mailed_at is not None
    assert clear_alert(store, "job:sync:hubspot") is True
    assert clear_alert(store, "job:sync:hubspot") is False
    assert open_alerts(store) == []
    assert open_alert(store, "job:sync:hubspot", "failed again") is True
    (again,) = open_alerts(store)
    assert again.mailed_at is None and again.detail == "failed again"


def _raise_at_once(store: Store, key: str, n: int) -> list[bool | BaseException]:
    """``open_alert`` from ``n`` threads released together; each one's answer or error."""
    start = threading.Barrier(n)
    results: list[bool | BaseException] = []

    def raise_it() -> None:
        start.wait()
        try:
            results.append(open_alert(store, key, "data 30h old"))
        except BaseException as exc:  # reported by the caller
            results.append(exc)

    threads = [threading.Thread(target=raise_it) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_an_alert_raised_by_many_at_once_is_new_for_one(store: Store) -> None:
    for round_ in range(2):  # a new alert, then one raised again after it cleared
        results = _raise_at_once(store, "stale:hubspot", 6)
        assert sorted(results, key=str) == [False] * 5 + [True], f"round {round_}: {results}"
        assert clear_alert(store, "stale:hubspot") is True
