"""Activity metrics over a Salesforce sync (Task and Event through the real SDK against the
sandbox): calls and meetings per owner equal counts taken from the sandbox's own truth."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from tests.connectors.salesforce.conftest import SANDBOX_NOW, Harness
from tracker.metrics import MetricRequest
from tracker.metrics.load import build_report
from tracker.periods import parse_period
from tracker.records import ActivityRecord

ZONE = "America/New_York"


def _local_day(act: ActivityRecord) -> date | None:
    """The day the truth says it happened, in the org's zone (a day-only Task as it is)."""
    if act.occurred_at is None:
        return act.occurred_on
    at = act.occurred_at if act.occurred_at.tzinfo else act.occurred_at.replace(tzinfo=UTC)
    return at.astimezone(ZoneInfo(ZONE)).date()


def _held(act: ActivityRecord, kind: str) -> bool:
    """Done, as docs/metrics.md says: completed, or a meeting whose CRM does not say."""
    if act.is_deleted or act.kind != kind:
        return False
    return act.is_completed is True or (kind == "meeting" and act.is_completed is None)


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
        expected: Counter[str | None] = Counter()
        for act in truth.activities.values():
            day = _local_day(act)
            if _held(act, kind) and day is not None and day in period:
                owner = truth.owners.get(act.owner_external_id or "")
                expected[owner.name if owner else act.owner_external_id] += 1
        rows = [r for r in report.rows if r.metric == metric]
        got = {r.scope["owner"]: r.value for r in rows if r.scope and r.value}
        assert sum(expected.values()) > 20 and len(expected) > 2, expected
        assert got == dict(expected)
        company = [r for r in rows if not r.scope]
        assert company[0].value == sum(expected.values())
    assert report.as_of["sf"] <= datetime.now(UTC)
