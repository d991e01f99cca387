"""More than 10,000 deals changed inside one search window (the vendor's paging cap)."""

from __future__ import annotations

from collections.abc import Callable

from tests.connectors.hubspot.conftest import Portal

CAP = 10_000


def test_more_than_10000_changes_in_one_window(portal_factory: Callable[..., Portal]) -> None:
    portal = portal_factory(deals=10_800, hubspot_share=1.0, seed=3)
    assert portal.sync(batch_size=2000).exit_code == 0
    live = portal.sb.deal_ids("hubspot")
    assert len(live) > CAP + 300
    # a bulk update: every live deal gets one and the same hs_lastmodifieddate (second
    # precision), so one window (one millisecond, even) holds more than 10,000 changes
    ids, _ = portal.sb.same_stamp("hubspot", ids=live)
    before = portal.sb.counters.snapshot()["statuses"].get("hubspot.400", 0)
    result = portal.sync(batch_size=2000)
    assert result.exit_code == 0, result.error
    assert result.counts.changed["deals"] == len(ids)
    assert portal.sb.counters.snapshot()["statuses"].get("hubspot.400", 0) == before
    assert portal.differences() == []
