"""``tracker scheduler run`` as real processes in real time (seconds-long cron triggers):
jobs fire and are recorded with their slots; one active scheduler per store, a standby
that takes over after kill -9 without running anything twice; a restart that keeps the
schedule and sends a digest missed while down exactly once; an unreadable job row
rebuilt from the configuration; SIGTERM stops cleanly (exit 0)."""

from __future__ import annotations

import json
import pickle
import socket
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tests.csv_factory import write_config, write_csv
from tests.jobs.conftest import Procs
from tests.jobs.procs import Tracker, rows, wait_until
from tests.mail.smtp_server import Server, smtp_server
from tracker.cli import app
from tracker.jobruns import record_end, record_start
from tracker.locks import lock_holder
from tracker.store import Store

DEALS = 40


def scheduled_config(folder: Path, url: str, schedule: str, extra: str = "") -> Path:
    """A config with one CSV source (``export``, DEALS deals) and ``schedule`` lines."""
    config = write_config(folder, write_csv(folder / "deals.csv", DEALS), url)
    config.write_text(
        config.read_text(encoding="utf-8")
        + f'\n[schedule]\ntimezone = "UTC"\nmisfire_grace = "1m"\n{schedule}\n{extra}',
        encoding="utf-8",
    )
    return config


def runs(store: Store, job: str) -> list[tuple[datetime, str, int, datetime]]:
    """(slot, outcome, pid, started_at) of each run of ``job``, oldest first."""
    found = rows(
        store,
        "SELECT slot, outcome, pid, started_at FROM job_runs WHERE job_id = :j ORDER BY id",
        j=job,
    )
    return [(_utc(s), o, p, _utc(t)) for s, o, p, t in found]


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_jobs_fire_on_their_slots_with_json_logs_and_status(tmp_path: Path, procs: Procs) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    config = scheduled_config(tmp_path, url, 'sync = "*/2 * * * * *"')
    active = procs.start("active", config, "--log-format", "json", "scheduler", "run")
    store = Store(url)
    active.wait_for("active scheduler")
    wait_until(lambda: len([r for r in runs(store, "sync") if r[1] == "ok"]) >= 2, 30, "2 runs")
    assert active.stop() == 0
    done = runs(store, "sync")
    errors = rows(store, "SELECT outcome, error FROM job_runs WHERE outcome != 'ok'")
    assert len(done) >= 2 and {r[1] for r in done} == {"ok"}, errors
    slots = [r[0] for r in done]
    assert len(set(slots)) == len(slots)
    assert all(s.second % 2 == 0 and s.microsecond == 0 for s in slots)
    assert all(
        timedelta(0) <= started - slot < timedelta(seconds=2) for slot, _, _, started in done
    )
    assert {r[2] for r in done} == {active.pid}
    assert rows(store, "SELECT count(*) FROM deals WHERE source = 'export'") == [(DEALS,)]
    (counts,) = rows(store, "SELECT counts FROM job_runs ORDER BY id LIMIT 1")[0]
    stored = json.loads(counts) if isinstance(counts, str) else counts
    assert stored["export"]["outcome"] == "ok" and stored["export"]["deals"] == DEALS
    lines = [json.loads(line) for line in active.stderr.splitlines() if line.strip()]
    assert lines and all({"time", "level", "message", "job", "source"} <= set(x) for x in lines)
    ended = [x for x in lines if x["job"] == "sync" and x["message"] == "ended ok"]
    assert len(ended) == len(done)
    assert any(x["message"].startswith("active scheduler: host") for x in lines)
    assert lines[-1]["message"] == "scheduler stopped: lease released"
    # tracker status: the job, its next run, its last run and the active scheduler
    status = procs.start("status", config, "status", "--format", "json")
    assert status.finish() == 0
    schedule = json.loads(status.stdout)["schedule"]
    (job,) = schedule["jobs"]
    assert (job["job"], job["cron"], job["last_run"]["outcome"]) == ("sync", "*/2 * * * * *", "ok")
    assert datetime.fromisoformat(job["last_run"]["slot"]) == slots[-1]
    assert datetime.fromisoformat(job["next_run"]) > slots[-1]
    assert schedule["failing"] == []
    assert (schedule["active_scheduler"]["host"], schedule["active_scheduler"]["pid"]) == (
        socket.gethostname(),
        active.pid,
    )
    # two failed runs in a row: tracker status names the failing job and why
    for _ in range(2):
        run = record_start(store, "sync", "sync", None, slots[-1] + timedelta(seconds=2))
        record_end(store, run, "failed", error="export: file not found")
    table = CliRunner().invoke(app, ["--config", str(config), "status"])
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert f"  scheduler: host {socket.gethostname()}, pid {active.pid}, since " in table.stdout
    (job_line,) = [x for x in lines if x.startswith("  sync (*/2 * * * * *): next ")]
    assert job_line.endswith(": failed")
    assert "  failing: sync failed 2 times in a row: export: file not found" in lines


def standby_line(active: Tracker) -> str:
    """What a standby says about ``active``."""
    return f"standby: the active scheduler is host {socket.gethostname()}, pid {active.pid}, "


def active_and_standby(
    store_url: str, folder: Path, procs: Procs
) -> tuple[Store, Path, Tracker, Tracker]:
    """A store syncing every 2 s: its active scheduler, then a standby that saw it."""
    config = scheduled_config(folder, store_url, 'sync = "*/2 * * * * *"')
    first = procs.start("first", config, "scheduler", "run")
    first.wait_for("active scheduler")
    second = procs.start("second", config, "scheduler", "run")
    second.wait_for(standby_line(first))
    return Store(store_url), config, first, second


def test_second_scheduler_is_a_standby_and_takes_over_after_kill_9(
    store_url: str, tmp_path: Path, procs: Procs
) -> None:
    store, config, first, second = active_and_standby(store_url, tmp_path, procs)
    wait_until(lambda: len(runs(store, "sync")) >= 3, 30, "3 runs by the active scheduler")
    assert {r[2] for r in runs(store, "sync")} == {first.pid}
    first.kill()
    killed = datetime.now(UTC)
    second.wait_for("active scheduler: host", timeout=60)
    took_over = wait_until(
        lambda: [r for r in runs(store, "sync") if r[2] == second.pid and r[1] == "ok"],
        60,
        "a run by the standby",
    )
    assert took_over[0][3] - killed < timedelta(seconds=60)
    wait_until(lambda: len([r for r in runs(store, "sync") if r[2] == second.pid]) >= 2, 30, "2")
    third = procs.start("third", config, "scheduler", "run")
    third.wait_for(standby_line(second))
    assert third.stop() == 0  # a standby stops at once
    assert second.stop() == 0
    done = runs(store, "sync")
    slots = Counter(r[0] for r in done)
    assert max(slots.values()) == 1, f"a slot ran twice: {slots.most_common(3)}"
    by_second = [r for r in done if r[2] == second.pid]
    assert all(started >= killed for _, _, _, started in by_second)
    assert min(r[0] for r in by_second) > max(r[0] for r in done if r[2] == first.pid)
    (beat,) = rows(store, "SELECT host, pid FROM scheduler_heartbeat")
    assert beat == (socket.gethostname(), second.pid)
    assert rows(store, "SELECT count(*) FROM deals WHERE source = 'export'") == [(DEALS,)]


def _digest_config(folder: Path, server: Server, slot: datetime) -> Path:
    goal = (
        '\n[[goals]]\nid = "revenue-month"\nmetric = "revenue"\nevery = "month"\n'
        'target = 1000\nwhy = "the plan"\n'
        f'\n[email]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n'
        'from = "tracker@example.com"\ndefault_to = ["revops@example.com"]\n'
    )
    cron = f'digest = "{slot.second} {slot.minute} {slot.hour} * * *"'
    return scheduled_config(folder, f"sqlite:///{folder / 'tracker.db'}", cron, goal)


def test_restart_keeps_the_schedule_and_sends_a_missed_digest_once(
    tmp_path: Path, procs: Procs
) -> None:
    slot = (datetime.now(UTC) + timedelta(seconds=9)).replace(microsecond=0)
    with smtp_server(tmp_path) as server:
        config = _digest_config(tmp_path, server, slot)
        store = Store(f"sqlite:///{tmp_path / 'tracker.db'}")
        before = procs.start("before", config, "scheduler", "run")
        before.wait_for("active scheduler")
        stored = rows(store, "SELECT id, next_run_time FROM scheduler_jobs")
        assert stored == [("digest", slot.timestamp())]
        before.kill()  # down across the digest's slot
        wait_until(lambda: datetime.now(UTC) > slot + timedelta(seconds=2), 30, "the slot")
        assert server.inbox.received == [] and runs(store, "digest") == []
        after = procs.start("after", config, "scheduler", "run")
        wait_until(lambda: [r for r in runs(store, "digest") if r[1] != "running"], 30, "digest")
        assert after.stop() == 0
        ((ran_slot, outcome, pid, _),) = runs(store, "digest")
        assert (ran_slot, outcome, pid) == (slot, "ok", after.pid)
        assert [r.rcpt_to for r in server.inbox.received] == [["revops@example.com"]]
        again = procs.start("again", config, "scheduler", "run")
        again.wait_for("active scheduler")
        time.sleep(1.5)  # a due digest would have started by now
        assert again.stop() == 0
        assert len(runs(store, "digest")) == 1 and len(server.inbox.received) == 1
        sent = rows(store, "SELECT recipient, status FROM email_sends")
        assert sent == [("revops@example.com", "sent")]
        ((next_run,),) = rows(store, "SELECT next_run_time FROM scheduler_jobs")
        assert next_run == (slot + timedelta(days=1)).timestamp()


def test_an_unreadable_job_row_is_rebuilt_from_the_config(tmp_path: Path, procs: Procs) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    config = scheduled_config(tmp_path, url, 'sync = "*/2 * * * * *"\nsnapshot = "0 3 * * *"')
    store = Store(url)
    first = procs.start("first", config, "scheduler", "run")
    first.wait_for("active scheduler")
    assert first.stop() == 0
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE scheduler_jobs SET job_state = :x WHERE id = 'sync'"),
                     {"x": b"\x80\x05not a pickle"})  # fmt: skip
    before = runs(store, "sync")
    second = procs.start("second", config, "scheduler", "run")
    second.wait_for("sync: rebuilt from the config (its stored row was unreadable)")
    wait_until(lambda: [r for r in runs(store, "sync") if r[2] == second.pid], 30, "a sync run")
    assert second.stop() == 0
    assert len(runs(store, "sync")) > len(before)
    jobs = dict(rows(store, "SELECT id, job_state FROM scheduler_jobs"))
    assert set(jobs) == {"sync", "snapshot"}
    state = pickle.loads(jobs["sync"])
    assert (state["id"], state["args"]) == ("sync", ("sync", ""))


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)  # a lock file is never lost
def test_a_scheduler_that_loses_its_postgresql_lease_stops_starting_jobs(
    store_url: str, tmp_path: Path, procs: Procs
) -> None:
    store, _, first, second = active_and_standby(store_url, tmp_path, procs)
    wait_until(lambda: runs(store, "sync"), 30, "a run by the active scheduler")
    holder = lock_holder(store, "scheduler")
    assert holder is not None and holder.pid == first.pid
    with store.engine.connect() as conn:  # the network drops the lease's connection
        ended = conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name"
            ),
            {"name": f"tracker-lock {socket.gethostname()[:40]} {first.pid}"},
        ).all()
    assert ended == [(True,)]
    lost = datetime.now(UTC)
    second.wait_for("active scheduler: host", timeout=30)
    first.wait_for("lost the scheduler lease (its database connection ended): standby again")
    first.wait_for(standby_line(second))
    wait_until(lambda: [r for r in runs(store, "sync") if r[2] == second.pid], 30, "a run")
    assert first.stop() == 0 and second.stop() == 0
    done = runs(store, "sync")
    assert max(Counter(r[0] for r in done).values()) == 1  # no slot ran twice
    assert all(r[2] == second.pid for r in done if r[3] > lost + timedelta(seconds=1))
