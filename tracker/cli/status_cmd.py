"""``tracker status``: per source, the last sync and how old the data is."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer
from rich.table import Table

from tracker.cli.common import state
from tracker.errors import UsageError
from tracker.status import StoreStatus, build_status
from tracker.wording import unknown_name

COLUMNS = ("source", "kind", "last run", "outcome", "deals", "changed", "rejected", "data age")
NUMERIC = ("deals", "changed", "rejected")


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("status")(status)


def status(
    ctx: typer.Context,
    output_format: str = typer.Option("table", "--format", metavar="FORMAT", help="table or json."),
) -> None:
    """Show, per source: the last run, its outcome, records, and the age of the data."""
    output_format = output_format.strip().lower()
    if output_format not in ("table", "json"):
        raise UsageError(unknown_name("format", output_format, ("table", "json")))
    st = state(ctx)
    report = build_status(st.settings, st.store(), datetime.now(UTC))
    if output_format == "json":
        st.out.print_json(json.dumps(report.as_json()))
        return
    st.out.print(_table(report))
    for source in report.sources:
        for warning in source.warnings:
            st.err.print(f"warning: {source.source}: {warning}", highlight=False, markup=False)


def _table(report: StoreStatus) -> Table:
    table = Table(title=f"Store: {report.store}")
    for col in COLUMNS:
        table.add_column(col, justify="right" if col in NUMERIC else "left")
    for s in report.sources:
        outcome = s.outcome or "-"
        if s.error:
            outcome = f"{outcome}: {s.error}"
        table.add_row(
            s.source if s.configured else f"{s.source} (not configured)",
            s.kind or "-",
            s.last_run.isoformat()[:19] if s.last_run else "-",
            outcome,
            f"{s.deals:,}",
            f"{s.changed:,}",
            f"{s.rejected:,}",
            s.age,
        )
    return table
