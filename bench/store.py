"""Benchmark: bulk upserts into a fresh SQLite store vs. plain sqlite3 executemany.

Upserts N deals (default 1,000,000) through the sync engine (batch + cursor per
transaction, 5,000 deals a batch), then the same engine with 10 % of them changed. The
baseline, measured in the same run on the same schema (created by the migrations) and
the same rows, is a plain ``sqlite3`` ``executemany`` INSERT (then UPDATE by key for the
changed rows) committed per batch of the same size. Prints rows/s and the ratio.

    python bench/store.py [--deals N]
"""

from __future__ import annotations

import argparse
import gc
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from _common import result

from tracker.records import Batch, DealRecord, JsonDict
from tracker.store import Store
from tracker.sync import run_sync
from tracker.writer import DEALS, Dialect

BATCH = 5000
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def make_deals(n: int, version: int = 0) -> list[DealRecord]:
    out = []
    for i in range(n):
        won = i % 3 == 0
        out.append(
            DealRecord(
                external_id=f"006{i:012d}",
                name=f"Deal {i} v{version}",
                account_external_id=f"001{i % 5000:09d}",
                owner_external_id=f"005{i % 200:06d}",
                stage="Closed Won" if won else "Prospecting",
                pipeline="default",
                is_closed=won,
                is_won=won,
                created_at=T0 + timedelta(minutes=i),
                close_date=date(2024, 1, 1) + timedelta(days=i % 700),
                amount=1000.0 + i + version,
                currency="USD",
                amount_reporting=1000.0 + i + version,
                list_amount=1200.0 + i,
                cost_amount=None,
                deal_type="New Customer" if i % 4 == 0 else "Existing",
                is_new_business=i % 4 == 0,
                source_modified_at=T0 + timedelta(seconds=i + version),
                custom={"forecast": "Commit"},
            )
        )
    return out


def engine_path(store: Store, deals: list[DealRecord]) -> float:
    def batches(cursor: JsonDict | None) -> Iterator[Batch]:
        for start in range(0, len(deals), BATCH):
            yield Batch(deals=deals[start : start + BATCH], cursor={"i": start + BATCH})

    gc.collect()
    t = time.perf_counter()
    result = run_sync(store, "bench", "bench", batches)
    elapsed = time.perf_counter() - t
    assert result.outcome == "ok", result.error
    return elapsed


def encoded_rows(deals: list[DealRecord]) -> list[tuple[object, ...]]:
    """The exact tuples the baseline inserts: same values, already in SQLite's formats."""
    dialect = Dialect("sqlite")
    build = dialect.row_builder(DEALS)
    stamp = dialect.encode_datetime(datetime.now(UTC))
    return [build("bench", d, stamp) for d in deals]


def baseline_insert(path: Path, rows: list[tuple[object, ...]]) -> float:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    cols = DEALS.columns
    sql = f"INSERT INTO deals ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    gc.collect()
    t = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        conn.executemany(sql, rows[start : start + BATCH])
        conn.commit()
    elapsed = time.perf_counter() - t
    conn.close()
    return elapsed


def baseline_update(path: Path, rows: list[tuple[object, ...]]) -> float:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=NORMAL")
    cols = DEALS.columns[2:]  # all but the key
    sql = (
        f"UPDATE deals SET {', '.join(f'{c} = ?' for c in cols)} "
        "WHERE source = ? AND external_id = ?"
    )
    params = [(*r[2:], r[0], r[1]) for r in rows]
    gc.collect()
    t = time.perf_counter()
    for start in range(0, len(params), BATCH):
        conn.executemany(sql, params[start : start + BATCH])
        conn.commit()
    elapsed = time.perf_counter() - t
    conn.close()
    return elapsed


def fresh_store(folder: Path, name: str) -> Store:
    store = Store(f"sqlite:///{folder / name}")
    store.ensure_ready()
    return store


def report(label: str, n: int, ours: float, base: float, target: float) -> None:
    ratio = ours / base
    verdict = "OK" if ratio <= target else "OVER TARGET"
    print(
        f"{label}: tracker {n / ours:,.0f} rows/s ({ours:.2f} s), plain sqlite3 "
        f"{n / base:,.0f} rows/s ({base:.2f} s), ratio {ratio:.2f} (target <= {target}) {verdict}"
    )
    result(f"store: {label}", f"{ours:.2f} s", f"plain sqlite3 {base:.2f} s", ratio, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1_000_000)
    args = parser.parse_args()
    n = args.deals
    changed_n = n // 10
    print(f"generating {n:,} deals ...", flush=True)
    deals = make_deals(n)
    changed = make_deals(changed_n, version=1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base_store = fresh_store(folder, "baseline.db")
        base_path = folder / "baseline.db"
        base_store.close()
        ours_store = fresh_store(folder, "tracker.db")
        rows = encoded_rows(deals)
        base_fresh = baseline_insert(base_path, rows)
        del rows
        ours_fresh = engine_path(ours_store, deals)
        report(f"fresh upsert of {n:,} deals", n, ours_fresh, base_fresh, 1.5)
        changed_rows = encoded_rows(changed)
        base_changed = baseline_update(base_path, changed_rows)
        ours_changed = engine_path(ours_store, changed)
        report(f"upsert of {changed_n:,} changed deals", changed_n, ours_changed, base_changed, 1.5)
        with ours_store.engine.connect() as conn:
            total = conn.exec_driver_sql("SELECT count(*) FROM deals").scalar_one()
        assert total == n, total
        ours_store.close()


if __name__ == "__main__":
    main()
