"""The real simple-salesforce SDK against the sandbox's Salesforce routes, over loopback."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from simple_salesforce import Salesforce, SalesforceLogin
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from sandbox.control import Sandbox
from sandbox.http import LoopbackSession
from sandbox.hubspot.data import HubSpotData
from sandbox.salesforce.api import (
    SalesforceApi,
    SalesforceCredentials,
    SalesforceOptions,
    register,
)
from sandbox.salesforce.sobjects import SObjectDatabase, standard_schema
from sandbox.salesforce.soql import quote
from sandbox.server import Dispatcher, Router, SandboxHTTPServer
from sandbox.state import Clock, SandboxState
from tests.sandbox.conftest import salesforce_client

START = datetime(2026, 5, 15, 12, 0, tzinfo=UTC)
N_OPPS = 4_500
HOSTILE = [
    'O\'Brien & "Sons" \\ backslash',
    "<script>alert('x')</script>",
    "Zoë 東京 🚀 ñ",
    "line one\r\nline two\nthree",
    "tab\there, semi;colon",
    "100% _under_ \\%",
]


def _key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@dataclass
class Org:
    """A running Salesforce-only sandbox over hand-built data."""

    state: SandboxState
    api: SalesforceApi
    server: SandboxHTTPServer
    credentials: SalesforceCredentials
    private_key: str
    deleted: list[str]
    opp_ids: list[str]
    hostile_ids: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def client(self, token: str | None = None) -> Salesforce:
        return Salesforce(
            instance_url=self.url,
            session_id=token or self.state.tokens["salesforce"],
            session=LoopbackSession(),
        )


def _build_org() -> tuple[SandboxState, list[str], list[str], dict[str, str]]:
    clock = Clock(START)
    db = SObjectDatabase(standard_schema(), clock=lambda: clock.now().replace(microsecond=0))
    boss = db.insert("User", {"Name": "Bea Boss", "LastName": "Boss", "IsActive": True})
    rep = db.insert("User", {"Name": "Rex Rep", "LastName": "Rep", "ManagerId": boss})
    account = db.insert("Account", {"Name": "Acme", "OwnerId": rep, "Segment__c": "SMB"})
    base = START - timedelta(days=10)
    opp_ids: list[str] = []
    for n in range(N_OPPS):
        opp_ids.append(
            db.insert(
                "Opportunity",
                {
                    "Name": f"Opp {n:05d}",
                    "AccountId": account,
                    "OwnerId": rep,
                    "Amount": float(n),
                    "StageName": "Prospecting",
                    "CloseDate": (base + timedelta(days=n % 90)).date(),
                },
                modstamp=base + timedelta(seconds=n * 60),
            )
        )
    for n in range(0, 30, 3):
        db.insert(
            "OpportunityLineItem",
            {"OpportunityId": opp_ids[n], "Quantity": 2.0, "UnitPrice": 10.0, "Unit_Cost__c": 4.0},
            modstamp=base,
        )
    deleted = opp_ids[::100]
    for rid in deleted:
        db.delete("Opportunity", rid, modstamp=START - timedelta(days=1))
    hostile_ids: dict[str, str] = {}
    for text in HOSTILE:
        acc = db.insert("Account", {"Name": text, "OwnerId": rep}, modstamp=base)
        hostile_ids[text] = db.insert(
            "Opportunity",
            {"Name": text, "AccountId": acc, "OwnerId": rep, "Description": text},
            modstamp=base,
        )
    state = SandboxState(
        salesforce=db, hubspot=HubSpotData(), clock=clock, rates={"USD": 1.0}, lock=db.lock
    )
    return state, opp_ids, deleted, hostile_ids


@pytest.fixture(scope="module")
def org() -> Iterator[Org]:
    state, opp_ids, deleted, hostile_ids = _build_org()
    private, public = _key_pair()
    creds = SalesforceCredentials(jwt_public_key_pem=public)
    router = Router()
    api = register(router, state, credentials=creds, options=SalesforceOptions(max_cursors=3))
    server = SandboxHTTPServer(0, Dispatcher(router, state))
    server.start_background()
    try:
        yield Org(state, api, server, creds, private, deleted, opp_ids, hostile_ids)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sf(org: Org) -> Salesforce:
    return org.client()


def error_code(exc: Any) -> str:
    return str(exc.content[0]["errorCode"])


# --- query ------------------------------------------------------------------------------------


def test_query_returns_rest_records_and_limit_info(org: Org, sf: Salesforce) -> None:
    result = sf.query(
        "SELECT Id, Name, Amount, CloseDate, CreatedDate, Account.Name, Owner.Manager.Name, "
        "(SELECT Quantity, Unit_Cost__c FROM OpportunityLineItems) FROM Opportunity "
        "WHERE Name = 'Opp 00003'"
    )
    assert (result["totalSize"], result["done"]) == (1, True)
    rec = result["records"][0]
    assert rec["attributes"] == {
        "type": "Opportunity",
        "url": f"/services/data/v59.0/sobjects/Opportunity/{org.opp_ids[3]}",
    }
    assert rec["Amount"] == 3.0
    assert rec["CreatedDate"].endswith(".000+0000")
    assert rec["Account"]["Name"] == "Acme"
    assert rec["Owner"]["Manager"]["Name"] == "Bea Boss"
    assert rec["OpportunityLineItems"]["records"][0]["Unit_Cost__c"] == 4.0
    usage = sf.api_usage["api-usage"]
    assert (usage.used, usage.total) == (org.state.budgets["salesforce"].used, 15000)


def test_query_all_pages_through_2000_record_pages(org: Org, sf: Salesforce) -> None:
    before = org.state.counters.snapshot()["requests"].get("salesforce.query.more", 0)
    first = sf.query("SELECT Id FROM Opportunity WHERE Name LIKE 'Opp %' ORDER BY Name")
    live = N_OPPS - len(org.deleted)
    assert (first["totalSize"], first["done"], len(first["records"])) == (live, False, 2000)
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/01g")
    assert first["nextRecordsUrl"].endswith("-2000")
    second = sf.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert (len(second["records"]), second["done"]) == (2000, False)
    everything = sf.query_all("SELECT Id FROM Opportunity WHERE Name LIKE 'Opp %' ORDER BY Name")
    ids = [r["Id"] for r in everything["records"]]
    assert ids == [i for i in org.opp_ids if i not in set(org.deleted)]
    after = org.state.counters.snapshot()["requests"]["salesforce.query.more"]
    assert after - before == 1 + 2  # one by hand, two for query_all


def test_include_deleted_uses_query_all_endpoint(org: Org, sf: Salesforce) -> None:
    q = "SELECT Id, IsDeleted FROM Opportunity WHERE IsDeleted = true"
    assert sf.query(q)["totalSize"] == 0
    result = sf.query_all(q, include_deleted=True)
    assert sorted(r["Id"] for r in result["records"]) == sorted(org.deleted)
    assert all(r["IsDeleted"] is True for r in result["records"])
    every = list(sf.query_all_iter("SELECT Id FROM Opportunity", include_deleted=True))
    assert len(every) == N_OPPS + len(HOSTILE)


def test_batch_size_header_shrinks_pages(sf: Salesforce) -> None:
    result = sf.query(
        "SELECT Id FROM Opportunity", headers={"Sforce-Query-Options": "batchSize=500"}
    )
    assert len(result["records"]) == 500 and not result["done"]


def test_cursors_beyond_the_open_limit_expire(sf: Salesforce) -> None:
    urls = [sf.query("SELECT Id FROM Opportunity")["nextRecordsUrl"] for _ in range(4)]
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.query_more(urls[0], identifier_is_url=True)
    assert error_code(info.value) == "INVALID_QUERY_LOCATOR"
    assert len(sf.query_more(urls[-1], identifier_is_url=True)["records"]) == 2000


def test_count_query(sf: Salesforce) -> None:
    result = sf.query("SELECT COUNT() FROM Opportunity WHERE Amount >= 4000")
    assert (result["totalSize"], result["records"]) == (N_OPPS - 4000 - 5, [])


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_round_trip(org: Org, sf: Salesforce, text: str) -> None:
    result = sf.query(
        f"SELECT Id, Name, Description, Account.Name FROM Opportunity WHERE Name = {quote(text)}"
    )
    assert result["totalSize"] == 1
    rec = result["records"][0]
    assert (rec["Id"], rec["Name"], rec["Description"], rec["Account"]["Name"]) == (
        org.hostile_ids[text],
        text,
        text,
        text,
    )
    pages = list(
        sf.bulk2.Opportunity.query(
            f"SELECT Id, Name, Account.Name FROM Opportunity WHERE Name = {quote(text)}", wait=0
        )
    )
    rows = list(csv.reader(io.StringIO("".join(pages), newline="")))
    assert rows == [["Id", "Name", "Account.Name"], [org.hostile_ids[text], text, text]]


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FROM Opportunity WHERE", "MALFORMED_QUERY"),
        ("SELECT Id FROM Opportunity WHERE Name = 'unterminated", "MALFORMED_QUERY"),
        ("SELECT Bogus__c FROM Opportunity", "INVALID_FIELD"),
        ("SELECT Id FROM Opportunity WHERE Amount = 'ten'", "INVALID_FIELD"),
        ("SELECT Id FROM Nothing__c", "INVALID_TYPE"),
    ],
)
def test_soql_errors_raise_malformed_request(sf: Salesforce, soql: str, code: str) -> None:
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.query(soql)
    assert info.value.status == 400
    assert error_code(info.value) == code
    assert "ERROR at Row:1:Column:" in info.value.content[0]["message"]


def test_wrong_token_raises_expired_session(org: Org) -> None:
    with pytest.raises(SalesforceExpiredSession) as info:
        org.client("not-the-token").query("SELECT Id FROM Opportunity LIMIT 1")
    assert (info.value.status, error_code(info.value)) == (401, "INVALID_SESSION_ID")


def test_spent_budget_raises_refused_request(org: Org, sf: Salesforce) -> None:
    budget = org.state.budgets["salesforce"]
    saved = budget.used
    budget.used = budget.total
    try:
        with pytest.raises(SalesforceRefusedRequest) as info:
            sf.query("SELECT Id FROM Opportunity LIMIT 1")
    finally:
        budget.used = saved
    assert (info.value.status, error_code(info.value)) == (403, "REQUEST_LIMIT_EXCEEDED")


def test_unknown_object_raises_resource_not_found(sf: Salesforce) -> None:
    with pytest.raises(SalesforceResourceNotFound):
        sf.Nothing__c.describe()


# --- describe, limits, records ------------------------------------------------------------------


def test_describe_reports_fields_and_child_relationships(sf: Salesforce) -> None:
    opp = sf.Opportunity.describe()
    fields = {f["name"]: f for f in opp["fields"]}
    assert fields["Amount"]["type"] == "currency"
    assert fields["CloseDate"]["type"] == "date"
    owner = fields["OwnerId"]
    assert (owner["type"], owner["referenceTo"], owner["relationshipName"]) == (
        "reference",
        ["User"],
        "Owner",
    )
    assert "CurrencyIsoCode" not in fields
    children = {c["relationshipName"]: c for c in opp["childRelationships"]}
    assert children["OpportunityLineItems"]["childSObject"] == "OpportunityLineItem"
    assert children["OpportunityLineItems"]["field"] == "OpportunityId"
    line = {f["name"]: f for f in sf.OpportunityLineItem.describe()["fields"]}
    assert (line["Unit_Cost__c"]["custom"], line["Unit_Cost__c"]["type"]) == (True, "currency")
    assert line["Subtotal"]["calculated"] is True
    assert {"Opportunity", "Account", "User"} <= {o["name"] for o in sf.describe()["sobjects"]}


def test_limits_follow_the_budget(org: Org, sf: Salesforce) -> None:
    limits = sf.limits()
    budget = org.state.budgets["salesforce"]
    assert limits["DailyApiRequests"] == {"Max": budget.total, "Remaining": budget.remaining}
    assert limits["DailyBulkV2QueryJobs"]["Max"] == 10_000


def test_get_record(org: Org, sf: Salesforce) -> None:
    rec = sf.Opportunity.get(org.opp_ids[7])
    assert (rec["Name"], rec["Amount"], rec["IsDeleted"]) == ("Opp 00007", 7.0, False)
    with pytest.raises(SalesforceResourceNotFound):
        sf.Opportunity.get(org.deleted[1])


# --- replication --------------------------------------------------------------------------------


def test_updated_and_deleted(org: Org, sf: Salesforce) -> None:
    now = org.state.now()
    window_start = START - timedelta(days=10)
    updated = sf.Opportunity.updated(window_start, now)
    assert len(updated["ids"]) == N_OPPS - len(org.deleted) + len(HOSTILE)
    minutes = {now, now + timedelta(minutes=1)}
    assert updated["latestDateCovered"] in {
        t.strftime("%Y-%m-%dT%H:%M:00.000+0000") for t in minutes
    }
    early = sf.Opportunity.updated(window_start, window_start + timedelta(minutes=10))
    assert early["ids"] == [org.opp_ids[n] for n in range(1, 10)] + list(org.hostile_ids.values())
    deleted = sf.Opportunity.deleted(START - timedelta(days=2), now)
    assert sorted(d["id"] for d in deleted["deletedRecords"]) == sorted(org.deleted)
    assert {d["deletedDate"] for d in deleted["deletedRecords"]} == {
        (START - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    }
    assert set(deleted) == {"deletedRecords", "earliestDateAvailable", "latestDateCovered"}


def test_replication_rejects_naive_and_old_dates(org: Org, sf: Salesforce) -> None:
    now = org.state.now()
    with pytest.raises(SalesforceMalformedRequest):
        sf.Opportunity.updated(datetime(2026, 5, 10), datetime(2026, 5, 11))
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Opportunity.deleted(now - timedelta(days=31), now)
    assert error_code(info.value) == "INVALID_REPLICATION_DATE"


# --- bulk 2.0 ---------------------------------------------------------------------------------


def test_bulk2_query_pages_csv_with_locators(org: Org, sf: Salesforce) -> None:
    pages = list(
        sf.bulk2.Opportunity.query(
            "SELECT Id, Name, Amount, CloseDate FROM Opportunity WHERE Name LIKE 'Opp %'",
            max_records=2000,
            wait=0,
        )
    )
    assert len(pages) == 3
    rows = [row for page in pages for row in csv.DictReader(io.StringIO(page, newline=""))]
    assert [r["Id"] for r in rows] == [i for i in org.opp_ids if i not in set(org.deleted)]
    assert rows[4] == {"Id": org.opp_ids[5], "Name": "Opp 00005", "Amount": "5.0",
                       "CloseDate": (START - timedelta(days=5)).date().isoformat()}  # fmt: skip


def test_bulk2_query_all_includes_deleted(org: Org, sf: Salesforce) -> None:
    pages = sf.bulk2.Opportunity.query_all(
        "SELECT Id FROM Opportunity WHERE IsDeleted = true", wait=0
    )
    rows = [r for page in pages for r in csv.DictReader(io.StringIO(page, newline=""))]
    assert sorted(r["Id"] for r in rows) == sorted(org.deleted)


def test_bulk2_only_a_job_in_progress_can_be_aborted(sf: Salesforce) -> None:
    def job() -> str:
        body = {"operation": "query", "query": "SELECT Id FROM Account"}
        return str(sf.restful("jobs/query", method="POST", json=body)["id"])

    def abort(job_id: str) -> Any:
        return sf.restful(f"jobs/query/{job_id}", method="PATCH", json={"state": "Aborted"})

    waiting = job()
    assert abort(waiting)["state"] == "Aborted"
    assert sf.restful(f"jobs/query/{waiting}")["state"] == "Aborted"
    for done in (waiting, job()):
        sf.restful(f"jobs/query/{done}")  # the first poll completes a new job
        with pytest.raises(SalesforceMalformedRequest, match="only a job in progress"):
            abort(done)


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id, (SELECT Id FROM OpportunityLineItems) FROM Opportunity", "API_ERROR"),
        ("SELECT COUNT() FROM Opportunity", "API_ERROR"),
        ("SELECT Id FROM Opportunity OFFSET 5", "API_ERROR"),
        ("SELECT Id FROM Opportunity WHERE", "MALFORMED_QUERY"),
    ],
)
def test_bulk2_rejects_what_salesforce_rejects(sf: Salesforce, soql: str, code: str) -> None:
    with pytest.raises(SalesforceMalformedRequest) as info:
        list(sf.bulk2.Opportunity.query(soql, wait=0))
    assert error_code(info.value) == code


# --- login flows --------------------------------------------------------------------------------


def test_soap_login_with_security_token(org: Org) -> None:
    creds = org.credentials
    session = LoopbackSession(login_base=org.url)
    session_id, instance = SalesforceLogin(
        username=creds.username,
        password=creds.password,
        security_token=creds.security_token,
        session=session,
    )
    assert (session_id, instance) == (
        org.state.tokens["salesforce"],
        f"127.0.0.1:{org.server.port}",
    )
    sf = Salesforce(
        username=creds.username,
        password=creds.password,
        security_token=creds.security_token,
        session=session,
    )
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 1 + len(HOSTILE)
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        SalesforceLogin(
            username=creds.username, password="wrong", security_token="x", session=session
        )
    assert info.value.code == "INVALID_LOGIN"


def test_oauth_password_and_jwt_logins(org: Org) -> None:
    creds = org.credentials
    session = LoopbackSession(login_base=org.url)
    by_password = Salesforce(
        username=creds.username,
        password=creds.password,
        consumer_key=creds.consumer_key,
        consumer_secret=creds.consumer_secret,
        session=session,
    )
    by_jwt = Salesforce(
        username=creds.username,
        consumer_key=creds.consumer_key,
        privatekey=org.private_key,
        session=session,
    )
    for sf in (by_password, by_jwt):
        assert sf.session_id == org.state.tokens["salesforce"]
        assert sf.query("SELECT Id FROM User WHERE Name = 'Rex Rep'")["totalSize"] == 1
    other_key, _ = _key_pair()
    with pytest.raises(SalesforceAuthenticationFailed) as info:
        Salesforce(
            username=creds.username,
            consumer_key=creds.consumer_key,
            privatekey=other_key,
            session=session,
        )
    assert info.value.code == "invalid_grant"


# --- with the shared fixture's generated org ----------------------------------------------------


def test_generated_org_answers_through_the_shared_fixture(sandbox: Sandbox) -> None:
    sf = salesforce_client(sandbox)
    result = sf.query_all(
        "SELECT Id, Amount, CurrencyIsoCode, (SELECT Unit_Cost__c FROM OpportunityLineItems) "
        "FROM Opportunity"
    )
    assert sorted(r["Id"] for r in result["records"]) == sorted(sandbox.deal_ids("salesforce"))
    rates = sf.query("SELECT IsoCode, ConversionRate FROM CurrencyType WHERE IsCorporate = true")
    assert [r["IsoCode"] for r in rates["records"]] == ["USD"]


def test_slow_bulk_jobs_and_small_pages(org: Org) -> None:
    router = Router()
    register(router, org.state, options=SalesforceOptions(page_size=1000, bulk_in_progress_polls=2))
    server = SandboxHTTPServer(0, Dispatcher(router, org.state))
    server.start_background()
    try:
        sf = Salesforce(
            instance_url=f"http://127.0.0.1:{server.port}",
            session_id=org.state.tokens["salesforce"],
            session=LoopbackSession(),
        )
        first = sf.query("SELECT Id FROM Opportunity")
        assert len(first["records"]) == 1000
        polls_before = org.state.counters.snapshot()["requests"].get("salesforce.bulk2.job", 0)
        pages = list(
            sf.bulk2.Account.query("SELECT Id, Name FROM Account WHERE Name = 'Acme'", wait=0)
        )
        polls = org.state.counters.snapshot()["requests"]["salesforce.bulk2.job"] - polls_before
    finally:
        server.shutdown()
        server.server_close()
    assert polls == 3  # InProgress, InProgress, JobComplete
    assert pages[0].splitlines()[1].endswith(',"Acme"')
