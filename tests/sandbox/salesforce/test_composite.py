"""The sandbox's Composite resource through the real simple-salesforce (``sf.restful``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceRefusedRequest
from simple_salesforce.util import date_to_iso8601

from sandbox.control import Sandbox

V = "/services/data/v59.0"


def _get(url: str, ref: str) -> dict[str, str]:
    return {"method": "GET", "url": V + url, "referenceId": ref}


def _query(soql: str, ref: str, kind: str = "query") -> dict[str, str]:
    return _get(f"/{kind}/?q={quote(soql)}", ref)


def _composite(sf: Salesforce, subs: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    body = sf.restful("composite", method="POST", json={"compositeRequest": subs, **extra})
    assert isinstance(body, dict)
    return {r["referenceId"]: r for r in body["compositeResponse"]}


def _used(sandbox: Sandbox) -> int:
    return sandbox.state.budgets["salesforce"].used


def test_subrequests_answer_as_the_direct_calls_and_count_once(
    sandbox: Sandbox, sf: Salesforce
) -> None:
    soql = "SELECT Id, Name, Amount FROM Opportunity ORDER BY Id LIMIT 50"
    now = sandbox.state.now()
    window = f"start={date_to_iso8601(now - timedelta(days=1))}&end={date_to_iso8601(now)}"
    before = _used(sandbox)
    got = _composite(
        sf,
        [
            _get("/sobjects/Opportunity/describe", "descOpp"),
            _query(soql, "opps", "queryAll"),
            _get(f"/sobjects/Opportunity/deleted/?{window}", "gone"),
        ],
    )
    assert _used(sandbox) == before + 1  # one call toward the daily limit
    assert sf.api_usage["api-usage"].used == before + 1  # and Sforce-Limit-Info says so
    assert [got[r]["httpStatusCode"] for r in ("descOpp", "opps", "gone")] == [200, 200, 200]
    assert got["descOpp"]["body"] == sf.Opportunity.describe()
    assert got["opps"]["body"]["records"] == sf.query_all(soql, include_deleted=True)["records"]
    assert set(got["gone"]["body"]) == {
        "deletedRecords",
        "earliestDateAvailable",
        "latestDateCovered",
    }
    requests = sandbox.counters.snapshot()["requests"]
    assert requests["salesforce.composite"] == 1
    assert requests["salesforce.describe"] == 2  # the subrequest, then the direct call


def test_a_failing_subrequest_leaves_the_others_alone(sandbox: Sandbox, sf: Salesforce) -> None:
    got = _composite(
        sf,
        [
            _query("SELECT Id, NoSuchField__c FROM Opportunity", "bad"),
            _query("SELECT Id FROM Account LIMIT 1", "good"),
            _get("/sobjects/NoSuchObject__c/describe", "missing"),
            _get("/limits/", "limits"),
        ],
    )
    assert got["bad"]["httpStatusCode"] == 400
    assert got["bad"]["body"][0]["errorCode"] == "INVALID_FIELD"
    assert "NoSuchField__c" in got["bad"]["body"][0]["message"]
    assert got["good"]["httpStatusCode"] == 200 and got["good"]["body"]["totalSize"] == 1
    assert got["missing"]["httpStatusCode"] == 404
    assert got["missing"]["body"][0]["errorCode"] == "NOT_FOUND"
    assert got["limits"]["httpStatusCode"] == 400  # not a composite resource


def test_all_or_none_halts_the_rest(sf: Salesforce) -> None:
    got = _composite(
        sf,
        [
            _query("SELECT Id FROM Account LIMIT 1", "first"),
            _query("SELECT Nope FROM Account", "bad"),
            _query("SELECT Id FROM User LIMIT 1", "after"),
        ],
        allOrNone=True,
    )
    assert got["bad"]["body"][0]["errorCode"] == "INVALID_FIELD"
    for ref in ("first", "after"):
        assert got[ref]["httpStatusCode"] == 400
        assert got[ref]["body"][0]["errorCode"] == "PROCESSING_HALTED"


def test_next_records_url_is_followed_with_an_ordinary_call(
    sandbox_factory: Any,
) -> None:
    from tests.sandbox.conftest import salesforce_client

    sb = sandbox_factory(deals=3000, seed=7)
    sf = salesforce_client(sb)
    got = _composite(sf, [_query("SELECT Id FROM Opportunity", "all", "queryAll")])
    first = got["all"]["body"]
    assert first["done"] is False and len(first["records"]) == 2000
    rest = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    ids = {r["Id"] for r in first["records"]} | {r["Id"] for r in rest["records"]}
    assert len(ids) == first["totalSize"]


@pytest.mark.parametrize(
    ("subs", "needle"),
    [
        ([_get("/sobjects/Account/describe", f"d{i}") for i in range(26)], "25 subrequests"),
        ([_query("SELECT Id FROM Account", f"q{i}") for i in range(6)], "5 query"),
    ],
)
def test_limits_are_enforced_with_the_vendor_error_body(
    sandbox: Sandbox, sf: Salesforce, subs: list[dict[str, str]], needle: str
) -> None:
    before = sandbox.counters.snapshot()["requests"].get("salesforce.describe", 0)
    with pytest.raises(SalesforceMalformedRequest) as err:
        sf.restful("composite", method="POST", json={"compositeRequest": subs})
    assert err.value.status == 400
    body = err.value.content
    assert isinstance(body, list) and body[0]["errorCode"] == "LIMIT_EXCEEDED"
    assert needle in body[0]["message"]
    # nothing ran
    assert sandbox.counters.snapshot()["requests"].get("salesforce.describe", 0) == before


def test_a_spent_daily_limit_refuses_the_whole_call(sandbox: Sandbox, sf: Salesforce) -> None:
    sandbox.set_budget("sf", total=100, used=100)
    with pytest.raises(SalesforceRefusedRequest) as err:
        _composite(sf, [_get("/sobjects/Account/describe", "d")])
    assert err.value.content[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"


def test_faults_of_a_subrequest_endpoint_hit_that_subrequest(
    sandbox: Sandbox, sf: Salesforce
) -> None:
    sandbox.faults.add("500@sf.query,times=1")
    got = _composite(
        sf,
        [_query("SELECT Id FROM Account LIMIT 1", "hit"), _get("/sobjects/User/describe", "ok")],
    )
    assert got["hit"]["httpStatusCode"] == 500
    assert got["hit"]["body"][0]["errorCode"] == "UNKNOWN_EXCEPTION"
    assert got["ok"]["httpStatusCode"] == 200
    assert sandbox.counters.snapshot()["statuses"]["salesforce.500"] == 1
