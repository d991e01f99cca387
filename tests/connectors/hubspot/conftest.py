"""Fixtures for the HubSpot connector: a sandbox portal, settings pointing at it, a sync
helper running the real engine, and the store-versus-truth comparison."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.hubspot.connector import HubSpotConnector
from connectors.hubspot.settings import HubSpotSourceSettings
from jobs.tasks import sync_context
from sandbox import Sandbox
from tests.connectors.store_truth import store_differences
from tracker.settings import Settings, settings_from_dict
from tracker.store import Store
from tracker.sync import SyncResult, run_sync

SANDBOX_NOW = datetime(2026, 5, 15, 12, 0, tzinfo=UTC)
SOURCE = "hs"
PORTAL_TZ = "America/New_York"


def source_table(sb: Sandbox, token_file: Path, **overrides: Any) -> dict[str, Any]:
    """A ``[sources.hs]`` table for ``sb`` (fast retries, generous rate budgets)."""
    table: dict[str, Any] = {
        "kind": "hubspot",
        "access_token": {"file": str(token_file)},
        "base_url": sb.hubspot_url,
        "properties": {"segment": "customer_segment"},
        "rate_limits": {"search_per_second": 1000, "requests_per_10s": 10000},
        "retry": {"max_attempts": 5, "initial_delay": 0.01, "max_delay": 0.05, "jitter": 0.01},
        "batch_size": 200,
        "archived_every_minutes": 0,  # tests delete and resync at once
    }
    for key, value in overrides.items():
        if key != "access_token" and isinstance(value, dict) and isinstance(table.get(key), dict):
            table[key] = {**table[key], **value}
        else:
            table[key] = value
    return table


@dataclass
class Portal:
    """A running sandbox with the store and settings a test syncs it with."""

    sb: Sandbox
    store: Store
    tmp: Path
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def token_file(self) -> Path:
        path = self.tmp / "hubspot.token"
        path.write_text(self.sb.hubspot_token + "\n", encoding="utf-8")
        return path

    def settings(self, **overrides: Any) -> Settings:
        """Validated settings with ``[sources.hs]`` (``overrides`` merged into it)."""
        raw = {
            "tracker": {"timezone": PORTAL_TZ, "exchange_rates": self.sb.rates},
            "sources": {
                SOURCE: source_table(self.sb, self.token_file, **{**self.overrides, **overrides})
            },
        }
        from connectors.registry import settings_models

        return settings_from_dict(raw, base_dir=self.tmp, source_models=settings_models())

    def connector(
        self, *, reconcile: bool = False, dry_run: bool = False, **overrides: Any
    ) -> HubSpotConnector:
        """A connector as ``tracker sync`` builds it."""
        settings = self.settings(**overrides)
        source = settings.source(SOURCE)
        assert isinstance(source, HubSpotSourceSettings)
        context = sync_context(settings, self.store, SOURCE, reconcile=reconcile, dry_run=dry_run)
        return HubSpotConnector(SOURCE, source, context)

    def sync(
        self, *, reconcile: bool = False, dry_run: bool = False, **overrides: Any
    ) -> SyncResult:
        """Run one sync through the real engine."""
        conn = self.connector(reconcile=reconcile, dry_run=dry_run, **overrides)
        conn.check()
        return run_sync(self.store, SOURCE, "hubspot", conn.batches, dry_run=dry_run)

    def differences(self) -> list[str]:
        """Store versus the sandbox's truth (empty when equal)."""
        truth = self.sb.truth("hubspot")
        return store_differences(
            self.store,
            SOURCE,
            truth.deals.values(),
            truth.accounts.values(),
            truth.owners.values(),
        )

    def requests(self) -> int:
        """HubSpot requests the sandbox served so far."""
        return self.sb.counters.total_requests("hubspot")


@pytest.fixture
def portal_factory(tmp_path: Path) -> Iterator[Callable[..., Portal]]:
    """Start sandbox portals (``Sandbox.start`` keywords) with a fresh SQLite store each
    (or the ``store`` given)."""
    managers: list[AbstractContextManager[Sandbox]] = []
    stores: list[Store] = []

    def start(store: Store | None = None, **kwargs: Any) -> Portal:
        kwargs.setdefault("now", SANDBOX_NOW)
        kwargs.setdefault("seed", 42)
        cm = Sandbox.start(**kwargs)
        managers.append(cm)
        sb = cm.__enter__()
        folder = tmp_path / f"portal{len(managers)}"
        folder.mkdir()
        if store is None:
            store = Store(f"sqlite:///{folder / 'tracker.db'}")
            store.ensure_ready()
            stores.append(store)
        return Portal(sb, store, folder)

    yield start
    for s in stores:
        s.close()
    for cm in reversed(managers):
        cm.__exit__(None, None, None)


@pytest.fixture
def portal(portal_factory: Callable[..., Portal]) -> Portal:
    """A small portal (about 300 HubSpot deals)."""
    return portal_factory(deals=1000)
