"""Secrets through the command line: with known tokens, nothing the process prints (verbose
logs, errors, tracebacks, the effective config) ever holds one."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox import Sandbox
from sandbox.standalone import config_toml
from tracker.cli.app import app

SF_ENV, HS_ENV = "TRACKER_TEST_SECRET_SF", "TRACKER_TEST_SECRET_HS"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(deals=300, seed=5, now=datetime.now(UTC)) as running:
        yield running


def _run(config: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from tracker.cli import main; sys.argv[0] = 'tracker'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, "--config", str(config), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=config.parent,
    )


def _config(tmp_path: Path, sandbox: Sandbox) -> Path:
    path = tmp_path / "tracker.toml"
    path.write_text(
        config_toml(sandbox, sf_token_env=SF_ENV, hs_token_env=HS_ENV)
        + f'\n[store]\nurl = "sqlite:///{tmp_path / "tracker.db"}"\n',
        encoding="utf-8",
    )
    return path


def _assert_no_secret(secrets: list[str], *outputs: str) -> None:
    for secret in secrets:
        assert len(secret) >= 16  # a real token, so "not found" means something
        for output in outputs:
            assert secret not in output


def test_verbose_runs_print_no_token(tmp_path: Path, sandbox: Sandbox) -> None:
    config = _config(tmp_path, sandbox)
    secrets = [sandbox.salesforce_token, sandbox.hubspot_token]
    env = {SF_ENV: secrets[0], HS_ENV: secrets[1]}
    ok = _run(config, env, "--verbose", "sync")
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "DEBUG" in ok.stderr  # the verbose logs were there to scan
    shown = _run(config, env, "config", "show")
    assert shown.returncode == 0 and f"<from env {SF_ENV}>" in shown.stdout
    status = _run(config, env, "--verbose", "status", "--format", "json")
    assert status.returncode == 0
    _assert_no_secret(secrets, ok.stdout, ok.stderr, shown.stdout, shown.stderr, status.stdout)


def test_a_failing_verbose_sync_and_its_traceback_print_no_token(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    config = _config(tmp_path, sandbox)
    old = [sandbox.salesforce_token, sandbox.hubspot_token]
    env = {SF_ENV: old[0], HS_ENV: old[1]}
    # the CRMs revoke both tokens: every call with them is a 401
    fresh = [sandbox.expire_session("salesforce"), sandbox.expire_session("hubspot")]
    failed = _run(config, env, "--verbose", "sync")
    assert failed.returncode in (1, 2), failed.stderr[-2000:]
    assert "Traceback (most recent call last)" in failed.stderr  # --verbose shows it
    assert "error: sandbox-salesforce:" in failed.stderr
    assert "error: sandbox-hubspot:" in failed.stderr
    _assert_no_secret(old + fresh, failed.stdout, failed.stderr)


def test_rich_tracebacks_with_locals_are_off() -> None:
    # a traceback with locals would print every token a frame holds
    assert app.pretty_exceptions_enable is False
    assert app.pretty_exceptions_show_locals is False
