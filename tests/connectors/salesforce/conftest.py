"""Fixtures for the Salesforce connector: a sandbox, settings written for it, a sync helper.

Every test runs the real simple-salesforce against the sandbox over loopback (an
``http://`` instance URL, so the connector's own plain-HTTP session is exercised).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.base import SyncContext
from connectors.salesforce.connector import SalesforceConnector
from sandbox import Sandbox
from tests.connectors.store_truth import store_differences
from tracker.settings import settings_from_dict
from tracker.store import Store
from tracker.sync import SyncResult, run_sync

SANDBOX_NOW = datetime(2026, 5, 15, 12, 0, tzinfo=UTC)
FAST_RETRY = {"max_attempts": 4, "initial_delay": 0.01, "max_delay": 0.05, "jitter": 0.01}
FIELDS = {
    "line_item_cost": "Unit_Cost__c",
    "segment": "Account.Segment__c",
    "region": "Owner.Region__c",
}


def source_table(sb: Sandbox, **overrides: Any) -> dict[str, Any]:
    """A ``[sources.sf]`` table in token mode for ``sb`` (token read from ``token.txt``)."""
    table: dict[str, Any] = {
        "kind": "salesforce",
        "instance_url": sb.salesforce_url,
        "access_token": {"file": "token.txt"},
        "fields": dict(FIELDS),
        "retry": dict(FAST_RETRY),
    }
    table.update(overrides)
    return {k: v for k, v in table.items() if v is not None}


def strip_multi_currency(sb: Sandbox) -> None:
    """Make the org single-currency: the sandbox only builds multi-currency orgs, so strip
    CurrencyIsoCode and CurrencyType from its schema and rows."""
    db = sb.state.salesforce
    with sb.state.lock:
        for obj in db.objects.values():
            if obj.fields.pop("CurrencyIsoCode", None) is not None:
                obj.reindex()
                for row in db.rows[obj.name].values():
                    row.pop("CurrencyIsoCode", None)
        db.objects.pop("CurrencyType")
        db._objects_ci.pop("currencytype")


@dataclass
class Harness:
    """One sandbox, one store, and a way to sync source ``sf`` into it in-process."""

    sb: Sandbox
    store: Store
    tmp: Path

    def write_token(self, token: str | None = None) -> None:
        (self.tmp / "token.txt").write_text(token or self.sb.salesforce_token, encoding="utf-8")

    def connector(self, reconcile: bool = False, dry_run: bool = False, **overrides: Any) -> Any:
        raw = {"sources": {"sf": source_table(self.sb, **overrides)}}
        from connectors.registry import settings_models

        settings = settings_from_dict(raw, base_dir=self.tmp, source_models=settings_models())
        context = SyncContext(tracker=settings.tracker, reconcile=reconcile, dry_run=dry_run)
        return SalesforceConnector("sf", settings.sources["sf"], context)

    def sync(self, reconcile: bool = False, dry_run: bool = False, **overrides: Any) -> SyncResult:
        conn = self.connector(reconcile=reconcile, dry_run=dry_run, **overrides)
        conn.check()
        return run_sync(self.store, "sf", "salesforce", conn.batches, dry_run=dry_run)

    def differences(self) -> list[str]:
        truth = self.sb.truth("salesforce")
        return store_differences(
            self.store,
            "sf",
            truth.deals.values(),
            truth.accounts.values(),
            truth.owners.values(),
        )


@pytest.fixture
def harness_factory(tmp_path: Path) -> Iterator[Callable[..., Harness]]:
    """Start a sandbox (``Sandbox.start`` keywords) with a SQLite store beside it."""
    stack: list[Any] = []

    def make(store: Store | None = None, **kwargs: Any) -> Harness:
        kwargs.setdefault("now", SANDBOX_NOW)
        kwargs.setdefault("deals", 200)
        kwargs.setdefault("seed", 42)
        cm = Sandbox.start(**kwargs)
        sb = cm.__enter__()
        stack.append(cm)
        if store is None:
            store = Store(f"sqlite:///{tmp_path / f'store{len(stack)}.db'}")
            store.ensure_ready()
            stack.append(store)
        h = Harness(sb, store, tmp_path)
        h.write_token()
        return h

    yield make
    for item in reversed(stack):
        if isinstance(item, Store):
            item.close()
        else:
            item.__exit__(None, None, None)


@pytest.fixture
def h(harness_factory: Callable[..., Harness]) -> Harness:
    """The default harness: 200 deals, seed 42."""
    return harness_factory()
