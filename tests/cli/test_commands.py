"""Every command through Typer's CliRunner: outputs, exit codes, one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.csv_factory import write_config, write_csv
from tracker.cli import app

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env, catch_exceptions=False, prog_name="tracker")
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def config(tmp_path: Path) -> Path:
    csv_path = write_csv(tmp_path / "deals.csv", 120)
    return write_config(tmp_path, csv_path, "sqlite:///tracker.db")


def _commands() -> list[list[str]]:
    import typer.main

    group = typer.main.get_command(app)
    paths: list[list[str]] = [[]]
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        paths.append([name])
        for sub in getattr(cmd, "commands", {}):
            paths.append([name, sub])
    return paths


@pytest.mark.parametrize("path", _commands(), ids=lambda p: " ".join(p) or "tracker")
def test_every_command_has_help(path: list[str]) -> None:
    code, out, _ = invoke(*path, "--help")
    assert code == 0
    assert "Usage:" in out
    # a help text of its own, not just the usage line
    assert len([line for line in out.splitlines() if line.strip()]) > 3


def test_init_writes_a_starter_and_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "tracker.toml"
    code, out, _ = invoke("--config", str(target), "init")
    assert code == 0 and "wrote" in out
    assert "[sources.export.columns]" in target.read_text(encoding="utf-8")
    code, _, err = invoke("--config", str(target), "init")
    assert (
        code == 2 and err.strip() == f"error: {target} already exists; pass --force to overwrite it"
    )
    assert invoke("--config", str(target), "init", "--force")[0] == 0


def test_sync_status_and_resync(config: Path) -> None:
    code, out, _ = invoke("--config", str(config), "sync")
    assert code == 0
    # the summary's row, cell by cell: 120 deals read, 138 rows written (120 deals,
    # 12 accounts, 6 owners), nothing deleted or rejected, no API calls for a file
    [row] = [line.split() for line in out.splitlines() if line.split()[:1] == ["export"]]
    assert row[:7] == ["export", "ok", "120", "138", "0", "0", "0"]
    code, out, _ = invoke("--config", str(config), "status", "--format", "json")
    assert code == 0
    status = json.loads(out)
    [row] = status["sources"]
    run = row["last_run"]
    # 120 deals, 12 accounts and 6 owners, all new
    assert (row["source"], run["outcome"], run["deals_received"]) == ("export", "ok", 120)
    assert (run["inserted"], run["updated"], run["deleted"], run["rejected"]) == (138, 0, 0, 0)
    assert row["store"] == {
        "deals_live": 120,
        "deals_deleted": 0,
        "accounts": 12,
        "owners": 6,
        "line_items": 0,
    }
    assert row["age"].endswith("s ago") and row["warnings"] == [] and status["orphans"] == []
    code, out, _ = invoke("--config", str(config), "--quiet", "sync", "export")
    assert code == 0 and out == ""
    status = json.loads(invoke("--config", str(config), "status", "--format", "json")[1])
    again = status["sources"][0]["last_run"]
    assert (again["inserted"], again["updated"]) == (0, 0)
    assert status["sources"][0]["store"]["deals_live"] == 120
    code, out, _ = invoke("--config", str(config), "status")
    assert code == 0
    assert max(len(line) for line in out.splitlines()[1:]) <= 80  # but the store's path
    # a label, then its value (wrapped lines continue it)
    fields: dict[str, str] = {}
    label = ""
    for line in out.splitlines()[2:]:
        if line.strip() and not line.startswith(" "):
            assert line.strip() == "export (csv)"
        elif line.startswith("  ") and not line.startswith("   "):
            label, _, value = line.strip().partition("  ")
            fields[label] = value.strip()
        elif line.strip():
            fields[label] += " " + line.strip()
    assert fields["holds"] == "120 deals (0 deleted), 12 accounts, 6 owners, 0 line items"
    assert fields["last sync"].endswith(": ok")
    assert fields["changes"] == (
        "120 deals read; 0 rows new, 0 updated; 0 deals deleted, 0 rejected, 0 unconverted"
    )


def test_dry_run_writes_nothing(config: Path) -> None:
    code, out, _ = invoke("--config", str(config), "sync", "--dry-run")
    assert code == 0 and "Dry run: nothing was written" in out
    status = json.loads(invoke("--config", str(config), "status", "--format", "json")[1])
    assert status["sources"][0]["last_run"] is None
    assert status["sources"][0]["store"]["deals_live"] == 0


def test_tracker_config_env_is_used(config: Path) -> None:
    code, out, _ = invoke("config", "show", env={"TRACKER_CONFIG": str(config)})
    assert code == 0
    assert json.loads(out)["sources"]["export"]["kind"] == "csv"


def test_store_password_only_as_a_secret(tmp_path: Path) -> None:
    cfg = tmp_path / "tracker.toml"
    cfg.write_text(
        '[store]\nurl = "postgresql+psycopg://ops:hunter2@db.local/tracker"\n', encoding="utf-8"
    )
    code, out, err = invoke("--config", str(cfg), "config", "show")
    assert code == 2 and "hunter2" not in out + err
    assert (
        'store.url: no passwords in the URL: write [store] password = { env = "PGPASSWORD" }' in err
    )
    cfg.write_text(
        '[store]\nurl = "postgresql+psycopg://ops@db.local/tracker"\n'
        'password = { env = "TRACKER_TEST_PGPASSWORD" }\n',
        encoding="utf-8",
    )
    code, out, _ = invoke(
        "--config", str(cfg), "config", "show", env={"TRACKER_TEST_PGPASSWORD": "hunter2"}
    )
    assert code == 0 and "hunter2" not in out
    assert json.loads(out)["store"]["password"] == "<from env TRACKER_TEST_PGPASSWORD>"


def test_reserved_sections_take_no_keys_yet(tmp_path: Path) -> None:
    cfg = tmp_path / "tracker.toml"
    cfg.write_text('[email]\nsmtp_password = "s3cr3t"\n', encoding="utf-8")
    code, out, err = invoke("--config", str(cfg), "config", "show")
    assert code == 2 and "email.smtp_password: unknown key" in err and "s3cr3t" not in out + err


def test_config_error_is_one_line_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "tracker.toml"
    cfg.write_text("[tracker]\ntimezone = 'Nowhere/City'\n", encoding="utf-8")
    code, _, err = invoke("--config", str(cfg), "status")
    assert code == 2
    assert (
        err
        == "error: tracker.timezone: unknown time zone 'Nowhere/City'; use an IANA name such as 'Europe/Berlin'\n"
    )
    code, _, err = invoke("--config", str(cfg), "--verbose", "status")
    assert code == 2 and "Traceback (most recent call last)" in err


def test_missing_config_hint(tmp_path: Path) -> None:
    code, _, err = invoke("--config", str(tmp_path / "none.toml"), "sync")
    assert code == 2 and "run `tracker init`" in err and err.count("\n") == 1


def test_unknown_source_exit_2(config: Path) -> None:
    code, _, err = invoke("--config", str(config), "sync", "crm")
    assert code == 2 and err == "error: unknown source 'crm'; configured sources: export\n"


def test_partial_failure_exits_3(config: Path) -> None:
    text = config.read_text(encoding="utf-8")
    source_part = text[text.index("[sources.export]") :]
    broken = source_part.replace("[sources.export", "[sources.broken").replace(
        'path = "', 'path = "missing-'
    )
    config.write_text(text + broken, encoding="utf-8")
    code, _, err = invoke("--config", str(config), "sync")
    assert code == 3
    assert "error: broken: " in err and "missing-" in err and "file not found" in err
    code, _, _ = invoke("--config", str(config), "sync", "broken")
    assert code == 1


def test_rejected_rows_are_reported(tmp_path: Path) -> None:
    csv_path = write_csv(tmp_path / "deals.csv", 10)
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    lines.append("OPPX,n,a,m,r,acc,Won,2026-13-45,2026-01-01,1,1,USD")
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = write_config(tmp_path, csv_path, "sqlite:///tracker.db")
    code, _, err = invoke("--config", str(cfg), "sync")
    assert code == 3
    assert "warning: export: deals.csv:12: engage_date: '2026-13-45' is not a date" in err


def test_db_upgrade_and_outdated_store(tmp_path: Path, config: Path) -> None:
    code, out, _ = invoke("--config", str(config), "db", "upgrade")
    assert code == 0 and "upgraded: empty →" in out
    code, out, _ = invoke("--config", str(config), "db", "upgrade")
    assert code == 0 and "up to date" in out
    from alembic import command

    from tracker.store import Store

    store = Store(f"sqlite:///{tmp_path / 'tracker.db'}")
    cfg = store._alembic_config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    code, _, err = invoke("--config", str(config), "status")
    assert code == 1 and "run `tracker db upgrade`" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--deals", "5"], "error: --deals 5: give a number from 100 to 1,000,000\n"),
        (
            ["--faults", "bogus@hs"],
            "error: --faults 'bogus@hs': rule 1 ('bogus@hs'): unknown kind 'bogus'",
        ),
    ],
)
def test_sandbox_serve_rejects_bad_flags(args: list[str], message: str) -> None:
    code, _, err = invoke("sandbox", "serve", *args)
    assert code == 2 and err.startswith(message)


def test_usage_errors_are_one_line() -> None:
    code, out, err = invoke("sync", "--bogus")
    assert code == 2 and out == ""
    assert err == "error: No such option: --bogus (see `tracker sync --help`)\n"


def test_config_flag_beats_env_which_beats_cwd(
    tmp_path: Path, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "tracker.toml").write_text("[tracker]\ncurrency = 'EUR'\n", encoding="utf-8")
    monkeypatch.chdir(other)
    shown = lambda *a, **kw: json.loads(invoke(*a, "config", "show", **kw)[1])  # noqa: E731
    assert shown()["tracker"]["currency"] == "EUR"  # ./tracker.toml
    assert shown(env={"TRACKER_CONFIG": str(config)})["tracker"]["currency"] == "USD"
    env_cfg = tmp_path / "env.toml"
    env_cfg.write_text("[tracker]\ncurrency = 'GBP'\n", encoding="utf-8")
    assert (
        shown("--config", str(config), env={"TRACKER_CONFIG": str(env_cfg)})["tracker"]["currency"]
        == "USD"
    )


def test_summary_cells_line_up_with_headers(config: Path) -> None:
    result = runner.invoke(app, ["--config", str(config), "sync"], env={"COLUMNS": "200"})
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if line.startswith("source"))
    header = re.split(r"\s{2,}", lines[start])
    row = re.split(r"\s{2,}", lines[start + 2])  # under the rule
    cells = dict(zip(header, row, strict=True))
    assert cells["source"] == "export" and cells["outcome"] == "ok"
    assert cells["deals"] == "120" and cells["rejected"] == "0" and cells["API calls"] == "0"
    assert cells["changed"] == "138"  # 120 deals, 12 accounts, 6 owners
    assert float(cells["secs"]) >= 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_a_busy_source_does_not_stop_the_others(config: Path, tmp_path: Path) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    text = config.read_text(encoding="utf-8")
    other = text[text.index("[sources.export]") :].replace("[sources.export", "[sources.other")
    config.write_text(text + other, encoding="utf-8")
    assert invoke("--config", str(config), "db", "upgrade")[0] == 0
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    root = Path(__file__).resolve().parents[2]
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.core.sync_worker", url, "export", "500", "0.05"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        from tracker.store import Store
        from tracker.sync import load_cursor

        store = Store(url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with store.engine.connect() as conn:
                if load_cursor(conn, "export"):
                    break
            time.sleep(0.02)
        code, _, err = invoke("--config", str(config), "sync")
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    assert code == 0
    (skipped,) = [line for line in err.splitlines() if line.startswith("skipped: export:")]
    holder = f"host {socket.gethostname()}, pid {worker.pid}, since "
    assert f"skipped: export: already being synced ({holder}" in skipped
    status = json.loads(invoke("--config", str(config), "status", "--format", "json")[1])
    outcomes = {s["source"]: s["last_run"]["outcome"] for s in status["sources"]}
    assert outcomes["other"] == "ok"
