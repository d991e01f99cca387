"""Data changing under a sync, through the control handle, seen by the real SDKs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hubspot import HubSpot
from hubspot.crm.deals.exceptions import NotFoundException
from simple_salesforce import Salesforce

from sandbox import Sandbox

MODSTAMP_SOQL = "SELECT Id, Amount, SystemModstamp FROM Opportunity WHERE Id = '{}'"


def test_update_bumps_modstamp_and_amount(sandbox: Sandbox, sf: Salesforce, hs: HubSpot) -> None:
    sf_id = sandbox.deal_ids("salesforce")[0]
    before = sf.query(MODSTAMP_SOQL.format(sf_id))["records"][0]
    sandbox.advance_clock(5)
    sandbox.update_deals("salesforce", [sf_id], amount=1234.5)
    after = sf.query(MODSTAMP_SOQL.format(sf_id))["records"][0]
    assert after["Amount"] == 1234.5 and after["SystemModstamp"] > before["SystemModstamp"]
    hs_id = sandbox.update_deals("hubspot", n=1, amount=99.0)[0]
    deal = hs.crm.deals.basic_api.get_by_id(hs_id, properties=["amount", "hs_lastmodifieddate"])
    assert deal.properties["amount"] == "99"
    assert sandbox.truth("hubspot").deals[hs_id].amount == 99.0


def test_delete_and_undelete(sandbox: Sandbox, sf: Salesforce, hs: HubSpot) -> None:
    sf_id = sandbox.delete_deals("salesforce", n=1)[0]
    q = f"SELECT Id, IsDeleted FROM Opportunity WHERE Id = '{sf_id}'"
    assert sf.query(q)["totalSize"] == 0
    assert sf.query_all(q, include_deleted=True)["records"][0]["IsDeleted"] is True
    assert sandbox.truth("salesforce").deals[sf_id].is_deleted
    sandbox.undelete_deals("salesforce", [sf_id])
    assert sf.query(q)["totalSize"] == 1
    hs_id = sandbox.delete_deals("hubspot", n=1)[0]
    with pytest.raises(NotFoundException):
        hs.crm.deals.basic_api.get_by_id(hs_id)
    assert hs.crm.deals.basic_api.get_by_id(hs_id, archived=True).archived
    sandbox.undelete_deals("hubspot", [hs_id])
    assert not hs.crm.deals.basic_api.get_by_id(hs_id).archived


def test_hard_delete_leaves_no_trace(sandbox: Sandbox, sf: Salesforce, hs: HubSpot) -> None:
    sf_id = sandbox.hard_delete_deals("salesforce", n=1)[0]
    q = f"SELECT Id FROM Opportunity WHERE Id = '{sf_id}'"
    assert sf.query_all(q, include_deleted=True)["totalSize"] == 0
    truth = sandbox.truth("salesforce")
    assert sf_id not in truth.deals and sf_id in truth.gone_deal_ids
    hs_id = sandbox.hard_delete_deals("hubspot", n=1)[0]
    assert hs_id not in {d.id for d in hs.crm.deals.get_all(archived=True)}
    assert hs_id in sandbox.truth("hubspot").gone_deal_ids


def test_late_commit_carries_an_older_modstamp(sandbox: Sandbox, sf: Salesforce) -> None:
    sandbox.advance_clock(3600)
    now = sandbox.now()
    sf_id = sandbox.late_commit("salesforce", n=1, lag=timedelta(minutes=10))[0]
    stamp = sandbox.truth("salesforce").deals[sf_id].source_modified_at
    assert stamp is not None and now - timedelta(minutes=11) < stamp < now - timedelta(minutes=9)


def test_many_records_share_one_modstamp(sandbox: Sandbox, sf: Salesforce) -> None:
    ids, stamp = sandbox.same_stamp("salesforce", n=30)
    soql = (
        "SELECT Id FROM Opportunity WHERE SystemModstamp = "
        + stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
        + " ORDER BY Id"
    )
    assert {r["Id"] for r in sf.query_all(soql)["records"]} >= set(ids)


def test_hubspot_merge(sandbox: Sandbox, hs: HubSpot) -> None:
    truth = sandbox.truth("hubspot").live_deals()
    winner, loser = (d.external_id for d in list(truth.values())[:2])
    lines = {li.external_id for i in (winner, loser) for li in truth[i].line_items or []}
    sandbox.merge_deals("hubspot", winner, loser)
    assert loser not in {d.id for d in hs.crm.deals.get_all()}
    assert loser not in {d.id for d in hs.crm.deals.get_all(archived=True)}
    # fetching the merged-away id answers the winner, which lists it
    got = hs.crm.deals.basic_api.get_by_id(loser, properties=["hs_merged_object_ids"])
    assert got.id == winner and got.properties["hs_merged_object_ids"] == loser
    after = sandbox.truth("hubspot")
    assert {li.external_id for li in after.deals[winner].line_items or []} == lines
    assert loser in after.gone_deal_ids


def test_hubspot_merge_through_the_sdk(sandbox: Sandbox, hs: HubSpot) -> None:
    from hubspot.crm.deals import PublicMergeInput

    winner, loser = sandbox.deal_ids("hubspot")[2:4]
    merged = hs.crm.deals.basic_api.merge(
        public_merge_input=PublicMergeInput(primary_object_id=winner, object_id_to_merge=loser)
    )
    assert merged.id == winner
    assert loser in sandbox.truth("hubspot").gone_deal_ids


def test_salesforce_merge_deletes_the_loser(sandbox: Sandbox) -> None:
    winner, loser = sandbox.deal_ids("salesforce")[:2]
    before = sandbox.truth("salesforce").deals
    sandbox.merge_deals("salesforce", winner, loser)
    after = sandbox.truth("salesforce").deals
    assert after[loser].is_deleted
    assert after[winner].amount == round(
        (before[winner].amount or 0) + (before[loser].amount or 0), 2
    )
