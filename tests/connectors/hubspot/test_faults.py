"""Faults: rate limits, server errors, dropped connections, the daily limit, a revoked token,
missing properties, secrets kept out of every output, and kill -9 in the middle of a sync."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from tests.connectors.hubspot.conftest import SOURCE, Portal, source_table
from tests.connectors.store_truth import store_file_bytes
from tests.connectors.threads import assert_no_thread_left
from tracker.errors import ConfigError, SourceError
from tracker.models import SyncCursor
from tracker.records import Batch, JsonDict
from tracker.sync import load_cursor, run_sync

ROOT = Path(__file__).resolve().parents[3]


def test_transient_faults_are_retried(portal: Portal) -> None:
    portal.sb.faults.add(
        "429@hs.deals.list,after=1,retry_after=0.01;429@hs.line_items.batch_read,after=2,times=2;"
        "500@hs.associations.*,after=1;503@hs.pipelines.list;drop@hs.deals.search;"
        "drop@hs.companies.list,after=1;503@hs.deals.search,after=1"
    )
    portal.sb.update_deals("hubspot", n=3)
    result = portal.sync()
    assert result.exit_code == 0, result.error
    assert portal.differences() == []
    portal.sb.update_deals("hubspot", n=5)
    result = portal.sync()  # the second run goes through search and v4 associations
    assert result.exit_code == 0, result.error
    assert portal.differences() == []
    assert not portal.sb.faults.pending()
    served = portal.sb.counters.snapshot()["faults"]
    assert served["hubspot.429"] == 3 and served["hubspot.drop"] == 2


def test_persistent_server_errors_fail_with_one_line(portal: Portal) -> None:
    portal.sb.faults.add("503@hs.deals.list,every=1")
    result = portal.sync()
    assert result.exit_code == 1
    assert result.error is not None and "\n" not in result.error
    assert "503" in result.error and "deals list" in result.error
    assert portal.sb.counters.snapshot()["faults"]["hubspot.503"] == 5  # max_attempts


def test_daily_limit_stops_cleanly_and_resumes(portal: Portal) -> None:
    portal.sb.faults.add("daily@hs.line_items.batch_read,after=4")
    stopped = portal.sync(batch_size=100)
    assert stopped.exit_code == 3 and stopped.outcome == "stopped"
    assert "daily" in (stopped.error or "") and f"tracker sync {SOURCE}" in (stopped.error or "")
    assert portal.sb.counters.snapshot()["faults"]["hubspot.daily"] == 1  # never retried
    _no_backfill_thread_left()  # the thread reading ahead stopped with it
    _rerun_resumes(portal)


def _no_backfill_thread_left() -> None:
    assert_no_thread_left("hs-backfill")


def _rerun_resumes(portal: Portal) -> None:
    """A rerun equals the truth, listing deals from the last committed batch on."""
    list_before = portal.sb.counters.snapshot()["requests"]["hubspot.deals.list"]
    resumed = portal.sync(batch_size=100)
    assert resumed.exit_code == 0, resumed.error
    assert portal.differences() == []
    list_pages = portal.sb.counters.snapshot()["requests"]["hubspot.deals.list"] - list_before
    full_pages = len(portal.sb.deal_ids("hubspot")) // 100 + 2  # live pages + archived page
    assert list_pages < full_pages  # resumed after the last committed batch, not restarted


def test_a_failure_while_storing_stops_the_reading_thread_and_a_rerun_resumes(
    portal: Portal,
) -> None:
    connector = portal.connector(batch_size=100)
    connector.check()

    def crashing(cursor: JsonDict | None) -> Iterator[Batch]:
        for n, batch in enumerate(connector.batches(cursor)):
            if n == 4:  # inside the deals' backfill, the next chunk being read meanwhile
                raise SourceError("disk full")
            yield batch

    failed = run_sync(portal.store, SOURCE, "hubspot", crashing)
    assert failed.outcome == "failed" and failed.error == "disk full"
    _no_backfill_thread_left()
    with portal.store.engine.connect() as conn:
        cursor = load_cursor(conn, SOURCE)
    # it failed inside the deals, after some of them were committed
    assert cursor is not None and cursor["phase"] == "deals" and cursor["after"]
    # the committed batches count the calls made for them, not those read ahead
    assert 0 < failed.api_calls <= portal.requests()
    _rerun_resumes(portal)


def test_daily_budget_of_the_sandbox_stops_with_exit_3(portal: Portal) -> None:
    portal.sb.set_budget("hubspot", total=12)
    result = portal.sync()
    assert result.exit_code == 3, result.error


def test_revoked_token_fails_without_leaking_it(
    portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    conn = portal.connector()
    old = portal.sb.hubspot_token
    portal.sb.expire_session("hubspot")  # the private app's token was rotated
    conn.check()
    outcome = run_sync(portal.store, SOURCE, "hubspot", conn.batches)
    assert outcome.exit_code == 1
    assert f"sources.{SOURCE}.access_token" in (outcome.error or "")
    assert "401" in (outcome.error or "")
    assert old not in (outcome.error or "") and old not in caplog.text


def test_missing_property_fails_by_name(portal: Portal) -> None:
    result = portal.sync(properties={"segment": "tier_of_customer"})
    assert result.exit_code == 1
    assert result.error is not None
    assert "sources.hs.properties.segment" in result.error and "tier_of_customer" in result.error
    custom = portal.sync(custom={"forecast": "hs_forecast_thing"})
    assert "sources.hs.custom.forecast" in (custom.error or "")


def test_missing_token_variable_is_a_config_error(portal: Portal) -> None:
    conn = portal.connector(access_token={"env": "HSCONN_SURELY_UNSET_VARIABLE"})
    with pytest.raises(ConfigError, match="HSCONN_SURELY_UNSET_VARIABLE"):
        conn.check()


def test_secret_never_in_logs_errors_or_store(
    portal: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = portal.sb.hubspot_token
    portal.sb.faults.add(
        "429@hs.deals.list,after=1;500@hs.line_items.batch_read;drop@hs.owners.list"
    )
    assert portal.sync().exit_code == 0
    portal.sb.faults.add("daily@hs.deals.search")
    portal.sb.update_deals("hubspot", n=2)
    stopped = portal.sync()
    assert stopped.exit_code == 3
    settings = portal.settings()
    texts = [caplog.text, stopped.error or "", repr(settings), str(settings.redacted())]
    assert all(token not in t for t in texts)
    stored = store_file_bytes(portal.store)
    assert b"hubspot" in stored.lower()  # the search below reads the real store
    assert token.encode() not in stored


# ---------------------------------------------------------------- kill -9 mid-sync


def _write_config(portal: Portal, path: Path, **overrides: object) -> None:
    table = source_table(portal.sb, portal.token_file, **overrides)
    lines = [
        "[tracker]",
        'timezone = "America/New_York"',
        "[tracker.exchange_rates]",
        *(f"{k} = {v}" for k, v in portal.sb.rates.items()),
        "[store]",
        f'url = "sqlite:///{portal.tmp / "tracker.db"}"',
        f"[sources.{SOURCE}]",
    ]
    nested: list[str] = []
    for key, value in table.items():
        if isinstance(value, dict):
            nested.append(f"[sources.{SOURCE}.{key}]")
            nested += [f"{k} = {_toml(v)}" for k, v in value.items()]
        else:
            lines.append(f"{key} = {_toml(value)}")
    path.write_text("\n".join(lines + nested) + "\n", encoding="utf-8")


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def _cursor_phase(portal: Portal) -> object:
    table = SyncCursor.__table__  # type: ignore[attr-defined]
    with portal.store.engine.connect() as conn:
        row = conn.execute(select(table.c.value).where(table.c.source == SOURCE)).first()
    return None if row is None else row[0]


def _tracker(config: Path) -> list[str]:
    exe = Path(sys.executable).with_name("tracker")
    return [str(exe), "--config", str(config), "sync", SOURCE]


def _kill_when(proc: subprocess.Popen[bytes], ready: Callable[[], bool], limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        if ready():
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return
        time.sleep(0.02)
    raise AssertionError(f"sync ended before it could be killed (rc={proc.poll()})")


def test_kill_9_mid_sync_then_rerun_equals_truth(portal_factory: Callable[..., Portal]) -> None:
    portal = portal_factory(deals=3000)
    config = portal.tmp / "tracker.toml"
    _write_config(portal, config, batch_size=100)
    env = {k: v for k, v in os.environ.items() if k != "TRACKER_CONFIG"}
    # slow list pages so the kill lands in the middle of the deals backfill
    portal.sb.faults.add("slow@hs.deals.list,delay=0.05,every=1")
    proc = subprocess.Popen(
        _tracker(config), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )

    def mid_backfill() -> bool:
        cur = _cursor_phase(portal)
        return (
            isinstance(cur, dict) and cur.get("phase") == "deals" and cur.get("after") is not None
        )

    _kill_when(proc, mid_backfill, limit=60)
    with portal.store.engine.connect() as conn:  # whole batches were committed before it
        stored = conn.execute(text("SELECT count(*) FROM deals")).scalar_one()
    assert stored > 0, "killed before any batch was committed"
    portal.sb.faults.clear()
    portal.sb.update_deals("hubspot", n=5)  # the portal keeps changing meanwhile
    portal.sb.delete_deals("hubspot", n=2)

    done = subprocess.run(_tracker(config), cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert portal.differences() == []
    # the rerun resumed at the saved list cursor: it read fewer deals than a whole backfill
    with portal.store.engine.connect() as conn:
        counts = conn.execute(
            text("SELECT counts FROM sync_runs ORDER BY id DESC LIMIT 1")
        ).scalar_one()
    counts = counts if isinstance(counts, dict) else json.loads(counts)
    live = len(portal.sb.deal_ids("hubspot"))
    assert counts["received"]["deals"] < live, (counts["received"], live, stored)
    # and once more, killed during an incremental run
    portal.sb.update_deals("hubspot", n=300)
    portal.sb.faults.add("slow@hs.line_items.batch_read,delay=0.1,every=1")
    proc = subprocess.Popen(
        _tracker(config), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    start = _cursor_phase(portal)
    _kill_when(proc, lambda: _cursor_phase(portal) != start, limit=60)
    portal.sb.faults.clear()
    done = subprocess.run(_tracker(config), cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert portal.differences() == []


def test_property_deleted_later_is_caught_on_the_first_page(portal: Portal) -> None:
    assert portal.sync().exit_code == 0  # checked through the properties API
    with portal.sb.state.lock:  # an admin deletes the dealtype property
        for deal in portal.sb.state.hubspot.objects["deals"].values():
            deal.properties.pop("dealtype", None)
    portal.sb.update_deals("hubspot", n=2)
    before = portal.sb.counters.snapshot()["requests"].get("hubspot.properties.list", 0)
    result = portal.sync()
    assert result.exit_code == 1
    assert "sources.hs.properties.deal_type" in (result.error or "")
    assert "'dealtype'" in (result.error or "")
    # the incremental run checked the search page, not the properties API
    assert portal.sb.counters.snapshot()["requests"].get("hubspot.properties.list", 0) == before


def test_cli_dry_run_and_daily_limit_exit_code(portal: Portal) -> None:
    from typer.testing import CliRunner

    from tracker.cli import app

    config = portal.tmp / "cli.toml"
    _write_config(portal, config)
    runner = CliRunner()
    env = {"COLUMNS": "200", "TRACKER_CONFIG": ""}
    dry = runner.invoke(app, ["--config", str(config), "sync", SOURCE, "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "Dry run" in dry.output and "API" in dry.output
    assert _cursor_phase(portal) is None  # nothing written
    portal.sb.faults.add("daily@hs.line_items.batch_read,after=1")
    stopped = runner.invoke(app, ["--config", str(config), "sync", SOURCE], env=env)
    assert stopped.exit_code == 3, stopped.output
    assert "daily API limit" in stopped.output
    resumed = runner.invoke(app, ["--config", str(config), "sync", SOURCE], env=env)
    assert resumed.exit_code == 0, resumed.output
    assert portal.differences() == []


def test_unreachable_host_fails_naming_base_url(portal: Portal) -> None:
    result = portal.sync(base_url="http://127.0.0.1:9", retry={"max_attempts": 2})
    assert result.exit_code == 1
    assert "sources.hs.base_url" in (result.error or "") and "\n" not in (result.error or "")
