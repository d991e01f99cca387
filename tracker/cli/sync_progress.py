"""Sync progress on stderr: Rich bars on a terminal, a plain line every ~10 s elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic

from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from tracker.cli.common import AppState
from tracker.cli.sync_render import print_result
from tracker.sync import Progress as SyncProgress
from tracker.sync import SyncResult


def progress_for(st: AppState) -> ProgressBars | ProgressLines:
    """Bars on a terminal; elsewhere (logs, CI, cron) a plain line every ~10 seconds."""
    return ProgressBars(st) if st.err.is_terminal else ProgressLines(st)


class ProgressLines:
    """Progress as one plain line per source every ``every`` seconds, for logs; errors and
    rejects printed as each source ends. Nothing at all with ``--quiet``."""

    def __init__(self, st: AppState, every: float = 10.0, clock: Callable[[], float] = monotonic):
        self.st = st
        self.every = every
        self.clock = clock
        self.next_line = 0.0

    def __enter__(self) -> ProgressLines:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def started(self, source: str) -> None:
        self.next_line = self.clock() + self.every

    def progress(self, progress: SyncProgress) -> None:
        if self.st.quiet or self.clock() < self.next_line:
            return
        self.next_line = self.clock() + self.every
        total = f" of ~{progress.total:,}" if progress.total else ""
        self.st.err.print(
            f"{progress.source}: {progress.records:,}{total} deals, "
            f"{progress.rate:,.0f}/s, {progress.elapsed:,.0f} s",
            highlight=False,
            markup=False,
        )

    def finished(self, result: SyncResult) -> None:
        print_result(self.st.err, result, quiet=self.st.quiet)


class ProgressBars:
    """One transient Rich bar per source on stderr; errors and rejects printed as they end."""

    def __init__(self, st: AppState) -> None:
        self.st = st
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,.0f} deals"),
            TextColumn("{task.fields[rate]:,.0f}/s"),
            TimeElapsedColumn(),
            console=st.err,
            transient=True,
            disable=st.quiet,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> ProgressBars:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar.live.is_started:
            self.bar.stop()

    def started(self, source: str) -> None:
        if not self.bar.live.is_started:
            self.bar.start()  # not before: an error ahead of any source stays one line
        self.tasks[source] = self.bar.add_task(source, total=None, rate=0.0)

    def progress(self, progress: SyncProgress) -> None:
        task = self.tasks[progress.source]
        self.bar.update(task, completed=progress.records, total=progress.total, rate=progress.rate)

    def finished(self, result: SyncResult) -> None:
        self.bar.remove_task(self.tasks.pop(result.source))
        print_result(self.st.err, result, quiet=self.st.quiet)
