"""Benchmark of the variance digests: 1,000 recipients, ``tracker email --dry-run``.

983 owners in 16 teams, each team with a manager, and one ``default_to`` address: 1,000
recipients. The goals are the goals benchmark's (revenue, deals won, win rate, cycle,
discount; recurring each quarter) per owner, per team and company-wide: 5,000 goals. The
run (evaluate, route, draw each distinct chart once, render, compose, write the .eml
files) is timed against drawing the same distinct charts with bare matplotlib (a new
figure per chart, as a script would) in the same run: target ≤ 1.3×. Peak RSS is
measured in a child process per size, 100 recipients against 1,000: target ≤ 1.25×.
(Named digests.py, not email.py: a script's folder comes first on ``sys.path``, and a
bench/email.py would shadow the standard library's ``email`` for every benchmark here.)

    .venv/bin/python bench/digests.py
    .venv/bin/python bench/digests.py --deals 50000
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import peak_rss_mb, result
from goals import AS_OF, LEVELS, bench_settings
from metrics import TEAMS, generate

from jobs import tasks
from jobs.digests import DigestQuery, send_digests
from tracker.reports.charts import PALETTE, figure, png
from tracker.reports.goal_charts import _spec
from tracker.settings import Settings
from tracker.store import Store

TARGET_TIME, TARGET_RSS = 1.3, 1.25


def goal_tables() -> list[dict[str, Any]]:
    """The goals benchmark's levels: per owner, per team and company-wide."""
    tables: list[dict[str, Any]] = []
    for metric, (target, stretch) in LEVELS.items():
        common = {"metric": metric, "every": "quarter", "target": target, "stretch": stretch}
        common["why"] = "benchmark"
        tables.append({"id": f"{metric}-owners", "for_each": "owner"} | common)
        tables.append({"id": f"{metric}-teams", "for_each": "team"} | common)
        tables.append({"id": f"{metric}-company"} | common)
    return tables


def settings_for(url: str) -> Settings:
    """The goals benchmark's settings with these goals and an ``[email]`` section."""
    email = {"from": "tracker@bench.example", "default_to": ["vp@bench.example"]}
    return bench_settings(url, goal_tables(), email=email)


def store_for(recipients: int, deals: int) -> Store:
    owners = recipients - TEAMS - 1
    url = f"sqlite:////tmp/tracker-bench-email-{owners}-{deals}.db"
    store = Store(url)
    store.ensure_ready()
    if not store.people(["crm"]):
        print(f"generating {deals:,} deals of {owners} owners into {url} ...", flush=True)
        generate(store.engine, deals, owners=owners)
    return store


def bare_charts(specs: list[Any]) -> float:
    """Seconds to draw ``specs`` the plain way: a new figure per chart."""
    started = time.perf_counter()
    for spec in specs:
        with figure(480, 96) as fig:
            axes = fig.add_axes((0.03, 0.42, 0.94, 0.5))
            axes.barh([0], [spec.actual], height=0.5, color=PALETTE["actual"])
            for value in (spec.baseline, spec.target, spec.stretch, spec.expected):
                if value is not None:
                    axes.axvline(value, linewidth=2)
            png(fig)
    return time.perf_counter() - started


def child(recipients: int, deals: int) -> None:
    """One size in this process: time the run and the bare charts; print JSON."""
    store = store_for(recipients, deals)
    settings = settings_for(store.url)
    outbox = Path(tempfile.mkdtemp(prefix="tracker-bench-outbox-"))
    try:
        started = time.perf_counter()
        run = send_digests(settings, store, AS_OF, DigestQuery(dry_run=True, outbox=outbox))
        ours = time.perf_counter() - started
        started = time.perf_counter()
        report = tasks.evaluate_goals(settings, store, AS_OF)
        evaluate = time.perf_counter() - started
        distinct = {s.key: s for s in (_spec(r) for r in report.results) if s is not None}
        bare = bare_charts(list(distinct.values()))
        written = list(outbox.rglob("*.eml"))
        sizes = [p.stat().st_size for p in written]
    finally:
        shutil.rmtree(outbox, ignore_errors=True)
        store.close()
    figures = {
        "recipients": len(run.outcomes),
        "messages": len(written),
        "goals": len(report.results),
        "charts": run.charts_drawn,
        "distinct": len(distinct),
        "seconds": ours,
        "evaluate": evaluate,
        "bare": bare,
        "largest_kb": max(sizes) / 1024,
        "max_rss_mb": peak_rss_mb(),
    }
    print(json.dumps(figures))


def run_size(recipients: int, deals: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(recipients), "--deals", str(deals)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"child {recipients} failed:\n{done.stderr}")
    sys.stdout.write("".join(f"  {line}\n" for line in done.stdout.splitlines()[:-1]))
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.deals)
        return
    small, large = run_size(100, args.deals), run_size(1000, args.deals)
    out = io.StringIO()
    for figures in (small, large):
        out.write(
            f"recipients    {figures['recipients']:,}: {figures['messages']:,} messages, "
            f"{figures['goals']:,} goals, {figures['charts']:,} charts drawn "
            f"({figures['distinct']:,} distinct), largest message {figures['largest_kb']:,.0f} KB\n"
        )
    ratio = large["seconds"] / large["bare"]
    rss = large["max_rss_mb"] / small["max_rss_mb"]
    out.write(
        f"digests       {large['seconds']:.1f} s for 1,000 recipients "
        f"({large['messages'] / large['seconds']:,.1f} messages/s; goal evaluation "
        f"{large['evaluate']:.1f} s of it)\n"
        f"bare charts   {large['bare']:.1f} s (matplotlib, a new figure per chart)\n"
        f"ratio         {ratio:.2f} ×  (target ≤ {TARGET_TIME} ×){'' if ratio <= TARGET_TIME else '  MISS'}\n"
        f"memory        peak RSS {small['max_rss_mb']:,.0f} MB (100) → {large['max_rss_mb']:,.0f} MB "
        f"(1,000): {rss:.2f} ×  (target ≤ {TARGET_RSS} ×){'' if rss <= TARGET_RSS else '  MISS'}\n"
    )
    print(out.getvalue(), end="")
    result(
        "email: 1,000 digests (dry run)",
        f"{large['seconds']:.1f} s",
        f"bare matplotlib charts {large['bare']:.1f} s",
        ratio,
        TARGET_TIME,
    )
    result(
        "email: peak RSS 1,000 vs 100 recipients",
        f"{large['max_rss_mb']:,.0f} MB",
        f"{small['max_rss_mb']:,.0f} MB",
        rss,
        TARGET_RSS,
    )


if __name__ == "__main__":
    main()
