"""``tracker scheduler run`` (or any tracker command) as a real child process."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tracker import jobruns
from tracker.store import Store

ROOT = Path(__file__).resolve().parents[2]


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """``python -m tracker ARGS`` from this checkout, stderr kept for the test to read."""
    return subprocess.Popen(
        [sys.executable, "-m", "tracker", *args],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_active(store: Store, process: subprocess.Popen[str], seconds: float = 60) -> None:
    """Until the scheduler wrote its first heartbeat (fails if the process ends first)."""
    deadline = time.monotonic() + seconds
    while jobruns.heartbeat(store) is None:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "the scheduler never became active"
        time.sleep(0.2)
