"""Syncs against the sandbox's HubSpot as real processes: two syncs of one source (one
skips naming the holder, one waits with ``--wait``); SIGTERM mid-sync, of ``tracker
sync`` and of the scheduler running a sync job, leaves whole batches with their cursor
and the next run completes the store (checked against the sandbox's truth); no token in
any output, log or the store."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox import Sandbox
from sandbox.standalone import config_toml
from tests.jobs.conftest import Procs
from tests.jobs.procs import Tracker, rows, wait_until
from tracker.locks import lock_holder
from tracker.store import Store
from tracker.sync import STOPPED

HS = "sandbox-hubspot"
NOW = datetime(2026, 8, 20, 15, 0, tzinfo=UTC)
SLOW = "slow@hubspot,delay=0.12,every=1"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(deals=1500, seed=23, now=NOW) as running:
        yield running


@dataclass
class World:
    """The sandbox (its HubSpot slowed down), a config syncing it into a fresh SQLite
    store, that store, and the test's processes."""

    sandbox: Sandbox
    config: Path
    store: Store
    procs: Procs

    def start(self, name: str, *args: str) -> Tracker:
        """``tracker --config CONFIG ARGS`` as process ``name``."""
        return self.procs.start(name, self.config, *args)


@pytest.fixture
def world(sandbox: Sandbox, tmp_path: Path, procs: Procs) -> Iterator[World]:
    env = {"STOPS_SF_TOKEN": sandbox.salesforce_token, "STOPS_HS_TOKEN": sandbox.hubspot_token}
    os.environ.update(env)
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    config = tmp_path / "tracker.toml"
    config.write_text(
        config_toml(sandbox, sf_token_env="STOPS_SF_TOKEN", hs_token_env="STOPS_HS_TOKEN").replace(
            f"[sources.{HS}]\n", f"[sources.{HS}]\nbatch_size = 100\n"
        )
        + f'\n[store]\nurl = "{url}"\n'
        + f'\n[schedule]\ntimezone = "UTC"\n[schedule.sources]\n{HS} = "*/2 * * * * *"\n',
        encoding="utf-8",
    )
    sandbox.faults.clear()
    sandbox.faults.add(SLOW)
    store = Store(url)
    store.ensure_ready()
    yield World(sandbox, config, store, procs)
    sandbox.faults.clear()
    store.close()


def truth_ids(sandbox: Sandbox) -> set[str]:
    return set(sandbox.truth("hubspot").live_deals())


def stored_ids(store: Store) -> set[str]:
    found = rows(store, f"SELECT external_id FROM deals WHERE source = '{HS}' AND NOT is_deleted")
    return {r[0] for r in found}


def sync_runs(store: Store) -> list[tuple[str, str | None]]:
    return rows(store, f"SELECT outcome, error FROM sync_runs WHERE source = '{HS}' ORDER BY id")


def has_cursor(store: Store) -> bool:
    return bool(rows(store, f"SELECT value FROM sync_cursors WHERE source = '{HS}'"))


def assert_no_secret(sandbox: Sandbox, folder: Path) -> None:
    tokens = [sandbox.hubspot_token.encode(), sandbox.salesforce_token.encode()]
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not any(t in data for t in tokens), f"a token is in {path.name}"


def test_two_syncs_of_one_source_one_skips_naming_the_holder_one_waits(world: World) -> None:
    store, sandbox = world.store, world.sandbox
    first = world.start("first", "sync", HS)
    wait_until(lambda: sync_runs(store), 60, "the first sync to start")
    skipper = world.start("skipper", "sync", HS)
    assert skipper.finish() == 0
    waiter = world.start("waiter", "sync", "--wait", HS)
    assert first.finish() == 0
    assert waiter.finish() == 0
    (line,) = [x for x in skipper.stderr.splitlines() if x.startswith(f"skipped: {HS}:")]
    assert f"already being synced (host {socket.gethostname()}, pid {first.pid}, since " in line
    assert "skipped" in skipper.stdout and sync_runs(store) == [("ok", None), ("ok", None)]
    times = rows(store, f"SELECT started_at, finished_at FROM sync_runs WHERE source = '{HS}'")
    assert times[1][0] >= times[0][1]  # the waiting sync began once the first had ended
    assert stored_ids(store) == truth_ids(sandbox)
    assert_no_secret(sandbox, world.procs.folder)


def test_sigterm_mid_sync_keeps_whole_batches_and_the_next_run_completes(world: World) -> None:
    sandbox, store = world.sandbox, world.store
    cut = world.start("cut", "sync", HS)
    wait_until(lambda: stored_ids(store), 60, "a committed batch of deals")
    assert cut.stop(signal.SIGTERM) == 1
    assert "stopping after the current batch" in cut.stderr
    assert sync_runs(store) == [("interrupted", STOPPED)]
    partial = stored_ids(store)
    assert partial and partial < truth_ids(sandbox) and has_cursor(store)
    # the scheduler running that source's sync job: SIGTERM → the job stops after its
    # batch (recorded interrupted), the lease is released, exit 0
    scheduler = world.start("scheduler", "scheduler", "run")
    wait_until(lambda: len(sync_runs(store)) == 2 and len(stored_ids(store)) > len(partial),
               60, "the scheduled sync to commit a batch")  # fmt: skip
    assert scheduler.stop(signal.SIGTERM) == 0
    assert rows(store, "SELECT job_id, outcome, error FROM job_runs") == [
        (f"sync:{HS}", "interrupted", f"{HS}: {STOPPED}")
    ]
    assert sync_runs(store)[-1] == ("interrupted", STOPPED)
    assert lock_holder(store, "scheduler") is None and lock_holder(store, f"sync:{HS}") is None
    assert stored_ids(store) < truth_ids(sandbox)
    sandbox.faults.clear()
    rest = world.start("rest", "sync", HS)
    assert rest.finish() == 0
    assert sync_runs(store)[-1] == ("ok", None)
    assert stored_ids(store) == truth_ids(sandbox)
    assert_no_secret(sandbox, world.procs.folder)
