"""Faults on demand, each surfacing through the real SDKs as their own exception types."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import urllib3
from hubspot import HubSpot
from hubspot.crm.deals import ApiException, PublicObjectSearchRequest
from hubspot.crm.deals.exceptions import ServiceException, UnauthorizedException
from hubspot.crm.owners.exceptions import ServiceException as OwnersServiceException
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)

from sandbox import FaultSpecError, Sandbox, parse_spec

from .conftest import hubspot_client

SOQL = "SELECT Id, Amount FROM Opportunity"


def _page(hs: HubSpot) -> Any:
    return hs.crm.deals.basic_api.get_page(limit=5)


def test_spec_grammar() -> None:
    rules = parse_spec(
        "429@hubspot,retry_after=2,every=3; 500@sf.query,after=2;slow,delay=0.1,p=0.5;"
        "update@hs.deals.*,n=7,times=2"
    )
    assert [(r.kind, r.api, r.endpoint) for r in rules] == [
        ("429", "hubspot", "*"),
        ("500", "salesforce", "query"),
        ("slow", "*", "*"),
        ("update", "hubspot", "deals.*"),
    ]
    assert rules[0].retry_after == 2 and rules[0].every == 3 and rules[0].times == 0
    assert rules[1].after == 2 and rules[1].times == 1
    assert rules[2].p == 0.5 and rules[2].times == 0
    assert rules[3].n == 7 and rules[3].times == 2
    for bad in ("teapot", "429@mars", "500,after", "500,after=x", "500,colour=red", "slow,p=2"):
        with pytest.raises(FaultSpecError):
            parse_spec(bad)


def test_after_every_times_counting(sandbox: Sandbox, hs: HubSpot) -> None:
    sandbox.faults.add("500@hs.deals.list,after=1,every=2,times=2")
    outcomes = []
    for _ in range(7):
        try:
            _page(hs)
            outcomes.append("ok")
        except ServiceException:
            outcomes.append("500")
    assert outcomes == ["ok", "500", "ok", "500", "ok", "ok", "ok"]
    assert sandbox.counters.snapshot()["faults"] == {"hubspot.500": 2}
    assert sandbox.faults.pending() == []


def test_scope_only_hits_its_api_and_endpoint(
    sandbox: Sandbox, hs: HubSpot, sf: Salesforce
) -> None:
    sandbox.faults.add("503@hs.owners.*,times=0")
    _page(hs)
    assert sf.query(SOQL)["totalSize"] > 0
    with pytest.raises(OwnersServiceException) as err:
        hs.crm.owners.owners_api.get_page()
    assert err.value.status == 503


def test_hubspot_429_with_and_without_retry_after(sandbox: Sandbox, hs: HubSpot) -> None:
    sandbox.faults.add("429@hs.deals.list")
    with pytest.raises(ApiException) as err:
        _page(hs)
    assert err.value.status == 429 and "Retry-After" not in err.value.headers
    body = json.loads(err.value.body)
    assert body["errorType"] == "RATE_LIMIT" and body["policyName"] == "SECONDLY"
    # with Retry-After, urllib3's default Retry(3) inside the SDK silently retries a GET
    # three times (sleeping Retry-After) before the 429 surfaces
    sandbox.faults.add("429@hs.deals.get,retry_after=0,times=0")
    with pytest.raises(ApiException) as err:
        hs.crm.deals.basic_api.get_by_id(sandbox.deal_ids("hubspot")[0])
    assert err.value.status == 429 and err.value.headers["Retry-After"] == "0"
    assert sandbox.counters.snapshot()["requests"]["hubspot.deals.get"] == 4
    sandbox.faults.add("429@hs.deals.search,retry_after=1")  # POST: never retried
    with pytest.raises(ApiException) as err:
        hs.crm.deals.search_api.do_search(public_object_search_request=PublicObjectSearchRequest())
    assert err.value.headers["Retry-After"] == "1"


def test_hubspot_sdk_retry_honours_retry_after(sandbox: Sandbox) -> None:
    sandbox.faults.add("429@hs.deals.list,retry_after=0,times=2")
    retry = urllib3.Retry(total=3, status_forcelist=[429], backoff_factor=0)
    assert len(_page(hubspot_client(sandbox, retry=retry)).results) == 5
    assert sandbox.counters.snapshot()["requests"]["hubspot.deals.list"] == 3


def test_hubspot_server_errors_session_and_daily(sandbox: Sandbox, hs: HubSpot) -> None:
    for kind in ("500", "503"):
        sandbox.faults.add(f"{kind}@hs")
        with pytest.raises(ServiceException) as err:
            _page(hs)
        assert err.value.status == int(kind)
    sandbox.faults.add("expire@hs")
    with pytest.raises(UnauthorizedException):
        _page(hs)
    sandbox.faults.add("daily@hs")
    with pytest.raises(ApiException) as err:
        _page(hs)
    assert err.value.status == 429 and json.loads(err.value.body)["policyName"] == "DAILY"
    _page(hs)  # every rule fired once


def test_salesforce_errors_as_sdk_exceptions(sandbox: Sandbox, sf: Salesforce) -> None:
    for kind, status in (("429", 429), ("500", 500), ("503", 503)):
        sandbox.faults.add(f"{kind}@sf")
        with pytest.raises(SalesforceGeneralError) as err:
            sf.query(SOQL)
        assert err.value.status == status
    sandbox.faults.add("expire@sf")
    with pytest.raises(SalesforceExpiredSession):
        sf.query(SOQL)
    sandbox.faults.add("daily@sf")
    with pytest.raises(SalesforceRefusedRequest) as refused:
        sf.query(SOQL)
    assert "REQUEST_LIMIT_EXCEEDED" in str(refused.value.content)
    assert sf.query(SOQL)["totalSize"] > 0


def test_daily_budget_exhausted(sandbox: Sandbox, sf: Salesforce, hs: HubSpot) -> None:
    sf.query(SOQL)
    assert sf.api_usage["api-usage"].used == 1
    sandbox.set_budget("salesforce", total=10, used=10)
    with pytest.raises(SalesforceRefusedRequest):
        sf.query(SOQL)
    sandbox.set_budget("hubspot", total=3, used=2)
    _page(hs)
    with pytest.raises(ApiException) as err:
        _page(hs)
    assert err.value.status == 429 and "DAILY" in err.value.body


def test_expired_session_stays_expired(sandbox: Sandbox, sf: Salesforce, hs: HubSpot) -> None:
    sandbox.expire_session("salesforce")
    new = sandbox.expire_session("hubspot")
    with pytest.raises(SalesforceExpiredSession):
        sf.query(SOQL)
    with pytest.raises(UnauthorizedException):
        _page(hs)
    assert len(_page(HubSpot(access_token=new, host=sandbox.hubspot_url)).results) == 5


def test_dropped_connection(sandbox: Sandbox, sf: Salesforce, hs: HubSpot) -> None:
    sandbox.faults.add("drop@sf")
    with pytest.raises(requests.exceptions.ConnectionError):
        sf.query(SOQL)
    assert sf.query(SOQL)["totalSize"] > 0  # the next request gets a new connection
    sandbox.faults.add("drop@hs.deals.search")
    with pytest.raises(urllib3.exceptions.HTTPError):
        hs.crm.deals.search_api.do_search(public_object_search_request=PublicObjectSearchRequest())
    # urllib3's default retries hide one drop of an idempotent GET
    sandbox.faults.add("drop@hs.deals.list")
    assert len(_page(hs).results) == 5
    assert sandbox.counters.snapshot()["faults"]["hubspot.drop"] == 2


def test_slow_response_still_answers(sandbox: Sandbox, hs: HubSpot) -> None:
    sandbox.faults.add("slow@hs,delay=0.05")
    assert len(_page(hs).results) == 5
    assert sandbox.counters.snapshot()["faults"] == {"hubspot.slow": 1}


def test_data_change_during_a_listing(sandbox: Sandbox, hs: HubSpot) -> None:
    before = sandbox.truth("hubspot")
    sandbox.faults.add("update@hs.deals.list,after=1,n=4;delete@hs.deals.list,after=2,n=2")
    page = hs.crm.deals.basic_api.get_page(limit=10)
    while page.paging is not None:
        page = hs.crm.deals.basic_api.get_page(limit=10, after=page.paging.next.after)
    after = sandbox.truth("hubspot")
    changed = {
        i
        for i, d in after.deals.items()
        if d.source_modified_at != before.deals[i].source_modified_at
    }
    assert len(changed) == 6
    assert sum(d.is_deleted for d in after.deals.values()) == 2 + sum(
        d.is_deleted for d in before.deals.values()
    )
