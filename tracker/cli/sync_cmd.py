"""``tracker sync``: pull every (or the named) source into the store."""

from __future__ import annotations

import typer

from jobs import tasks
from tracker.cli.common import state
from tracker.cli.sync_progress import progress_for
from tracker.cli.sync_render import summary_table
from tracker.signals import stop_on_signals
from tracker.sync import clear_stop, request_stop


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("sync")(sync)


def sync(
    ctx: typer.Context,
    sources: list[str] | None = typer.Argument(
        None, metavar="SOURCE...", help="Source names (default: all)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; write nothing."),
    reconcile: bool = typer.Option(
        False, "--reconcile", help="Also compare id sets with the source to catch hard deletes."
    ),
    wait: bool = typer.Option(
        False,
        "--wait",
        help="Wait for a source another process is syncing (default: skip it, naming it).",
    ),
) -> None:
    """Sync deals, accounts, owners and line items from the sources into the store.

    Exit codes: 0 all synced; 1 error; 2 usage or configuration error (also when every
    source stopped on one, such as a missing secret); 3 partial: some sources failed,
    stopped on their API budget or had rows rejected, while the rest synced. A source
    another process is syncing is skipped with a line naming that process (exit 0).
    SIGTERM or Ctrl-C: the current batch is committed with its cursor, the run ends
    "interrupted" and the next one continues from there.
    """
    st = state(ctx)
    settings = st.settings

    def stopping(_signum: int) -> None:
        request_stop()
        st.info("stopping after the current batch (Ctrl-C again to abort at once)")

    clear_stop()
    with stop_on_signals(stopping), progress_for(st) as shown:
        summary = tasks.sync(
            settings, sources, reconcile=reconcile, dry_run=dry_run, progress=shown, wait=wait
        )
    if not (st.quiet and summary.exit_code == 0):
        st.out.print(summary_table(summary))
    if summary.exit_code:
        raise typer.Exit(summary.exit_code)
