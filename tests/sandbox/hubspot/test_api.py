"""The HubSpot side of the sandbox through the real hubspot-api-client."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.associations.v4 import BatchInputPublicFetchAssociationsBatchRequest
from hubspot.crm.deals import ApiException, PublicObjectSearchRequest
from hubspot.crm.deals.exceptions import NotFoundException, UnauthorizedException
from hubspot.crm.line_items import BatchReadInputSimplePublicObjectId

from sandbox import Sandbox
from sandbox.generator import HOSTILE_NAMES
from tests.sandbox.conftest import hubspot_client


def test_get_all_pages_through_every_live_deal(sandbox: Sandbox, hs: HubSpot) -> None:
    deals = hs.crm.deals.get_all(properties=["dealname", "amount", "dealstage"])
    truth = sandbox.truth("hubspot").live_deals()
    assert {d.id for d in deals} == set(truth)
    assert all(not d.archived for d in deals)
    assert sandbox.counters.snapshot()["requests"]["hubspot.deals.list"] == -(-len(truth) // 100)


def test_get_page_limit_after_and_last_page(sandbox: Sandbox, hs: HubSpot) -> None:
    first = hs.crm.deals.basic_api.get_page(limit=7)
    assert len(first.results) == 7
    after = first.paging.next.after
    second = hs.crm.deals.basic_api.get_page(limit=7, after=after)
    assert int(second.results[0].id) > int(first.results[-1].id)
    assert second.results[0].id == after
    everything = hs.crm.deals.basic_api.get_page(limit=100, after=after)
    while everything.paging is not None:
        everything = hs.crm.deals.basic_api.get_page(limit=100, after=everything.paging.next.after)
    assert everything.paging is None
    with pytest.raises(ApiException) as err:
        hs.crm.deals.basic_api.get_page(limit=101)
    assert err.value.status == 400


def test_default_and_requested_properties(hs: HubSpot) -> None:
    page = hs.crm.deals.basic_api.get_page(limit=1)
    assert set(page.results[0].properties) >= {"dealname", "amount", "closedate", "dealstage"}
    assert "dealtype" not in page.results[0].properties
    page = hs.crm.deals.basic_api.get_page(limit=1, properties=["dealtype", "no_such_prop"])
    assert set(page.results[0].properties) == {"dealtype"}


def test_archived_listing_holds_only_archived_deals(sandbox: Sandbox, hs: HubSpot) -> None:
    archived = hs.crm.deals.get_all(archived=True)
    expected = {i for i, d in sandbox.truth("hubspot").deals.items() if d.is_deleted}
    assert expected and {d.id for d in archived} == expected
    assert all(d.archived and d.archived_at is not None for d in archived)


def test_get_by_id_and_404(sandbox: Sandbox, hs: HubSpot) -> None:
    deal_id = sandbox.deal_ids("hubspot")[0]
    deal = hs.crm.deals.basic_api.get_by_id(
        deal_id, properties=["dealname"], associations=["companies"]
    )
    assert deal.id == deal_id
    truth = sandbox.truth("hubspot").deals[deal_id]
    assert deal.properties["dealname"] == truth.name
    if truth.account_external_id:
        assert deal.associations["companies"].results[0].id == truth.account_external_id
    with pytest.raises(NotFoundException):
        hs.crm.deals.basic_api.get_by_id("1")


def test_hostile_strings_survive_exactly(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(deals=1500, seed=3, hubspot_share=1.0)
    hs = hubspot_client(sb)
    truth = sb.truth("hubspot")
    wire = {d.id: d.properties["dealname"] for d in hs.crm.deals.get_all(properties=["dealname"])}
    hostile = [i for i, name in wire.items() if any(h in name for h in HOSTILE_NAMES)]
    assert len(hostile) >= 5
    for deal_id in hostile:
        assert wire[deal_id] == truth.deals[deal_id].name
    assert any("\r\n" in wire[i] for i in hostile) or any("<script>" in wire[i] for i in hostile)
    names = {c.properties["name"] for c in hs.crm.companies.get_all(properties=["name"])}
    assert names == {a.name for a in truth.accounts.values() if not a.is_deleted}


def _search(hs: HubSpot, **body: object) -> Any:
    return hs.crm.deals.search_api.do_search(
        public_object_search_request=PublicObjectSearchRequest(**body)
    )


def test_search_filters_sorts_and_paging(sandbox: Sandbox, hs: HubSpot) -> None:
    truth = sandbox.truth("hubspot").live_deals()
    won = {i for i, d in truth.items() if d.is_won}
    flt = {"filters": [{"propertyName": "hs_is_closed_won", "operator": "EQ", "value": "true"}]}
    res = _search(hs, filter_groups=[flt], limit=200, properties=["amount"])
    assert res.total == len(won) and {r.id for r in res.results} == won
    # numeric comparison and a descending sort
    res = _search(
        hs,
        filter_groups=[
            {"filters": [{"propertyName": "amount", "operator": "GT", "value": "50000"}]}
        ],
        sorts=[{"propertyName": "amount", "direction": "DESCENDING"}],
        limit=200,
    )
    amounts = [float(r.properties["amount"]) for r in res.results]
    assert amounts == sorted(amounts, reverse=True) and all(a > 50000 for a in amounts)
    # datetime as epoch ms, BETWEEN, OR of groups
    cut = datetime(2026, 1, 1, tzinfo=UTC)
    ms = str(int(cut.timestamp() * 1000))
    res = _search(
        hs,
        filter_groups=[
            {"filters": [{"propertyName": "createdate", "operator": "GTE", "value": ms}]}
        ],
        limit=200,
    )
    expected = {i for i, d in truth.items() if d.created_at and d.created_at >= cut}
    assert res.total == len(expected)
    # paging through with after
    seen: list[str] = []
    after = None
    while True:
        page = _search(hs, limit=50, after=after, sorts=["hs_object_id"])
        seen += [r.id for r in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    assert seen == sorted(truth, key=int)


def test_search_never_returns_archived(sandbox: Sandbox, hs: HubSpot) -> None:
    archived = sandbox.deal_ids("hubspot", deleted=True)
    flt = {"filters": [{"propertyName": "hs_object_id", "operator": "IN", "values": archived}]}
    assert _search(hs, filter_groups=[flt], limit=10).total == 0


def test_search_limits(hs: HubSpot) -> None:
    with pytest.raises(ApiException) as err:
        _search(hs, limit=201)
    assert err.value.status == 400
    with pytest.raises(ApiException) as err:
        _search(hs, filter_groups=[{"filters": [{"propertyName": "amount", "operator": "NOPE"}]}])
    assert err.value.status == 400


def test_search_cap_at_10000(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(deals=10_400, seed=5, hubspot_share=1.0, quarters=8)
    hs = hubspot_client(sb)
    page = _search(hs, limit=200, after="9800")
    assert page.total > 10_000
    assert page.paging is not None and page.paging.next.after == "10000"
    with pytest.raises(ApiException) as err:
        _search(hs, limit=200, after="10000")
    assert err.value.status == 400
    assert "10000" in err.value.body
    # the way past the cap: walk hs_object_id upwards, each page a fresh search
    walked: list[str] = []
    last = "0"
    while True:
        gt = {"propertyName": "hs_object_id", "operator": "GT", "value": last}
        page = _search(hs, filter_groups=[{"filters": [gt]}], sorts=["hs_object_id"], limit=200)
        walked += [r.id for r in page.results]
        if page.paging is None:
            break
        last = page.results[-1].id
    assert walked == sorted(sb.truth("hubspot").live_deals(), key=int)


def test_search_id_bound_combined_with_other_filters(sandbox: Sandbox, hs: HubSpot) -> None:
    truth = sandbox.truth("hubspot").live_deals()
    ids = sorted(truth, key=int)
    mid = ids[len(ids) // 2]
    filters = [
        {"propertyName": "hs_object_id", "operator": "GTE", "value": mid},
        {"propertyName": "hs_is_closed", "operator": "EQ", "value": "true"},
    ]
    other = [{"propertyName": "hs_object_id", "operator": "LT", "value": ids[3]}]
    res = _search(hs, filter_groups=[{"filters": filters}, {"filters": other}], limit=200)
    expected = {i for i in ids if int(i) >= int(mid) and truth[i].is_closed} | set(ids[:3])
    assert {r.id for r in res.results} == expected and res.total == len(expected)


def test_batch_read_line_items_and_207(sandbox: Sandbox, hs: HubSpot) -> None:
    deal = next(d for d in sandbox.truth("hubspot").live_deals().values() if d.line_items)
    ids = [li.external_id for li in deal.line_items or []]
    req = BatchReadInputSimplePublicObjectId(
        inputs=[{"id": i} for i in ids], properties=["price", "quantity", "amount"]
    )
    res = hs.crm.line_items.batch_api.read(batch_read_input_simple_public_object_id=req)
    assert res.status == "COMPLETE" and {r.id for r in res.results} == set(ids)
    req = BatchReadInputSimplePublicObjectId(inputs=[{"id": ids[0]}, {"id": "999"}], properties=[])
    res = hs.crm.line_items.batch_api.read(batch_read_input_simple_public_object_id=req)
    assert [r.id for r in res.results] == [ids[0]] and res.errors[0].context["ids"] == ["999"]
    too_many = BatchReadInputSimplePublicObjectId(
        inputs=[{"id": str(i)} for i in range(101)], properties=[]
    )
    with pytest.raises(Exception) as err:
        hs.crm.line_items.batch_api.read(batch_read_input_simple_public_object_id=too_many)
    assert getattr(err.value, "status", None) == 400


def test_v4_associations_single_and_batch(sandbox: Sandbox, hs: HubSpot) -> None:
    truth = sandbox.truth("hubspot").live_deals()
    deal = next(d for d in truth.values() if d.account_external_id and d.line_items)
    res = hs.crm.associations.v4.basic_api.get_page("deals", deal.external_id, "companies")
    assert [str(r.to_object_id) for r in res.results] == [deal.account_external_id]
    assert {t.type_id for t in res.results[0].association_types} == {5, 341}
    res = hs.crm.associations.v4.basic_api.get_page(
        "deals", deal.external_id, "line_items", limit=1
    )
    assert len(res.results) == 1
    assert (res.paging is not None) == (len(deal.line_items or []) > 1)
    ids = list(truth)[:40]
    batch = hs.crm.associations.v4.batch_api.get_page(
        "deals",
        "line_items",
        batch_input_public_fetch_associations_batch_request=BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[{"id": i} for i in ids]
        ),
    )
    got = {r._from.id: {str(t.to_object_id) for t in r.to} for r in batch.results}
    for i in ids:
        assert got[i] == {li.external_id for li in truth[i].line_items or []}


def test_pipelines_have_string_metadata(hs: HubSpot) -> None:
    pipelines = hs.crm.pipelines.pipelines_api.get_all("deals").results
    assert {p.id for p in pipelines} == {"default", "87654321"}
    stages = {s.id: s.metadata for p in pipelines for s in p.stages}
    assert stages["closedwon"] == {"isClosed": "true", "probability": "1.0"}
    assert stages["1007"] == {"isClosed": "true", "probability": "0.0"}
    assert hs.crm.pipelines.pipelines_api.get_by_id("deals", "default").label == "Sales Pipeline"


def test_owners_with_teams_and_archived(sandbox: Sandbox, hs: HubSpot) -> None:
    truth = sandbox.truth("hubspot").owners
    active = hs.crm.owners.owners_api.get_page(limit=500).results
    archived = hs.crm.owners.owners_api.get_page(archived=True).results
    assert {o.id for o in active} | {o.id for o in archived} == set(truth)
    for o in active:
        team = o.teams[0].name if o.teams else None
        assert team == truth[o.id].team and truth[o.id].is_active
    one = hs.crm.owners.owners_api.get_by_id(active[0].id)
    assert one.email == active[0].email


def test_properties_api(hs: HubSpot) -> None:
    names = {p.name for p in hs.crm.properties.core_api.get_all("deals").results}
    assert {"amount", "closedate", "dealtype", "deal_currency_code", "hubspot_owner_id"} <= names
    seg = hs.crm.properties.core_api.get_by_name("companies", "customer_segment")
    assert seg.type == "enumeration" and {o.value for o in seg.options} >= {"SMB", "Enterprise"}
    li = {p.name for p in hs.crm.properties.core_api.get_all("line_items").results}
    assert {"price", "quantity", "amount", "hs_cost_of_goods_sold"} <= li
    with pytest.raises(Exception) as err:
        hs.crm.properties.core_api.get_by_name("deals", "nope")
    assert getattr(err.value, "status", None) == 404


def test_rate_limit_headers_on_every_response(sandbox: Sandbox) -> None:
    import requests

    r = requests.get(
        f"{sandbox.hubspot_url}/crm/v3/objects/deals?limit=1",
        headers={"Authorization": f"Bearer {sandbox.hubspot_token}"},
        timeout=5,
    )
    assert r.status_code == 200
    assert int(r.headers["X-HubSpot-RateLimit-Daily-Remaining"]) < int(
        r.headers["X-HubSpot-RateLimit-Daily"]
    )
    assert "X-HubSpot-RateLimit-Secondly-Remaining" in r.headers


def test_wrong_token_is_unauthorized(sandbox: Sandbox) -> None:
    bad = HubSpot(access_token="nope", host=sandbox.hubspot_url)
    with pytest.raises(UnauthorizedException) as err:
        bad.crm.deals.basic_api.get_page(limit=1)
    assert "EXPIRED_AUTHENTICATION" in err.value.body


@pytest.mark.parametrize("object_type", ["companies", "line_items", "products"])
def test_every_object_type_lists_gets_searches_and_batch_reads(
    sandbox: Sandbox, hs: HubSpot, object_type: str
) -> None:
    api = getattr(hs.crm, object_type)
    listed = api.get_all()
    assert listed and not any(o.archived for o in listed)
    one = api.basic_api.get_by_id(listed[-1].id, properties=["name"])
    assert one.id == listed[-1].id and one.properties["name"]
    models = importlib.import_module(f"hubspot.crm.{object_type}")
    request = models.PublicObjectSearchRequest(
        filter_groups=[{"filters": [{"propertyName": "name", "operator": "HAS_PROPERTY"}]}],
        limit=3,
    )
    found = api.search_api.do_search(public_object_search_request=request)
    assert found.total == len(listed) and len(found.results) == 3
    batch = models.BatchReadInputSimplePublicObjectId(
        inputs=[{"id": o.id} for o in listed[:5]], properties=["name"]
    )
    assert len(api.batch_api.read(batch_read_input_simple_public_object_id=batch).results) == 5
