"""Property tests of the activity metrics over random deals and activities (pure frames):
the counts add up over owners and teams, and each ratio times its denominator gives back
its numerator, null exactly when the denominator is 0."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.metrics.metrics_fixtures import TODAY, raw_frame, utc
from tests.metrics.test_properties import START, deals
from tracker.metrics import MetricRequest, MetricRow, compute, prepare
from tracker.metrics.activity_frame import prepare_activities
from tracker.periods import parse_period

TEAMS = {"o1": "EMEA", "o2": "EMEA", "o3": "US"}
COUNTS = ("calls", "meetings", "emails")
PERIODS = ("2026-Q1", "2026-W10", "2026-05")


@st.composite
def activities(draw: st.DrawFn, deal_ids: list[str]) -> pd.DataFrame:
    rows = []
    for _ in range(draw(st.integers(min_value=0, max_value=60))):
        owner = draw(st.sampled_from([None, "o1", "o2", "o3"]))
        day = START + timedelta(days=draw(st.integers(min_value=-10, max_value=160)))
        dated = draw(st.sampled_from(["at", "on", "none"]))
        rows.append(
            {
                "source": "crm",
                "kind": draw(st.sampled_from(["call", "meeting", "email", "task"])),
                "owner_external_id": owner,
                "occurred_at": utc(f"{day} 23:30") if dated == "at" else None,
                "occurred_on": day if dated == "on" else None,
                "is_completed": draw(st.sampled_from([True, False, None])),
                "deal_external_id": draw(st.sampled_from([None, *deal_ids])),
                "owner_name": owner,
                "team": TEAMS.get(owner or ""),
            }
        )
    columns = ["source", "kind", "owner_external_id", "occurred_at", "occurred_on"]
    columns += ["is_completed", "deal_external_id", "owner_name", "team"]
    return pd.DataFrame(rows, columns=columns)


def _run(
    sample: list[dict[str, Any]], raw: pd.DataFrame, metrics: tuple[str, ...]
) -> list[MetricRow]:
    request = MetricRequest(
        metrics=metrics,
        periods=tuple(parse_period(p, TODAY, 1) for p in PERIODS),
        by=("owner", "team"),
    )
    dims = ("owner", "team")
    frame = prepare(
        raw_frame(sample),
        timezone="Europe/Berlin",
        reporting_currency="USD",
        fields=("created",),
        dimensions=dims,
    )
    acts = prepare_activities(raw, timezone="Europe/Berlin", dimensions=dims)
    return compute(frame, request, activities=acts)


@st.composite
def samples(draw: st.DrawFn) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    sample = draw(deals())
    return sample, draw(activities([d["external_id"] for d in sample]))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=samples())
def test_counts_add_up_over_owners_and_teams(
    data: tuple[list[dict[str, Any]], pd.DataFrame],
) -> None:
    rows = _run(*data, COUNTS)
    for metric in COUNTS:
        for period in PERIODS:
            mine = [r for r in rows if r.metric == metric and r.period.label == period]
            [company] = [r for r in mine if not r.scope]
            assert company.value == company.n
            for dim in ("owner", "team"):
                parts = [r for r in mine if dim in r.scope]
                assert sum(int(r.value or 0) for r in parts) == company.value
            if company.coverage is not None:
                assert 0.0 <= company.coverage <= 1.0


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=samples())
def test_ratios_times_their_denominator_give_the_numerator(
    data: tuple[list[dict[str, Any]], pd.DataFrame],
) -> None:
    rows = _run(*data, ("meetings", "meetings_per_won_deal", "activities_per_open_deal"))
    by_key = {(r.metric, r.period.label, tuple(r.scope.items())): r for r in rows}
    for (metric, period, scope), row in by_key.items():
        if metric == "meetings":
            continue
        assert (row.value is None) == (row.n == 0), row
        if metric == "meetings_per_won_deal" and row.value is not None:
            meetings = by_key[("meetings", period, scope)].value
            assert row.value * row.n == pytest.approx(meetings)
        if row.value is not None:
            assert row.value >= 0
        if row.coverage is not None:
            assert 0.0 <= row.coverage <= 1.0
