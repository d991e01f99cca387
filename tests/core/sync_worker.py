"""A sync run in its own process, for crash (kill -9) and lock tests.

Usage: python -m tests.core.sync_worker STORE_URL SOURCE TOTAL_BATCHES DELAY_SECONDS [KILL_AT]
Each batch holds 100 deals; its cursor is {"n": batches committed so far}. With KILL_AT
the process SIGKILLs itself at the moment the KILL_AT-th batch's transaction commits.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Iterator

from sqlalchemy import event

from tracker.records import Batch, DealRecord, JsonDict
from tracker.store import Store
from tracker.sync import OpenBatches, run_sync

PER_BATCH = 100
ARMED = [False]


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
            ARMED[0] = n + 1 == kill_at  # the engine's next commit is this batch's
            yield Batch(deals=deals, cursor={"n": n + 1})

    return open_batches


def main() -> None:
    url, source, total, delay = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    kill_at = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    store = Store(url)
    store.ensure_ready()

    @event.listens_for(store.engine, "commit")
    def _die(conn: object) -> None:
        if ARMED[0]:
            os.kill(os.getpid(), signal.SIGKILL)

    result = run_sync(store, source, "test", batches(total, delay, kill_at))
    print(result.outcome, result.error or "", flush=True)


if __name__ == "__main__":
    main()
