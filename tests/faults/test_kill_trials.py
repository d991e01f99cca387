"""kill -9 at random points of real syncs, then a rerun: the store equals the CRM's truth.

Twenty trials per CRM (``TRACKER_FAULT_TRIALS`` changes it): Salesforce alternating the
REST and Bulk 2.0 paths, HubSpot through list pages and batch reads. Each trial starts
from an empty source (``tracker source drop``), runs ``tracker sync`` in a child
process, kills it with SIGKILL at a seeded random moment (after a random number of
committed batches plus a random fraction of the next one, or before the first commit),
changes the CRM while it is down, reruns to completion and compares the store with the
sandbox's truth. The trial log says where each kill landed.

The trials run in groups of five, each group a test with its own sandbox and store, so
that ``make test`` (pytest-xdist) spreads them over the cores; trial ``n`` has the same
seed whichever group runs it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.connectors.hubspot.conftest import SOURCE as HS
from tests.connectors.hubspot.conftest import Portal
from tests.connectors.hubspot.test_faults import _write_config as write_hubspot_config
from tests.connectors.salesforce.conftest import Harness
from tests.connectors.salesforce.test_cli import CLI
from tests.connectors.salesforce.test_cli import write_config as write_salesforce_config

pytestmark = pytest.mark.slow

TRIALS = int(os.environ.get("TRACKER_FAULT_TRIALS", "20"))
GROUP = 5
GROUPS = [range(first, min(first + GROUP, TRIALS)) for first in range(0, TRIALS, GROUP)]
BATCH = 200
by_group = pytest.mark.parametrize(
    "trials", GROUPS, ids=[f"trials {g.start}-{g.stop - 1}" for g in GROUPS]
)


@dataclass
class Target:
    """One CRM under trial: its store, how to count committed deals and compare."""

    source: str
    config_for: Callable[[int], Path]  # trial number → config (the path it exercises)
    stored: Callable[[], int]
    differences: Callable[[], list[str]]
    change: Callable[[int], None]
    total: int


def _count(engine: object, source: str) -> int:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return int(
            conn.execute(
                text("SELECT count(*) FROM deals WHERE source = :s"), {"s": source}
            ).scalar_one()
        )


def _tracker(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "--quiet", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def run_trials(target: Target, seed: int, trials: range) -> list[str]:
    """The trials numbered ``trials``; returns their log (one line each)."""
    log: list[str] = []
    killed = 0
    batches = max(target.total // BATCH, 1)
    for trial in trials:
        rng = random.Random(seed * 1000 + trial)
        config = target.config_for(trial)
        if trial != trials.start:  # back to an empty source: each trial is a first sync
            dropped = _tracker(config, "source", "drop", target.source, "--yes")
            assert dropped.returncode == 0, dropped.stderr
            assert target.stored() == 0
        after_batches = rng.randrange(0, batches)  # 0: kill before the first commit lands
        extra = rng.uniform(0.0, 0.25)
        process = subprocess.Popen(
            [*CLI, "--quiet", "--config", str(config), "sync", target.source],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if target.stored() >= after_batches * BATCH:
                time.sleep(extra)
                process.send_signal(signal.SIGKILL)
                break
            time.sleep(0.01)
        process.wait(timeout=60)
        at_kill = target.stored()
        was_killed = process.returncode == -signal.SIGKILL
        killed += was_killed
        target.change(trial)
        done = _tracker(config, "sync", target.source)
        differences = target.differences()
        log.append(
            f"trial {trial}: {config.stem}, kill after {after_batches} batches +{extra:.2f} s: "
            f"{'killed' if was_killed else f'finished first (rc {process.returncode})'} with "
            f"{at_kill} deals stored; rerun rc {done.returncode}; "
            f"{len(differences)} differences"
        )
        assert done.returncode == 0, (log, done.stderr)
        assert differences == [], (log, differences[:5])
    assert killed >= -(-len(trials) * 3 // 4), log  # the kills landed while syncs ran
    return log


@by_group
def test_salesforce_rest_and_bulk_killed_at_random_points(
    harness_factory: Callable[..., Harness], trials: range
) -> None:
    h = harness_factory(deals=1400, seed=23)
    h.sb.set_budget("sf", total=10_000_000)
    rest = write_salesforce_config(h)
    bulk = rest.with_name("bulk.toml")
    bulk.write_text(
        rest.read_text(encoding="utf-8").replace(
            "overlap_minutes = 15",
            f"overlap_minutes = 15\nbulk_threshold = 0\nbulk_chunk_size = {BATCH}",
        ),
        encoding="utf-8",
    )
    h.sb.faults.add("slow@salesforce,delay=0.03,every=1")  # runs long enough to be hit

    def change(trial: int) -> None:
        h.sb.update_deals("sf", n=3)
        if trial % 3 == 0:
            h.sb.delete_deals("sf", n=1)
        h.sb.advance_clock(20)

    target = Target(
        "sf",
        lambda trial: rest if trial % 2 == 0 else bulk,
        lambda: _count(h.store.engine, "sf"),
        h.differences,
        change,
        len(h.sb.deal_ids("sf")),
    )
    print("\n".join(run_trials(target, seed=23, trials=trials)))


@by_group
def test_hubspot_killed_at_random_points(
    portal_factory: Callable[..., Portal], trials: range
) -> None:
    portal = portal_factory(deals=3000)
    config = portal.tmp / "tracker.toml"
    write_hubspot_config(portal, config, batch_size=BATCH)
    portal.sb.faults.add("slow@hubspot,delay=0.02,every=1")

    def change(trial: int) -> None:
        portal.sb.update_deals("hubspot", n=3)
        if trial % 3 == 0:
            portal.sb.delete_deals("hubspot", n=1)

    target = Target(
        HS,
        lambda trial: config,
        lambda: _count(portal.store.engine, HS),
        portal.differences,
        change,
        len(portal.sb.deal_ids("hubspot")),
    )
    print("\n".join(run_trials(target, seed=31, trials=trials)))
