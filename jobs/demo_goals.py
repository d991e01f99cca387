"""The demo's goals, calibrated on the data just synced so that each situation shows up:
every status (achieved, on track, at risk, behind, missed, no data), every tier (none,
baseline, target, stretch), a per-owner quotas file, a guardrail that trips and a lint
warning (a moonshot stretch).

Levels are derived from the metrics themselves: a running goal's target is set from its
actual and the share of the quarter's result usually in by now (its pacing), so its pace
lands where the status wanted lies; a finished quarter's levels sit around its actual.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from jobs.tasks import MetricsQuery, evaluate_goals, metrics_report
from tracker.goals.model import GoalConfig
from tracker.periods import parse_period
from tracker.settings import Settings
from tracker.store import Store

PACE = {"on_track": 1.15, "at_risk": 0.88, "behind": 0.55}
"""Actual to date ÷ expected to date wanted per status (the thresholds are 0.95, 0.8)."""


@dataclass(frozen=True)
class DemoGoals:
    """The ``[[goals]]`` tables (TOML) and the quotas file (CSV) they refer to."""

    toml: str
    quotas_csv: str


def _values(
    settings: Settings, store: Store, today: date, by: str, filters: tuple[str, ...] = ()
) -> dict[tuple[str, str, str], float]:
    """(metric, period, value of ``by``) → value, this and last quarter ("" for the
    company-wide row)."""
    query = MetricsQuery(
        periods=("this-quarter", "last-quarter"),
        metrics=("revenue", "deals_won", "win_rate"),
        by=(by,),
        filters=filters,
    )
    report = metrics_report(settings, store, today, query)
    out = {}
    for row in report.rows:
        key = row.scope.get(by)
        if key is not None and row.value is not None:
            out[(row.metric, row.period.label, key)] = float(row.value)
        elif not row.scope and row.value is not None:
            out[(row.metric, row.period.label, "")] = float(row.value)
    return out


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1 else f"{round(value):d}"
    return str(value)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _table(goal: dict[str, Any]) -> str:
    return "[[goals]]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in goal.items())


def _share(
    settings: Settings, store: Store, today: date, goals: Sequence[dict[str, Any]]
) -> dict[str, float]:
    """Each running goal's share of the quarter expected by ``today`` (its pacing)."""
    configs = tuple(GoalConfig.model_validate(g) for g in goals)
    probe = settings.model_copy(update={"goals": configs})
    report = evaluate_goals(probe, store, today)
    return {
        r.goal.id: r.pacing.share
        for r in report.results
        if r.pacing is not None and r.pacing.share > 0
    }


def demo_goals(settings: Settings, store: Store, today: date, quotas_file: str) -> DemoGoals:
    """Goals for the demo's data as of ``today`` (see the module doc)."""
    fiscal = settings.tracker.fiscal_year_start_month
    this = parse_period("this-quarter", today, fiscal).label
    last = parse_period("last-quarter", today, fiscal).label
    teams = _values(settings, store, today, "team")
    by_revenue = sorted(
        (t for (m, p, t) in teams if m == "revenue" and p == this and t),
        key=lambda t: -teams[("revenue", this, t)],
    )
    on_track, at_risk, behind = by_revenue[:3]
    rest = [t for t in sorted({t for (_, _, t) in teams if t}) if t not in by_revenue[:3]]
    missed_team, tier_team = (rest + by_revenue)[:2]
    owners = _values(settings, store, today, "owner", (f"team={on_track}",))
    quota_owners = sorted(
        o for (m, p, o) in owners if m == "revenue" and p == this and o and owners[(m, p, o)] > 0
    )[:6]
    running: list[dict[str, Any]] = [
        {
            "id": f"revenue-{_slug(t)}",
            "metric": "revenue",
            "period": this,
            "scope": {"team": t},
            "target": 1.0,
            "why": f"{t} carries its share of the plan",
        }
        for t in (on_track, at_risk, behind)
    ] + [
        {
            "id": "rep-quotas",
            "metric": "revenue",
            "period": this,
            "scope": {"team": on_track},
            "quotas": quotas_file,
            "why": "each rep owns a number",
        }
    ]
    shares = _share(settings, store, today, running[:3])
    goals: list[dict[str, Any]] = []
    for goal, status in zip(running[:3], PACE, strict=True):
        team = goal["scope"]["team"]
        actual = teams[("revenue", this, team)]
        share = shares.get(goal["id"], 0.5)
        target = actual / (share * PACE[status])
        goals.append(goal | {"target": round(target), "stretch": round(target * 1.2)})
    goals[0]["stretch"] = round(goals[0]["target"] * 4)  # a moonshot: the linter warns
    goals[0]["why"] += " (stretch set high on purpose: see goals check)"
    quota_rows = [["owner", "target", "stretch"]]
    moved = sorted(  # a rep who moved in from another team: no deal here yet, so no data
        p["name"]
        for p in store.people(list(settings.sources))
        if p["team"] not in (None, on_track) and p["name"] and p["manager_external_id"]
    )
    if moved:
        quota_rows.append([moved[0], "100000", "120000"])
    for n, owner in enumerate(quota_owners):  # above last quarter's: growth asked of each
        before = owners.get(("revenue", last, owner)) or owners[("revenue", this, owner)]
        target = before * (1.05, 1.2, 1.5)[n % 3]
        quota_rows.append([owner, str(round(target)), str(round(target * 1.25))])
    if quota_owners:
        goals.append(running[3])
    deals_won = teams.get(("deals_won", last, ""), 0.0) or sum(
        v for (m, p, t), v in teams.items() if m == "deals_won" and p == last
    )
    goals += [
        # a finished quarter: beyond stretch (achieved, tier stretch)
        {
            "id": "deals-won-last-quarter",
            "metric": "deals_won",
            "period": last,
            "target": max(round(deals_won * 0.8), 1),
            "stretch": max(round(deals_won * 0.9), 1),
            "why": "volume keeps the pipeline honest",
        },
        # short of target but past the baseline: missed, tier baseline or none
        {
            "id": f"revenue-{_slug(missed_team)}-last-quarter",
            "metric": "revenue",
            "period": last,
            "scope": {"team": missed_team},
            "target": round(teams.get(("revenue", last, missed_team), 1.0) * 1.3),
            "why": "the plan asked for more",
        },
        # a rate reached: achieved, tier target
        {
            "id": f"win-rate-{_slug(tier_team)}-last-quarter",
            "metric": "win_rate",
            "period": last,
            "scope": {"team": tier_team},
            "target": round(teams.get(("win_rate", last, tier_team), 0.3) * 0.95, 4),
            "stretch": round(min(teams.get(("win_rate", last, tier_team), 0.3) * 1.5, 0.99), 4),
            "why": "better qualification",
        },
    ]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(quota_rows)
    toml = "\n".join(_table(g) for g in goals)
    return DemoGoals(toml, buffer.getvalue())
