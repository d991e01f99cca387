"""Sync progress without a terminal: one plain line every ~10 seconds, nothing in between."""

from __future__ import annotations

import io

from rich.console import Console

from tracker.cli.common import AppState
from tracker.cli.sync_progress import ProgressLines
from tracker.sync import Progress, SyncResult


class Clock:
    """A hand-driven monotonic clock (seconds)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _state(quiet: bool = False) -> tuple[AppState, io.StringIO]:
    buffer = io.StringIO()
    err = Console(file=buffer, width=200, force_terminal=False)
    return AppState(quiet=quiet, err=err, out=Console(file=io.StringIO())), buffer


def test_a_line_every_ten_seconds_and_the_end_of_each_source() -> None:
    st, buffer = _state()
    clock = Clock()
    lines = ProgressLines(st, every=10.0, clock=clock)
    lines.started("crm")
    for at, records in ((105.0, 1000), (110.5, 2000), (115.0, 3000), (121.0, 4000)):
        clock.now = at
        lines.progress(Progress("crm", records, 10_000, elapsed=at - 100.0))
    lines.finished(SyncResult(source="crm", outcome="failed", error="boom"))
    assert buffer.getvalue().splitlines() == [
        "crm: 2,000 of ~10,000 deals, 190/s, 10 s",
        "crm: 4,000 of ~10,000 deals, 190/s, 21 s",
        "error: crm: boom",
    ]


def test_quiet_prints_no_progress_but_still_the_error() -> None:
    st, buffer = _state(quiet=True)
    clock = Clock()
    lines = ProgressLines(st, every=10.0, clock=clock)
    lines.started("crm")
    clock.now = 200.0
    lines.progress(Progress("crm", 5, None, elapsed=100.0))
    lines.finished(SyncResult(source="crm", outcome="failed", error="boom"))
    assert buffer.getvalue() == "error: crm: boom\n"
