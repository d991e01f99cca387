"""Activity metrics over a Salesforce sync (Task and Event through the real SDK against the
sandbox): calls and meetings per owner equal counts taken from the sandbox's own truth."""

from __future__ import annotations

from collections.abc import Callable

from tests.connectors.activity_truth import check_counts_per_owner
from tests.connectors.salesforce.conftest import SANDBOX_NOW, Harness

ZONE = "America/New_York"


def test_calls_and_meetings_per_owner_equal_the_sandbox_truth(
    harness_factory: Callable[..., Harness],
) -> None:
    h = harness_factory(deals=300, activities_per_deal=8)
    assert h.sync(activities=True).outcome == "ok"
    kinds = {"call": "calls", "meeting": "meetings"}
    truth = h.sb.truth("salesforce")
    check_counts_per_owner(h.store.engine, truth, kinds, source="sf", zone=ZONE, now=SANDBOX_NOW)
