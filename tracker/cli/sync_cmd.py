"""``tracker sync``: pull every (or the named) source into the store."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from jobs import tasks
from tracker.cli.common import AppState, state
from tracker.cli.sync_render import print_result, summary_table
from tracker.sync import Progress as SyncProgress
from tracker.sync import SyncResult


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("sync")(sync)


def sync(
    ctx: typer.Context,
    sources: list[str] | None = typer.Argument(None, help="Source names (default: all)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; write nothing."),
    reconcile: bool = typer.Option(
        False, "--reconcile", help="Also compare id sets with the source to catch hard deletes."
    ),
) -> None:
    """Sync deals, accounts, owners and line items from the sources into the store.

    Exit codes: 0 all synced, 1 error, 2 configuration error, 3 partial (some sources
    failed or stopped on their API budget, others synced).
    """
    st = state(ctx)
    settings = st.settings
    with _ProgressBars(st) as bars:
        summary = tasks.sync(settings, sources, reconcile=reconcile, dry_run=dry_run, progress=bars)
    if not (st.quiet and summary.exit_code == 0):
        st.out.print(summary_table(summary))
    if summary.exit_code:
        raise typer.Exit(summary.exit_code)


class _ProgressBars:
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

    def __enter__(self) -> _ProgressBars:
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
        print_result(self.st.err, result)
