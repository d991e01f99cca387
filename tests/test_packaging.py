"""Installing the project prints nothing from its own packaging."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_editable_install_prints_no_packaging_warning(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--ignore-installed",  # never uninstall the project from the running venv
            "--quiet",
            "-e",
            str(ROOT),
            "--prefix",
            str(tmp_path / "prefix"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    # pip's own notes about this machine's package indexes are not ours
    ours = [
        line
        for line in (proc.stdout + proc.stderr).splitlines()
        if line.strip() and not line.startswith("WARNING: Location ")
    ]
    assert ours == []


def test_skipped_postgresql_cases_are_one_line_not_one_each() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("TRACKER_TEST_DATABASE_URL", "CI")}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/core/test_store.py"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    lines = proc.stdout.splitlines()
    assert not [line for line in lines if line.startswith("SKIPPED")]
    [summary] = [line for line in lines if "PostgreSQL cases skipped" in line]
    assert summary.startswith(tuple(f"{n} PostgreSQL cases skipped" for n in range(1, 100)))
