"""The demo's goals, calibrated on the data just synced so that each situation shows up:
every status (achieved, on track, at risk, behind, missed, no data), every tier (none,
baseline, target, stretch), a per-owner quotas file, a guardrail that trips and a lint
warning (a moonshot stretch).

Levels are derived from the metrics themselves: a running goal's target is set from its
actual and the share of the quarter's result usually in by now (its pacing), so its pace
lands where the status wanted lies, and it is kept only when the goal evaluator gives
that status (any day of the quarter, as long as some deals closed in it); a finished
quarter's levels sit around its actual.
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

RUNNING_METRICS = ("revenue", "deals_won", "new_customers")
"""Cumulative metrics a running goal may use, in order of preference."""


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
        periods=("this-quarter", "last-quarter", "this-week"),
        metrics=("revenue", "deals_won", "new_customers", "win_rate"),
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


def _statuses(
    settings: Settings, store: Store, today: date, goals: Sequence[dict[str, Any]]
) -> dict[str, tuple[str, float]]:
    """Each goal's (status, pacing share) as ``tracker report`` evaluates it on ``today``."""
    configs = tuple(GoalConfig.model_validate(g) for g in goals)
    probe = settings.model_copy(update={"goals": configs})
    report = evaluate_goals(probe, store, today)
    return {
        r.goal.id: (r.status, r.pacing.share if r.pacing is not None else 0.0)
        for r in report.results
    }


def _pace(status: str, share: float) -> float:
    """The pace wanted for ``status``; on track stays short of the target itself (a
    cumulative goal reached is achieved), which matters near the period's end."""
    if status == "on_track":
        return min(PACE[status], (0.95 + 1 / share) / 2)
    return PACE[status]


def _running(
    settings: Settings,
    store: Store,
    today: date,
    this: str,
    values: dict[tuple[str, str, str], float],
    scopes: Sequence[str],
    wanted: Sequence[str] = tuple(PACE),
    suffix: str = "",
) -> dict[str, dict[str, Any]]:
    """Status → one running goal with that status, for each of ``wanted`` (fewer when
    the period has too little data yet), on distinct scopes (else distinct metrics of one
    scope): each candidate (scope × metric) gets the target its pacing share puts at the
    wanted pace, and only candidates whose evaluation gives that status are kept. ``""``
    in ``scopes`` is the whole company; ``suffix`` ends each goal's id."""

    def goal(scope: str, metric: str, target: float = 1.0) -> dict[str, Any]:
        name = _slug(scope) or "company"
        out: dict[str, Any] = {"id": f"{metric}-{name}{suffix}", "metric": metric, "period": this}
        if scope:
            out["scope"] = {"team": scope}
        return out | {"target": target, "why": f"{scope or 'the company'} carries its plan"}

    pairs = [
        (scope, metric)
        for scope in scopes
        for metric in RUNNING_METRICS
        if values.get((metric, this, scope), 0.0) > 0
    ]
    shares = _statuses(settings, store, today, [goal(s, m) for s, m in pairs])
    candidates: dict[str, list[tuple[str, dict[str, Any]]]] = {status: [] for status in wanted}
    for scope, metric in pairs:
        share = shares[goal(scope, metric)["id"]][1]
        if share <= 0:
            continue
        actual = values[(metric, this, scope)]
        for status in wanted:
            target = round(actual / (share * _pace(status, share)))
            if target > actual:
                g = goal(scope, metric, target) | {"stretch": max(round(target * 1.2), target + 1)}
                candidates[status].append((scope, g | {"id": f"{g['id']}--{status}"}))
    probe = [g for found in candidates.values() for _, g in found]
    verified = _statuses(settings, store, today, probe) if probe else {}
    chosen: dict[str, dict[str, Any]] = {}
    for distinct in ("scope", "metric"):  # distinct scopes if possible, else metrics
        used = {(g.get("scope", {}).get("team", ""), g["metric"]) for g in chosen.values()}
        for status, found in candidates.items():
            for scope, g in found:
                taken = any(
                    s == scope and (distinct == "scope" or m == g["metric"]) for s, m in used
                )
                if status not in chosen and verified[g["id"]][0] == status and not taken:
                    used.add((scope, g["metric"]))
                    chosen[status] = g | {"id": g["id"].removesuffix(f"--{status}")}
    return chosen


def demo_goals(settings: Settings, store: Store, today: date, quotas_file: str) -> DemoGoals:
    """Goals for the demo's data as of ``today`` (see the module doc)."""
    fiscal = settings.tracker.fiscal_year_start_month
    this = parse_period("this-quarter", today, fiscal).label
    last = parse_period("last-quarter", today, fiscal).label
    teams = _values(settings, store, today, "team")
    all_teams = sorted({t for (_, _, t) in teams if t})
    by_revenue = sorted(  # this quarter's leaders first, then last quarter's
        all_teams,
        key=lambda t: (
            -teams.get(("revenue", this, t), 0.0),
            -teams.get(("revenue", last, t), 0.0),
        ),
    )
    running = _running(settings, store, today, this, teams, [*by_revenue, ""])
    if missing := [s for s in PACE if s not in running]:
        # the quarter has just begun: this week instead (ISO weeks cross quarter ends)
        week = parse_period("this-week", today, fiscal).label
        scopes = ["", *by_revenue]
        running |= _running(settings, store, today, week, teams, scopes, missing, "-week")
    goals = [running[s] for s in PACE if s in running]
    if goals:
        goals[0]["stretch"] = round(goals[0]["target"] * 4)  # a moonshot: the linter warns
        goals[0]["why"] += " (stretch set high on purpose: see goals check)"
    used = {g.get("scope", {}).get("team") for g in goals}
    rest = [t for t in by_revenue if t not in used]
    missed_team, tier_team = (rest + by_revenue)[:2]
    quota_team = max(all_teams, key=lambda t: teams.get(("revenue", last, t), 0.0))
    owners = _values(settings, store, today, "owner", (f"team={quota_team}",))
    quota_owners = sorted(
        o for (m, p, o) in owners if m == "revenue" and p == last and o and owners[(m, p, o)] > 0
    )[:6]
    quota_rows = [["owner", "target", "stretch"]]
    moved = sorted(  # a rep who moved in from another team: no deal here yet, so no data
        p["name"]
        for p in store.people(list(settings.sources))
        if p["team"] not in (None, quota_team) and p["name"] and p["manager_external_id"]
    )
    if moved:
        quota_rows.append([moved[0], "100000", "120000"])
    for n, owner in enumerate(quota_owners):  # above last quarter's: growth asked of each
        target = owners[("revenue", last, owner)] * (1.05, 1.2, 1.5)[n % 3]
        quota_rows.append([owner, str(round(target)), str(round(target * 1.25))])
    if quota_owners:
        goals.append(
            {
                "id": "rep-quotas",
                "metric": "revenue",
                "period": this,
                "scope": {"team": quota_team},
                "quotas": quotas_file,
                "why": "each rep owns a number",
            }
        )
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
