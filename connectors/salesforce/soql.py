"""SOQL the Salesforce connector builds beyond the keyset passes (``streams.py``)."""

from __future__ import annotations

from datetime import datetime

from connectors.salesforce.mapping import soql_datetime

LINE_ITEM_STAMPS = "Id, OpportunityId, SystemModstamp"


def soql(select: str, sobject: str, conditions: list[str]) -> str:
    """``SELECT select FROM sobject [WHERE c1 AND c2 ...]`` (empty conditions skipped)."""
    where = " AND ".join(c for c in conditions if c)
    return f"SELECT {select} FROM {sobject}" + (f" WHERE {where}" if where else "")


def since_where(since: datetime | None, path: str = "") -> list[str]:
    """The opportunities a first sync reads: all, or those modified since ``since``
    (``path``: how the querying object reaches Opportunity, e.g. ``Opportunity.``)."""
    return [] if since is None else [f"{path}SystemModstamp >= {soql_datetime(since)}"]


def count_soql(since: datetime | None) -> str:
    """Counts the opportunities a first sync reads."""
    return soql("COUNT()", "Opportunity", since_where(since))


def first_created_soql(since: datetime | None) -> str:
    """The oldest CreatedDate among them (where Bulk chunks begin)."""
    return soql("CreatedDate", "Opportunity", since_where(since)) + " ORDER BY CreatedDate LIMIT 1"
