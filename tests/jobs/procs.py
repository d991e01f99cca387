"""Real ``tracker`` processes for the scheduler tests: start, watch stderr, signal, wait."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from tracker.store import Store

ROOT = Path(__file__).resolve().parents[2]


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``check`` every 0.1 s until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


class Tracker:
    """``python -m tracker ARGS`` in its own process, stderr and stdout kept in files."""

    def __init__(self, folder: Path, name: str, *args: str, env: dict[str, str] | None = None):
        self.name = name
        self.err_path = folder / f"{name}.stderr"
        self.out_path = folder / f"{name}.stdout"
        with self.err_path.open("wb") as err, self.out_path.open("wb") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "tracker", *args],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
                stdout=out,
                stderr=err,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def stderr(self) -> str:
        return self.err_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stdout(self) -> str:
        return self.out_path.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, fragment: str, timeout: float = 30) -> None:
        """Wait until stderr holds ``fragment`` (fail early if the process ended)."""

        def seen() -> bool:
            if fragment in self.stderr:
                return True
            if self.popen.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited {self.popen.returncode} before {fragment!r}:\n"
                    + self.stderr
                )
            return False

        wait_until(seen, timeout, f"{fragment!r} from {self.name}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Send ``sig`` and wait for the exit code."""
        self.popen.send_signal(sig)
        return self.popen.wait(timeout)

    def kill(self) -> None:
        """kill -9, and reap it."""
        self.popen.kill()
        self.popen.wait(30)

    def finish(self, timeout: float = 120) -> int:
        """Wait for the process to end on its own."""
        return self.popen.wait(timeout)

    def cleanup(self) -> None:
        if self.popen.poll() is None:
            self.kill()


def rows(store: Store, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """The rows of ``sql``."""
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]
