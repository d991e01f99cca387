"""The review pack as one self-contained HTML file: CSS inline, charts as inline SVG, a
few lines of inline script to sort tables, nothing fetched from anywhere. CRM strings are
escaped (Jinja2 autoescape; the SVG charts carry no CRM string but team names, escaped by
matplotlib); print CSS starts each section on a new page and never splits a chart or a
table row."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from tracker.metrics import REGISTRY, MetricRow
from tracker.reports.digest import TIER_WORDS
from tracker.reports.goals import STATUS_WORDS
from tracker.reports.pivot import LABELS, figure
from tracker.reports.review_charts import TeamGrid, company_chart, series, team_multiples
from tracker.reports.templating import environment
from tracker.review import CORE_METRICS, GUARDRAIL_METRICS, Review

SECTIONS = (
    ("scorecard", "Goal scorecard"),
    ("trends", "Trends"),
    ("breakdowns", "Teams and owners"),
    ("deals", "Deals that mattered"),
    ("guardrails", "Guardrails"),
    ("next", "Next period"),
    ("quality", "Data quality"),
)


def shown(value: float | None, metric: str) -> str:
    """A metric's value as people read it."""
    return figure(value, REGISTRY.get(metric).unit)


def _table(rows: list[MetricRow], dimension: str) -> dict[str, Any]:
    """Rows → one line per scope value (company first), one column per metric."""
    metrics = [m for m in CORE_METRICS if any(r.metric == m for r in rows)]
    lines: dict[str, dict[str, Any]] = {}
    for row in rows:
        name = "company" if not row.scope else str(row.scope.get(dimension) or "(none)")
        lines.setdefault(name, {"name": name, "cells": {}})["cells"][row.metric] = (
            row.value,
            shown(row.value, row.metric),
        )
    ordered = sorted(lines.values(), key=lambda line: (line["name"] != "company", line["name"]))
    return {"metrics": [(m, LABELS.get(m, m)) for m in metrics], "lines": ordered}


def _guardrails(review: Review) -> dict[str, Any]:
    """Each guardrail metric per team (company first): the period before, the period."""
    periods = sorted({r.period for r in review.guardrails}, key=lambda p: p.start)
    metrics = [m for m in GUARDRAIL_METRICS if any(r.metric == m for r in review.guardrails)]
    lines: dict[str, dict[tuple[str, str], str]] = {}
    for row in review.guardrails:
        name = "company" if not row.scope else str(next(iter(row.scope.values())) or "(none)")
        lines.setdefault(name, {})[(row.metric, row.period.label)] = shown(row.value, row.metric)
    return {
        "columns": [(m, LABELS.get(m, m), p.label) for m in metrics for p in periods],
        "lines": sorted(lines.items(), key=lambda item: (item[0] != "company", item[0])),
    }


def _trends(review: Review) -> list[dict[str, Any]]:
    levels: dict[str, dict[str, float]] = {}
    team_targets: dict[str, dict[str, float]] = {}
    if review.goals is not None:
        for result in review.goals.results:
            scope = dict(result.goal.scope)
            if list(scope) == ["team"] and scope["team"] is not None:
                team_targets.setdefault(result.goal.metric, {})[scope["team"]] = result.goal.target
            if not result.goal.scope:
                levels[result.goal.metric] = {"target": result.goal.target}
                if result.goal.stretch is not None:
                    levels[result.goal.metric]["stretch"] = result.goal.stretch
    out = []
    grids: dict[tuple[str, ...], TeamGrid] = {}
    for metric in CORE_METRICS:
        by_scope = series(review.trends, review.trend_periods, metric)
        company = company_chart(
            metric, review.trend_periods, by_scope.get("", []) or [None], levels.get(metric, {})
        )
        teams = team_multiples(
            metric, review.trend_periods, by_scope, grids, team_targets.get(metric)
        )
        if company is None and teams is None:
            out.append({"metric": LABELS.get(metric, metric), "empty": True})
            continue
        out.append(
            {
                "metric": LABELS.get(metric, metric),
                "company": Markup(company) if company else None,
                "teams": Markup(teams) if teams else None,
                "empty": False,
            }
        )
    for grid in grids.values():
        grid.close()
    return out


def render_html(review: Review) -> str:
    """The whole pack as one HTML document."""
    template = environment(html=True).get_template("review.html.j2")
    return template.render(
        review=review,
        sections=SECTIONS,
        status_words=STATUS_WORDS,
        tier_words=TIER_WORDS,
        shown=shown,
        trends=_trends(review),
        teams=_table(review.by_team, "team"),
        owners=_table(review.by_owner, "owner"),
        guardrails=_guardrails(review),
        money=lambda v: figure(v, "money"),
        percent=lambda v: "—" if v is None else f"{v * 100:.1f} %",
    )
