"""The canonical truth agrees with what the SDKs read, under the documented conventions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hubspot import HubSpot
from hypothesis import given, settings
from hypothesis import strategies as st
from simple_salesforce import Salesforce

from sandbox import Sandbox

from .conftest import hubspot_client, salesforce_client


def test_hubspot_deals_read_by_the_conventions(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(deals=800, seed=9, hubspot_share=1.0)
    hs: HubSpot = hubspot_client(sb)
    truth = sb.truth("hubspot")
    props = ["dealname", "amount", "closedate", "deal_currency_code", "dealtype", "dealstage"]
    tz = ZoneInfo("America/New_York")
    shifted = 0
    for deal in hs.crm.deals.get_all(properties=props):
        p, t = deal.properties, truth.deals[deal.id]
        currency = p["deal_currency_code"] or "USD"
        assert t.currency == currency
        if p["amount"] is not None:
            assert t.amount_reporting == float(p["amount"]) * sb.rates[currency]
        if p["closedate"]:
            instant = datetime.fromisoformat(p["closedate"].replace("Z", "+00:00"))
            assert t.close_date == instant.astimezone(tz).date()
            shifted += instant.astimezone(UTC).date() != t.close_date
        assert t.is_new_business == (
            None if p["dealtype"] is None else p["dealtype"] == "newbusiness"
        )
    assert shifted > 0  # the time-zone trap is really there


def test_hubspot_line_item_conventions(sandbox: Sandbox, hs: HubSpot) -> None:
    truth = sandbox.truth("hubspot").live_deals()
    deal = next(d for d in truth.values() if d.line_items and d.cost_amount is not None)
    for li in deal.line_items or []:
        wire = hs.crm.line_items.basic_api.get_by_id(
            li.external_id, properties=["price", "quantity", "amount", "hs_cost_of_goods_sold"]
        ).properties
        total, qty, price = float(wire["amount"]), float(wire["quantity"]), float(wire["price"])
        assert li.total == total and li.unit_price == total / qty
        assert li.discount_pct == 1 - total / (price * qty)
        assert li.unit_cost == float(wire["hs_cost_of_goods_sold"])
    lines = deal.line_items or []
    assert deal.list_amount == sum((li.list_price or 0) * (li.quantity or 0) for li in lines)


def test_salesforce_truth_matches_a_query(sandbox: Sandbox, sf: Salesforce) -> None:
    truth = sandbox.truth("salesforce")
    rows = sf.query_all(
        "SELECT Id, Name, Amount, CurrencyIsoCode, CloseDate, Type, IsWon, OwnerId, "
        "Owner.Department, Owner.Manager.Department FROM Opportunity"
    )["records"]
    assert {r["Id"] for r in rows} == set(truth.live_deals())
    # advanced currency management: the rate in force on the close date, as published
    dated = sf.query_all(
        "SELECT IsoCode, ConversionRate, StartDate, NextStartDate FROM DatedConversionRate"
    )["records"]

    def in_force(code: str, day: str) -> float:
        [row] = [
            d
            for d in dated
            if d["IsoCode"] == code
            and d["StartDate"] <= day
            and (d["NextStartDate"] is None or day < d["NextStartDate"])
        ]
        return 1 / float(row["ConversionRate"])

    converted_at_older_rates = 0
    for r in rows:
        t = truth.deals[r["Id"]]
        assert t.name == r["Name"] and t.close_date.isoformat() == r["CloseDate"]  # type: ignore[union-attr]
        if r["Amount"] is not None:
            rate = in_force(r["CurrencyIsoCode"], r["CloseDate"])
            assert t.amount_reporting == pytest.approx(r["Amount"] * rate, rel=1e-6)
            converted_at_older_rates += (
                rate != 1.0 and abs(rate - sandbox.rates[r["CurrencyIsoCode"]]) > 1e-3
            )
        assert t.is_new_business == (None if r["Type"] is None else r["Type"] == "New Customer")
        owner = truth.owners[r["OwnerId"]]
        manager = r["Owner"]["Manager"]
        assert owner.team == (r["Owner"]["Department"] or (manager and manager["Department"]))
    assert converted_at_older_rates > 0  # the dates matter: some deals closed before July 2025
    rates = sf.query("SELECT IsoCode, ConversionRate FROM CurrencyType")["records"]
    for rate in rates:
        assert abs(rate["ConversionRate"] * sandbox.rates[rate["IsoCode"]] - 1) < 1e-5


def test_hostile_names_exact_through_simple_salesforce(
    sandbox_factory: Callable[..., Sandbox],
) -> None:
    sb = sandbox_factory(deals=1200, seed=4, hubspot_share=0.0)
    names = {
        r["Id"]: r["Name"]
        for r in salesforce_client(sb).query_all("SELECT Id, Name FROM Account")["records"]
    }
    truth = sb.truth("salesforce").accounts
    assert names == {i: a.name for i, a in truth.items()}
    assert any("\r\n" in n for n in names.values()) and any("<script>" in n for n in names.values())


def test_any_text_survives_both_apis_exactly(sandbox: Sandbox, sf: Salesforce, hs: HubSpot) -> None:
    sf_id, hs_id = sandbox.deal_ids("salesforce")[0], sandbox.deal_ids("hubspot")[0]
    texts = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)

    @settings(max_examples=25, deadline=None, derandomize=True)
    @given(texts)
    def round_trip(text: str) -> None:
        sandbox.update_deals("salesforce", [sf_id], name=text)
        sandbox.update_deals("hubspot", [hs_id], name=text)
        soql = f"SELECT Name FROM Opportunity WHERE Id = '{sf_id}'"
        assert sf.query(soql)["records"][0]["Name"] == text
        props = hs.crm.deals.basic_api.get_by_id(hs_id, properties=["dealname"]).properties
        assert props["dealname"] == text

    round_trip()
