"""A deal's account is its primary company, whatever order HubSpot lists companies in."""

from __future__ import annotations

from connectors.hubspot.mapping import primary_first
from tests.connectors.hubspot.conftest import Portal
from tests.connectors.hubspot.test_sync import _deal_rows


def test_primary_first_rules() -> None:
    # labelled Primary wins wherever it is listed (v3 inline repeats an id per type)
    assert primary_first([("9", False), ("12", True), ("12", False)]) == ["12", "9"]
    # no label: the only company, else the lowest id (not the first listed)
    assert primary_first([("40", False)]) == ["40"]
    assert primary_first([("40", False), ("7", False), ("300", False)]) == ["7", "40", "300"]
    assert primary_first([]) == []


def _multi_company_deals(portal: Portal) -> dict[str, tuple[str, str]]:
    """deal id → (first listed company, primary company) where they differ."""
    data = portal.sb.state.hubspot
    out = {}
    for deal_id, companies in data.assoc[("deals", "companies")].items():
        primary = [c for c in companies if (deal_id, c) in data.primary]
        if len(companies) > 1 and primary and companies[0] != primary[0]:
            out[deal_id] = (companies[0], primary[0])
    return out


def test_backfill_and_incremental_take_the_primary_company(portal: Portal) -> None:
    multi = _multi_company_deals(portal)
    assert len(multi) >= 5  # the sandbox lists an unlabelled company first on these
    assert portal.sync().exit_code == 0  # backfill: the v3 list with inline associations
    rows = _deal_rows(portal)
    assert {d: rows[d]["account_external_id"] for d in multi} == {
        d: primary for d, (_, primary) in multi.items()
    }
    # incremental: search, then v4 associations with their type ids
    changed = portal.sb.update_deals("hubspot", ids=list(multi)[:5])
    assert changed == list(multi)[:5]
    assert portal.sync().exit_code == 0
    rows = _deal_rows(portal)
    assert {d: rows[d]["account_external_id"] for d in changed} == {d: multi[d][1] for d in changed}
    assert portal.differences() == []
