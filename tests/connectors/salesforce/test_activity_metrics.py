"""Activity metrics over a Salesforce sync (Task and Event through the real SDK against the
sandbox): calls and meetings per owner equal counts taken from the sandbox's own truth."""

from __future__ import annotations

from collections.abc import Callable

from tests.connectors.activity_truth import held_per_owner
from tests.connectors.salesforce.conftest import SANDBOX_NOW, Harness
from tracker.metrics import MetricRequest
from tracker.metrics.load import build_report
from tracker.periods import parse_period

ZONE = "America/New_York"


def test_calls_and_meetings_per_owner_equal_the_sandbox_truth(
    harness_factory: Callable[..., Harness],
) -> None:
    h = harness_factory(deals=300, activities_per_deal=8)
    assert h.sync(activities=True).outcome == "ok"
    truth = h.sb.truth("salesforce")
    period = parse_period("2026-Q1", SANDBOX_NOW.date(), 1)
    request = MetricRequest(metrics=("calls", "meetings"), periods=(period,), by=("owner",))
    report = build_report(
        h.store.engine,
        request,
        timezone=ZONE,
        currency="USD",
        generated_at=SANDBOX_NOW,
        sources=["sf"],
    )
    for kind, metric in (("call", "calls"), ("meeting", "meetings")):
        expected = held_per_owner(truth, kind, period, ZONE)
        assert sum(expected.values()) > 20 and len(expected) > 2, expected
        rows = [r for r in report.rows if r.metric == metric]
        assert {r.scope["owner"]: r.value for r in rows if r.scope and r.value} == dict(expected)
        assert [r.value for r in rows if not r.scope] == [sum(expected.values())]
