"""A behaviour goal over a real store (SQLite and PostgreSQL): meetings ≥ 2 a week per
rep, evaluated through jobs.tasks against the hand-computed week of
``tests.metrics.activity_fixtures`` (Europe/Berlin)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from jobs import tasks
from tests.goals.test_store import SOURCES
from tests.metrics.activity_fixtures import insert_week
from tracker.settings import Settings
from tracker.store import Store

GOALS = [
    {
        "id": "meetings",
        "metric": "meetings",
        "every": "week",
        "for_each": "owner",
        "target": 2,
        "why": "two customer meetings a week keep the pipeline moving",
    }
]


@pytest.fixture
def settings(store: Store, settings_factory: Callable[..., Settings]) -> Settings:
    insert_week(store.engine)
    return settings_factory(
        {"store": {"url": store.url}, "sources": SOURCES, "goals": GOALS},
        timezone="Europe/Berlin",
    )


def test_weekly_meetings_goal_per_rep_on_every_database(store: Store, settings: Settings) -> None:
    # W37 is over on the 16th: Ann held a1 and a2 (2, achieved), Bob a10 (1), Cy none
    # (his call makes him a rep of the week); the ownerless meeting a14 is no rep's
    ended = tasks.evaluate_goals(settings, store, date(2026, 9, 16), period="2026-W37")
    found = {r.goal.id: (r.actual, r.n, r.status) for r in ended.results}
    assert found == {
        "meetings/Ann": (2, 2, "achieved"),
        "meetings/Bob": (1, 1, "missed"),
        "meetings/Cy": (0, 0, "missed"),
    }
    assert all(r.goal.period.label == "2026-W37" for r in ended.results)
    # W38 runs on the 16th: a3 (Sunday 23:30 UTC, Monday in Berlin) is Ann's, a12 Bob's
    running = tasks.evaluate_goals(settings, store, date(2026, 9, 16))
    now = {r.goal.id: r.actual for r in running.results}
    assert now == {"meetings/Ann": 1, "meetings/Bob": 1, "meetings/Cy": 0}
    assert {r.goal.period.label for r in running.results} == {"2026-W38"}
    assert all(r.windows.state == "ongoing" for r in running.results)
