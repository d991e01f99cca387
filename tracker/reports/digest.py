"""The variance digest of one recipient: subject, plain text, HTML and its charts.

Figures are the goal report's (``tracker report --format json``) shown at reading
precision: money in whole units of the reporting currency, fractions as percent with one
decimal, days with one decimal. A goal without data says "no data" and why, never 0. The
subject is built from config values and counts only (no CRM string can reach a header),
and the templates escape every CRM string in the HTML (Jinja2 autoescape).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tracker.goals.result import GoalResult
from tracker.goals.scoring import STATUSES
from tracker.goals.thresholds import GoalThresholds
from tracker.reports.goal_charts import Chart, ChartCache
from tracker.reports.goals import STATUS_WORDS
from tracker.reports.pivot import figure
from tracker.reports.templating import environment
from tracker.status import SourceFreshness

_HEADER_UNSAFE = re.compile(r"[\r\n\0]+")
TIER_WORDS = {
    "none": "below baseline",
    "baseline": "baseline reached",
    "target": "target reached",
    "stretch": "stretch reached",
}


@dataclass(frozen=True)
class DigestContext:
    """What every digest of a run shares: the calendar, provenance and thresholds."""

    as_of: date
    timezone: str
    currency: str
    fiscal_year_start_month: int
    definitions_version: int
    sources: Sequence[SourceFreshness]
    thresholds: GoalThresholds
    subscription: str
    """How a reader changes what they receive (config file and keys)."""

    @property
    def stale(self) -> list[SourceFreshness]:
        """The sources whose data is not fresh."""
        return [s for s in self.sources if s.problem is not None]


@dataclass(frozen=True)
class Digest:
    """One message's content; ``charts`` are the images the HTML refers to by cid."""

    recipient: str
    subject: str
    text: str
    html: str
    periods: tuple[str, ...]
    goals: int
    charts: list[Chart] = field(default_factory=list)


def header_safe(text: str) -> str:
    """``text`` with CR, LF and NUL replaced by a space (headers, and CRM names shown in
    the digest, are one line)."""
    return _HEADER_UNSAFE.sub(" ", text).strip()


def subject(results: Sequence[GoalResult]) -> str:
    """``2026-Q3 goals: 2 behind, 1 at risk (EMEA)``: the periods, the counts worst first,
    and the scope the config wrote when all the goals share one."""
    periods = sorted({r.goal.period.label for r in results})
    counts = Counter(r.status for r in results)
    news = [f"{counts[s]} {STATUS_WORDS[s]}" for s in STATUSES if counts[s]]
    scopes = {tuple(sorted(r.goal.config.scope.items())) for r in results}
    where = ""
    if len(scopes) == 1:
        (only,) = scopes
        if only:
            where = " (" + ", ".join(value for _, value in only) + ")"
    text = f"{', '.join(periods)} goals: {', '.join(news)}{where}"
    return header_safe(text)


def _money_or(value: float | None, unit: str, currency: str) -> str:
    shown = figure(value, unit)  # type: ignore[arg-type]
    if value is None:
        return "no data"
    return f"{shown} {currency}" if unit == "money" else shown


def _signed(value: float | None, unit: str, currency: str) -> str:
    if value is None:
        return "—"
    sign = "+" if value > 0 else ("-" if value < 0 else "±")
    return sign + _money_or(abs(value), unit, currency)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def no_data_reason(result: GoalResult, thresholds: GoalThresholds) -> str:
    """Why a goal has no judged value, with the figures behind it."""
    if result.windows.state == "upcoming":
        return f"the period starts on {result.goal.period.start.isoformat()}"
    if result.n == 0:
        return "no deals in scope yet (n = 0)"
    if result.coverage is not None and result.coverage < thresholds.min_coverage:
        return (
            f"only {result.coverage * 100:.0f} % of the {result.n} deals carry the fields it "
            f"needs (at least {thresholds.min_coverage * 100:.0f} % are required)"
        )
    if not result.cumulative and result.n < thresholds.min_n:
        return f"only {result.n} deals (a rate needs at least {thresholds.min_n})"
    return f"no value could be computed (n = {result.n})"


def _run_rate(result: GoalResult, currency: str) -> str | None:
    pacing = result.pacing
    if pacing is None or not pacing.needed_run_rate:
        return None
    needed = pacing.needed_run_rate.get("target") or {}
    per_week = needed.get("per_week")
    if per_week is None:
        return None
    weeks = pacing.needed_run_rate.get("weeks_left")
    return f"{_money_or(per_week, result.unit, currency)} a week for {weeks} weeks to reach target"


def _since(result: GoalResult) -> str | None:
    since = result.since_last_checkin
    if not since:
        return None
    points = since.get("attainment_points")
    text = f"{points:+.1f} attainment points" if points is not None else "no comparable value"
    text += f" since {since.get('as_of')}"
    if since.get("status_changed"):
        was = STATUS_WORDS.get(str(since.get("status")), str(since.get("status")))
        text += f" (was {was})"
    return text


def goal_view(result: GoalResult, context: DigestContext, chart: Chart | None) -> dict[str, Any]:
    """What the templates show of one goal (strings, already formatted)."""
    goal, unit, cur = result.goal, result.unit, context.currency
    pacing = result.pacing
    scope = ", ".join(f"{k}={v}" for k, v in goal.scope if v is not None) or "company"
    return {
        "id": header_safe(goal.id),
        "metric": goal.metric,
        "period": goal.period.label,
        "scope": header_safe(scope),
        "status": result.status,
        "status_word": STATUS_WORDS[result.status],
        "tier": TIER_WORDS.get(result.tier or "", "—"),
        "actual": _money_or(result.actual, unit, cur),
        "baseline": _money_or(result.baseline, unit, cur),
        "target": _money_or(goal.target, unit, cur),
        "stretch": _money_or(goal.stretch, unit, cur) if goal.stretch is not None else "—",
        "variance": _signed(result.variance, unit, cur),
        "attainment": _percent(result.attainment),
        "n": result.n,
        "coverage": _percent(result.coverage),
        "no_data": no_data_reason(result, context.thresholds) if result.actual is None else None,
        "expected": None if pacing is None else _money_or(pacing.expected_to_date, unit, cur),
        "projected": None if pacing is None else _money_or(pacing.projected, unit, cur),
        "run_rate": _run_rate(result, cur),
        "guardrails": [flag.message for flag in result.guardrails],
        "why": goal.config.why,
        "since": _since(result),
        "chart": chart,
        "chart_note": None if chart is not None else _chart_note(result),
    }


def _chart_note(result: GoalResult) -> str:
    if result.actual is None:
        return "no chart: there is no value to draw yet"
    return "no chart: the drawing came out empty and was left out"


_ENV_HTML = environment(html=True)
_ENV_TEXT = environment(html=False)


HTML_BUDGET = 100_000
"""Bytes of HTML (Gmail clips a message whose HTML passes about 102 KB)."""
MESSAGE_BUDGET = 1_000_000
"""Bytes of the whole message, images base64-encoded."""
SHORT_LIMIT = 200
"""Goals listed in short beyond the full ones; more than that are counted only."""


def _size(text: str, html: str, charts: Sequence[Chart]) -> tuple[int, int]:
    html_bytes = len(html.encode())
    images = sum((len(c.data) + 2) // 3 * 4 * 77 // 76 + 300 for c in charts)
    return html_bytes, html_bytes + len(text.encode()) + images + 4_000


def render_digest(
    recipient: str,
    results: Sequence[GoalResult],
    context: DigestContext,
    charts: ChartCache,
) -> Digest:
    """The digest of ``results`` (worst first) for ``recipient``, within the size budgets:
    when every goal in full would not fit, the worst goals are shown in full and the rest
    one line each (beyond ``SHORT_LIMIT``, counted only)."""
    ordered = sorted(results, key=lambda r: r.order)
    title = subject(ordered)
    full = len(ordered)
    while True:
        views = [goal_view(r, context, charts.chart(r)) for r in ordered[:full]]
        short = [goal_view(r, context, None) for r in ordered[full : full + SHORT_LIMIT]]
        values = {
            "subject": title,
            "goals": views,
            "short": short,
            "omitted": max(len(ordered) - full - SHORT_LIMIT, 0),
            "context": context,
            "recipient": recipient,
        }
        used = list({g["chart"].cid: g["chart"] for g in views if g["chart"] is not None}.values())
        text = _ENV_TEXT.get_template("digest.txt.j2").render(values)
        html = _ENV_HTML.get_template("digest.html.j2").render(values)
        html_size, total = _size(text, html, used)
        if (html_size <= HTML_BUDGET and total <= MESSAGE_BUDGET) or full == 0:
            break
        full = full * 2 // 3
    return Digest(
        recipient=recipient,
        subject=title,
        text=text,
        html=html,
        periods=tuple(sorted({r.goal.period.label for r in ordered})),
        goals=len(ordered),
        charts=used,
    )
