"""How a Salesforce sync learns the org's rates: advanced currency management detected
without a call of its own, and CurrencyType behind the dated rates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from tests.connectors.salesforce.conftest import Harness


def test_an_org_without_dated_rates_costs_no_extra_call(
    harness_factory: Callable[..., Harness],
) -> None:
    # no advanced currency management: whether DatedConversionRate exists is asked inside
    # the opening composite call, so no sync queries it (and gets INVALID_TYPE) on its own
    h = harness_factory(dated_rates=False)
    assert h.sync().outcome == "ok"
    assert h.differences() == []
    assert h.sb.counters.snapshot()["statuses"].get("salesforce.400", 0) == 0
    h.sb.update_deals("sf", n=2)
    h.sb.advance_clock(90)
    h.sb.counters.reset()
    result = h.sync()
    assert result.outcome == "ok", result.error
    assert result.api_calls == 1
    assert h.differences() == []


def _stored(h: Harness) -> dict[str, tuple[float | None, float | None]]:
    """external_id → (amount, amount_reporting) of every stored deal of source sf."""
    with h.store.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT external_id, amount, amount_reporting FROM deals WHERE source = 'sf'"
        )
        return {str(r[0]): (r[1], r[2]) for r in rows}


def test_deals_in_one_currency_convert_at_the_rate_of_their_close_date(
    harness_factory: Callable[..., Harness],
) -> None:
    h = harness_factory(deals=1500)
    result = h.sync()
    assert result.outcome == "ok", result.error
    assert h.differences() == [] and result.unconverted == {}
    # EUR per the org's DatedConversionRate: 1.05 USD from `early`, 1.08 from `late` on
    (_, _), (early, _), (late, _) = h.sb.state.dated_rates["EUR"]
    eur = [d for d in h.sb.truth("sf").live_deals().values() if d.currency == "EUR" and d.amount]
    older = next(d for d in eur if d.close_date is not None and early <= d.close_date < late)
    newer = next(d for d in eur if d.close_date is not None and late <= d.close_date)
    stored = _stored(h)
    assert older.amount is not None and newer.amount is not None
    # by hand: ConversionRate 0.952381 EUR per USD → 1 / 0.952381 = 1.05 USD per EUR
    assert stored[older.external_id] == (older.amount, round(older.amount * 1.05, 6))
    assert stored[newer.external_id] == (newer.amount, round(newer.amount * 1.08, 6))
    assert stored[older.external_id][1] == pytest.approx(older.amount_reporting)
    assert stored[newer.external_id][1] == pytest.approx(newer.amount_reporting)


def test_deals_outside_every_dated_range_convert_at_currency_type_rates(
    harness_factory: Callable[..., Harness],
) -> None:
    # GBP's dated rates begin on 1 July 2025: GBP deals that closed before it fall outside
    # every range and convert at the CurrencyType rate (1 / 0.787402 = 1.27), read then
    h = harness_factory(deals=1500)
    h.sb.set_dated_rates("GBP", [(date(2025, 7, 1), 1.30)])
    result = h.sync()
    assert result.outcome == "ok", result.error
    assert h.differences() == [] and result.unconverted == {}
    gbp = [d for d in h.sb.truth("sf").live_deals().values() if d.currency == "GBP" and d.amount]
    before = next(d for d in gbp if d.close_date is not None and d.close_date < date(2025, 7, 1))
    after = next(d for d in gbp if d.close_date is not None and d.close_date >= date(2025, 7, 1))
    stored = _stored(h)
    assert before.amount is not None and after.amount is not None
    assert stored[before.external_id][1] == round(before.amount * 1.27, 6)
    assert stored[after.external_id][1] == round(after.amount * 1.30, 6)
    # an incremental run reads CurrencyType again only when a changed deal needs it
    h.sb.update_deals("sf", ids=[after.external_id])
    h.sb.advance_clock(90)
    h.sb.counters.reset()
    again = h.sync()
    assert again.outcome == "ok" and again.api_calls == 1
    assert h.differences() == []
