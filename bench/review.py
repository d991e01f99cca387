"""Benchmark of the quarterly review pack: one quarter on 1,000,000 deals of 200 owners.

``tracker review`` (goals evaluated, trends over 8 quarters, team and owner tables, top
deals, guardrails, next quarter's suggestions, data quality; HTML and XLSX written) is
timed against what ``tracker metrics`` takes to compute the same tables in the same run
(target ≤ 2×); the HTML's size is printed too (target ≤ 5 MB).

    .venv/bin/python bench/review.py
    .venv/bin/python bench/review.py --deals 100000
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from _common import result
from goals import LEVELS, bench_settings
from metrics import _count, generate

from jobs.review import write_review
from jobs.tasks import MetricsQuery, metrics_report
from tracker.periods import parse_period, previous
from tracker.review import CORE_METRICS, GUARDRAIL_METRICS, TREND_PERIODS
from tracker.store import Store

PERIOD, AS_OF = "2025-Q2", date(2025, 8, 15)  # the generated deals start in 2023-Q3
OWNERS = 200
TARGET_TIME, TARGET_MB = 2.0, 5.0


def goal_tables() -> list[dict[str, object]]:
    """Revenue and win rate per team and company-wide, for the reviewed quarter."""
    tables: list[dict[str, object]] = []
    for metric in ("revenue", "win_rate"):
        target, stretch = LEVELS[metric]
        common = {
            "metric": metric,
            "period": PERIOD,
            "target": target,
            "stretch": stretch,
            "why": "benchmark",
        }
        tables.append({"id": f"{metric}-teams", "for_each": "team"} | common)
        tables.append({"id": f"{metric}-company"} | common)
    return tables


def metrics_only(settings: object, store: Store) -> float:
    """What ``tracker metrics`` takes for the pack's tables."""
    fiscal = 1
    reviewed = parse_period(PERIOD, AS_OF, fiscal)
    trend = [reviewed]
    while len(trend) < TREND_PERIODS:
        trend.insert(0, previous(trend[0], fiscal))
    queries = [
        MetricsQuery(periods=[p.label for p in trend], metrics=CORE_METRICS, by=["team"]),
        MetricsQuery(periods=[PERIOD], metrics=CORE_METRICS, by=["team"]),
        MetricsQuery(periods=[PERIOD], metrics=CORE_METRICS, by=["owner"]),
        MetricsQuery(
            periods=[previous(reviewed).label, PERIOD], metrics=GUARDRAIL_METRICS, by=["team"]
        ),
    ]
    started = time.perf_counter()
    for query in queries:
        metrics_report(settings, store, AS_OF, query)  # type: ignore[arg-type]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    url = f"sqlite:////tmp/tracker-bench-review-{args.deals}.db"
    store = Store(url)
    store.ensure_ready()
    if _count(store.engine) != args.deals:
        print(f"generating {args.deals:,} deals of {OWNERS} owners into {url} ...", flush=True)
        generate(store.engine, args.deals, owners=OWNERS)
    settings = bench_settings(url, goal_tables())
    out = Path(tempfile.mkdtemp(prefix="tracker-bench-review-"))
    try:
        pack_times, metric_times = [], []
        for _ in range(args.repeat):  # alternate: both see the same drift on a shared host
            metric_times.append(metrics_only(settings, store))
            started = time.perf_counter()
            written = write_review(settings, store, PERIOD, AS_OF, out)
            pack_times.append(time.perf_counter() - started)
        html = next(p for p in written.paths if p.suffix == ".html")
        size_mb = html.stat().st_size / 1e6
        xlsx_kb = next(p for p in written.paths if p.suffix == ".xlsx").stat().st_size / 1e3
    finally:
        shutil.rmtree(out, ignore_errors=True)
        store.close()
    pack, metrics = min(pack_times), min(metric_times)
    goals = len(written.review.goals.results) if written.review.goals else 0
    print(f"store           {args.deals:,} deals, {OWNERS} owners; {goals} goals; {PERIOD}")
    print(f"tracker metrics {metrics:.2f} s  (the pack's tables)")
    print(f"tracker review  {pack:.2f} s  (HTML {size_mb:.2f} MB, XLSX {xlsx_kb:,.0f} KB)")
    ratio = pack / metrics
    print(f"ratio           {ratio:.2f} ×  (target ≤ {TARGET_TIME} ×)")
    print(f"HTML size       {size_mb:.2f} MB  (target ≤ {TARGET_MB} MB)")
    result("review pack", f"{pack:.2f} s", f"tracker metrics {metrics:.2f} s", ratio, TARGET_TIME)
    result("review pack HTML size (MB)", f"{size_mb:.2f} MB", "—", size_mb, TARGET_MB)


if __name__ == "__main__":
    main()
