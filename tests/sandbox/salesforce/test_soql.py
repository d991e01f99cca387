"""SOQL parser and evaluator of the sandbox, over a small hand-built org."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.salesforce.sobjects import SObjectDatabase, id18, standard_schema
from sandbox.salesforce.soql import (
    And,
    Comparison,
    CountItem,
    FieldPath,
    Not,
    Or,
    SoqlError,
    SubQuery,
    parse,
    parse_datetime_literal,
    quote,
)
from sandbox.salesforce.soql_exec import execute

T0 = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
TODAY = date(2024, 3, 15)


class Org:
    """A tiny org: two users (one manages the other), two accounts, five opportunities."""

    def __init__(self, multi_currency: bool = False) -> None:
        self.db = SObjectDatabase(standard_schema(multi_currency), clock=lambda: T0)
        db = self.db
        self.boss = db.insert("User", {"Name": "Bea Boss", "LastName": "Boss", "IsActive": True})
        self.rep = db.insert(
            "User", {"Name": "Rex Rep", "LastName": "Rep", "ManagerId": self.boss, "IsActive": True}
        )
        self.acme = db.insert("Account", {"Name": "Acme", "OwnerId": self.rep, "Industry": "Tech"})
        self.initech = db.insert("Account", {"Name": "initech", "OwnerId": self.rep})
        self.opps = [
            self.opp("Alpha", 1000.0, date(2024, 1, 31), "Closed Won", self.acme, T0),
            self.opp("beta", 250.5, date(2024, 3, 15), "Prospecting", self.acme, T0),
            self.opp("Gamma", None, date(2024, 2, 29), "Closed Lost", None, T0),
            self.opp("delta", 99.0, date(2024, 3, 20), "Prospecting", self.initech, T0),
            self.opp("Epsilon", 5000.0, date(2023, 12, 1), "Closed Won", self.initech, T0),
        ]
        for opp, qty in ((self.opps[0], 2.0), (self.opps[0], 1.0), (self.opps[1], 5.0)):
            db.insert("OpportunityLineItem", {"OpportunityId": opp, "Quantity": qty})

    def opp(
        self,
        name: str,
        amount: float | None,
        close: date,
        stage: str,
        account: str | None,
        stamp: datetime,
    ) -> str:
        return self.db.insert(
            "Opportunity",
            {
                "Name": name,
                "Amount": amount,
                "CloseDate": close,
                "StageName": stage,
                "IsWon": stage == "Closed Won",
                "IsClosed": stage.startswith("Closed"),
                "AccountId": account,
                "OwnerId": self.rep,
            },
            modstamp=stamp,
        )

    def run(self, soql: str, **kw: Any) -> list[dict[str, Any]]:
        return execute(self.db, soql, today=TODAY, **kw).records()

    def names(self, soql: str, **kw: Any) -> list[str]:
        return [r["Name"] for r in self.run(soql, **kw)]


@pytest.fixture
def org() -> Org:
    return Org()


def error_of(org: Org, soql: str) -> SoqlError:
    with pytest.raises(SoqlError) as info:
        org.run(soql)
    return info.value


# --- parser -----------------------------------------------------------------------------------


def test_parse_builds_the_tree() -> None:
    q = parse(
        "SELECT Id, Account.Name, COUNT(Id) n, (SELECT Quantity FROM OpportunityLineItems "
        "WHERE Quantity > 1) FROM Opportunity WHERE NOT (Amount < 5 OR Name IN ('a', 'b')) "
        "AND CloseDate >= 2024-01-01 ORDER BY Name DESC NULLS FIRST, Id LIMIT 10 OFFSET 5"
    )
    assert q.select[0] == FieldPath(("Id",))
    assert q.select[1] == FieldPath(("Account", "Name"))
    assert q.select[2] == CountItem(FieldPath(("Id",)), "n")
    assert (
        isinstance(q.select[3], SubQuery) and q.select[3].query.from_name == "OpportunityLineItems"
    )
    assert q.from_name == "Opportunity"
    assert isinstance(q.where, And)
    negated = q.where.items[0]
    assert isinstance(negated, Not) and isinstance(negated.item, Or)
    in_list = negated.item.items[1]
    assert isinstance(in_list, Comparison) and in_list.op == "IN"
    assert [v.value for v in in_list.value] == ["a", "b"]  # type: ignore[union-attr]
    assert [(o.path.text, o.descending, o.nulls_last) for o in q.order_by] == [
        ("Name", True, False),
        ("Id", False, None),
    ]
    assert (q.limit, q.offset) == (10, 5)


@pytest.mark.parametrize(
    ("soql", "where"),
    [
        ("SELECT Id FROM Opportunity WHERE", "<EOF>"),
        ("SELECT FROM Opportunity", "FROM"),
        ("SELECT Id Opportunity", "unexpected token: Opportunity"),
        ("SELECT Id FROM Opportunity WHERE Amount = 1 AND Amount = 2 OR Amount = 3", "OR"),
        ("SELECT Id FROM Opportunity LIMIT x", "x"),
        ("SELECT Id FROM Opportunity WHERE Name LIKE 5", "5"),
        ("SELECT Id FROM Opportunity WHERE Name = 'open", "'"),
        ("SELECT Id FROM Opportunity WHERE Amount = 1 extra", "extra"),
        ("SELECT Id, (SELECT Id FROM OpportunityLineItems FROM Opportunity", "FROM"),
        ("SELECT Id FROM Opportunity WHERE Name = 'a\\q'", "Illegal escape"),
        ("SELECT Id FROM Opportunity WHERE CloseDate > LAST_N_DAYS", "<EOF>"),
    ],
)
def test_syntax_errors_are_malformed_query(org: Org, soql: str, where: str) -> None:
    err = error_of(org, soql)
    assert err.error_code == "MALFORMED_QUERY"
    assert "ERROR at Row:1:Column:" in err.message
    assert where in err.message


def test_error_message_points_at_the_offending_column(org: Org) -> None:
    err = error_of(org, "SELECT Id,\n  Bogus FROM Opportunity")
    assert err.error_code == "INVALID_FIELD"
    assert err.message.startswith("\n  Bogus FROM Opportunity\n  ^\nERROR at Row:2:Column:3\n")
    assert "No such column 'Bogus' on entity 'Opportunity'" in err.message


@pytest.mark.parametrize(
    ("soql", "code", "text"),
    [
        ("SELECT Id FROM Opportunityy", "INVALID_TYPE", "sObject type 'Opportunityy'"),
        ("SELECT Acount.Name FROM Opportunity", "INVALID_FIELD", "relationship 'Acount'"),
        ("SELECT Account.Nme FROM Opportunity", "INVALID_FIELD", "No such column 'Account.Nme'"),
        ("SELECT AccountId.Name FROM Opportunity", "INVALID_FIELD", "relationship 'AccountId'"),
        (
            "SELECT Id, (SELECT Id FROM LineItems) FROM Opportunity",
            "INVALID_TYPE",
            "relationship 'LineItems' in FROM part",
        ),
        ("SELECT Id FROM Opportunity WHERE Amount = '5'", "INVALID_FIELD", "type double"),
        ("SELECT Id FROM Opportunity WHERE Name = 5", "INVALID_FIELD", "enclosed in quotes"),
        ("SELECT Id FROM Opportunity WHERE CreatedDate > 2024-01-01", "INVALID_FIELD", "dateTime"),
        (
            "SELECT Id FROM Opportunity WHERE CloseDate > 2024-01-01T00:00:00Z",
            "INVALID_FIELD",
            "type date",
        ),
        ("SELECT Id FROM Opportunity WHERE IsWon = 'true'", "INVALID_FIELD", "type boolean"),
        ("SELECT CurrencyIsoCode FROM Opportunity", "INVALID_FIELD", "CurrencyIsoCode"),
        ("SELECT Id, Name, name FROM Opportunity", "MALFORMED_QUERY", "duplicate field"),
        ("SELECT COUNT(), Name FROM Opportunity", "MALFORMED_QUERY", "grouped or aggregated"),
    ],
)
def test_semantic_errors(org: Org, soql: str, code: str, text: str) -> None:
    err = error_of(org, soql)
    assert (err.error_code, text in err.message) == (code, True), err.message


def test_currency_iso_code_exists_only_in_multi_currency_orgs() -> None:
    org = Org(multi_currency=True)
    assert org.run("SELECT CurrencyIsoCode FROM Opportunity LIMIT 1")[0]["CurrencyIsoCode"] is None
    assert "CurrencyType" in org.db.objects and "CurrencyType" not in Org().db.objects


# --- records ------------------------------------------------------------------------------------


def test_records_are_shaped_like_the_rest_api(org: Org) -> None:
    rec = org.run(
        "select id, NAME, amount, closedate, createddate, iswon, account.name, "
        "owner.manager.name from OPPORTUNITY where name = 'alpha'"
    )[0]
    assert list(rec) == [
        "attributes", "Id", "Name", "Amount", "CloseDate", "CreatedDate", "IsWon", "Account",
        "Owner",
    ]  # fmt: skip
    assert rec["attributes"] == {
        "type": "Opportunity",
        "url": f"/services/data/v59.0/sobjects/Opportunity/{org.opps[0]}",
    }
    assert rec["Amount"] == 1000.0 and isinstance(rec["Amount"], float)
    assert rec["CloseDate"] == "2024-01-31"
    assert rec["CreatedDate"] == "2024-03-01T09:30:00.000+0000"
    assert rec["IsWon"] is True
    assert rec["Account"] == {
        "attributes": {
            "type": "Account",
            "url": f"/services/data/v59.0/sobjects/Account/{org.acme}",
        },
        "Name": "Acme",
    }
    assert rec["Owner"]["Manager"]["Name"] == "Bea Boss"
    assert rec["Owner"]["attributes"]["type"] == "User"


def test_relationship_is_null_when_the_lookup_is_empty(org: Org) -> None:
    rec = org.run("SELECT Account.Name, Account.Industry FROM Opportunity WHERE Name = 'Gamma'")[0]
    assert rec["Account"] is None


def test_paths_sharing_a_relationship_merge_into_one_object(org: Org) -> None:
    rec = org.run("SELECT Account.Name, Id, Account.Industry FROM Opportunity WHERE Name='Alpha'")[
        0
    ]
    assert list(rec) == ["attributes", "Account", "Id"]
    assert list(rec["Account"]) == ["attributes", "Name", "Industry"]


def test_child_subquery_nests_a_query_result_or_null(org: Org) -> None:
    recs = org.run(
        "SELECT Name, (SELECT Quantity FROM OpportunityLineItems ORDER BY Quantity) "
        "FROM Opportunity WHERE Name IN ('Alpha', 'beta', 'Gamma') ORDER BY Name"
    )
    by_name = {r["Name"]: r["OpportunityLineItems"] for r in recs}
    assert by_name["Gamma"] is None
    alpha = by_name["Alpha"]
    assert (alpha["totalSize"], alpha["done"]) == (2, True)
    assert [r["Quantity"] for r in alpha["records"]] == [1.0, 2.0]
    assert alpha["records"][0]["attributes"]["type"] == "OpportunityLineItem"
    filtered = org.run(
        "SELECT Name, (SELECT Id FROM OpportunityLineItems WHERE Quantity >= 2 LIMIT 1) "
        "FROM Opportunity WHERE Name = 'Alpha'"
    )[0]
    assert filtered["OpportunityLineItems"]["totalSize"] == 1


def test_count_and_aggregate_count(org: Org) -> None:
    result = execute(org.db, "SELECT COUNT() FROM Opportunity WHERE Amount > 100")
    assert (result.total_size, result.records()) == (3, [])
    agg = org.run("SELECT COUNT(Id) total, COUNT(Amount) FROM Opportunity")
    assert agg == [{"attributes": {"type": "AggregateResult"}, "total": 5, "expr1": 4}]


# --- filters ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Amount > 250.5", ["Alpha", "Epsilon"]),
        ("Amount >= 250.5", ["Alpha", "beta", "Epsilon"]),
        ("Amount < 100", ["delta"]),
        ("Amount <= -1", []),
        ("Amount = null", ["Gamma"]),
        ("Amount != null", ["Alpha", "beta", "delta", "Epsilon"]),
        ("Amount != 1000", ["beta", "Gamma", "delta", "Epsilon"]),
        ("Amount <> 1000", ["beta", "Gamma", "delta", "Epsilon"]),
        ("Name = 'ALPHA'", ["Alpha"]),
        ("Name IN ('alpha', 'BETA')", ["Alpha", "beta"]),
        ("Name NOT IN ('alpha', 'BETA')", ["Gamma", "delta", "Epsilon"]),
        ("Amount IN (99, 1000.0)", ["Alpha", "delta"]),
        ("Amount NOT IN (99)", ["Alpha", "beta", "Gamma", "Epsilon"]),
        ("Name LIKE '%a'", ["Alpha", "beta", "Gamma", "delta"]),
        ("Name LIKE '_eta'", ["beta"]),
        ("NOT Name LIKE '%a'", ["Epsilon"]),
        ("IsWon = true", ["Alpha", "Epsilon"]),
        ("IsWon = FALSE AND IsClosed = true", ["Gamma"]),
        ("(Amount > 1000 OR Amount < 100) AND NOT Name = 'delta'", ["Epsilon"]),
        ("Amount > 100 AND (Name = 'beta' OR Name = 'Alpha')", ["Alpha", "beta"]),
        ("CloseDate = 2024-02-29", ["Gamma"]),
        ("CloseDate < 2024-01-01", ["Epsilon"]),
        ("CloseDate = TODAY", ["beta"]),
        ("CloseDate = LAST_N_DAYS:20", ["beta", "Gamma"]),
        ("CloseDate = NEXT_N_DAYS:5", ["delta"]),
        ("CloseDate = THIS_MONTH", ["beta", "delta"]),
        ("CloseDate < THIS_YEAR", ["Epsilon"]),
        ("CloseDate = LAST_MONTH", ["Gamma"]),
        ("CloseDate > THIS_QUARTER", []),
        ("Account.Name = 'INITECH'", ["delta", "Epsilon"]),
        ("Account.Name = null", ["Gamma"]),
        ("Owner.Manager.Name LIKE 'bea%'", ["Alpha", "beta", "Gamma", "delta", "Epsilon"]),
        ("CreatedDate = 2024-03-01T09:30:00Z", ["Alpha", "beta", "Gamma", "delta", "Epsilon"]),
        (
            "CreatedDate > 2024-03-01T10:29:59.999+01:00",
            ["Alpha", "beta", "Gamma", "delta", "Epsilon"],
        ),
        ("CreatedDate > 2024-03-01T04:30:00-0500", []),
        ("SystemModstamp < TODAY", ["Alpha", "beta", "Gamma", "delta", "Epsilon"]),
    ],
)
def test_where(org: Org, where: str, expected: list[str]) -> None:
    assert org.names(f"SELECT Name FROM Opportunity WHERE {where}") == expected


def test_ids_match_in_15_and_18_character_forms(org: Org) -> None:
    assert org.names(f"SELECT Name FROM Opportunity WHERE Id = '{org.opps[2][:15]}'") == ["Gamma"]
    assert org.names(f"SELECT Name FROM Opportunity WHERE AccountId IN ('{org.acme}')") == [
        "Alpha",
        "beta",
    ]
    assert id18(org.opps[2][:15]) == org.opps[2]


# --- order, limit, offset, deleted --------------------------------------------------------------


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("Amount", ["Gamma", "delta", "beta", "Alpha", "Epsilon"]),
        ("Amount NULLS LAST", ["delta", "beta", "Alpha", "Epsilon", "Gamma"]),
        ("Amount DESC", ["Epsilon", "Alpha", "beta", "delta", "Gamma"]),
        ("Amount DESC NULLS FIRST", ["Gamma", "Epsilon", "Alpha", "beta", "delta"]),
        ("Name", ["Alpha", "beta", "delta", "Epsilon", "Gamma"]),
        ("StageName DESC, Name ASC", ["beta", "delta", "Alpha", "Epsilon", "Gamma"]),
        ("Account.Name DESC, CloseDate", ["Epsilon", "delta", "Alpha", "beta", "Gamma"]),
    ],
)
def test_order_by(org: Org, order: str, expected: list[str]) -> None:
    assert org.names(f"SELECT Name FROM Opportunity ORDER BY {order}") == expected


def test_limit_and_offset(org: Org) -> None:
    assert org.names("SELECT Name FROM Opportunity ORDER BY Name LIMIT 2") == ["Alpha", "beta"]
    assert org.names("SELECT Name FROM Opportunity ORDER BY Name LIMIT 2 OFFSET 3") == [
        "Epsilon",
        "Gamma",
    ]
    assert org.names("SELECT Name FROM Opportunity ORDER BY Name OFFSET 4") == ["Gamma"]


def test_query_hides_deleted_rows_and_query_all_shows_them(org: Org) -> None:
    org.db.delete("Opportunity", org.opps[1], modstamp=T0 + timedelta(hours=1))
    assert "beta" not in org.names("SELECT Name FROM Opportunity")
    assert org.names("SELECT Name FROM Opportunity WHERE IsDeleted = true") == []
    assert org.names(
        "SELECT Name FROM Opportunity WHERE IsDeleted = true", include_deleted=True
    ) == ["beta"]
    org.db.hard_delete("Opportunity", org.opps[1])
    assert "beta" not in org.names("SELECT Name FROM Opportunity", include_deleted=True)


def test_deleted_children_are_hidden_from_subqueries(org: Org) -> None:
    child = next(iter(org.db.rows["OpportunityLineItem"]))
    org.db.delete("OpportunityLineItem", child)
    q = "SELECT (SELECT Id FROM OpportunityLineItems) FROM Opportunity WHERE Name = 'Alpha'"
    assert org.run(q)[0]["OpportunityLineItems"]["totalSize"] == 1
    assert org.run(q, include_deleted=True)[0]["OpportunityLineItems"]["totalSize"] == 2


def test_csv_rows_for_bulk(org: Org) -> None:
    result = execute(
        org.db,
        "SELECT Name, Account.Name, CloseDate, CreatedDate, IsWon, Amount FROM Opportunity "
        "WHERE Name IN ('Alpha', 'Gamma') ORDER BY Name",
    )
    assert result.csv_header() == [
        "Name",
        "Account.Name",
        "CloseDate",
        "CreatedDate",
        "IsWon",
        "Amount",
    ]
    assert result.csv_rows() == [
        ["Alpha", "Acme", "2024-01-31", "2024-03-01T09:30:00.000Z", "true", "1000.0"],
        ["Gamma", "", "2024-02-29", "2024-03-01T09:30:00.000Z", "false", ""],
    ]


# --- the database -------------------------------------------------------------------------------


def test_writes_stamp_rows_and_log_deletes() -> None:
    clock = [T0]
    db = SObjectDatabase(standard_schema(), clock=lambda: clock[0])
    rid = db.insert("Account", {"name": "A"})
    row = db.get("Account", rid)
    assert row is not None and row["Name"] == "A" and row["IsDeleted"] is False
    assert row["CreatedDate"] == row["SystemModstamp"] == T0
    clock[0] = T0 + timedelta(minutes=5)
    db.update("Account", rid, {"Industry": "Tech"})
    assert row["SystemModstamp"] == row["LastModifiedDate"] == clock[0]
    db.update("Account", rid, {"Industry": "Retail"}, touch=False)
    assert row["SystemModstamp"] == clock[0]
    late = T0 - timedelta(days=1)
    db.update("Account", rid, {"Industry": "Media"}, modstamp=late)
    assert row["SystemModstamp"] == late
    db.delete("Account", rid)
    assert row["IsDeleted"] and [d.id for d in db.deleted_log["Account"]] == [rid]
    db.undelete("Account", rid)
    assert not row["IsDeleted"] and db.deleted_log["Account"] == []
    with pytest.raises(ValueError):
        db.insert("Account", {"Name": "naive"}, modstamp=datetime(2024, 1, 1))
    with pytest.raises(KeyError):
        db.insert("Account", {"Bogus": 1})


# --- round trips --------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_any_string_round_trips_through_a_literal(text: str) -> None:
    db = SObjectDatabase(standard_schema(), clock=lambda: T0)
    target = db.insert("Account", {"Name": text})
    db.insert("Account", {"Name": text + "x"})
    found = execute(db, f"SELECT Id, Name FROM Account WHERE Name = {quote(text)}").records()
    assert target in [r["Id"] for r in found]
    assert all(r["Name"].lower() == text.lower() for r in found)


@settings(max_examples=60, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
        ),
    )
)
def test_datetime_literals_round_trip(value: datetime) -> None:
    value = value.replace(microsecond=value.microsecond // 1000 * 1000)
    offset = value.strftime("%z")
    text = value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    for suffix in (offset, offset[:3] + ":" + offset[3:]):
        assert parse_datetime_literal(text + suffix) == value
    if value.utcoffset() == timedelta(0):
        assert parse_datetime_literal(text + "Z") == value


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-1000, 1000)), min_size=1, max_size=30))
def test_order_by_matches_python_sorting(amounts: list[int | None]) -> None:
    db = SObjectDatabase(standard_schema(), clock=lambda: T0)
    for n, amount in enumerate(amounts):
        db.insert("Opportunity", {"Name": f"o{n:03d}", "Amount": amount})
    got = execute(db, "SELECT Amount FROM Opportunity ORDER BY Amount DESC NULLS LAST").records()
    values = [None if r["Amount"] is None else int(r["Amount"]) for r in got]
    present = sorted((a for a in amounts if a is not None), reverse=True)
    assert values == present + [None] * (len(amounts) - len(present))
