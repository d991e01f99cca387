"""``tracker review``: what a sales leader reads before a quarterly business review, as
plain data the HTML and XLSX writers render (``tracker/reports/review_*.py``).

One pass over the store per kind of figure: the goal report of the period, the core
metrics over the last 8 periods (company and per team), the period's breakdowns by team
and owner, its largest won and lost deals, the guardrail metrics against the period
before, suggestions for the next period, and the data's quality and provenance.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from jobs.tasks import MetricsQuery, SuggestQuery, evaluate_goals, metrics_report, suggest_many
from tracker.errors import ConfigError, UsageError
from tracker.goals.load import load_frame
from tracker.goals.measures import MEASURES
from tracker.goals.result import GoalReport
from tracker.goals.suggest import Suggestion, next_quarter
from tracker.metrics import DEFINITIONS_VERSION, REGISTRY, MetricRequest, MetricRow
from tracker.metrics.compute import compute, required_fields
from tracker.periods import Period, parse_period, previous, range_period
from tracker.reports.review_html import render_html
from tracker.reports.review_xlsx import render_xlsx
from tracker.review import (
    CORE_METRICS,
    GUARDRAIL_METRICS,
    TOP_DEALS,
    TREND_PERIODS,
    Review,
    deal_row,
)
from tracker.settings import Settings
from tracker.status import build_status
from tracker.store import Store


def _rows(
    settings: Settings,
    store: Store,
    as_of: date,
    periods: Sequence[Period],
    by: Sequence[str],
    metrics: Sequence[str] = CORE_METRICS,
) -> list[MetricRow]:
    query = MetricsQuery(periods=[p.label for p in periods], metrics=metrics, by=by)
    return metrics_report(settings, store, as_of, query).rows


def _suggestions(
    settings: Settings, store: Store, as_of: date, goals: GoalReport | None
) -> list[Suggestion]:
    """``goals suggest`` for each goal's metric and scope (owners left out: a pack is read
    by leaders), for the quarter after the reviewed one, over one load of the deals."""
    if goals is None or not goals.results:
        return []
    nxt = next_quarter(goals.results[0].goal.period.end, settings.tracker.fiscal_year_start_month)
    queries = {
        (r.goal.metric, tuple((k, v) for k, v in r.goal.scope if k != "owner")): None
        for r in goals.results
    }
    return suggest_many(
        settings,
        store,
        as_of,
        [
            SuggestQuery(metric=m, scope=[f"{k}={v or ''}" for k, v in scope], period=nxt.label)
            for m, scope in queries
        ],
    )


def _clustering(settings: Settings, store: Store, period: Period) -> list[dict[str, Any]]:
    """Per scope (company, then teams): the share of the period's discount given in its
    closing days, against the share of its revenue closed in them (a ratio well above 1:
    discounts bunched at period end to pull deals in)."""
    days = settings.goal_thresholds.clustering_days
    closing = range_period(max(period.start, period.end - timedelta(days=days - 1)), period.end)
    fields = (*required_fields(["revenue"]), *required_fields(["discount_given"], MEASURES))
    frame = load_frame(
        store.engine,
        tuple(dict.fromkeys(fields)),
        ["team"],
        timezone=settings.tracker.timezone,
        currency=settings.tracker.currency,
        sources=list(settings.sources),
    )
    values: dict[tuple[str, str, str], float] = {}
    for metric, registry in (("discount_given", MEASURES), ("revenue", REGISTRY)):
        request = MetricRequest(
            metrics=(metric,), periods=(closing, period), breakdowns=((), ("team",))
        )
        for row in compute(frame, request, registry):
            scope = "company" if not row.scope else str(row.scope.get("team") or "(none)")
            if row.value is not None:
                values[(metric, row.period.label, scope)] = float(row.value)
    out = []
    for scope in sorted({s for _, _, s in values}, key=lambda s: (s != "company", s)):
        discount = values.get(("discount_given", period.label, scope)) or 0.0
        revenue = values.get(("revenue", period.label, scope)) or 0.0
        if discount <= 0:
            continue
        d_share = values.get(("discount_given", closing.label, scope), 0.0) / discount
        r_share = values.get(("revenue", closing.label, scope), 0.0) / revenue if revenue else 0.0
        out.append(
            {
                "scope": scope,
                "closing_days": days,
                "discount_share": d_share,
                "revenue_share": r_share,
                "ratio": d_share / r_share if r_share else None,
            }
        )
    return out


def build_review(
    settings: Settings, store: Store, period: str, as_of: date, *, now: datetime | None = None
) -> Review:
    """The review of ``period`` (a label or relative name) as of ``as_of``."""
    fiscal = settings.tracker.fiscal_year_start_month
    reviewed = parse_period(period, as_of, fiscal)
    store.ensure_ready()
    trend = [reviewed]
    while len(trend) < TREND_PERIODS:
        trend.insert(0, previous(trend[0], fiscal))
    try:
        goals: GoalReport | None = evaluate_goals(settings, store, as_of, period=reviewed.label)
    except ConfigError:
        if settings.goals:
            raise
        goals = None  # no goals configured: the pack has no scorecard, the rest stands
    sources = list(settings.sources)
    return Review(
        period=reviewed,
        as_of=as_of,
        generated_at=now or datetime.now(UTC),
        timezone=settings.tracker.timezone,
        currency=settings.tracker.currency,
        fiscal_year_start_month=fiscal,
        definitions_version=DEFINITIONS_VERSION,
        goals=goals,
        trend_periods=trend,
        trends=_rows(settings, store, as_of, trend, ["team"]),
        by_team=_rows(settings, store, as_of, [reviewed], ["team"]),
        by_owner=_rows(settings, store, as_of, [reviewed], ["owner"]),
        won=[
            deal_row(d, settings.tracker.timezone)
            for d in store.top_deals(
                sources, reviewed.start, reviewed.end, won=True, limit=TOP_DEALS
            )
        ],
        lost=[
            deal_row(d, settings.tracker.timezone)
            for d in store.top_deals(
                sources, reviewed.start, reviewed.end, won=False, limit=TOP_DEALS
            )
        ],
        guardrails=_rows(
            settings,
            store,
            as_of,
            [previous(reviewed, fiscal), reviewed],
            ["team"],
            GUARDRAIL_METRICS,
        ),
        suggestions=_suggestions(settings, store, as_of, goals),
        clustering=_clustering(settings, store, reviewed),
        status=build_status(settings, store, now or datetime.now(UTC)),
        rejected={name: len(store.last_rejects(name)) for name in sources},
    )


@dataclass(frozen=True)
class WrittenPack:
    """The files a review run wrote."""

    paths: list[Path]
    review: Review


def write_review(
    settings: Settings,
    store: Store,
    period: str,
    as_of: date,
    output: Path,
    formats: Sequence[str] = ("html", "xlsx"),
) -> WrittenPack:
    """Build the review and write ``review-<period>.html`` / ``.xlsx`` into ``output``
    (each written whole to a temporary name, then renamed)."""
    wanted = [f.strip().lower() for f in formats if f.strip()]
    unknown = [f for f in wanted if f not in ("html", "xlsx")]
    if unknown or not wanted:
        raise UsageError(f"--format {','.join(formats)}: choose html, xlsx or html,xlsx")
    review = build_review(settings, store, period, as_of)
    output.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in wanted:
        data = render_html(review).encode("utf-8") if fmt == "html" else render_xlsx(review)
        path = output / f"review-{review.period.label}.{fmt}"
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(data)
        os.replace(partial, path)
        paths.append(path)
    return WrittenPack(paths, review)
