"""Benchmark of the metrics engine: 1,000,000 deals with line items.

Computes every deal metric × 8 quarters × (company-wide, by owner, by team) through
the same path as ``tracker metrics`` (load → prepare → compute), and prints its wall time
and the ratio to the time it takes only to load the needed columns from the store in the
same run (target ≤ 1.5×).

    .venv/bin/python bench/metrics.py                       # SQLite file in /tmp, 1M deals
    .venv/bin/python bench/metrics.py --deals 100000
    .venv/bin/python bench/metrics.py --url postgresql+psycopg://postgres@127.0.0.1/bench

The store is generated once (deterministic seed) and reused while it holds the same count.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from _common import result
from sqlalchemy import Engine, func, insert, select

from tracker.metrics import REGISTRY, MetricRequest, compute, prepare
from tracker.metrics.compute import request_dimensions, required_fields
from tracker.metrics.load import load_deals
from tracker.models import Account, Deal, LineItem, Owner
from tracker.periods import quarter_period
from tracker.store import Store

CHUNK = 50_000
SOURCE = "crm"


def _table(model: type[Any]) -> Any:
    return model.__table__


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(_table(Deal))).scalar_one())


TEAMS = 16


def generate(engine: Engine, deals: int, seed: int = 7, owners: int = 400) -> int:
    """Fill an empty store with ``deals`` synthetic deals of ``owners`` owners in 16 teams
    (each team with a manager, every one with an e-mail address); returns the line-item
    count."""
    rng = np.random.default_rng(seed)
    accounts = max(deals // 8, 10)
    with engine.begin() as conn:
        conn.execute(
            insert(_table(Owner)),
            [
                {
                    "source": SOURCE,
                    "external_id": f"O{i}",
                    "name": f"Owner {i}",
                    "team": f"Team {i % TEAMS}",
                    "region": ("EMEA", "NA", "APAC", "LATAM")[i % 4],
                    "email": f"owner{i}@bench.example",
                    "manager_external_id": f"M{i % TEAMS}",
                }
                for i in range(owners)
            ]
            + [
                {
                    "source": SOURCE,
                    "external_id": f"M{t}",
                    "name": f"Manager {t}",
                    "team": f"Team {t}",
                    "region": None,
                    "email": f"manager{t}@bench.example",
                    "manager_external_id": None,
                }
                for t in range(TEAMS)
            ],
        )
        for start in range(0, accounts, CHUNK):
            conn.execute(
                insert(_table(Account)),
                [
                    {
                        "source": SOURCE,
                        "external_id": f"A{i}",
                        "segment": ("smb", "mid", "ent")[i % 3],
                        "is_deleted": False,
                        "custom": {},
                    }
                    for i in range(start, min(start + CHUNK, accounts))
                ],
            )
    items_total = 0
    epoch = datetime(2023, 7, 1, tzinfo=UTC)
    for start in range(0, deals, CHUNK):
        size = min(CHUNK, deals - start)
        created_s = rng.integers(0, 900 * 86400, size)
        cycle = rng.integers(-3, 180, size)
        outcome = rng.random(size)
        amount = np.round(rng.gamma(2.0, 8000.0, size), 2)
        eur = rng.random(size) < 0.2
        owner = rng.integers(0, owners, size)
        account = rng.integers(0, accounts, size)
        n_items = np.where(rng.random(size) < 0.7, rng.integers(1, 4, size), 0)
        deal_rows = []
        item_rows = []
        for j in range(size):
            number = start + j
            created = epoch + timedelta(seconds=int(created_s[j]))
            closed = outcome[j] < 0.75
            won = outcome[j] < 0.3
            rate = 1.1 if eur[j] else 1.0
            deal_rows.append(
                {
                    "source": SOURCE,
                    "external_id": f"D{number:07d}",
                    "account_external_id": f"A{account[j]}" if outcome[j] > 0.02 else None,
                    "owner_external_id": f"O{owner[j]}",
                    "pipeline": ("new", "renewal")[j % 2],
                    "is_closed": bool(closed),
                    "is_won": bool(won),
                    "created_at": created,
                    "close_date": (created.date() + timedelta(days=int(cycle[j])))
                    if closed
                    else None,
                    "amount": float(amount[j]),
                    "currency": "EUR" if eur[j] else "USD",
                    "amount_reporting": round(float(amount[j]) * rate, 2),
                    "list_amount": round(float(amount[j]) * 1.15, 2) if j % 3 else None,
                    "cost_amount": round(float(amount[j]) * 0.55, 2) if j % 5 else None,
                    "is_deleted": bool(j % 97 == 0),
                    "custom": {},
                }
            )
            for k in range(int(n_items[j])):
                quantity = 1 + (j + k) % 4
                price = round(float(amount[j]) / n_items[j] / quantity, 2)
                item_rows.append(
                    {
                        "source": SOURCE,
                        "external_id": f"L{number:07d}-{k}",
                        "deal_external_id": f"D{number:07d}",
                        "quantity": float(quantity),
                        "list_price": round(price * 1.2, 2),
                        "unit_price": price,
                        "total": round(price * quantity, 2),
                        "unit_cost": round(price * 0.5, 2) if (j + k) % 4 else None,
                        "is_deleted": bool(k == 2 and j % 11 == 0),
                    }
                )
        with engine.begin() as conn:
            conn.execute(insert(_table(Deal)), deal_rows)
            if item_rows:
                conn.execute(insert(_table(LineItem)), item_rows)
        items_total += len(item_rows)
        print(f"  generated {start + size:,} deals", flush=True)
    return items_total


def bench_store(doc: str) -> tuple[argparse.Namespace, Store]:
    """The options of a store benchmark (--deals, --url, --repeat) and its store, generated
    once (deterministic seed) and reused while it holds the same number of deals."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--url", default=None, help="store URL (default: SQLite in /tmp)")
    parser.add_argument("--repeat", type=int, default=2, help="best of N timings")
    args = parser.parse_args()
    url = args.url or f"sqlite:////tmp/tracker-bench-{args.deals}.db"
    store = Store(url)
    store.ensure_ready()
    if _count(store.engine) != args.deals:
        if _count(store.engine):
            raise SystemExit(f"{url} holds another number of deals; remove it first")
        print(f"generating {args.deals:,} deals into {url} ...", flush=True)
        generate(store.engine, args.deals)
    return args, store


def main() -> None:
    """Run the benchmark and print its figures."""
    args, store = bench_store(__doc__)
    with store.engine.connect() as conn:
        items = conn.execute(select(func.count()).select_from(_table(LineItem))).scalar_one()

    periods = tuple(quarter_period(y, q) for y in (2024, 2025) for q in (1, 2, 3, 4))
    # the deal metrics: the benchmark's store holds no activity
    deal_metrics = tuple(REGISTRY.names("deals"))
    request = MetricRequest(metrics=deal_metrics, periods=periods, by=("owner", "team"))
    fields = required_fields(request.metrics)
    dims = request_dimensions(request)

    load_times: list[float] = []
    wall_times: list[float] = []
    parts: list[tuple[float, float, float]] = []
    rows = 0
    for _ in range(args.repeat):
        started = time.perf_counter()
        load_deals(store.engine, fields, dims)
        load_times.append(time.perf_counter() - started)

        started = time.perf_counter()
        raw = load_deals(store.engine, fields, dims)
        loaded = time.perf_counter()
        frame = prepare(
            raw, timezone="Europe/Berlin", reporting_currency="USD", fields=fields, dimensions=dims
        )
        prepared = time.perf_counter()
        computed = compute(frame, request)
        done = time.perf_counter()
        wall_times.append(done - started)
        parts.append((loaded - started, prepared - loaded, done - prepared))
        rows = len(computed)
    load = min(load_times)
    wall = min(wall_times)
    best = parts[wall_times.index(wall)]
    print(f"store           {store.dialect}: {args.deals:,} deals, {items:,} line items")
    print(
        f"request         {len(request.metrics)} metrics × {len(periods)} quarters × "
        f"company/owner/team → {rows:,} rows"
    )
    print(f"load only       {load:.2f} s")
    print(
        f"wall time       {wall:.2f} s  (load {best[0]:.2f} + prepare {best[1]:.2f} "
        f"+ compute {best[2]:.2f})"
    )
    print(f"ratio           {wall / load:.2f} × load  (target ≤ 1.5 ×)")
    result("metrics engine", f"{wall:.2f} s", f"load only {load:.2f} s", wall / load, 1.5)
    store.close()


if __name__ == "__main__":
    main()
