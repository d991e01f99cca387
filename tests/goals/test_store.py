"""Goals over a real store (SQLite and PostgreSQL): the evaluation through jobs.tasks equals
the hand-computed figures, check-ins round-trip and the previous one is found."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from jobs import tasks
from tests.cli.test_report import sample
from tests.metrics.metrics_fixtures import insert
from tracker.goals.load import previous_checkin, save_checkin
from tracker.settings import Settings
from tracker.store import Store

GOALS = [
    {
        "id": "emea-revenue",
        "metric": "revenue",
        "period": "2026-Q3",
        "scope": {"team": "EMEA"},
        "target": 800,
        "stretch": 1000,
        "why": "x",
    },
    {
        "id": "owners",
        "metric": "deals_won",
        "every": "quarter",
        "for_each": "owner",
        "target": 2,
        "why": "x",
    },
]
SOURCES = {
    "crm": {
        "kind": "csv",
        "path": "crm.csv",
        "columns": {"id": "id", "stage": "stage"},
        "stages": {"won": ["Won"]},
    }
}


@pytest.fixture
def settings(store: Store, settings_factory: Callable[..., Settings]) -> Settings:
    insert(store.engine, sample())
    return settings_factory({"store": {"url": store.url}, "sources": SOURCES, "goals": GOALS})


def test_evaluation_and_check_ins_on_every_database(store: Store, settings: Settings) -> None:
    report = tasks.evaluate_goals(settings, store, date(2026, 8, 15))
    found = {r.goal.id: r for r in report.results}
    assert set(found) == {"emea-revenue", "owners/Ann"}
    revenue = found["emea-revenue"]
    assert (revenue.actual, revenue.baseline, revenue.status) == (150.0, 400.0, "behind")
    assert revenue.pipeline is not None and revenue.pipeline["expected"] == pytest.approx(400.0)
    # Ann won 1 of 2 deals by day 46 in each past quarter: expected 2 × 0.5 = 1 = actual
    ann = found["owners/Ann"]
    assert (ann.actual, ann.status, ann.pacing.expected_to_date) == (1, "on_track", 1.0)  # type: ignore[union-attr]
    assert previous_checkin(store.engine, date(2026, 8, 16)) is None
    first = save_checkin(store.engine, report, datetime(2026, 8, 15, 18, tzinfo=UTC))
    later = tasks.evaluate_goals(settings, store, date(2026, 8, 15).replace(day=16))
    second = save_checkin(store.engine, later, datetime(2026, 8, 16, 18, tzinfo=UTC))
    assert second == first + 1
    kept = previous_checkin(store.engine, date(2026, 8, 16))
    assert kept is not None and (kept.checkin_id, kept.as_of) == (first, date(2026, 8, 15))
    row = kept.rows[("emea-revenue", "2026-Q3")]
    assert (row.actual, row.attainment, row.tier, row.status) == (150.0, 0.1875, "none", "behind")
    newest = previous_checkin(store.engine, date(2026, 9, 1))
    assert newest is not None and newest.checkin_id == second
    replay: Any = tasks.evaluate_goals(settings, store, date(2026, 8, 16))
    since = {r.goal.id: r.since_last_checkin for r in replay.results}
    assert since["emea-revenue"] == {
        "as_of": "2026-08-15",
        "actual": 150.0,
        "attainment_points": 0.0,
        "status": "behind",
        "status_changed": False,
    }
