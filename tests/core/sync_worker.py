"""A sync run in its own process, for crash (kill -9) and lock tests.

Usage: python -m tests.core.sync_worker STORE_URL SOURCE TOTAL_BATCHES DELAY_SECONDS
       [KILL_AT [KILL_POINT]]
Each batch holds 100 deals; its cursor is {"n": batches committed so far}. With KILL_AT
the process SIGKILLs itself while the KILL_AT-th batch is being stored, at KILL_POINT:

* ``commit`` (default): the moment its transaction commits;
* ``data``: before the first statement that writes its deals;
* ``cursor``: before the statement that writes its cursor (its deals already sent);
* ``run``: before the statement that updates the sync run's counts (its cursor sent);
* ``stmt:K``: before the K-th SQL statement run for it (1 = the first).

Whatever the point, the store must hold whole batches with the cursor that follows them.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event

from tracker.records import Batch, DealRecord, JsonDict
from tracker.store import Store
from tracker.sync import OpenBatches, run_sync

PER_BATCH = 100
ARMED = [False]
STATEMENTS = [0]  # statements run since the armed batch was handed over


def batches(total: int, delay: float, kill_at: int = 0) -> OpenBatches:
    """``total`` batches of ``PER_BATCH`` deals, resuming after the saved cursor."""

    def open_batches(cursor: JsonDict | None) -> Iterator[Batch]:
        start = int((cursor or {}).get("n", 0))
        for n in range(start, total):
            deals = [
                DealRecord(external_id=f"D{n * PER_BATCH + i}", amount=1.0)
                for i in range(PER_BATCH)
            ]
            time.sleep(delay)
            ARMED[0] = n + 1 == kill_at  # the engine's next writes are this batch's
            STATEMENTS[0] = 0
            yield Batch(deals=deals, cursor={"n": n + 1})

    return open_batches


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(store: Store, point: str) -> None:
    """Kill the process at ``point`` of the armed batch (see the module docstring)."""
    if point == "commit":

        @event.listens_for(store.engine, "commit")
        def _on_commit(conn: object) -> None:
            if ARMED[0]:
                _die()

        return

    @event.listens_for(store.engine, "before_cursor_execute")
    def _on_statement(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not ARMED[0]:
            return
        STATEMENTS[0] += 1
        sql = " ".join(statement.split()).lower()
        if point == "data" and sql.startswith(("insert into deals", "update deals")):
            _die()
        if point == "cursor" and "sync_cursors" in sql:
            _die()
        if point == "run" and sql.startswith("update sync_runs"):
            _die()
        if point.startswith("stmt:") and STATEMENTS[0] == int(point[5:]):
            _die()


def main() -> None:
    url, source, total, delay = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    kill_at = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    point = sys.argv[6] if len(sys.argv) > 6 else "commit"
    store = Store(url)
    store.ensure_ready()
    if kill_at:
        arm(store, point)
    result = run_sync(store, source, "test", batches(total, delay, kill_at))
    print(result.outcome, result.error or "", flush=True)


if __name__ == "__main__":
    main()
