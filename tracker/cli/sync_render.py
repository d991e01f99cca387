"""How ``tracker sync`` shows its results: per-source errors and rejects, the summary table."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from tracker.sync import SyncResult, SyncSummary
from tracker.wording import plural

MAX_REJECTS_SHOWN = 10
ROWS_CHANGED = "changed: rows of deals, accounts, owners and line items inserted or updated"

SUMMARY_COLUMNS = (
    "source",
    "outcome",
    "deals",
    "changed",
    "deleted",
    "rejected",
    "API calls",
    "secs",
)


def print_result(err: Console, result: SyncResult, *, quiet: bool = False) -> None:
    """The error, warnings, notes (unless ``quiet``) and first rejected rows of one
    source, on stderr."""
    name = result.source
    if result.error:
        label = "skipped" if result.outcome == "skipped" else "error"
        err.print(f"{label}: {name}: {result.error}", highlight=False, markup=False)
    for warning in result.warnings:
        err.print(f"warning: {name}: {warning}", highlight=False, markup=False)
    for note in [] if quiet else result.notes:
        err.print(f"note: {name}: {note}", highlight=False, markup=False)
    for rejected in result.rejected[:MAX_REJECTS_SHOWN]:
        err.print(f"warning: {name}: {rejected}", highlight=False, markup=False)
    if result.rejected_total > MAX_REJECTS_SHOWN:
        more = plural(result.rejected_total - MAX_REJECTS_SHOWN, "more row")
        err.print(
            f"warning: {name}: {more} rejected; all of them: tracker status --rejects {name}",
            highlight=False,
            markup=False,
        )


def summary_table(summary: SyncSummary) -> Table:
    """One row per source: outcome, deals, rows changed, deletions, rejects, calls, time."""
    title = "Dry run: nothing was written" if summary.dry_run else "Sync summary"
    # compact enough for 80 columns
    table = Table(
        title=title,
        caption=ROWS_CHANGED,
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption_justify="left",
        pad_edge=False,
        padding=(0, 0, 0, 1),
    )
    for col in SUMMARY_COLUMNS:
        label = "would change" if summary.dry_run and col == "changed" else col
        if col == "source":  # whole names while they fit; long ones fold
            widest = max((len(r.source) for r in summary.results), default=6)
            table.add_column(label, overflow="fold", min_width=min(widest, 30))
        elif col == "outcome":
            table.add_column(label, overflow="fold")
        else:  # a figure is never cut: its header wraps instead
            table.add_column(label, justify="right", no_wrap=True)
    for r in summary.results:
        deals = r.counts.received.get("deals", 0)
        cells = {
            "source": r.source,
            "outcome": r.outcome,
            "deals": f"{deals:,}",
            "changed": f"{sum(r.counts.changed.values()):,}",
            "deleted": f"{r.counts.deleted:,}",
            "rejected": f"{r.rejected_total:,}",
            "API calls": f"{r.api_calls:,}",
            "secs": f"{r.seconds:.1f}",
        }
        table.add_row(*(cells[c] for c in SUMMARY_COLUMNS))
    return table
