"""Activity metrics over a real store (SQLite and PostgreSQL) against the hand-computed
figures of ``activity_fixtures`` (weeks 2026-W37 and W38 in Europe/Berlin)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tests.metrics.activity_fixtures import insert_week
from tests.metrics.metrics_fixtures import deal, insert, value
from tracker.errors import UsageError
from tracker.metrics import REGISTRY, MetricRequest, MetricRow, compute, prepare
from tracker.metrics.load import activities_frame, build_report, default_metrics, load_deals
from tracker.periods import parse_period
from tracker.store import Store

ACTIVITY_METRICS = (
    "calls",
    "meetings",
    "emails",
    "meetings_per_won_deal",
    "activities_per_open_deal",
)
W37, W38, SEPT = "2026-W37", "2026-W38", "2026-09"


def _rows(
    store: Store,
    *,
    timezone: str = "Europe/Berlin",
    by: tuple[str, ...] = ("owner", "team"),
    filters: dict[str, tuple[str | None, ...]] | None = None,
    metrics: tuple[str, ...] = ACTIVITY_METRICS,
) -> list[MetricRow]:
    request = MetricRequest(
        metrics=metrics,
        periods=tuple(parse_period(p, date(2026, 9, 30), 1) for p in (W37, W38, SEPT)),
        by=by,
        filters=filters or {},
    )
    report = build_report(
        store.engine,
        request,
        timezone=timezone,
        currency="USD",
        generated_at=datetime(2026, 9, 30, tzinfo=UTC),
    )
    return report.rows


def _figures(
    rows: list[MetricRow], metric: str, period: str, **scope: str | None
) -> tuple[object, ...]:
    row = value(rows, metric, period, **scope)
    return (row.value, row.n, row.coverage)


def test_counts_per_week_owner_and_team_by_local_date(store: Store) -> None:
    insert_week(store.engine)
    rows = _rows(store)
    # W37: calls a6 a7 a11 a13; a8 says nothing of its completion: not counted, and it
    # lowers the coverage (4 of 5 calls known). Meetings a1 a2 (none said: a Salesforce
    # Event counts as held) a10 a14 (no owner: the company's, no rep's); a3 is Monday in
    # Berlin, a4 not held (known), a5 deleted. Emails a9 a16; the task a15 nowhere.
    assert _figures(rows, "calls", W37) == (4, 4, 0.8)
    assert _figures(rows, "calls", W37, owner="Ann") == (2, 2, pytest.approx(2 / 3))
    assert _figures(rows, "meetings", W37) == (4, 4, 1.0)
    assert _figures(rows, "emails", W37) == (2, 2, 1.0)
    assert _figures(rows, "meetings", W38) == (2, 2, 1.0)  # a3, a12
    assert _figures(rows, "calls", W38) == (0, 0, None)
    assert _figures(rows, "meetings", SEPT) == (6, 6, 1.0)
    ann = [value(rows, m, W37, owner="Ann").value for m in ("calls", "meetings", "emails")]
    bob = [value(rows, m, W37, owner="Bob").value for m in ("calls", "meetings", "emails")]
    cy = [value(rows, m, W37, owner="Cy").value for m in ("calls", "meetings", "emails")]
    nobody = [value(rows, m, W37, owner=None).value for m in ("calls", "meetings", "emails")]
    assert (ann, bob, cy, nobody) == ([2, 2, 1], [1, 1, 1], [1, 0, 0], [0, 1, 0])
    assert _figures(rows, "meetings", W37, owner=None) == (1, 1, 1.0)
    assert _figures(rows, "meetings", W37, owner="Cy") == (0, 0, None)
    assert value(rows, "meetings", W38, owner="Ann").value == 1
    assert value(rows, "calls", W37, team="EMEA").value == 3
    assert value(rows, "calls", W37, team="US").value == 1
    assert value(rows, "meetings", W37, team=None).value == 1


def test_utc_places_the_sunday_night_meeting_in_the_earlier_week(store: Store) -> None:
    insert_week(store.engine)
    rows = _rows(store, timezone="UTC", by=("owner",))
    assert value(rows, "meetings", W37).value == 5  # a3 too
    assert value(rows, "meetings", W38).value == 1
    assert value(rows, "meetings", W37, owner="Ann").value == 3


def test_meetings_per_won_deal_and_null_without_a_won_deal(store: Store) -> None:
    insert_week(store.engine)
    rows = _rows(store)
    # W37: 4 meetings ÷ 2 won deals (d1, d4); n = the won deals
    assert _figures(rows, "meetings_per_won_deal", W37) == (2.0, 2, 1.0)
    assert _figures(rows, "meetings_per_won_deal", W37, owner="Ann") == (2.0, 1, 1.0)
    assert _figures(rows, "meetings_per_won_deal", W37, owner="Bob") == (1.0, 1, 1.0)
    assert _figures(rows, "meetings_per_won_deal", W37, team="EMEA") == (1.5, 2, 1.0)
    # Cy won nothing and held no meeting; the ownerless meeting has no won deal beside it
    assert _figures(rows, "meetings_per_won_deal", W37, owner="Cy") == (None, 0, None)
    assert _figures(rows, "meetings_per_won_deal", W37, owner=None) == (None, 0, 1.0)
    # W38: 2 meetings, nothing won (d3 was lost): null, never infinite
    assert _figures(rows, "meetings_per_won_deal", W38) == (None, 0, 1.0)
    assert _figures(rows, "meetings_per_won_deal", SEPT) == (3.0, 2, 1.0)


def test_activities_per_open_deal_counts_only_deals_open_at_the_end(store: Store) -> None:
    insert_week(store.engine)
    rows = _rows(store)
    # open on Sunday 13 September: d2 and d3 (lost on the 16th); d5 not created yet, d6
    # deleted. On them in W37: a1 a6 a16 (d2), a9 a11 (d3) = 5; a2 and a10 are on deals
    # closed in the week, a7 a13 a14 unlinked. Coverage: 7 of the 10 are linked to a deal.
    assert _figures(rows, "activities_per_open_deal", W37) == (2.5, 2, pytest.approx(0.7))
    assert _figures(rows, "activities_per_open_deal", W37, owner="Ann") == (3.0, 1, 0.8)
    assert _figures(rows, "activities_per_open_deal", W37, owner="Bob") == (2.0, 1, 1.0)
    assert _figures(rows, "activities_per_open_deal", W37, owner="Cy") == (None, 0, 0.0)
    # open on the 20th: d2 and d5; a3 (d2) and a12 (d5)
    assert _figures(rows, "activities_per_open_deal", W38) == (1.0, 2, 1.0)
    assert _figures(rows, "activities_per_open_deal", W38, owner="Bob") == (1.0, 1, 1.0)
    # September: open on the 30th d2, d5; on them a1 a3 a6 a16 a12 = 5
    assert value(rows, "activities_per_open_deal", SEPT).value == 2.5


def test_filters_reach_activities_and_know_their_values(store: Store) -> None:
    insert_week(store.engine)
    rows = _rows(store, by=("owner",), filters={"team": ("US",)})
    assert value(rows, "calls", W37).value == 1  # Cy's; no deal is in team US
    assert [r.scope for r in rows if r.metric == "calls" and r.period.label == W37] == [
        {},
        {"owner": "Cy"},
    ]
    with pytest.raises(UsageError, match="team 'APAC' not found; values: EMEA, US"):
        _rows(store, filters={"team": ("APAC",)})


def test_deal_metrics_read_no_activity_and_the_default_list_follows_the_store(
    store: Store,
) -> None:
    assert default_metrics(store.engine) == REGISTRY.names("deals")
    insert(store.engine, [deal("x", won=True, close_date=date(2026, 9, 8), amount=5.0)])
    assert default_metrics(store.engine) == REGISTRY.names("deals")
    insert_week(store.engine)
    assert activities_frame(store.engine, ["revenue"], [], timezone="UTC") is None
    assert default_metrics(store.engine) == REGISTRY.names()
    assert default_metrics(store.engine, ["other"]) == REGISTRY.names("deals")
    request = MetricRequest(metrics=("meetings",), periods=(parse_period(W37, date.today(), 1),))
    frame = prepare(load_deals(store.engine, [], []), timezone="UTC", reporting_currency="USD")
    with pytest.raises(ValueError, match="activity metrics need the activities frame"):
        compute(frame, request)
