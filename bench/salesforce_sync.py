"""Benchmark: the Salesforce connector's full and incremental sync against the sandbox.

Run ``.venv/bin/python bench/salesforce_sync.py [--deals 100000] [--memory 50000,200000]``.

The sandbox serves the org from this process; every sync (and each baseline) runs in a
child process so its time and peak RSS are its own. It prints

* the full sync (backfill) of ``--deals`` opportunities with line items into a SQLite
  store: records/s, deals/s and API calls;
* the same REST pages (the connector's keyset queries, line items as a child subquery)
  fetched by a bare ``requests`` + ``json`` loop in the same run, and the ratio of the two
  durations (target ≤ 2.0);
* Bulk API 2.0 for the same rows (Opportunity and OpportunityLineItem query jobs, CSV
  pages, plus the accounts' REST pages that the Bulk backfill reads too) through a bare
  ``requests`` loop: time and calls, and the Bulk full sync's ratio to it (target ≤ 2.0):
  ``--repeat`` alternating rounds, the fastest of each (the shared machine and the
  in-process sandbox make single runs vary by a quarter);
* an incremental sync after 1 % of the deals changed: its API calls as a share of the full
  sync's (target ≤ 2 %);
* the peak RSS of full syncs of the ``--memory`` sizes, through REST and through Bulk API
  2.0 (target: largest ≤ 1.25 × smallest for each).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    alternate_rounds,
    bearer_session,
    peak_rss_mb,
    print_memory,
    print_memory_ratio,
    result,
    run_child,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TOKEN_ENV = "SFCONN_BENCH_TOKEN"
SEED = 5
API = "59.0"


def _settings(url: str, db: str, bulk_threshold: int = 10**9) -> Any:
    from connectors.registry import settings_models
    from tracker.settings import settings_from_dict

    raw = {
        "store": {"url": f"sqlite:///{db}"},
        "sources": {
            "sf": {
                "kind": "salesforce",
                "instance_url": url,
                "access_token": {"env": TOKEN_ENV},
                "fields": {
                    "line_item_cost": "Unit_Cost__c",
                    "segment": "Account.Segment__c",
                    "region": "Owner.Region__c",
                },
                "max_api_percent": 100,
                "bulk_threshold": bulk_threshold,
            }
        },
    }
    return settings_from_dict(raw, base_dir=Path(db).parent, source_models=settings_models())


def child_sync(url: str, db: str, bulk_threshold: int = 10**9) -> dict[str, Any]:
    """One ``tracker sync`` of the org into ``db`` (what the CLI runs, minus the CLI); Bulk
    API 2.0 when the org has more than ``bulk_threshold`` opportunities."""
    from connectors.base import SyncContext
    from connectors.salesforce.connector import SalesforceConnector
    from tracker.runtime import tune_gc_for_batch_work
    from tracker.store import Store
    from tracker.sync import run_sync

    settings = _settings(url, db, bulk_threshold)
    store = Store(settings.store.url)
    store.ensure_ready()
    conn = SalesforceConnector("sf", settings.source("sf"), SyncContext(tracker=settings.tracker))
    conn.check()
    tune_gc_for_batch_work()  # as the `tracker` entry point does after start-up
    t = time.perf_counter()
    result = run_sync(store, "sf", "salesforce", conn.batches)
    seconds = time.perf_counter() - t
    if result.exit_code:
        raise SystemExit(f"sync failed: {result.error}")
    return {
        "seconds": seconds,
        "records": result.records,
        "deals": result.counts.received.get("deals", 0),
        "line_items": result.counts.received.get("line_items", 0),
        "calls": result.api_calls,
    }


def _plan() -> Any:
    from connectors.salesforce.mapping import FieldPlan

    plan = FieldPlan(cost="Unit_Cost__c", segment="Segment__c", region="Region__c")
    plan.multi_currency = True
    return plan


def keyset_pages(s: Any, url: str, sobject: str, select: str, calls: list[int]) -> Any:
    """REST keyset pages of ``sobject`` (as the connector asks them), JSON-decoded."""
    base = f"{url}/services/data/v{API}/queryAll/"
    where = ""
    while True:
        soql = f"SELECT {select} FROM {sobject}{where} ORDER BY SystemModstamp, Id LIMIT 2000"
        calls[0] += 1
        body = json.loads(s.get(base, params={"q": soql}, timeout=120).content)
        records = body["records"]
        yield records
        if len(records) < 2000:
            return
        last = records[-1]
        stamp = last["SystemModstamp"].replace(".000+0000", "Z")
        where = (
            f" WHERE (SystemModstamp > {stamp} OR "
            f"(SystemModstamp = {stamp} AND Id > '{last['Id']}'))"
        )


def child_bare(url: str) -> dict[str, Any]:
    """The backfill's REST pages with ``requests`` + ``json`` only: no SDK, mapping, store."""
    plan = _plan()
    s = bearer_session(TOKEN_ENV)
    t = time.perf_counter()
    deals = lines = 0
    calls = [0]
    for _ in keyset_pages(s, url, "Account", plan.account_select(), calls):
        pass
    for records in keyset_pages(s, url, "Opportunity", plan.opportunity_select(), calls):
        deals += len(records)
        lines += sum((r["OpportunityLineItems"] or {}).get("totalSize", 0) for r in records)
    return {
        "seconds": time.perf_counter() - t,
        "deals": deals,
        "line_items": lines,
        "calls": calls[0],
    }


def child_bulk(url: str) -> dict[str, Any]:
    """The same rows through Bulk API 2.0 query jobs (CSV), with ``requests`` only; the
    accounts through REST pages, as the connector's Bulk backfill reads them."""
    s = bearer_session(TOKEN_ENV)
    jobs = f"{url}/services/data/v{API}/jobs/query"
    t = time.perf_counter()
    rest_calls = [0]
    for _ in keyset_pages(s, url, "Account", _plan().account_select(), rest_calls):
        pass
    calls = rest_calls[0]
    rows: dict[str, int] = {}
    from connectors.salesforce.bulk import RESULT_PAGE
    from connectors.salesforce.mapping import FieldPlan

    plan = FieldPlan(cost="Unit_Cost__c", multi_currency=True)
    queries = {
        "OpportunityLineItem": f"SELECT {plan.line_item_fields(parent=True)} "
        "FROM OpportunityLineItem",
        "Opportunity": f"SELECT {plan.opportunity_fields()} FROM Opportunity",
    }
    for sobject, soql in queries.items():
        calls += 1
        job = s.post(jobs, json={"operation": "queryAll", "query": soql}, timeout=120).json()
        while True:
            calls += 1
            state = s.get(f"{jobs}/{job['id']}", timeout=120).json()["state"]
            if state == "JobComplete":
                break
            if state in ("Failed", "Aborted"):
                raise SystemExit(f"bulk job {sobject} {state}")
            time.sleep(0.2)
        locator = ""
        count = 0
        while locator != "null":
            calls += 1
            params = {"maxRecords": RESULT_PAGE, **({"locator": locator} if locator else {})}
            got = s.get(f"{jobs}/{job['id']}/results", params=params, timeout=300)
            count += sum(1 for _ in csv.DictReader(io.StringIO(got.text)))
            locator = got.headers.get("Sforce-Locator", "null")
        rows[sobject] = count
    return {
        "seconds": time.perf_counter() - t,
        "deals": rows["Opportunity"],
        "line_items": rows["OpportunityLineItem"],
        "calls": calls,
    }


def child_main(argv: list[str]) -> None:
    """``--child sync URL DB`` | ``--child bare URL`` | ``--child bulk URL``: one JSON line."""
    mode, url = argv[0], argv[1]
    if mode == "sync":
        out = child_sync(url, argv[2], int(argv[3]) if len(argv) > 3 else 10**9)
    elif mode == "bulk":
        out = child_bulk(url)
    else:
        out = child_bare(url)
    out["max_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))


def report(label: str, sync: dict[str, Any], bare: dict[str, Any]) -> None:
    """Print a sync's figures beside the bare loop's and their ratio."""
    ratio = sync["seconds"] / bare["seconds"]
    print(
        f"{label}: {sync['deals']:,} deals + {sync['line_items']:,} line items, "
        f"{sync['records']:,} records in {sync['seconds']:.1f} s: "
        f"{sync['records'] / sync['seconds']:,.0f} records/s, "
        f"{sync['deals'] / sync['seconds']:,.0f} deals/s, {sync['calls']:,} API calls"
    )
    print(
        f"  bare requests loop, same pages: {bare['deals']:,} deals + {bare['line_items']:,} "
        f"line items in {bare['seconds']:.1f} s ({bare['calls']:,} calls); ratio sync/bare = "
        f"{ratio:.2f} ({'OK' if ratio <= 2.0 else 'ABOVE TARGET'}, target ≤ 2.0)"
    )
    result(
        f"salesforce: {label}",
        f"{sync['seconds']:.1f} s",
        f"bare loop {bare['seconds']:.1f} s",
        ratio,
        2.0,
    )


def main() -> None:
    """Run the benchmark and print the figures."""
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--memory", default="50000,200000", help="sizes to compare ('' skips)")
    parser.add_argument("--no-bulk", action="store_true", help="skip the Bulk 2.0 measurement")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="alternate Bulk bare/sync runs; the best of each counts",
    )
    args = parser.parse_args()

    from sandbox import Sandbox

    with tempfile.TemporaryDirectory(prefix="sfconn_bench_") as tmp:
        t0 = time.perf_counter()
        with Sandbox.start(deals=args.deals, seed=SEED, hubspot_share=0.0) as sb:
            sb.set_budget("sf", total=10_000_000)
            live = len(sb.deal_ids("sf"))
            print(
                f"sandbox: {live:,} live opportunities generated in {time.perf_counter() - t0:.1f} s"
            )
            db = str(Path(tmp) / "full.db")
            token, url = sb.salesforce_token, sb.salesforce_url
            bare = run_child(__file__, TOKEN_ENV, token, "bare", url)
            full = run_child(__file__, TOKEN_ENV, token, "sync", url, db)
            report("full sync (REST)", full, bare)
            if not args.no_bulk:
                rounds = alternate_rounds(
                    lambda n: run_child(__file__, TOKEN_ENV, token, "bulk", url),
                    lambda n: run_child(
                        __file__, TOKEN_ENV, token, "sync", url, str(Path(tmp) / f"bulk{n}.db"), "0"
                    ),
                    args.repeat,
                )
                report("full sync (Bulk 2.0)", rounds.sync, rounds.bare)
                print(f"  rounds sync/bare: {rounds.ratios} (the fastest run of each counts)")
            changed = sb.update_deals("sf", n=max(live // 100, 1))
            inc = run_child(__file__, TOKEN_ENV, token, "sync", url, db)
            share = inc["calls"] / full["calls"]
            print(
                f"incremental   {len(changed):,} deals changed (1 %): {inc['calls']:,} API calls "
                f"({inc['deals']:,} deals read) in {inc['seconds']:.1f} s = {share:.2%} of the "
                f"full sync's ({'OK' if share <= 0.02 else 'ABOVE TARGET'}, target ≤ 2 %)"
            )
            result(
                "salesforce: incremental calls, 1 % changed",
                f"{inc['calls']:,} calls",
                f"full {full['calls']:,} calls",
                share,
                0.02,
                percent=True,
            )
        sizes = [int(x) for x in args.memory.split(",") if x]
        for label, threshold in (("REST", 10**9), ("Bulk 2.0", 0)):
            print(f"memory of {label} full syncs:")
            peaks: dict[int, float] = {}
            for n in sizes:
                with Sandbox.start(deals=n, seed=SEED, hubspot_share=0.0) as sb:
                    sb.set_budget("sf", total=10_000_000)
                    figures = run_child(
                        __file__,
                        TOKEN_ENV,
                        sb.salesforce_token,
                        "sync",
                        sb.salesforce_url,
                        str(Path(tmp) / f"mem{n}-{threshold}.db"),
                        str(threshold),
                    )
                    print_memory(figures, peaks, n)
            print_memory_ratio(peaks, f"salesforce: peak RSS ({label})")


if __name__ == "__main__":
    main()
