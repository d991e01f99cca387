"""Fixtures of the job tests: processes killed at teardown whatever the outcome."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.jobs.procs import Tracker


class Procs:
    """Starts ``tracker`` processes in one folder; any still running is killed at teardown."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[Tracker] = []

    def start(self, name: str, config: Path, *args: str) -> Tracker:
        """``tracker --config CONFIG ARGS`` as process ``name``."""
        proc = Tracker(self.folder, name, "--config", str(config), *args)
        self.started.append(proc)
        return proc


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    """Processes of the test, killed at teardown if still running."""
    running = Procs(tmp_path)
    yield running
    for proc in running.started:
        proc.cleanup()
