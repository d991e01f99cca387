"""``tracker sync``: pull every (or the named) source into the store."""

from __future__ import annotations

from collections.abc import Iterator

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from tracker.cli.common import AppState, state
from tracker.errors import ConfigError
from tracker.records import Batch, JsonDict
from tracker.sync import Progress as SyncProgress
from tracker.sync import SyncResult, run_sync

MAX_REJECTS_SHOWN = 10


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
    names = list(dict.fromkeys(sources or settings.sources))
    if not names:
        raise ConfigError(f"no sources configured in {st.config_path}: add a [sources.NAME] table")
    for name in names:
        settings.source(name)
    st.store()  # create or check the schema before any source starts
    results = [_sync_one(st, name, dry_run=dry_run, reconcile=reconcile) for name in names]
    _summary(st, results, dry_run)
    ok = [r for r in results if r.exit_code == 0]
    if len(ok) == len(results):
        return
    if ok:
        raise typer.Exit(3)
    codes = {r.exit_code for r in results}
    raise typer.Exit(codes.pop() if len(codes) == 1 else 1)


def _sync_one(st: AppState, name: str, *, dry_run: bool, reconcile: bool) -> SyncResult:
    from connectors.base import SyncContext
    from connectors.registry import connector_class

    settings = st.settings
    source = settings.source(name)
    context = SyncContext(tracker=settings.tracker, reconcile=reconcile, dry_run=dry_run)
    connector = connector_class(source.kind)(name, source, context)

    def checked_batches(cursor: JsonDict | None) -> Iterator[Batch]:
        connector.check()  # inside the run, so a failed check is recorded like any failure
        yield from connector.batches(cursor)

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} deals"),
        TextColumn("{task.fields[rate]:,.0f}/s"),
        TimeElapsedColumn(),
        console=st.err,
        transient=True,
        disable=st.quiet,
    ) as bar:
        task: TaskID = bar.add_task(name, total=None, rate=0.0)

        def report(p: SyncProgress) -> None:
            bar.update(task, completed=p.records, total=p.total, rate=p.rate)

        result = run_sync(
            st.store(), name, source.kind, checked_batches, on_progress=report, dry_run=dry_run
        )
    if result.error:
        st.err.print(f"error: {name}: {result.error}", highlight=False, markup=False)
    for rejected in result.rejected[:MAX_REJECTS_SHOWN]:
        st.err.print(f"warning: {name}: {rejected}", highlight=False, markup=False)
    if result.rejected_total > MAX_REJECTS_SHOWN:
        st.err.print(
            f"warning: {name}: {result.rejected_total - MAX_REJECTS_SHOWN} more rows rejected",
            highlight=False,
        )
    return result


SUMMARY_COLUMNS = (
    "source",
    "outcome",
    "deals",
    "rows changed",
    "deleted",
    "rejected",
    "API calls",
    "deals/s",
    "seconds",
)


def _summary(st: AppState, results: list[SyncResult], dry_run: bool) -> None:
    if st.quiet and all(r.exit_code == 0 for r in results):
        return
    title = "Dry run: nothing was written" if dry_run else "Sync summary"
    table = Table(title=title)
    for col in SUMMARY_COLUMNS:
        label = "would change" if dry_run and col == "rows changed" else col
        table.add_column(label, justify="left" if col in ("source", "outcome") else "right")
    for r in results:
        deals = r.counts.received.get("deals", 0)
        rate = deals / r.seconds if r.seconds > 0 else 0.0
        cells = {
            "source": r.source,
            "outcome": r.outcome,
            "deals": f"{deals:,}",
            "rows changed": f"{sum(r.counts.changed.values()):,}",
            "deleted": f"{r.counts.deleted:,}",
            "rejected": f"{r.rejected_total:,}",
            "API calls": f"{r.api_calls:,}",
            "deals/s": f"{rate:,.0f}",
            "seconds": f"{r.seconds:.1f}",
        }
        table.add_row(*(cells[c] for c in SUMMARY_COLUMNS))
    st.out.print(table)
