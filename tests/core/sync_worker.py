"""A sync run in its own process, for crash (kill -9) and lock tests.

Usage: python -m tests.core.sync_worker STORE_URL SOURCE TOTAL_BATCHES DELAY_SECONDS
Each batch holds 100 deals; its cursor is {"n": batches committed so far}.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator

from tracker.records import Batch, DealRecord, JsonDict
from tracker.store import Store
from tracker.sync import run_sync

PER_BATCH = 100


def batches(total: int, delay: float) -> object:
    def open_batches(cursor: JsonDict | None) -> Iterator[Batch]:
        start = int((cursor or {}).get("n", 0))
        for n in range(start, total):
            deals = [
                DealRecord(external_id=f"D{n * PER_BATCH + i}", amount=1.0)
                for i in range(PER_BATCH)
            ]
            time.sleep(delay)
            yield Batch(deals=deals, cursor={"n": n + 1})

    return open_batches


def main() -> None:
    url, source, total, delay = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    store = Store(url)
    store.ensure_ready()
    result = run_sync(store, source, "test", batches(total, delay))  # type: ignore[arg-type]
    print(result.outcome, result.error or "", flush=True)


if __name__ == "__main__":
    main()
