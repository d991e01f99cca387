"""Benchmark: the HubSpot connector's full and incremental sync against the sandbox.

Run ``.venv/bin/python bench/hubspot_sync.py [--deals 100000] [--memory 50000,200000]``.

The sandbox serves the portal from this process; every sync (and the baseline) runs in a
child process so its peak RSS is its own. It prints

* the full sync (backfill) of ``--deals`` deals with line items into a SQLite store:
  records/s, deals/s and API calls;
* the same requests (companies pages, deal pages with associations, line-item batch
  reads) made by a bare ``requests`` + ``json`` loop in the same run, and the ratio of the
  two durations (target ≤ 2.0): ``--repeat`` alternating rounds, the best of each;
* an incremental sync after 1 % of the deals changed: its API calls as a share of the full
  sync's (target ≤ 2 %), with the default of listing archived deals and companies on every
  sync; then the same with ``archived_every_minutes = 60`` (the listing at most hourly, a
  trade of exactness for calls);
* the peak RSS of full syncs of the ``--memory`` sizes (target: largest ≤ 1.25 × smallest).

Rate budgets are raised for the loopback sandbox (the real portal's are in the docs).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    alternate_rounds,
    bearer_session,
    cpu_seconds,
    peak_rss_mb,
    print_memory,
    print_memory_ratio,
    result,
    run_child,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TOKEN_ENV = "HSCONN_BENCH_TOKEN"
SEED = 11


# ---------------------------------------------------------------- child processes


def _settings(url: str, db: str, **extra: Any) -> Any:
    from connectors.registry import settings_models
    from tracker.settings import settings_from_dict

    raw = {
        "tracker": {"timezone": "America/New_York", "exchange_rates": {"EUR": 1.08, "GBP": 1.27}},
        "store": {"url": f"sqlite:///{db}"},
        "sources": {
            "hs": {
                "kind": "hubspot",
                "access_token": {"env": TOKEN_ENV},
                "base_url": url,
                "properties": {"segment": "customer_segment"},
                "rate_limits": {"search_per_second": 10_000, "requests_per_10s": 100_000},
                "batch_size": 2000,
                **extra,
            }
        },
    }
    return settings_from_dict(raw, base_dir=Path(db).parent, source_models=settings_models())


def child_sync(url: str, db: str, archived_every_minutes: float | None = None) -> dict[str, Any]:
    """One ``tracker sync`` of the portal into ``db`` (what the CLI runs, minus the CLI)."""
    from connectors.base import SyncContext
    from connectors.hubspot.connector import HubSpotConnector
    from tracker.runtime import tune_gc_for_batch_work
    from tracker.store import Store
    from tracker.sync import run_sync

    extra = (
        {} if archived_every_minutes is None else {"archived_every_minutes": archived_every_minutes}
    )
    settings = _settings(url, db, **extra)
    store = Store(settings.store.url)
    store.ensure_ready()
    source = settings.source("hs")
    conn = HubSpotConnector("hs", source, SyncContext(tracker=settings.tracker))
    conn.check()
    tune_gc_for_batch_work()  # as the `tracker` entry point does after start-up
    t, cpu = time.perf_counter(), cpu_seconds()
    result = run_sync(store, "hs", "hubspot", conn.batches)
    seconds, cpu = time.perf_counter() - t, cpu_seconds() - cpu
    if result.exit_code:
        raise SystemExit(f"sync failed: {result.error}")
    return {
        "seconds": seconds,
        "records": result.records,
        "deals": result.counts.received.get("deals", 0),
        "line_items": result.counts.received.get("line_items", 0),
        "calls": result.api_calls,
        "cpu": cpu,
    }


def child_bare(url: str) -> dict[str, Any]:
    """The backfill's requests with ``requests`` + ``json`` only: no SDK, mapping or store."""
    from connectors.hubspot.mapping import Mapper, stage_map

    s = bearer_session(TOKEN_ENV)
    settings = _settings(url, str(Path(tempfile.gettempdir()) / "hsconn_unused.db"))
    mapper = Mapper(settings.source("hs"), settings.tracker, stage_map([]))
    t, cpu = time.perf_counter(), cpu_seconds()
    deals = lines = calls = 0

    def pages(path: str, params: dict[str, Any]) -> Any:
        nonlocal calls
        after = ""
        while after is not None:
            query = {**params, "limit": 100, **({"after": after} if after else {})}
            calls += 1
            body = json.loads(s.get(f"{url}{path}", params=query, timeout=60).content)
            yield body["results"]
            after = body["paging"]["next"]["after"] if "paging" in body else None

    for _ in pages("/crm/v3/objects/companies", {"properties": mapper.company_properties()}):
        pass
    query = {"properties": mapper.deal_properties(), "associations": ["companies", "line_items"]}
    for results in pages("/crm/v3/objects/deals", query):
        deals += len(results)
        ids = [
            x["id"]
            for r in results
            for x in r.get("associations", {}).get("line items", {}).get("results", ())
        ]
        for i in range(0, len(ids), 100):
            calls += 1
            body = {
                "inputs": [{"id": x} for x in ids[i : i + 100]],
                "properties": mapper.line_item_properties(),
            }
            got = json.loads(
                s.post(f"{url}/crm/v3/objects/line_items/batch/read", json=body, timeout=60).content
            )
            lines += len(got["results"])
    return {
        "seconds": time.perf_counter() - t,
        "deals": deals,
        "line_items": lines,
        "calls": calls,
        "cpu": cpu_seconds() - cpu,
    }


def child_main(argv: list[str]) -> None:
    """``--child sync URL DB`` or ``--child bare URL``: print one JSON line of figures."""
    mode, url = argv[0], argv[1]
    if mode == "bare":
        out = child_bare(url)
    else:
        out = child_sync(url, argv[2], None if mode == "sync" else 60)
    out["max_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))


# ---------------------------------------------------------------- parent


def main() -> None:
    """Run the benchmark and print the figures."""
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--memory", default="50000,200000", help="sizes to compare ('' skips)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="alternate bare/sync runs; the best of each counts"
    )
    args = parser.parse_args()

    from sandbox import Sandbox

    with tempfile.TemporaryDirectory(prefix="hsconn_bench_") as tmp:
        t0 = time.perf_counter()
        with Sandbox.start(deals=args.deals, seed=SEED, hubspot_share=1.0) as sb:
            live = len(sb.deal_ids("hubspot"))
            print(f"sandbox: {live:,} live deals generated in {time.perf_counter() - t0:.1f} s")
            # alternate the two, each sync into a fresh store
            token, url = sb.hubspot_token, sb.hubspot_url
            rounds = alternate_rounds(
                lambda n: run_child(__file__, TOKEN_ENV, token, "bare", url),
                lambda n: run_child(
                    __file__, TOKEN_ENV, token, "sync", url, str(Path(tmp) / f"full{n}.db")
                ),
                args.repeat,
            )
            bare, full = rounds.bare, rounds.sync
            db = str(Path(tmp) / f"full{max(args.repeat, 1) - 1}.db")  # the latest round's
            ratio = full["seconds"] / bare["seconds"]
            print(f"rounds        sync/bare per round: {rounds.ratios}")
            cpu_ratio = min(f["cpu"] for f in rounds.syncs) / min(b["cpu"] for b in rounds.bares)
            print(f"cpu           sync/bare CPU seconds (best of each): {cpu_ratio:.2f}")
            print(
                f"full sync     {full['deals']:,} deals + {full['line_items']:,} line items, "
                f"{full['records']:,} records in {full['seconds']:.1f} s: "
                f"{full['records'] / full['seconds']:,.0f} records/s, "
                f"{full['deals'] / full['seconds']:,.0f} deals/s, {full['calls']:,} API calls"
            )
            print(
                f"bare requests {bare['deals']:,} deals + {bare['line_items']:,} line items in "
                f"{bare['seconds']:.1f} s ({bare['deals'] / bare['seconds']:,.0f} deals/s, "
                f"{bare['calls']:,} calls); ratio sync/bare = {ratio:.2f} "
                f"({'OK' if ratio <= 2.0 else 'ABOVE TARGET'}, target ≤ 2.0)"
            )
            result(
                "hubspot: full sync",
                f"{full['seconds']:.1f} s",
                f"bare loop {bare['seconds']:.1f} s",
                ratio,
                2.0,
            )
            changed = sb.update_deals("hubspot", n=max(live // 100, 1))
            inc = run_child(__file__, TOKEN_ENV, sb.hubspot_token, "sync", sb.hubspot_url, db)
            share = inc["calls"] / full["calls"]
            print(
                f"incremental   {len(changed):,} deals changed (1 %): {inc['calls']:,} API calls "
                f"in {inc['seconds']:.1f} s = {share:.2%} of the full sync's "
                f"({'OK' if share <= 0.02 else 'ABOVE TARGET'}, target ≤ 2 %)"
            )
            result(
                "hubspot: incremental calls, 1 % changed",
                f"{inc['calls']:,} calls",
                f"full {full['calls']:,} calls",
                share,
                0.02,
                percent=True,
            )
            changed = sb.update_deals("hubspot", n=max(live // 100, 1))
            every = run_child(
                __file__, TOKEN_ENV, sb.hubspot_token, "sync-archived-hourly", sb.hubspot_url, db
            )
            print(
                f"incremental   {len(changed):,} more changed, archived_every_minutes = 60 "
                f"(archived listing skipped): {every['calls']:,} API calls = "
                f"{every['calls'] / full['calls']:.2%} of the full sync's"
            )
        sizes = [int(x) for x in args.memory.split(",") if x]
        peaks: dict[int, float] = {}
        for n in sizes:
            with Sandbox.start(deals=n, seed=SEED, hubspot_share=1.0) as sb:
                figures = run_child(
                    __file__,
                    TOKEN_ENV,
                    sb.hubspot_token,
                    "sync",
                    sb.hubspot_url,
                    str(Path(tmp) / f"mem{n}.db"),
                )
                print_memory(figures, peaks, n)
        print_memory_ratio(peaks, "hubspot: peak RSS")


if __name__ == "__main__":
    main()
