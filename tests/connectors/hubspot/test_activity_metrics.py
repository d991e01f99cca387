"""Activity metrics over a HubSpot sync (calls, meetings, emails through the real SDK
against the sandbox): per owner and company-wide, value and coverage equal figures taken
from the sandbox's own truth."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.connectors.activity_truth import check_counts_per_owner, in_period
from tests.connectors.hubspot.conftest import PORTAL_TZ, SANDBOX_NOW, SOURCE, Portal
from tracker.periods import parse_period


def test_counts_and_coverage_per_owner_equal_the_sandbox_truth(
    portal_factory: Callable[..., Portal],
) -> None:
    p = portal_factory(deals=300, hubspot_share=1.0, activities_per_deal=6)
    assert p.sync(activities=True).outcome == "ok"
    truth = p.sb.truth("hubspot")
    kinds = {"call": "calls", "meeting": "meetings", "email": "emails"}
    rows = check_counts_per_owner(
        p.store.engine, truth, kinds, source=SOURCE, zone=PORTAL_TZ, now=SANDBOX_NOW
    )
    period = parse_period("2026-Q1", SANDBOX_NOW.date(), 1)
    for kind in kinds:
        [company] = [r for r in rows[kind] if not r.scope]
        everything = in_period(truth, kind, period, PORTAL_TZ)
        known = [a for a in everything if a.is_completed is not None or a.kind == "meeting"]
        assert company.coverage == pytest.approx(len(known) / len(everything))
