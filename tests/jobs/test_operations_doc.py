"""docs/operations.md cannot drift from the product: every ``tracker ...`` command of its
code blocks (the systemd unit's ExecStart, the cron lines, the container entrypoint, the
Kubernetes Deployment and CronJob, the shell examples) parses against the real command
line, options and values included, and its SQLite backup commands, run on a store that a
second process keeps writing, make copies that open and are consistent."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer.main

from tests.jobs.conftest import Procs
from tracker.cli import app
from tracker.store import Store

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
# the tracker program as a word (maybe a path ending in /tracker), then its arguments
PROGRAM = re.compile(r"(?:(?:^|[\s;])(?:\S*/)?|=\S*/)tracker\s+(?=[-a-z])")
SHELL_ENDS = {">>", ">", "2>&1", "|", ";", "&&", "||"}
ARRAY = re.compile(r"^\s*(ENTRYPOINT|CMD|command:|args:)\s*(\[.*\])\s*$")


def blocks(kind: str) -> list[str]:
    """The code blocks of ``kind`` (the fence's language) in the doc."""
    return [body for lang, body in FENCE.findall(DOC.read_text(encoding="utf-8")) if lang == kind]


def shell_commands(text: str) -> list[list[str]]:
    """The arguments after ``tracker`` on each line that runs it (shell syntax)."""
    found = []
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        matches = list(PROGRAM.finditer(line))
        if not matches:
            continue
        words = shlex.split(line[matches[-1].end() :])
        cut = next((i for i, w in enumerate(words) if w in SHELL_ENDS), len(words))
        found.append(words[:cut])
    return found


def array_commands(text: str, program_key: str, args_key: str) -> list[list[str]]:
    """Exec-form commands: the program array (``["tracker", ...]``) followed by its args."""
    found, program = [], None
    for line in text.splitlines():
        match = ARRAY.match(line)
        if not match:
            continue
        key, items = match.group(1), json.loads(match.group(2))
        if key == program_key:
            assert items[0] == "tracker", line
            program = items[1:]
        elif key == args_key:
            assert program is not None, f"{args_key} without {program_key}: {line}"
            found.append(program + items)
    return found


def parse(argv: list[str]) -> str:
    """Parse ``argv`` as ``tracker`` would, down to the command (options and values
    converted, nothing run); the command's path. Raises click's usage errors."""
    command = typer.main.get_command(app)
    ctx = command.make_context("tracker", list(argv))
    path = ["tracker"]
    while hasattr(command, "resolve_command"):
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
        assert rest, f"{' '.join(path)}: no command given in {argv}"
        name, command, rest = command.resolve_command(ctx, rest)
        assert command is not None and name is not None
        path.append(name)
        ctx = command.make_context(name, rest, parent=ctx)
    return " ".join(path)


def test_every_documented_command_parses_against_the_real_cli() -> None:
    found = {
        "systemd unit": [c for b in blocks("ini") for c in shell_commands(b)],
        "cron lines": [c for b in blocks("crontab") for c in shell_commands(b)],
        "shell examples": [c for b in blocks("sh") for c in shell_commands(b)],
        "container entrypoint": [
            c for b in blocks("dockerfile") for c in array_commands(b, "ENTRYPOINT", "CMD")
        ],
        "Kubernetes manifests": [
            c for b in blocks("yaml") for c in array_commands(b, "command:", "args:")
        ],
    }
    parsed = {kind: [parse(argv) for argv in commands] for kind, commands in found.items()}
    assert parsed["systemd unit"] == ["tracker scheduler run"]
    assert parsed["cron lines"] == [
        "tracker sync",
        "tracker sync",
        "tracker metrics",
        "tracker email",
    ]
    assert parsed["container entrypoint"] == ["tracker scheduler run"]
    # the Deployment runs the scheduler, the CronJob a waiting sync
    assert parsed["Kubernetes manifests"] == ["tracker scheduler run", "tracker sync"]
    assert found["Kubernetes manifests"][1][-2:] == ["sync", "--wait"]
    assert "tracker db upgrade" in parsed["shell examples"]
    assert "tracker doctor" in parsed["shell examples"]
    # every one names the config explicitly, as a service must; log formats are real ones
    for commands in found.values():
        for argv in commands:
            assert argv[:1] == ["--config"], argv
            if "--log-format" in argv:
                assert argv[argv.index("--log-format") + 1] in ("human", "json"), argv
    assert any("--log-format" in argv for argv in found["Kubernetes manifests"])


def test_the_parser_catches_drift() -> None:
    """The check above can fail: an option or command the CLI lacks is refused."""
    import typer._click.exceptions as click_errors

    with pytest.raises(click_errors.UsageError):
        parse(["--config", "/etc/tracker/tracker.toml", "sync", "--no-such-option"])
    with pytest.raises(click_errors.UsageError):
        parse(["--config", "/etc/tracker/tracker.toml", "scheduler", "start-everything"])
    assert shell_commands(
        "0 2 * * *  /opt/x/bin/tracker --config a.toml sync --wait >> l 2>&1"
    ) == [["--config", "a.toml", "sync", "--wait"]]


WRITER = """
import sys, time
from datetime import UTC, datetime
from sqlalchemy import insert
from tracker.models import Deal, SyncRun
from tracker.store import Store

store = Store(sys.argv[1])
deals, runs = Deal.__table__, SyncRun.__table__
n = 0
print("ready", flush=True)
while True:
    now = datetime.now(UTC)
    rows = [
        {"source": "w", "external_id": f"{n}-{i}", "name": "x" * 200, "is_closed": False,
         "is_won": False, "is_deleted": False, "synced_at": now, "custom": {}}
        for i in range(50)
    ]
    with store.engine.begin() as conn:  # a batch of deals and its run row: all or nothing
        conn.execute(insert(deals), rows)
        conn.execute(insert(runs).values(source="w", kind="csv", started_at=now,
                                         finished_at=now, outcome="ok", counts={"n": 50}))
    n += 1
"""


def backup_commands() -> list[str]:
    """The doc's one-off backup commands (sqlite3's VACUUM INTO, Python's backup)."""
    lines = [ln for b in blocks("sh") for ln in b.splitlines()]
    found = [ln for ln in lines if ln.startswith(("sqlite3 ", "python3 -c"))]
    assert len(found) == 2, found
    return found


@pytest.mark.parametrize("form", ["sqlite3", "python"])
def test_the_documented_backup_copies_a_store_being_written(tmp_path: Path, form: str) -> None:
    command = next(c for c in backup_commands() if c.startswith(form))
    if form == "sqlite3" and shutil.which("sqlite3") is None:
        pytest.fail("the sqlite3 program is needed to test the documented .backup command")
    source, copy = tmp_path / "tracker.db", tmp_path / "backup" / "tracker.db"
    copy.parent.mkdir()
    store = Store(f"sqlite:///{source}")
    store.ensure_ready()
    head = store.head_revision()
    store.close()
    command = command.replace("/var/lib/tracker/tracker.db", str(source))
    command = command.replace("/var/backups/tracker/tracker.db", str(copy))
    command = command.replace("python3 ", f"{shlex.quote(sys.executable)} ", 1)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, f"sqlite:///{source}"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        time.sleep(0.5)  # let it commit a good number of batches first
        done = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert writer.poll() is None, "the writer must still be writing"
    finally:
        writer.kill()
        writer.wait()
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        deals = conn.execute("SELECT count(*) FROM deals").fetchone()[0]
        runs = conn.execute("SELECT count(*) FROM sync_runs").fetchone()[0]
    conn.close()
    assert runs > 0
    assert deals == 50 * runs  # every batch whole: none torn, none without its run row
    with sqlite3.connect(source) as conn:  # the store went on after the copy was taken
        assert conn.execute("SELECT count(*) FROM sync_runs").fetchone()[0] > runs
    conn.close()
    restored = Store(f"sqlite:///{copy}")
    try:
        assert restored.current_revision() == head
    finally:
        restored.close()


def unit_setting(key: str) -> str:
    """A ``Key=value`` line of the documented systemd unit."""
    (unit,) = blocks("ini")
    (value,) = [ln.split("=", 1)[1] for ln in unit.splitlines() if ln.startswith(f"{key}=")]
    return value


def documented(argv: list[str], config: Path) -> list[str]:
    """A documented command's arguments, run here with the test's config."""
    assert argv[:2] in (
        ["--config", "/etc/tracker/tracker.toml"],
        ["--config", "/config/tracker.toml"],
    )
    return argv[2:]


def test_the_unit_and_the_cronjob_run_as_documented(tmp_path: Path, procs: Procs) -> None:
    """The unit's ExecStart becomes the active scheduler and stops cleanly on its
    KillSignal well within TimeoutStopSec; the CronJob's command syncs the sources."""
    from tests.csv_factory import write_config, write_csv

    store_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    config = write_config(tmp_path, write_csv(tmp_path / "deals.csv", 40), store_url)
    with config.open("a", encoding="utf-8") as fh:
        fh.write('\n[schedule]\nsync = "0 2 * * *"\n')
    (cronjob,) = [
        argv
        for b in blocks("yaml")
        for argv in array_commands(b, "command:", "args:")
        if "sync" in argv
    ]
    synced = procs.start("cronjob", config, *documented(cronjob, config))
    assert synced.finish() == 0, synced.stderr
    store = Store(store_url)
    with store.engine.connect() as conn:
        deals = conn.exec_driver_sql("SELECT count(*) FROM deals").scalar()
    store.close()
    assert deals == 40
    (exec_start,) = [c for b in blocks("ini") for c in shell_commands(b)]
    signal_name, stop_within = unit_setting("KillSignal"), float(unit_setting("TimeoutStopSec"))
    unit = procs.start("unit", config, *documented(exec_start, config))
    unit.wait_for("active scheduler: host ")
    assert unit.stop(getattr(signal, signal_name), timeout=min(stop_within, 60)) == 0
    assert "lease released" in unit.stderr
