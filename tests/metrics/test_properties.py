"""Property tests: additive metrics add up over a breakdown; rates stay in bounds."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.metrics.metrics_fixtures import deal, run, utc
from tracker.metrics import REGISTRY

START = date(2026, 1, 1)
PERIODS = ["2026-Q1", "2026-Q2", "2026-03"]
ADDITIVE = [m.name for m in REGISTRY.all() if m.kind == "cumulative" and m.source == "deals"]
money = st.one_of(st.none(), st.floats(min_value=0, max_value=1e6, allow_nan=False))


@st.composite
def deals(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=0, max_value=40))
    out = []
    for number in range(count):
        outcome = draw(st.sampled_from(["won", "lost", "open"]))
        created = START + timedelta(days=draw(st.integers(min_value=-30, max_value=200)))
        close = created + timedelta(days=draw(st.integers(min_value=-10, max_value=120)))
        amount = draw(money)
        items = draw(
            st.one_of(
                st.none(),
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "quantity": st.integers(min_value=1, max_value=5),
                            "list_price": st.floats(min_value=1, max_value=1000),
                            "total": st.floats(min_value=0, max_value=5000),
                            "unit_cost": st.one_of(st.none(), st.floats(0, 500)),
                        }
                    ),
                    max_size=3,
                ),
            )
        )
        owner = draw(st.sampled_from([None, "o1", "o2", "o3"]))
        out.append(
            deal(
                f"d{number}",
                won=outcome == "won",
                lost=outcome == "lost",
                created_at=draw(st.sampled_from([None, utc(f"{created} 12:00")])),
                close_date=close if outcome != "open" else None,
                amount=amount,
                list_amount=draw(money),
                cost_amount=draw(money),
                account_external_id=draw(st.sampled_from([None, "a1", "a2", "a3", "a4"])),
                owner_external_id=owner,
                owner_name=owner,
                team={"o1": "EMEA", "o2": "EMEA", "o3": "US"}.get(owner or ""),
                is_deleted=draw(st.booleans()) and draw(st.booleans()),
                items=items,
            )
        )
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sample=deals())
def test_additive_metrics_sum_over_owners_and_teams_to_company_wide(
    sample: list[dict[str, Any]],
) -> None:
    rows = run(sample, REGISTRY.names("deals"), PERIODS, by=("owner", "team"))
    for metric in ADDITIVE:
        for period in PERIODS:
            company = [
                r for r in rows if r.metric == metric and r.period.label == period and not r.scope
            ]
            assert len(company) == 1
            for dim in ("owner", "team"):
                parts = [
                    r
                    for r in rows
                    if r.metric == metric and r.period.label == period and dim in r.scope
                ]
                total = sum(r.value or 0 for r in parts)
                assert total == pytest.approx(company[0].value or 0, rel=1e-9, abs=1e-6)
                # null only where nothing could be summed, company-wide as in every part
                # (a part with deals has a coverage; the others are 0 by definition)
                with_deals = [r for r in parts if r.coverage is not None]
                if with_deals:
                    nothing_summed = all(r.value is None for r in with_deals)
                    assert (company[0].value is None) == nothing_summed
                assert sum(r.n for r in parts) == company[0].n


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sample=deals())
def test_rates_and_coverage_stay_in_bounds(sample: list[dict[str, Any]]) -> None:
    rows = run(sample, REGISTRY.names("deals"), PERIODS, by=("owner",))
    for row in rows:
        assert row.n >= 0
        if row.coverage is not None:
            assert 0.0 <= row.coverage <= 1.0
        if row.n == 0:
            assert row.value in (None, 0)
        if row.value is None:
            continue
        if row.metric in ("win_rate", "win_rate_value"):
            assert 0.0 <= row.value <= 1.0
        if row.metric == "gross_margin_pct":
            assert row.value <= 1.0
        if row.metric == "sales_cycle_days":
            assert row.value >= 0
            assert row.stats["p75"] is not None and row.stats["p75"] >= row.value
        if row.metric in ADDITIVE:
            assert row.value >= 0
