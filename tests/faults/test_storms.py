"""Storms: every API of both CRMs answering a share of requests with 429, 500, 503, a
dropped connection or an expired session, while the data changes between runs. Whatever
a run survives it commits exactly; a run a storm stops is resumed by the next; in the end
the store equals the sandbox's truth, and no token reaches an error or a log line."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from tests.connectors.hubspot.conftest import Portal
from tests.connectors.salesforce.conftest import Harness
from tests.connectors.salesforce.test_faults import _password_mode

pytestmark = pytest.mark.slow

STORM = "429@{api},p=0.08;500@{api},p=0.04;503@{api},p=0.04;drop@{api},p=0.03"
RUNS = 8  # a run a storm stops is followed by another, at most this many


def weather(sync: Callable[[], Any], change: Callable[[int], None]) -> list[str]:
    """Sync under the storm, changing the CRM between runs, until three runs in a row
    finish; returns each run's outcome."""
    outcomes: list[str] = []
    streak = 0
    for run in range(RUNS * 2):
        result = sync()
        outcomes.append(f"{result.outcome}: {result.error or ''}"[:160])
        streak = streak + 1 if result.outcome == "ok" else 0
        if streak == 3:
            return outcomes
        change(run)
    raise AssertionError(f"never three good runs in a row under the storm: {outcomes}")


def test_salesforce_storm_with_expiring_sessions_ends_exact(
    harness_factory: Callable[..., Harness], caplog: pytest.LogCaptureFixture
) -> None:
    h = harness_factory(deals=600, seed=3)
    h.sb.set_budget("sf", total=10_000_000)
    h.sb.faults.add(STORM.format(api="salesforce") + ";expire@salesforce,p=0.02")
    login = _password_mode(h, "sandbox-password")

    def change(run: int) -> None:
        h.sb.update_deals("sf", n=4)
        h.sb.delete_deals("sf", n=1)
        h.sb.advance_clock(20)

    with caplog.at_level(logging.DEBUG):
        outcomes = weather(lambda: h.sync(page_size=200, **login), change)
        bulk = h.sync(bulk_threshold=0, bulk_chunk_size=150, **login)  # the Bulk path too
    served = h.sb.counters.snapshot()["faults"]
    assert sum(served.values()) >= 10, served  # a storm indeed
    h.sb.faults.clear()
    final = h.sync(**login)
    assert final.outcome == "ok", (outcomes, bulk.error, final.error)
    assert h.differences() == [], outcomes
    for secret in (h.sb.salesforce_token, "sandbox-password", "SANDBOXSECURITYTOKEN"):
        assert secret not in caplog.text and all(secret not in o for o in outcomes)


def test_hubspot_storm_ends_exact(
    portal_factory: Callable[..., Portal], caplog: pytest.LogCaptureFixture
) -> None:
    portal = portal_factory(deals=900)
    portal.sb.faults.add(STORM.format(api="hubspot"))

    def change(run: int) -> None:
        portal.sb.update_deals("hubspot", n=4)
        portal.sb.delete_deals("hubspot", n=1)

    with caplog.at_level(logging.DEBUG):
        outcomes = weather(portal.sync, change)
    served = portal.sb.counters.snapshot()["faults"]
    assert sum(served.values()) >= 10, served
    assert portal.differences() == [], outcomes
    assert portal.sb.hubspot_token not in caplog.text
