"""Every definition of docs/metrics.md against hand-computed figures (pure frames)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.metrics.metrics_fixtures import deal, run, utc, value
from tracker.errors import UsageError
from tracker.metrics import REGISTRY

Q3 = "2026-Q3"


def test_revenue_counts_won_deals_closed_in_the_period_in_reporting_currency() -> None:
    deals = [
        deal("a", won=True, close_date=date(2026, 7, 1), amount=100.0),
        deal("b", won=True, close_date=date(2026, 9, 30), amount=250.5),
        # EUR deal: revenue uses amount_reporting, never the deal currency amount.
        deal(
            "c",
            won=True,
            close_date=date(2026, 8, 1),
            amount=100.0,
            currency="EUR",
            amount_reporting=110.0,
        ),
        deal("d", lost=True, close_date=date(2026, 8, 1), amount=999.0),
        deal("e", won=True, close_date=date(2026, 10, 1), amount=1000.0),  # next quarter
        deal("f", won=True, close_date=date(2026, 6, 30), amount=1000.0),  # previous quarter
        deal("g", won=True, close_date=date(2026, 8, 2), amount=None),  # no amount
        deal("h", won=True, close_date=date(2026, 8, 3), amount=5000.0, is_deleted=True),
        deal("i", close_date=date(2026, 8, 3), amount=700.0),  # open
    ]
    rows = run(deals, ["revenue", "deals_won", "deals_lost"], [Q3, "2026-Q2", "2025"])
    revenue = value(rows, "revenue", Q3)
    assert revenue.value == pytest.approx(460.5)
    assert (revenue.n, revenue.coverage) == (3, pytest.approx(3 / 4))
    assert value(rows, "deals_won", Q3).value == 4
    assert isinstance(value(rows, "deals_won", Q3).value, int)
    assert value(rows, "deals_lost", Q3).value == 1
    assert value(rows, "revenue", "2026-Q2").value == 1000.0
    empty = value(rows, "revenue", "2025")
    assert (empty.value, empty.n, empty.coverage) == (0.0, 0, None)
    assert value(rows, "deals_won", "2025").value == 0


def test_win_rates_by_count_and_by_value() -> None:
    deals = [
        deal("w1", won=True, close_date=date(2026, 7, 5), amount=300.0),
        deal("w2", won=True, close_date=date(2026, 7, 6), amount=100.0),
        deal("l1", lost=True, close_date=date(2026, 7, 7), amount=400.0),
        deal("l2", lost=True, close_date=date(2026, 7, 8), amount=None),
        deal("l3", lost=True, close_date=date(2026, 7, 9), amount=200.0),
    ]
    rows = run(deals, ["win_rate", "win_rate_value"], [Q3, "2026-Q2"])
    rate = value(rows, "win_rate", Q3)
    assert (rate.value, rate.n, rate.coverage) == (pytest.approx(2 / 5), 5, 1.0)
    by_value = value(rows, "win_rate_value", Q3)
    assert by_value.value == pytest.approx(400 / 1000)
    assert (by_value.n, by_value.coverage) == (4, pytest.approx(0.8))
    # Nothing closed: undefined, not zero.
    assert value(rows, "win_rate", "2026-Q2").value is None
    assert value(rows, "win_rate_value", "2026-Q2").value is None


def test_avg_deal_size_is_revenue_over_won_deals_and_null_without_wins() -> None:
    deals = [
        deal("a", won=True, close_date=date(2026, 7, 5), amount=300.0),
        deal("b", won=True, close_date=date(2026, 7, 6), amount=100.0),
        deal("c", won=True, close_date=date(2026, 7, 6), amount=None),
        deal("l", lost=True, close_date=date(2026, 4, 6), amount=100.0),
    ]
    rows = run(deals, ["avg_deal_size"], [Q3, "2026-Q2"])
    avg = value(rows, "avg_deal_size", Q3)
    assert (avg.value, avg.n, avg.coverage) == (200.0, 2, pytest.approx(2 / 3))
    assert value(rows, "avg_deal_size", "2026-Q2").value is None


def test_sales_cycle_median_mean_p75_and_negative_durations() -> None:
    close = date(2026, 8, 31)
    deals = [
        deal("d10", won=True, close_date=close, created_at=utc("2026-08-21 12:00")),
        deal("d20", won=True, close_date=close, created_at=utc("2026-08-11 00:00")),
        deal("d40", won=True, close_date=close, created_at=utc("2026-07-22 23:59")),
        deal("neg", won=True, close_date=close, created_at=utc("2026-09-05 08:00")),  # -5 days
        deal("nul", won=True, close_date=close, created_at=None),
        deal("lost", lost=True, close_date=close, created_at=utc("2020-01-01 00:00")),
    ]
    rows = run(deals, ["sales_cycle_days"], [Q3, "2026-Q2"])
    cycle = value(rows, "sales_cycle_days", Q3)
    assert cycle.value == 20.0
    assert cycle.stats["mean"] == pytest.approx(70 / 3)
    assert cycle.stats["p75"] == pytest.approx(30.0)  # linear: 20 + 0.5 × (40 − 20)
    assert cycle.stats["negative_excluded"] == 1
    assert (cycle.n, cycle.coverage) == (3, pytest.approx(3 / 5))
    none = value(rows, "sales_cycle_days", "2026-Q2")
    assert (none.value, none.n, none.stats["mean"], none.stats["negative_excluded"]) == (
        None,
        0,
        None,
        0,
    )


@pytest.mark.parametrize(
    ("timezone", "month_with_deal", "cycle"),
    [
        # 2026-06-30 23:30 UTC is still June 30 in New York but July 1 in Tokyo.
        ("UTC", "2026-06", 31.0),
        ("America/New_York", "2026-06", 31.0),
        ("Asia/Tokyo", "2026-07", 30.0),
    ],
)
def test_created_date_is_the_local_date_across_midnight(
    timezone: str, month_with_deal: str, cycle: float
) -> None:
    deals = [
        deal(
            "x",
            won=True,
            close_date=date(2026, 7, 31),
            created_at=utc("2026-06-30 23:30"),
            amount=50.0,
        ),
    ]
    rows = run(
        deals, ["pipeline_created", "sales_cycle_days"], ["2026-06", "2026-07"], timezone=timezone
    )
    assert value(rows, "pipeline_created", month_with_deal).value == 50.0
    other = "2026-07" if month_with_deal == "2026-06" else "2026-06"
    assert value(rows, "pipeline_created", other).value == 0.0
    assert value(rows, "sales_cycle_days", "2026-07").value == cycle


def test_fiscal_year_starting_in_february_places_deals_by_close_date() -> None:
    deals = [
        deal("jan", won=True, close_date=date(2026, 1, 31), amount=1.0),
        deal("feb", won=True, close_date=date(2026, 2, 1), amount=10.0),
        deal("apr", won=True, close_date=date(2026, 4, 30), amount=100.0),
        deal("nextjan", won=True, close_date=date(2027, 1, 31), amount=1000.0),
    ]
    rows = run(deals, ["revenue"], ["FY2026-Q4", "FY2027-Q1", "FY2027"], fiscal_year_start_month=2)
    assert value(rows, "revenue", "FY2026-Q4").value == 1.0
    assert value(rows, "revenue", "FY2027-Q1").value == 110.0
    assert value(rows, "revenue", "FY2027").value == 1110.0
    assert value(rows, "revenue", "FY2027").period.start == date(2026, 2, 1)


def _customers() -> list[dict[str, object]]:
    return [
        # acme: first won in Q2, so its Q3 win is not a new customer.
        deal(
            "acme-1",
            won=True,
            close_date=date(2026, 5, 1),
            account_external_id="acme",
            owner_external_id="o1",
            owner_name="Ann",
            team="EMEA",
        ),
        deal(
            "acme-2",
            won=True,
            close_date=date(2026, 8, 1),
            account_external_id="acme",
            owner_external_id="o2",
            owner_name="Bob",
            team="US",
        ),
        # bolt: two wins on the same first day; the smaller deal id (bolt-a) is first.
        deal(
            "bolt-b",
            won=True,
            close_date=date(2026, 7, 10),
            account_external_id="bolt",
            owner_external_id="o1",
            owner_name="Ann",
            team="EMEA",
        ),
        deal(
            "bolt-a",
            won=True,
            close_date=date(2026, 7, 10),
            account_external_id="bolt",
            owner_external_id="o2",
            owner_name="Bob",
            team="US",
        ),
        # core: an earlier win was deleted, so the Q3 win is its first.
        deal(
            "core-0",
            won=True,
            close_date=date(2025, 1, 1),
            account_external_id="core",
            is_deleted=True,
        ),
        deal(
            "core-1",
            won=True,
            close_date=date(2026, 9, 1),
            account_external_id="core",
            owner_external_id="o1",
            owner_name="Ann",
            team="EMEA",
        ),
        # dart: a lost deal never makes a customer; its later win does (in Q4).
        deal("dart-1", lost=True, close_date=date(2026, 7, 1), account_external_id="dart"),
        deal("dart-2", won=True, close_date=date(2026, 10, 2), account_external_id="dart"),
        # no account: never counts.
        deal(
            "anon",
            won=True,
            close_date=date(2026, 7, 2),
            owner_external_id="o1",
            owner_name="Ann",
            team="EMEA",
        ),
        # same account id in another source is another account.
        deal(
            "acme-x",
            source="hub",
            won=True,
            close_date=date(2026, 7, 3),
            account_external_id="acme",
            owner_external_id="o1",
            owner_name="Ann",
            team="EMEA",
        ),
    ]


def test_new_customers_first_ever_win_ties_and_attribution() -> None:
    rows = run(_customers(), ["new_customers"], [Q3, "2026-Q2", "2026-Q4"], by=("owner", "team"))
    q3 = value(rows, "new_customers", Q3)
    assert q3.value == 3  # bolt, core, hub/acme
    assert q3.coverage == pytest.approx(5 / 6)  # anon has no account
    assert value(rows, "new_customers", "2026-Q2").value == 1
    assert value(rows, "new_customers", "2026-Q4").value == 1
    assert value(rows, "new_customers", Q3, owner="Bob").value == 1  # bolt-a
    assert value(rows, "new_customers", Q3, owner="Ann").value == 2  # core-1, acme-x
    assert value(rows, "new_customers", Q3, team="US").value == 1
    assert value(rows, "new_customers", Q3, owner=None).value == 0


def test_new_customers_first_win_is_over_the_whole_store_even_when_filtered() -> None:
    rows = run(_customers(), ["new_customers"], [Q3], filters={"team": ("US",)})
    # acme-2 is US's Q3 win but acme's first win was EMEA's in Q2: not new for US.
    assert value(rows, "new_customers", Q3).value == 1


def _priced() -> list[dict[str, object]]:
    return [
        # Line items: list 2×60 + 1×30 = 150, net 90 + 30 = 120, cost (2×20 + 1×10) = 50.
        deal(
            "li",
            won=True,
            close_date=date(2026, 7, 1),
            amount=125.0,
            list_amount=999.0,
            cost_amount=999.0,
            items=[
                {"quantity": 2, "list_price": 60.0, "total": 90.0, "unit_cost": 20.0},
                {"quantity": 1, "list_price": 30.0, "total": 30.0, "unit_cost": 10.0},
                {
                    "quantity": 5,
                    "list_price": 1e6,
                    "total": 1e6,
                    "unit_cost": 1e6,
                    "is_deleted": True,
                },
            ],
        ),
        # EUR, rate 1.1: list 200 EUR (mapped) → 220; net = amount_reporting 110; cost from
        # items 2×25 EUR = 50 EUR → 55.
        deal(
            "eur",
            won=True,
            close_date=date(2026, 7, 2),
            amount=100.0,
            currency="EUR",
            amount_reporting=110.0,
            list_amount=200.0,
            cost_amount=80.0,
            items=[{"quantity": 2, "list_price": None, "total": None, "unit_cost": 25.0}],
        ),
        # Sold above list: list 80, net 100 (no items); cost unknown.
        deal("above", won=True, close_date=date(2026, 7, 3), amount=100.0, list_amount=80.0),
        # No list and no cost: excluded from both (coverage).
        deal("bare", won=True, close_date=date(2026, 7, 4), amount=60.0),
        # A line item without a unit cost: cost falls back to the deal's cost_amount (40).
        deal(
            "mixed",
            won=True,
            close_date=date(2026, 7, 5),
            amount=100.0,
            cost_amount=40.0,
            items=[
                {"quantity": 1, "list_price": 100.0, "total": 100.0, "unit_cost": 30.0},
                {"quantity": 1, "list_price": 10.0, "total": 0.0, "unit_cost": None},
            ],
        ),
        # Lost deals never count.
        deal(
            "lost",
            lost=True,
            close_date=date(2026, 7, 5),
            amount=100.0,
            list_amount=1000.0,
            cost_amount=1.0,
        ),
    ]


def test_discount_from_line_items_or_mapped_list_in_reporting_currency() -> None:
    rows = run(_priced(), ["discount_pct"], [Q3, "2026-Q2"])
    discount = value(rows, "discount_pct", Q3)
    # Σ net = 120 + 110 + 100 + 100 = 430; Σ list = 150 + 220 + 80 + 110 = 560.
    assert discount.value == pytest.approx(1 - 430 / 560)
    assert (discount.n, discount.coverage) == (4, pytest.approx(4 / 5))
    assert value(rows, "discount_pct", "2026-Q2").value is None
    above = run([_priced()[2]], ["discount_pct"], [Q3])
    assert value(above, "discount_pct").value == pytest.approx(1 - 100 / 80)  # negative


def test_gross_margin_over_won_deals_with_known_cost() -> None:
    rows = run(_priced(), ["gross_margin_pct"], [Q3])
    margin = value(rows, "gross_margin_pct", Q3)
    # li: net 120 cost 50; eur: net 110 cost 55; mixed: net 100 cost 40 (fallback).
    assert margin.value == pytest.approx((330 - 145) / 330)
    assert (margin.n, margin.coverage) == (3, pytest.approx(3 / 5))


def test_margin_coverage_says_point_four_when_two_of_five_won_deals_have_a_cost() -> None:
    deals = [
        deal(
            f"d{i}",
            won=True,
            close_date=date(2026, 8, 1),
            amount=100.0,
            cost_amount=60.0 if i < 2 else None,
        )
        for i in range(5)
    ]
    margin = value(run(deals, ["gross_margin_pct"], [Q3]), "gross_margin_pct")
    assert (margin.value, margin.n, margin.coverage) == (pytest.approx(0.4), 2, 0.4)


def test_pipeline_created_any_stage_by_local_created_date() -> None:
    deals = [
        deal("open", created_at=utc("2026-07-01 00:00"), amount=100.0),
        deal(
            "won",
            won=True,
            created_at=utc("2026-08-01 00:00"),
            close_date=date(2026, 12, 1),
            amount=200.0,
        ),
        deal("lost", lost=True, created_at=utc("2026-09-30 23:59"), amount=300.0),
        deal("noamt", created_at=utc("2026-08-01 00:00"), amount=None),
        deal("before", created_at=utc("2026-06-30 23:59"), amount=1000.0),
        deal("gone", created_at=utc("2026-08-01 00:00"), amount=1000.0, is_deleted=True),
        deal("nodate", created_at=None, amount=1000.0),
    ]
    pipe = value(run(deals, ["pipeline_created"], [Q3]), "pipeline_created")
    assert (pipe.value, pipe.n, pipe.coverage) == (600.0, 3, 0.75)


def test_breakdowns_add_up_and_missing_values_are_their_own_scope() -> None:
    deals = [
        deal(
            "a",
            won=True,
            close_date=date(2026, 7, 1),
            amount=10.0,
            owner_external_id="o1",
            owner_name="Ann",
            team="EMEA",
            region="EU",
            pipeline="new",
            segment="smb",
            account_external_id="x",
        ),
        deal(
            "b",
            won=True,
            close_date=date(2026, 7, 2),
            amount=20.0,
            owner_external_id="o2",
            owner_name=None,
            team=None,
            pipeline="renewal",
            account_external_id="y",
            segment="ent",
        ),
        deal("c", lost=True, close_date=date(2026, 7, 3), amount=40.0, source="hub"),
    ]
    dims = ("owner", "team", "region", "source", "pipeline", "segment")
    rows = run(deals, ["revenue", "win_rate"], [Q3], by=dims)
    assert value(rows, "revenue", Q3).value == 30.0
    assert value(rows, "revenue", Q3, owner="o2").value == 20.0  # no name: the external id
    assert value(rows, "revenue", Q3, team=None).value == 20.0
    assert value(rows, "revenue", Q3, source="hub").value == 0.0
    assert value(rows, "win_rate", Q3, source="hub").value == 0.0
    assert value(rows, "win_rate", Q3, segment="ent").value == 1.0
    scopes = [row.scope for row in rows if row.metric == "revenue"]
    assert scopes[0] == {}
    assert [s for s in scopes if "team" in s] == [{"team": "EMEA"}, {"team": None}]
    filtered = run(deals, ["revenue"], [Q3], filters={"pipeline": ("new", "renewal")})
    assert value(filtered, "revenue").value == 30.0
    only_hub = run(deals, ["deals_lost"], [Q3], filters={"source": ("hub",)})
    assert value(only_hub, "deals_lost").value == 1


def test_registry_describes_every_metric_and_marks_lower_is_better() -> None:
    lower = {m.name for m in REGISTRY.all() if m.direction == "lower"}
    assert lower == {"deals_lost", "sales_cycle_days", "discount_pct"}
    cumulative = {m.name for m in REGISTRY.all() if m.kind == "cumulative"}
    assert cumulative == {
        *("revenue", "deals_won", "deals_lost", "new_customers", "pipeline_created"),
        *("calls", "meetings", "emails"),
    }
    activity = {m.name: (m.unit, m.kind) for m in REGISTRY.all() if m.source == "activities"}
    assert activity == {
        "calls": ("count", "cumulative"),
        "meetings": ("count", "cumulative"),
        "emails": ("count", "cumulative"),
        "meetings_per_won_deal": ("ratio", "rate"),
        "activities_per_open_deal": ("ratio", "rate"),
    }
    assert all(m.version == 1 and m.description for m in REGISTRY.all())
    assert REGISTRY.get("gross_margin_pct").required_fields == ("net", "cost")
    with pytest.raises(UsageError, match="unknown metric 'margin': choose from revenue"):
        REGISTRY.get("margin")


def test_overlapping_periods_are_each_computed_whole() -> None:
    deals = [
        deal("a", won=True, close_date=date(2026, 7, 15), amount=1.0),
        deal("b", won=True, close_date=date(2026, 8, 15), amount=2.0),
    ]
    rows = run(deals, ["revenue"], [Q3, "2026-07", "2026", "2026-07-15..2026-08-15"])
    assert [r.value for r in rows] == [3.0, 1.0, 3.0, 3.0]
    assert [r.period.label for r in rows] == [Q3, "2026-07", "2026", "2026-07-15..2026-08-15"]
