"""Deletions of a Salesforce sync: the deleted-records log, and the live Id set.

``getDeleted`` covers the window since the last sync; when the org's log no longer
reaches back that far (or on ``--reconcile``) the complete set of live Opportunity Ids is
read instead, which also catches hard deletes and purges.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from connectors.salesforce.budget import ReplicationWindowError
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.mapping import parse_datetime
from connectors.salesforce.streams import iter_query

if TYPE_CHECKING:
    from connectors.salesforce.connector import SalesforceRun

log = logging.getLogger(__name__)


def read_deleted_log(run: SalesforceRun) -> bool:
    """Read getDeleted since the last sync; True when the log may have lost entries."""
    run.deleted_ids = []
    window = run.deleted_window()
    if window is None:
        return False
    start, end = window
    try:
        body = run.client.deleted("Opportunity", start, end, reuse_until=run.now)
    except ReplicationWindowError as exc:
        log.warning("salesforce %s: %s; comparing Id sets instead", run.name, exc)
        return True
    # a deal read in this run is known better than the log says (undeleted since)
    run.deleted_ids = sorted(
        {
            str(r["id"])
            for r in body.get("deletedRecords", ())
            if r.get("id") and r["id"] not in run.fresh_deals
        }
    )
    covered = parse_datetime(body.get("latestDateCovered"))
    if covered is not None:
        run.cursor["deleted"] = covered.isoformat()
    earliest = parse_datetime(body.get("earliestDateAvailable"))
    return earliest is not None and earliest > start


def live_ids(client: SalesforceClient) -> frozenset[str]:
    """Every live Opportunity Id in the org (one run, never resumed half-way)."""
    ids: set[str] = set()
    for page in iter_query(client, "SELECT Id FROM Opportunity", include_deleted=False):
        ids.update(r["Id"] for r in page)
    return frozenset(ids)
