"""Activity metrics worked out from a sandbox's truth (never from our store): what
``calls`` / ``meetings`` / ``emails`` must say per owner, by the rules of docs/metrics.md."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from sandbox.truth import Truth
from tracker.metrics import MetricRequest
from tracker.metrics.compute import MetricRow
from tracker.metrics.load import build_report
from tracker.periods import Period, parse_period
from tracker.records import ActivityRecord


def local_day(act: ActivityRecord, zone: str) -> date | None:
    """The day the truth says it happened, in ``zone`` (a day-only one as it is)."""
    if act.occurred_at is None:
        return act.occurred_on
    at = act.occurred_at if act.occurred_at.tzinfo else act.occurred_at.replace(tzinfo=UTC)
    return at.astimezone(ZoneInfo(zone)).date()


def in_period(truth: Truth, kind: str, period: Period, zone: str) -> list[ActivityRecord]:
    """The live activities of ``kind`` that occurred in ``period`` (held or not)."""
    return [
        a
        for a in truth.activities.values()
        if not a.is_deleted and a.kind == kind and (local_day(a, zone) or date.min) in period
    ]


def held(act: ActivityRecord) -> bool:
    """Completed, or a meeting whose CRM does not say (it has started by then)."""
    return act.is_completed is True or (act.kind == "meeting" and act.is_completed is None)


def held_per_owner(truth: Truth, kind: str, period: Period, zone: str) -> Counter[str | None]:
    """Held activities of ``kind`` in ``period`` per owner, named as reports name them (the
    owner's name, else their id)."""
    out: Counter[str | None] = Counter()
    for act in in_period(truth, kind, period, zone):
        if held(act):
            owner = truth.owners.get(act.owner_external_id or "")
            out[owner.name if owner else act.owner_external_id] += 1
    return out


def check_counts_per_owner(
    engine: Engine,
    truth: Truth,
    metrics: dict[str, str],
    *,
    source: str,
    zone: str,
    now: datetime,
) -> dict[str, list[MetricRow]]:
    """Compute ``metrics`` (kind → metric name) per owner for 2026-Q1 from the store and
    assert each owner's value and the company total equal the held activities counted in
    ``truth``; returns the report's rows per kind for further checks."""
    period = parse_period("2026-Q1", now.date(), 1)
    request = MetricRequest(metrics=tuple(metrics.values()), periods=(period,), by=("owner",))
    report = build_report(
        engine, request, timezone=zone, currency="USD", generated_at=now, sources=[source]
    )
    out: dict[str, list[MetricRow]] = {}
    for kind, metric in metrics.items():
        expected = held_per_owner(truth, kind, period, zone)
        assert sum(expected.values()) > 20 and len(expected) > 2, expected
        rows = [r for r in report.rows if r.metric == metric]
        assert {r.scope["owner"]: r.value for r in rows if r.scope and r.value} == dict(expected)
        assert [r.value for r in rows if not r.scope] == [sum(expected.values())]
        out[kind] = rows
    return out
