"""The connector contract (``connectors/base.py``), one suite run against every source kind.

Each kind gets a small harness (settings for a running source with activities on, its
truth, a way to delete one deal and one activity at the source); the checks are the same
for all: registry wiring, only core records and JSON cursors leave the connector, a full
sync equals the truth (deals, accounts, owners and activities), a crash after any
committed batch (among the deals or among the activities) resumes to the truth with
nothing twice, a rerun changes nothing, a deletion at the source is mirrored, and a dry
run writes nothing.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import text

from connectors.base import Connector, SyncContext
from connectors.registry import connector_class, settings_models
from sandbox import Sandbox
from tests.connectors.store_truth import activity_differences, store_differences
from tracker.errors import SourceError
from tracker.records import (
    AccountRecord,
    ActivityRecord,
    Batch,
    DealRecord,
    JsonDict,
    LineItemRecord,
    OwnerRecord,
)
from tracker.settings import settings_from_dict
from tracker.store import Store
from tracker.sync import SyncResult, run_sync

NOW = datetime(2026, 5, 15, 12, 0, tzinfo=UTC)
FAST_RETRY = {"max_attempts": 4, "initial_delay": 0.01, "max_delay": 0.05, "jitter": 0.01}
CORE_TYPES = (AccountRecord, OwnerRecord, DealRecord, LineItemRecord, ActivityRecord)
PRIMITIVES = (str, int, float, bool, date, datetime, type(None))


@dataclass
class Truth:
    deals: list[DealRecord]
    accounts: list[AccountRecord]
    owners: list[OwnerRecord]
    activities: list[ActivityRecord]


class Harness:
    """A live source of one kind and the means to check a store against it."""

    kind: str
    name = "src"
    tmp: Path
    table: dict[str, Any]

    def connector(self, *, dry_run: bool = False, batch: int | None = None) -> Connector:
        table = dict(self.table)
        if batch is not None:
            table[self.batch_key] = batch
        raw = {"tracker": self.tracker, "sources": {self.name: table}}
        settings = settings_from_dict(raw, base_dir=self.tmp, source_models=settings_models())
        context = SyncContext(tracker=settings.tracker, dry_run=dry_run)
        return connector_class(self.kind)(self.name, settings.source(self.name), context)

    batch_key = "batch_size"
    tracker: ClassVar[dict[str, Any]] = {}
    # a full read returns the deleted activities too (Salesforce's queryAll: the recycle bin)
    reads_deleted_activities = False

    def truth(self) -> Truth:
        raise NotImplementedError

    def delete_one(self) -> str:
        raise NotImplementedError

    def delete_activity(self) -> str:
        raise NotImplementedError


class CsvHarness(Harness):
    kind = "csv"
    HEADER: ClassVar[list[str]] = [
        "id",
        "name",
        "owner",
        "team",
        "account",
        "stage",
        "created",
        "closed",
        "amount",
    ]
    ROWS: ClassVar[list[list[str]]] = [
        ["A1", "Alpha", "Ana", "EMEA", "Acme", "Won", "2026-01-05", "2026-02-01", "$1,000.50"],
        ["A2", 'Beta "q" ✓', "Bo", "NA", "Globex", "Lost", "2026-01-07", "2026-03-31", "200"],
        ["A3", "Gamma", "Ana", "EMEA", "", "Open", "2026-02-11", "", ""],
        ["A4", "Delta", "Bo", "NA", "Acme", "Won", "2026-03-01", "2026-04-02", "50"],
    ]
    ACTIVITY_HEADER: ClassVar[list[str]] = [
        "id",
        "type",
        "owner",
        "when",
        "minutes",
        "done",
        "deal",
    ]
    ACTIVITY_ROWS: ClassVar[list[list[str]]] = [
        ["T1", "Call", "Ana", "2026-01-06T10:00:00", "15", "yes", "A1"],
        ["T2", "meeting", "Bo", "2026-01-08", "60", "", "A2"],
        ["T3", "Demo", "Ana", "2026-02-12T09:30:00", "45", "no", "A3"],
        ["T4", "email", "Bo", "2026-03-02T08:00:00", "", "yes", ""],
    ]
    KINDS: ClassVar[dict[str, str]] = {
        "call": "call",
        "meeting": "meeting",
        "demo": "meeting",
        "email": "email",
    }

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.rows = [list(r) for r in self.ROWS]
        self.activity_rows = [list(r) for r in self.ACTIVITY_ROWS]
        self._write()
        self.table = {
            "kind": "csv",
            "path": "deals.csv",
            "columns": {
                "id": "id",
                "name": "name",
                "owner": "owner",
                "team": "team",
                "account": "account",
                "stage": "stage",
                "created": "created",
                "closed": "closed",
                "amount": "amount",
            },
            "stages": {"won": ["Won"], "lost": ["Lost"]},
            "activities": {
                "path": "activities.csv",
                "columns": {
                    "id": "id",
                    "kind": "type",
                    "owner": "owner",
                    "occurred": "when",
                    "duration_minutes": "minutes",
                    "completed": "done",
                    "deal": "deal",
                },
                "kinds": {"meeting": ["Demo"]},
            },
        }

    def _write(self) -> None:
        for name, header, rows in (
            ("deals.csv", self.HEADER, self.rows),
            ("activities.csv", self.ACTIVITY_HEADER, self.activity_rows),
        ):
            with (self.tmp / name).open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(header)
                writer.writerows(rows)

    def _activity(self, r: list[str]) -> ActivityRecord:
        timed = "T" in r[3]
        return ActivityRecord(
            external_id=r[0],
            kind=self.KINDS[r[1].lower()],
            owner_external_id=r[2],
            occurred_at=datetime.fromisoformat(r[3]).replace(tzinfo=UTC) if timed else None,
            occurred_on=None if timed else date.fromisoformat(r[3]),
            duration_minutes=float(r[4]) if r[4] else None,
            is_completed={"yes": True, "no": False, "": None}[r[5]],
            deal_external_id=r[6] or None,
        )

    def truth(self) -> Truth:
        deals = []
        for r in self.rows:
            won, lost = r[5] == "Won", r[5] == "Lost"
            amount = float(r[8].replace("$", "").replace(",", "")) if r[8] else None
            deals.append(
                DealRecord(
                    external_id=r[0],
                    name=r[1],
                    owner_external_id=r[2],
                    account_external_id=r[4] or None,
                    stage=r[5],
                    is_closed=won or lost,
                    is_won=won,
                    created_at=datetime.fromisoformat(r[6]).replace(tzinfo=UTC),
                    close_date=date.fromisoformat(r[7]) if r[7] else None,
                    amount=amount,
                    currency="USD",
                    amount_reporting=amount,
                )
            )
        owners = {r[2]: OwnerRecord(external_id=r[2], name=r[2], team=r[3]) for r in self.rows}
        accounts = {r[4]: AccountRecord(external_id=r[4], name=r[4]) for r in self.rows if r[4]}
        activities = [self._activity(r) for r in self.activity_rows]
        return Truth(deals, list(accounts.values()), list(owners.values()), activities)

    def delete_one(self) -> str:
        gone = self.rows.pop(1)
        self._write()
        return gone[0]

    def delete_activity(self) -> str:
        gone = self.activity_rows.pop(2)
        self._write()
        return gone[0]


class CrmHarness(Harness):
    def __init__(self, tmp: Path, sandbox: Sandbox, crm: str) -> None:
        self.tmp, self.sb, self.crm = tmp, sandbox, crm
        token = sandbox.salesforce_token if crm == "salesforce" else sandbox.hubspot_token
        (tmp / "token.txt").write_text(token, encoding="utf-8")

    def truth(self) -> Truth:
        t = self.sb.truth(self.crm)
        return Truth(
            list(t.deals.values()),
            list(t.accounts.values()),
            list(t.owners.values()),
            list(t.activities.values()),
        )

    def delete_one(self) -> str:
        return self.sb.delete_deals(self.crm, n=1)[0]

    def delete_activity(self) -> str:
        return self.sb.delete_activities(self.crm, n=1)[0]


class SalesforceHarness(CrmHarness):
    kind = "salesforce"
    batch_key = "page_size"
    reads_deleted_activities = True

    def __init__(self, tmp: Path, sandbox: Sandbox) -> None:
        super().__init__(tmp, sandbox, "salesforce")
        self.tracker = {"exchange_rates": sandbox.rates}
        self.table = {
            "kind": "salesforce",
            "instance_url": sandbox.salesforce_url,
            "access_token": {"file": "token.txt"},
            "retry": FAST_RETRY,
            "activities": True,
            "fields": {
                "line_item_cost": "Unit_Cost__c",
                "segment": "Account.Segment__c",
                "region": "Owner.Region__c",
            },
        }


class HubSpotHarness(CrmHarness):
    kind = "hubspot"

    def __init__(self, tmp: Path, sandbox: Sandbox) -> None:
        super().__init__(tmp, sandbox, "hubspot")
        self.tracker = {"timezone": "America/New_York", "exchange_rates": sandbox.rates}
        self.table = {
            "kind": "hubspot",
            "base_url": sandbox.hubspot_url,
            "access_token": {"file": "token.txt"},
            "retry": FAST_RETRY,
            "activities": True,
            "properties": {"segment": "customer_segment"},
            "rate_limits": {"search_per_second": 1000, "requests_per_10s": 10000},
            "archived_every_minutes": 0,
        }


@pytest.fixture(params=["csv", "salesforce", "hubspot"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "csv":
        yield CsvHarness(tmp_path)
        return
    with Sandbox.start(deals=300, seed=11, now=NOW, activities_per_deal=2) as sandbox:
        yield (SalesforceHarness if request.param == "salesforce" else HubSpotHarness)(
            tmp_path, sandbox
        )


def sync(h: Harness, store: Store, **kw: Any) -> SyncResult:
    connector = h.connector(**kw)
    connector.check()
    return run_sync(store, h.name, h.kind, connector.batches, dry_run=kw.get("dry_run", False))


def differences(h: Harness, store: Store) -> list[str]:
    t = h.truth()
    return [
        *store_differences(store, h.name, t.deals, t.accounts, t.owners),
        *activity_differences(store, h.name, t.activities),
    ]


def _primitive(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _primitive(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_primitive(v) for v in value)
    return isinstance(value, PRIMITIVES)


def test_registry_wiring(harness: Harness) -> None:
    cls = connector_class(harness.kind)
    assert cls.kind == harness.kind
    assert cls.settings_model is settings_models()[harness.kind]


def test_only_core_records_and_json_cursors(harness: Harness) -> None:
    for batch in harness.connector().batches(None):
        assert isinstance(batch, Batch)
        for record in [
            *batch.deals,
            *batch.accounts,
            *batch.owners,
            *batch.activities,
            *(li for d in batch.deals for li in d.line_items or ()),
        ]:
            assert isinstance(record, CORE_TYPES) and is_dataclass(record)
            for f in fields(record):
                value = getattr(record, f.name)
                if f.name != "line_items":
                    assert _primitive(value), f"{type(record).__name__}.{f.name}={value!r}"
                if isinstance(value, datetime):
                    assert value.utcoffset() is not None, f"{f.name} is naive"
        if batch.cursor is not None:
            assert json.loads(json.dumps(batch.cursor)) == batch.cursor


def live_activities(h: Harness) -> list[ActivityRecord]:
    return [a for a in h.truth().activities if not a.is_deleted]


def count(store: Store, sql: str, **params: Any) -> Any:
    with store.engine.connect() as conn:
        return conn.execute(text(sql), params).one()


def test_full_sync_then_rerun_changes_nothing(harness: Harness, store: Store) -> None:
    live = live_activities(harness)
    assert {a.kind for a in live} >= {"call", "meeting", "email"}
    assert any(a.deal_external_id is None for a in live)  # unlinked ones too
    first = sync(harness, store)
    assert first.outcome == "ok", first.error
    assert differences(harness, store) == []
    assert count(store, "SELECT count(*) FROM activities WHERE NOT is_deleted")[0] == len(live)
    again = sync(harness, store)
    assert again.outcome == "ok" and sum(again.counts.changed.values()) == 0
    assert differences(harness, store) == []


class Crash(SourceError):
    """Stands for the process dying right after a commit."""


@pytest.mark.parametrize("after", ["1st batch", "2nd batch", "1st activity batch"])
def test_crash_after_a_commit_resumes_to_the_truth(
    harness: Harness, sqlite_store: Store, after: str
) -> None:
    connector = harness.connector(batch=200 if harness.kind != "csv" else 1)

    def crashing(cursor: JsonDict | None) -> Iterator[Batch]:
        activities_committed = False
        for n, batch in enumerate(connector.batches(cursor)):
            if activities_committed if after == "1st activity batch" else n == int(after[0]):
                raise Crash("crashed")
            yield batch
            activities_committed = activities_committed or bool(batch.activities)

    assert run_sync(sqlite_store, harness.name, harness.kind, crashing).error == "crashed"
    stored_before = count(sqlite_store, "SELECT count(*) FROM activities")[0]
    if after == "1st activity batch":
        assert 0 < stored_before < len(live_activities(harness))  # stopped among them
    resumed = sync(harness, sqlite_store)
    assert resumed.outcome == "ok", resumed.error
    assert differences(harness, sqlite_store) == []
    for table in ("deals", "activities"):
        n, distinct = count(
            sqlite_store, f"SELECT count(*), count(DISTINCT external_id) FROM {table}"
        )
        assert n == distinct, table


def test_deletion_at_the_source_is_mirrored(harness: Harness, sqlite_store: Store) -> None:
    sync(harness, sqlite_store)
    gone = harness.delete_one()
    gone_activity = harness.delete_activity()
    result = sync(harness, sqlite_store)
    assert result.outcome == "ok", result.error
    for table, key in (("deals", gone), ("activities", gone_activity)):
        sql = f"SELECT is_deleted FROM {table} WHERE external_id = :i"
        assert bool(count(sqlite_store, sql, i=key)[0]), (table, key)
    assert differences(harness, sqlite_store) == []


def test_dry_run_writes_nothing(harness: Harness, sqlite_store: Store) -> None:
    result = sync(harness, sqlite_store, dry_run=True)
    # every deal and activity of the source would be new: the dry run counts each once
    assert result.outcome == "dry-run"
    truth = harness.truth()
    assert result.counts.changed.get("deals", 0) == len(truth.deals)
    live = live_activities(harness)
    read = truth.activities if harness.reads_deleted_activities else live
    if harness.reads_deleted_activities:
        assert len(read) > len(live)  # the recycle bin holds some: the counts tell them apart
    assert result.counts.changed.get("activities", 0) == len(read)
    for table in ("deals", "activities", "sync_cursors"):
        assert count(sqlite_store, f"SELECT count(*) FROM {table}")[0] == 0, table
