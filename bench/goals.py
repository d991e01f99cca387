"""Benchmark of goal evaluation: 1,085 goals on 1,000,000 deals.

200 owners × 5 metrics through ``for_each`` (the owners of regions EMEA and NA), plus a
goal per team (16 × 5) and company-wide (5), every one recurring each quarter and paced
over the 8 prior quarters. It runs ``jobs.tasks.evaluate_goals`` (load, prepare, expand,
one grouped computation, evaluate, pace, cover, guard, lint) and prints its wall time and
the ratio to what ``tracker metrics`` takes for the same metrics × periods × scopes in the
same run (load the columns those metrics need, prepare, compute; target ≤ 1.5×).

    .venv/bin/python bench/goals.py                       # SQLite file in /tmp, 1M deals
    .venv/bin/python bench/goals.py --deals 100000
    .venv/bin/python bench/goals.py --url postgresql+psycopg://postgres@127.0.0.1/bench

The store is the one ``bench/metrics.py`` generates (deterministic seed), reused while it
holds the same number of deals.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

from _common import result
from metrics import bench_store

from connectors.registry import settings_models
from jobs import tasks
from tracker.goals.expand import expand
from tracker.goals.load import load_frame
from tracker.goals.plan import load_needs, plan
from tracker.goals.windows import windows
from tracker.metrics import MetricRequest, compute, prepare
from tracker.metrics.compute import request_dimensions, required_fields
from tracker.metrics.load import load_deals
from tracker.settings import Settings, settings_from_dict
from tracker.store import Store

AS_OF = date(2025, 8, 15)  # mid 2025-Q3; the generated deals start in 2023-Q3
LEVELS: dict[str, tuple[float, float]] = {
    "revenue": (1_000_000, 1_200_000),
    "deals_won": (80, 100),
    "win_rate": (0.4, 0.45),
    "sales_cycle_days": (80, 70),
    "discount_pct": (0.1, 0.08),
}


def goal_tables() -> list[dict[str, Any]]:
    """The benchmark's goals: per owner of two regions, per team, company-wide."""
    tables: list[dict[str, Any]] = []
    for metric, (target, stretch) in LEVELS.items():
        common = {"metric": metric, "every": "quarter", "target": target, "stretch": stretch}
        common["why"] = "benchmark"
        for region in ("EMEA", "NA"):
            tables.append(
                {"id": f"{metric}-{region}", "scope": {"region": region}, "for_each": "owner"}
                | common
            )
        tables.append({"id": f"{metric}-teams", "for_each": "team"} | common)
        tables.append({"id": f"{metric}-company"} | common)
    return tables


def bench_settings(
    url: str, goals: list[dict[str, Any]] | None = None, **sections: dict[str, Any]
) -> Settings:
    """The benchmark's settings: one CSV-kind source, ``goals`` (default: ``goal_tables``)
    and any further sections (``email={...}``)."""
    source = {"kind": "csv", "path": "bench.csv", "columns": {"id": "id", "stage": "stage"}}
    return settings_from_dict(
        {
            "tracker": {"timezone": "Europe/Berlin"},
            "store": {"url": url},
            "sources": {"crm": source | {"stages": {"won": ["Won"]}}},
            "goals": goal_tables() if goals is None else goals,
            **sections,
        },
        base_dir=Path("/tmp"),
        source_models=settings_models(),
    )


def same_request(settings: Settings, store: Store) -> MetricRequest:
    """The metrics × periods × breakdowns the goals compute, as one metrics request."""
    frame = load_frame(
        store.engine,
        *load_needs(settings.goals),
        timezone=settings.tracker.timezone,
        currency=settings.tracker.currency,
        sources=["crm"],
    )
    goals = expand(settings.goals, frame, as_of=AS_OF)
    spans = [windows(g.period, AS_OF, g.baseline) for g in goals]
    return plan(goals, spans).metrics


def metrics_time(store: Store, request: MetricRequest) -> tuple[float, int]:
    """What ``tracker metrics`` does for ``request``: load, prepare, compute."""
    started = time.perf_counter()
    fields = required_fields(request.metrics)
    dims = request_dimensions(request)
    raw = load_deals(store.engine, fields, dims, ["crm"])
    frame = prepare(
        raw, timezone="Europe/Berlin", reporting_currency="USD", fields=fields, dimensions=dims
    )
    rows = compute(frame, request)
    return time.perf_counter() - started, len(rows)


def main() -> None:
    """Run the benchmark and print its figures."""
    args, store = bench_store(__doc__)
    settings = bench_settings(store.url)
    request = same_request(settings, store)
    goal_times: list[float] = []
    metric_times: list[float] = []
    report = None
    rows = 0
    for _ in range(args.repeat):  # alternate, so both see the same drift on a shared host
        elapsed, rows = metrics_time(store, request)
        metric_times.append(elapsed)
        started = time.perf_counter()
        report = tasks.evaluate_goals(settings, store, AS_OF)
        goal_times.append(time.perf_counter() - started)
    assert report is not None
    statuses: dict[str, int] = {}
    for goal in report.results:
        statuses[goal.status] = statuses.get(goal.status, 0) + 1
    goals, metrics = min(goal_times), min(metric_times)
    print(f"store           {store.dialect}: {args.deals:,} deals")
    print(
        f"goals           {len(report.results):,} ({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))})"
    )
    print(
        f"request         {len(request.metrics)} metrics × {len(request.periods)} periods × "
        f"{len(request.scopes)} breakdowns → {rows:,} rows"
    )
    print(f"tracker metrics {metrics:.2f} s  (same metrics × periods × scopes)")
    print(f"goals           {goals:.2f} s")
    print(f"ratio           {goals / metrics:.2f} ×  (target ≤ 1.5 ×)")
    result(
        "goal evaluation",
        f"{goals:.2f} s",
        f"tracker metrics {metrics:.2f} s",
        goals / metrics,
        1.5,
    )
    store.close()


if __name__ == "__main__":
    main()
