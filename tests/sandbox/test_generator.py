"""The data generator: deterministic, realistic shapes, split between the two CRMs."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, datetime

import pytest

from sandbox.control import build_state, canonical_truth
from sandbox.generator import (
    HOSTILE_NAMES,
    Company,
    GenDeal,
    generate,
    quarter_end,
    quarter_start,
)
from sandbox.hubspot.truth import hubspot_truth
from sandbox.salesforce.truth import salesforce_truth

NOW = datetime(2026, 5, 15, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def company() -> Company:
    return generate(4000, seed=11, now=NOW)


def test_same_seed_same_data_other_seed_other_data() -> None:
    a, b = generate(300, seed=1, now=NOW), generate(300, seed=1, now=NOW)
    assert a == b
    assert generate(300, seed=2, now=NOW).deals != a.deals
    assert canonical_truth(a) == canonical_truth(b)


def test_rejects_out_of_range_counts() -> None:
    with pytest.raises(ValueError):
        generate(0)


def test_at_least_eight_quarters_up_to_now(company: Company) -> None:
    created = [d.created for d in company.deals]
    assert max(created) <= NOW
    quarters = {quarter_start(c.date()) for c in created}
    assert len(quarters) >= 8
    assert all(d.close_time <= NOW for d in company.deals if d.status != "open")


def test_stage_mix_and_line_items(company: Company) -> None:
    status = Counter(d.status for d in company.deals)
    assert status["won"] > 0 and status["lost"] > status["won"] * 0.5 and status["open"] > 0
    assert {len(d.lines) for d in company.deals} == {1, 2, 3, 4}
    for d in company.deals[:200]:
        for li in d.lines:
            assert li.total == round(li.list_price * li.quantity * (1 - li.discount), 2)


def test_quarter_end_peak_and_deeper_discounts(company: Company) -> None:
    closed = [d for d in company.deals if d.status == "won"]
    last_ten = [d for d in closed if (quarter_end(d.close) - d.close).days < 10]
    # the last ten days of a ~91-day quarter hold far more than 11 % of closes
    assert len(last_ten) / len(closed) > 0.25
    rest = [d for d in closed if d not in last_ten]

    def mean_discount(deals: list[GenDeal]) -> float:
        return float(statistics.mean(li.discount for d in deals for li in d.lines))

    assert mean_discount(last_ten) > mean_discount(rest) + 0.02


def test_long_tailed_cycles(company: Company) -> None:
    cycles = sorted((d.close - d.created.date()).days for d in company.deals if d.status != "open")
    median, p95 = cycles[len(cycles) // 2], cycles[int(len(cycles) * 0.95)]
    assert 20 <= median <= 90 and p95 > 2 * median


def test_new_logos_every_quarter(company: Company) -> None:
    new_by_q = Counter(quarter_start(d.close) for d in company.deals if d.new_business)
    assert len(new_by_q) >= 8 and min(new_by_q.values()) > 0
    types = Counter(d.new_business for d in company.deals)
    assert types[True] > 0 and types[False] > 0 and types[None] > 0


def test_currencies_deletes_nulls_and_hostile_names(company: Company) -> None:
    currencies = Counter(d.currency for d in company.deals)
    assert set(currencies) == {"USD", "EUR", "GBP"} and currencies["USD"] > 0.9 * len(company.deals)
    assert 0 < sum(d.deleted for d in company.deals) < 0.05 * len(company.deals)
    assert any(d.amount is None for d in company.deals)
    assert any(d.account is None for d in company.deals)
    assert any(li.unit_cost is None for d in company.deals for li in d.lines)
    assert any(a.segment is None for a in company.accounts)
    names = [d.name for d in company.deals] + [a.name for a in company.accounts]
    for hostile in ("<script>", "\r\n", '"', "株式会社", "🚀"):
        assert any(hostile in n for n in names), hostile
    assert any(any(h in n for h in HOSTILE_NAMES) for n in names)


def test_split_between_crms_and_truth_counts(company: Company) -> None:
    crms = Counter(d.crm for d in company.deals)
    assert 0.2 < crms["hubspot"] / len(company.deals) < 0.4
    state = build_state(company)
    sf = salesforce_truth(state.salesforce, company.rates, set())
    hs = hubspot_truth(state.hubspot, company.rates)
    assert len(sf.deals) == crms["salesforce"] and len(hs.deals) == crms["hubspot"]
    assert sum(d.is_deleted for d in sf.deals.values()) == sum(
        g.deleted for g in company.deals if g.crm == "salesforce"
    )
    # team and region of reps without their own come from the manager
    reps = [o for o in sf.owners.values() if o.manager_external_id]
    assert reps and all(o.team and o.region for o in reps)
    raw = state.salesforce.rows["User"]
    assert any(raw[o.external_id]["Department"] is None for o in reps)
