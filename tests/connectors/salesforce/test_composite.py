"""The opening composite call: one API call for a sync's fixed reads, same errors as direct."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.connectors.salesforce.conftest import Harness, strip_multi_currency
from tracker.sync import load_cursor, save_cursor


@pytest.mark.parametrize(("shift", "calls"), [(0, 1), (-3600, 2)])
def test_an_incremental_sync_is_one_api_call(h: Harness, shift: float, calls: int) -> None:
    # the getDeleted window end is guessed from the clock offset the last sync saw; when
    # the server's clock moved further (shift: the saved offset an hour short), the
    # prefetched window does not reach the server's "now" and getDeleted goes alone
    assert h.sync().outcome == "ok"
    with h.store.engine.begin() as conn:
        cursor = load_cursor(conn, "sf")
        assert cursor is not None and isinstance(cursor.get("skew"), int | float)
        save_cursor(conn, "sf", {**cursor, "skew": cursor["skew"] + shift})
    h.sb.update_deals("sf", n=2)
    h.sb.delete_deals("sf", n=1)
    h.sb.advance_clock(90)
    h.sb.counters.reset()
    result = h.sync()
    assert result.outcome == "ok", result.error
    assert result.api_calls == calls
    requests = h.sb.counters.snapshot()["requests"]
    assert requests["salesforce.composite"] == 1 and requests["salesforce.describe"] == 4
    assert requests["salesforce.deleted"] == calls
    assert h.differences() == []


def test_a_changed_org_falls_back_to_direct_reads(h: Harness) -> None:
    # the cursor remembers a multi-currency org; the prefetched pages selecting
    # CurrencyIsoCode come back INVALID_FIELD and are simply not used
    assert h.sync().outcome == "ok"
    strip_multi_currency(h.sb)
    h.sb.update_deals("sf", n=3)
    result = h.sync(reconcile=True)  # every deal's currency changed without a new stamp
    assert result.outcome == "ok", result.error
    assert h.sb.counters.snapshot()["statuses"].get("salesforce.400", 0) >= 1
    assert h.differences() == []


def _error(harness_factory: Callable[..., Harness], spec: str) -> str:
    h = harness_factory()
    h.sb.faults.add(spec)
    result = h.sync()
    assert result.outcome == "stopped" and result.exit_code == 3
    assert result.error is not None
    return result.error


def test_a_subrequest_error_reads_like_the_direct_calls(
    harness_factory: Callable[..., Harness],
) -> None:
    # the 1st query rides in the composite call (with 3 more), the 5th (CurrencyType)
    # goes alone
    inside = _error(harness_factory, "daily@sf.query,times=1")
    alone = _error(harness_factory, "daily@sf.query,after=4,times=1")
    assert inside == alone
    assert inside.startswith("Salesforce query: the org's API request limit is spent")
    assert "tracker sync sf" in inside


@pytest.mark.parametrize("spec", ["500@sf.describe,times=1", "429@sf.query,times=2"])
def test_transient_subrequest_errors_are_retried_alone(h: Harness, spec: str) -> None:
    h.sb.faults.add(spec)
    result = h.sync()
    assert result.outcome == "ok", result.error
    assert h.differences() == []


def test_an_org_without_composite_is_read_call_by_call(h: Harness) -> None:
    router = h.sb.router
    router.routes = [r for r in router.routes if r.endpoint != "composite"]
    assert h.sync().outcome == "ok"
    h.sb.update_deals("sf", n=2)
    result = h.sync()
    assert result.outcome == "ok", result.error
    assert result.api_calls > 5
    assert "salesforce.composite" not in h.sb.counters.snapshot()["requests"]
    assert h.differences() == []
