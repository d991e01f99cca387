"""The connector contract (``connectors/base.py``), one suite run against every source kind.

Each kind gets a small harness (settings for a running source, its truth, a way to delete
one deal at the source); the checks are the same for all: registry wiring, only core
records and JSON cursors leave the connector, a full sync equals the truth, a crash after
any committed batch resumes to the truth with nothing twice, a rerun changes nothing, a
deletion at the source is mirrored, and a dry run writes nothing.
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
from tests.connectors.store_truth import store_differences
from tracker.errors import SourceError
from tracker.records import (
    AccountRecord,
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
CORE_TYPES = (AccountRecord, OwnerRecord, DealRecord, LineItemRecord)
PRIMITIVES = (str, int, float, bool, date, datetime, type(None))


@dataclass
class Truth:
    deals: list[DealRecord]
    accounts: list[AccountRecord]
    owners: list[OwnerRecord]


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

    def truth(self) -> Truth:
        raise NotImplementedError

    def delete_one(self) -> str:
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

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.rows = [list(r) for r in self.ROWS]
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
        }

    def _write(self) -> None:
        with (self.tmp / "deals.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(self.HEADER)
            writer.writerows(self.rows)

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
        return Truth(deals, list(accounts.values()), list(owners.values()))

    def delete_one(self) -> str:
        gone = self.rows.pop(1)
        self._write()
        return gone[0]


class CrmHarness(Harness):
    def __init__(self, tmp: Path, sandbox: Sandbox, crm: str) -> None:
        self.tmp, self.sb, self.crm = tmp, sandbox, crm
        token = sandbox.salesforce_token if crm == "salesforce" else sandbox.hubspot_token
        (tmp / "token.txt").write_text(token, encoding="utf-8")

    def truth(self) -> Truth:
        t = self.sb.truth(self.crm)
        return Truth(list(t.deals.values()), list(t.accounts.values()), list(t.owners.values()))

    def delete_one(self) -> str:
        return self.sb.delete_deals(self.crm, n=1)[0]


class SalesforceHarness(CrmHarness):
    kind = "salesforce"
    batch_key = "page_size"

    def __init__(self, tmp: Path, sandbox: Sandbox) -> None:
        super().__init__(tmp, sandbox, "salesforce")
        self.tracker = {"exchange_rates": sandbox.rates}
        self.table = {
            "kind": "salesforce",
            "instance_url": sandbox.salesforce_url,
            "access_token": {"file": "token.txt"},
            "retry": FAST_RETRY,
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
            "properties": {"segment": "customer_segment"},
            "rate_limits": {"search_per_second": 1000, "requests_per_10s": 10000},
            "archived_every_minutes": 0,
        }


@pytest.fixture(params=["csv", "salesforce", "hubspot"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "csv":
        yield CsvHarness(tmp_path)
        return
    with Sandbox.start(deals=300, seed=11, now=NOW) as sandbox:
        yield (SalesforceHarness if request.param == "salesforce" else HubSpotHarness)(
            tmp_path, sandbox
        )


def sync(h: Harness, store: Store, **kw: Any) -> SyncResult:
    connector = h.connector(**kw)
    connector.check()
    return run_sync(store, h.name, h.kind, connector.batches, dry_run=kw.get("dry_run", False))


def differences(h: Harness, store: Store) -> list[str]:
    t = h.truth()
    return store_differences(store, h.name, t.deals, t.accounts, t.owners)


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


def test_full_sync_then_rerun_changes_nothing(harness: Harness, store: Store) -> None:
    first = sync(harness, store)
    assert first.outcome == "ok", first.error
    assert differences(harness, store) == []
    again = sync(harness, store)
    assert again.outcome == "ok" and sum(again.counts.changed.values()) == 0
    assert differences(harness, store) == []


class Crash(SourceError):
    """Stands for the process dying right after a commit."""


@pytest.mark.parametrize("commits", [1, 2])
def test_crash_after_a_commit_resumes_to_the_truth(
    harness: Harness, sqlite_store: Store, commits: int
) -> None:
    connector = harness.connector(batch=200 if harness.kind != "csv" else 1)

    def crashing(cursor: JsonDict | None) -> Iterator[Batch]:
        for n, batch in enumerate(connector.batches(cursor)):
            if n == commits:
                raise Crash("crashed")
            yield batch

    assert run_sync(sqlite_store, harness.name, harness.kind, crashing).error == "crashed"
    resumed = sync(harness, sqlite_store)
    assert resumed.outcome == "ok", resumed.error
    assert differences(harness, sqlite_store) == []
    with sqlite_store.engine.connect() as conn:
        n, distinct = conn.execute(
            text("SELECT count(*), count(DISTINCT external_id) FROM deals")
        ).one()
    assert n == distinct


def test_deletion_at_the_source_is_mirrored(harness: Harness, sqlite_store: Store) -> None:
    sync(harness, sqlite_store)
    gone = harness.delete_one()
    sync(harness, sqlite_store)
    with sqlite_store.engine.connect() as conn:
        deleted = conn.execute(
            text("SELECT is_deleted FROM deals WHERE external_id = :i"), {"i": gone}
        ).scalar_one()
    assert bool(deleted)
    assert differences(harness, sqlite_store) == []


def test_dry_run_writes_nothing(harness: Harness, sqlite_store: Store) -> None:
    result = sync(harness, sqlite_store, dry_run=True)
    # every deal of the source would be new: the dry run counts each one once
    assert result.outcome == "dry-run"
    assert result.counts.changed.get("deals", 0) == len(harness.truth().deals)
    with sqlite_store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM deals")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM sync_cursors")).scalar_one() == 0
