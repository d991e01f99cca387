"""Benchmark: the activity sync (Salesforce Task/Event, HubSpot calls/meetings/emails)
against the sandbox, for both CRMs (issue 18, point 5).

Run ``.venv/bin/python bench/activities.py [--activities 1000000]
[--memory 250000,1000000] [--repeat 3] [--crm salesforce,hubspot]``; a quick run:
``--activities 100000 --memory 50000,200000 --repeat 1``.

* ``--activities``: the size of the full sync (default 1,000,000; about 50 activities a
  deal, so 20,000 deals come with them); the sandbox serves one CRM at a time from this
  process, and every sync (and baseline) runs in a child process, so its peak RSS and CPU
  time are its own.
* For each CRM it prints

  - the full sync (``activities = true``) into a SQLite store: activities/s, API calls;
  - the same pages read by a bare ``requests`` + ``json`` loop (Salesforce: ``queryAll``
    keyset pages of Account, Opportunity, Task and Event; HubSpot: pipelines, owners, the
    newest-stamp search of each type, the company, deal (with line items), call, meeting
    and email list pages with their inline associations, and the archived listings), and
    the ratio of the two durations (target ≤ 2.0):
    ``--repeat`` alternating rounds, the fastest of each, with the CPU-time ratio beside;
  - an incremental sync after 1 % of the activities changed: its API calls as a share of
    the full sync's (target ≤ 2 %), with the requests per endpoint (from the sandbox's
    counters; Salesforce composite subrequests are counted there by their own endpoint,
    though toward the API limit only the composite call counts); HubSpot twice, for the same changes from copies of the same full sync:
    with ``archived_every_minutes = 60`` (the archived listing skipped: the full sync
    listed them minutes ago), then with archived objects listed on every sync (the
    default: deletions exact on every run);
  - the peak RSS of full syncs of the ``--memory`` sizes (target: largest ≤ 1.25 ×
    smallest); a size equal to ``--activities`` takes the full sync's rounds (their
    highest peak) instead of syncing again.

``--crm``: one CRM only. ``make bench`` (``run_all.py``) runs it with the defaults.
Rate budgets are raised for the loopback sandbox (the real ones are in the docs).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from _common import (
    alternate_rounds,
    bearer_session,
    cpu_seconds,
    peak_rss_mb,
    print_memory_ratio,
    result,
    run_child,
)
from salesforce_sync import keyset_pages

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TOKEN_ENV = "ACTBENCH_TOKEN"
SEED = 18
PER_DEAL = 50
CRMS = ("salesforce", "hubspot")


# ---------------------------------------------------------------- child processes


def _settings(crm: str, url: str, db: str, **extra: Any) -> Any:
    from connectors.registry import settings_models
    from tracker.settings import settings_from_dict

    if crm == "salesforce":
        source: dict[str, Any] = {
            "kind": "salesforce",
            "instance_url": url,
            "access_token": {"env": TOKEN_ENV},
            "fields": {"line_item_cost": "Unit_Cost__c", "segment": "Account.Segment__c"},
            "max_api_percent": 100,
        }
    else:
        source = {
            "kind": "hubspot",
            "access_token": {"env": TOKEN_ENV},
            "base_url": url,
            "properties": {"segment": "customer_segment"},
            "rate_limits": {"search_per_second": 10_000, "requests_per_10s": 100_000},
            "batch_size": 2000,
        }
    raw = {
        "tracker": {"timezone": "America/New_York", "exchange_rates": {"EUR": 1.08, "GBP": 1.27}},
        "store": {"url": f"sqlite:///{db}"},
        "sources": {"src": {**source, "activities": True, **extra}},
    }
    return settings_from_dict(raw, base_dir=Path(db).parent, source_models=settings_models())


def child_sync(crm: str, url: str, db: str, hourly: bool) -> dict[str, Any]:
    """One ``tracker sync`` with activities into ``db`` (what the CLI runs, minus the CLI)."""
    from connectors.base import SyncContext
    from connectors.registry import connector_class
    from tracker.runtime import tune_gc_for_batch_work
    from tracker.store import Store
    from tracker.sync import run_sync

    settings = _settings(crm, url, db, **({"archived_every_minutes": 60} if hourly else {}))
    store = Store(settings.store.url)
    store.ensure_ready()
    source = settings.source("src")
    conn = connector_class(crm)("src", source, SyncContext(tracker=settings.tracker))
    conn.check()
    tune_gc_for_batch_work()  # as the `tracker` entry point does after start-up
    t, cpu = time.perf_counter(), cpu_seconds()
    done = run_sync(store, "src", crm, conn.batches)
    seconds, cpu = time.perf_counter() - t, cpu_seconds() - cpu
    if done.exit_code:
        raise SystemExit(f"sync failed: {done.error}")
    return {
        "seconds": seconds,
        "cpu": cpu,
        "records": done.records,
        "activities": done.counts.received.get("activities", 0),
        "deals": done.counts.received.get("deals", 0),
        "calls": done.api_calls,
    }


def bare_salesforce(url: str) -> dict[str, int]:
    """Keyset ``queryAll`` pages of Account, Opportunity, Task and Event, JSON-decoded."""
    from connectors.salesforce.activities import STREAMS
    from connectors.salesforce.mapping import FieldPlan

    plan = FieldPlan(cost="Unit_Cost__c", segment="Segment__c")
    plan.multi_currency = True
    s, calls, counts = bearer_session(TOKEN_ENV), [0], {"deals": 0, "activities": 0}
    for _ in keyset_pages(s, url, "Account", plan.account_select(), calls):
        pass
    for records in keyset_pages(s, url, "Opportunity", plan.opportunity_select(), calls):
        counts["deals"] += len(records)
    for _, sobject, select in STREAMS:
        for records in keyset_pages(s, url, sobject, select, calls):
            counts["activities"] += len(records)
    return {**counts, "calls": calls[0]}


def bare_hubspot(url: str) -> dict[str, int]:
    """The list pages of companies, deals (line items batch-read), calls, meetings and
    emails (deal and company associations inline), then the archived listings."""
    from connectors.hubspot.activities import LINKS, properties
    from connectors.hubspot.client import ACTIVITY_TYPES
    from connectors.hubspot.mapping import Mapper, stage_map

    s = bearer_session(TOKEN_ENV)
    settings = _settings("hubspot", url, str(Path(tempfile.gettempdir()) / "actbench_unused.db"))
    mapper = Mapper(settings.source("src"), settings.tracker, stage_map([]))
    counts = {"deals": 0, "activities": 0, "calls": 0}

    def pages(object_type: str, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        after = ""
        while after is not None:
            query = {**params, "limit": 100, **({"after": after} if after else {})}
            counts["calls"] += 1
            got = s.get(f"{url}/crm/v3/objects/{object_type}", params=query, timeout=60)
            body = json.loads(got.content)
            yield body["results"]
            after = body["paging"]["next"]["after"] if "paging" in body else None

    s.get(f"{url}/crm/v3/pipelines/deals", timeout=60).json()
    for archived in ("false", "true"):
        s.get(f"{url}/crm/v3/owners/", params={"limit": 500, "archived": archived}, timeout=60)
    counts["calls"] += 3
    # the newest hs_lastmodifieddate of each type, noted before its backfill
    newest = {
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "DESCENDING"}],
        "properties": ["hs_lastmodifieddate"],
        "limit": 1,
    }
    for object_type in ("deals", "companies", *ACTIVITY_TYPES):
        counts["calls"] += 1
        s.post(f"{url}/crm/v3/objects/{object_type}/search", json=newest, timeout=60).json()
    for _ in pages("companies", {"properties": mapper.company_properties()}):
        pass
    query = {"properties": mapper.deal_properties(), "associations": ["companies", "line_items"]}
    for results in pages("deals", query):
        counts["deals"] += len(results)
        ids = [
            x["id"]
            for r in results
            for x in r.get("associations", {}).get("line items", {}).get("results", ())
        ]
        for i in range(0, len(ids), 100):
            counts["calls"] += 1
            body = {
                "inputs": [{"id": x} for x in ids[i : i + 100]],
                "properties": mapper.line_item_properties(),
            }
            s.post(f"{url}/crm/v3/objects/line_items/batch/read", json=body, timeout=60).json()
    for object_type in ACTIVITY_TYPES:
        params = {"properties": properties(object_type), "associations": list(LINKS)}
        for results in pages(object_type, params):
            counts["activities"] += len(results)
    for object_type in ("deals", "companies", *ACTIVITY_TYPES):
        for _ in pages(object_type, {"properties": ["hs_object_id"], "archived": "true"}):
            pass
    return counts


def child_bare(crm: str, url: str) -> dict[str, Any]:
    """The full sync's pages with ``requests`` + ``json`` only: no SDK, mapping or store."""
    t, cpu = time.perf_counter(), cpu_seconds()
    counts = bare_salesforce(url) if crm == "salesforce" else bare_hubspot(url)
    return {"seconds": time.perf_counter() - t, "cpu": cpu_seconds() - cpu, **counts}


def child_main(argv: list[str]) -> None:
    """``--child bare CRM URL`` | ``--child sync|sync-hourly CRM URL DB``: one JSON line."""
    mode, crm, url = argv[0], argv[1], argv[2]
    out = (
        child_bare(crm, url) if mode == "bare" else child_sync(crm, url, argv[3], "hourly" in mode)
    )
    out["max_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))


# ---------------------------------------------------------------- parent


def _sandbox(crm: str, activities: int) -> Any:
    from sandbox import Sandbox

    deals = max(activities // PER_DEAL, 10)
    share = 1.0 if crm == "hubspot" else 0.0
    return Sandbox.start(deals=deals, seed=SEED, hubspot_share=share, activities_per_deal=PER_DEAL)


def _child(sb: Any, crm: str, mode: str, *args: str) -> dict[str, Any]:
    token = sb.salesforce_token if crm == "salesforce" else sb.hubspot_token
    url = sb.salesforce_url if crm == "salesforce" else sb.hubspot_url
    return run_child(__file__, TOKEN_ENV, token, mode, crm, url, *args)


def _endpoints(sb: Any, before: dict[str, int]) -> str:
    """Requests per sandbox endpoint since ``before``, most first."""
    now = sb.counters.snapshot()["requests"]
    diff = {k: n - before.get(k, 0) for k, n in now.items() if n > before.get(k, 0)}
    return ", ".join(
        f"{k.split('.', 1)[1]} {n:,}" for k, n in sorted(diff.items(), key=lambda x: -x[1])
    )


def incremental(sb: Any, crm: str, db: str, full_calls: int, changed: int, mode: str) -> None:
    """Sync ``db`` again (``changed`` activities changed since); print the calls' share."""
    label = ", archived hourly" if "hourly" in mode else ""
    before = sb.counters.snapshot()["requests"]
    inc = _child(sb, crm, mode, db)
    share = inc["calls"] / full_calls
    print(
        f"incremental   {changed:,} activities changed (1 %){label}: {inc['calls']:,} API "
        f"calls ({inc['activities']:,} activities read) in {inc['seconds']:.1f} s = {share:.2%} "
        f"of the full sync's ({'OK' if share <= 0.02 else 'ABOVE TARGET'}, target ≤ 2 %)"
    )
    print(f"  requests per endpoint: {_endpoints(sb, before)}")
    result(
        f"{crm}: activities incremental calls, 1 % changed{label}",
        f"{inc['calls']:,} calls",
        f"full {full_calls:,} calls",
        share,
        0.02,
        percent=True,
    )


def bench_crm(crm: str, args: argparse.Namespace, tmp: str) -> dict[int, float]:
    """Full sync vs bare loop, incremental calls; the full syncs' peak RSS by size."""
    t0 = time.perf_counter()
    with _sandbox(crm, args.activities) as sb:
        if crm == "salesforce":
            sb.set_budget("sf", total=10_000_000)
        live = len(sb.activity_ids(crm))
        print(f"{crm}: {live:,} live activities generated in {time.perf_counter() - t0:.1f} s")
        rounds = alternate_rounds(
            lambda n: _child(sb, crm, "bare"),
            lambda n: _child(sb, crm, "sync", str(Path(tmp) / f"{crm}{n}.db")),
            args.repeat,
        )
        bare, full = rounds.bare, rounds.sync
        ratio = full["seconds"] / bare["seconds"]
        cpu_ratio = min(f["cpu"] for f in rounds.syncs) / min(b["cpu"] for b in rounds.bares)
        print(f"rounds        sync/bare per round: {rounds.ratios}")
        print(f"cpu           sync/bare CPU seconds (best of each): {cpu_ratio:.2f}")
        print(
            f"full sync     {full['activities']:,} activities + {full['deals']:,} deals, "
            f"{full['records']:,} records in {full['seconds']:.1f} s: "
            f"{full['activities'] / full['seconds']:,.0f} activities/s, {full['calls']:,} API calls"
        )
        print(
            f"bare requests {bare['activities']:,} activities + {bare['deals']:,} deals in "
            f"{bare['seconds']:.1f} s ({bare['calls']:,} calls); ratio sync/bare = {ratio:.2f} "
            f"({'OK' if ratio <= 2.0 else 'ABOVE TARGET'}, target ≤ 2.0)"
        )
        result(
            f"{crm}: activities full sync",
            f"{full['seconds']:.1f} s",
            f"bare loop {bare['seconds']:.1f} s",
            ratio,
            2.0,
        )
        db = str(Path(tmp) / f"{crm}{len(rounds.syncs) - 1}.db")  # the latest round's
        changed = len(sb.update_activities(crm, n=max(live // 100, 1)))
        if crm == "hubspot":  # the same changes, from a copy of the same full sync
            with (
                closing(sqlite3.connect(db)) as src,
                closing(sqlite3.connect(f"{db}.hourly")) as dst,
            ):
                src.backup(dst)  # the WAL's last commits included (a file copy misses them)
            incremental(sb, crm, f"{db}.hourly", full["calls"], changed, "sync-hourly")
        incremental(sb, crm, db, full["calls"], changed, "sync")
    return {args.activities: max(f["max_rss_mb"] for f in rounds.syncs)}


def memory(crm: str, sizes: list[int], peaks: dict[int, float], tmp: str) -> None:
    """Peak RSS of a full sync per size (sizes already in ``peaks`` are not run again)."""
    for n in sizes:
        if n not in peaks:
            with _sandbox(crm, n) as sb:
                if crm == "salesforce":
                    sb.set_budget("sf", total=10_000_000)
                peaks[n] = _child(sb, crm, "sync", str(Path(tmp) / f"{crm}-mem{n}.db"))[
                    "max_rss_mb"
                ]
        print(f"memory        {n:,} activities: full sync peak RSS {peaks[n]:,.0f} MB")
    print_memory_ratio(
        {n: peaks[n] for n in sizes}, f"{crm}: activities peak RSS", unit="activities"
    )


def main() -> None:
    """Run the benchmark and print the figures."""
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--memory", default="250000,1000000", help="sizes to compare ('' skips)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="alternate bare/sync runs; the best of each counts"
    )
    parser.add_argument("--crm", default=",".join(CRMS), help="salesforce, hubspot or both")
    args = parser.parse_args()
    sizes = [int(x) for x in args.memory.split(",") if x]
    with tempfile.TemporaryDirectory(prefix="actbench_") as tmp:
        for crm in args.crm.split(","):
            if crm not in CRMS:
                raise SystemExit(f"unknown CRM {crm!r}")
            peaks = bench_crm(crm, args, tmp)
            memory(crm, sizes, peaks, tmp)


if __name__ == "__main__":
    main()
