"""``tracker sync`` in a subprocess against the in-process sandbox: kill -9 after committed
batches, exit codes, dry run, one-line errors."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from tests.connectors.salesforce.conftest import Harness

CLI = [sys.executable, "-c", "from tracker.cli import main; main()"]


def write_config(h: Harness, extra: str = "") -> Path:
    db = h.store.engine.url.database
    path = h.tmp / "tracker.toml"
    path.write_text(
        f"""
[store]
url = "sqlite:///{db}"

[sources.sf]
kind = "salesforce"
instance_url = "{h.sb.salesforce_url}"
access_token = {{ file = "token.txt" }}
page_size = 200
overlap_minutes = 15
{extra}

[sources.sf.fields]
line_item_cost = "Unit_Cost__c"
segment = "Account.Segment__c"
region = "Owner.Region__c"

[sources.sf.retry]
max_attempts = 4
initial_delay = 0.01
max_delay = 0.05
""",
        encoding="utf-8",
    )
    return path


def tracker(config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _run_state(h: Harness) -> tuple[int, int]:
    """(id, deals received) of source sf's newest sync run, as committed so far."""
    with h.store.engine.connect() as conn:
        row = conn.execute(
            text("SELECT id, counts FROM sync_runs WHERE source = 'sf' ORDER BY id DESC LIMIT 1")
        ).first()
    if row is None:
        return 0, 0
    counts = row[1] if isinstance(row[1], dict) else json.loads(row[1] or "{}")
    return int(row[0]), int((counts.get("received") or {}).get("deals", 0))


def _stored_deals(h: Harness) -> int:
    with h.store.engine.connect() as conn:
        return int(
            conn.execute(text("SELECT count(*) FROM deals WHERE source = 'sf'")).scalar_one()
        )


def test_kill_9_after_committed_batches_then_rerun_resumes_to_truth(
    harness_factory: Callable[..., Harness],
) -> None:
    """Each round is killed once its run has committed N batches (observed in the store,
    not after a guessed sleep); the rerun resumes from the cursor and reaches the truth."""
    h = harness_factory(deals=1500, seed=7)
    config = write_config(h)
    h.sb.faults.add("slow@sf.query,delay=0.3,every=1")  # time to watch the commits land
    rounds: list[str] = []
    for round_, batches in enumerate((2, 1, 1)):
        before_run, _ = _run_state(h)
        before = _stored_deals(h)
        proc = subprocess.Popen(
            [*CLI, "--quiet", "--config", str(config), "sync", "sf"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            run_id, received = _run_state(h)
            if run_id > before_run and received >= batches * 200:  # page_size 200
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.02)
        proc.wait(timeout=60)
        after = _stored_deals(h)
        rounds.append(f"round {round_}: rc {proc.returncode}, deals {before} -> {after}")
        assert proc.returncode == -signal.SIGKILL, rounds
        assert after > before, rounds  # data was committed before the kill
        # the org keeps changing between the interrupted runs
        h.sb.update_deals("sf", n=3 + round_)
        h.sb.delete_deals("sf", n=2)
        h.sb.advance_clock(20)
    h.sb.faults.clear()
    done = tracker(config, "sync", "sf")
    assert done.returncode == 0, done.stderr
    _, reread = _run_state(h)
    total = len(h.sb.truth("salesforce").deals)
    # it resumed from the saved cursor: far fewer deals read than a full sync's
    assert reread < total / 2, (reread, total, rounds)
    assert h.differences() == [], rounds


def test_dry_run_reports_and_writes_nothing(h: Harness) -> None:
    config = write_config(h)
    out = tracker(config, "sync", "sf", "--dry-run")
    assert out.returncode == 0, out.stderr
    assert "Dry run" in out.stdout
    with h.store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM deals").scalar() == 0


def test_budget_exhaustion_exits_3_with_a_resume_hint(h: Harness) -> None:
    config = write_config(h, "max_api_percent = 1")
    # 1 % of the 199 left after the opening composite call = 1 more call
    h.sb.set_budget("sf", total=1000, used=800)
    out = tracker(config, "sync", "sf")
    assert out.returncode == 3
    lines = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert lines == [
        "error: sf: API budget for this run spent: stopped after 2 API calls (max_api_percent "
        "of the 199 left today); run `tracker sync sf` again tomorrow (or raise "
        "max_api_percent) to resume from the saved cursor"
    ]
    h.sb.set_budget("sf", total=15_000)
    assert tracker(config, "sync", "sf").returncode == 0
    assert h.differences() == []


def test_reconcile_flag_and_mapping_error_exit_codes(h: Harness) -> None:
    config = write_config(h)
    assert tracker(config, "sync", "sf").returncode == 0
    h.sb.hard_delete_deals("sf", n=2)
    assert tracker(config, "sync", "sf", "--reconcile").returncode == 0
    assert h.differences() == []
    bad = write_config(h).read_text(encoding="utf-8").replace("Unit_Cost__c", "Cost__c")
    config.write_text(bad, encoding="utf-8")
    out = tracker(config, "sync", "sf")
    assert out.returncode == 1
    assert "error: sf: sources.sf.fields.line_item_cost: field OpportunityLineItem.Cost__c" in (
        out.stderr
    )
