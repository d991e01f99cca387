"""``tracker metrics``: compute metrics for periods and scopes; table, JSON or CSV."""

from __future__ import annotations

import io
from pathlib import Path

import typer
from rich.console import Console

from jobs import tasks
from tracker.cli.common import AppState, state, warn_orphans
from tracker.cli.options import OUTPUT, local_moment, local_today
from tracker.metrics import REGISTRY, check_dimension
from tracker.metrics.compute import parse_filter
from tracker.metrics.frame import DIMENSIONS
from tracker.metrics.report import Report
from tracker.periods import PERIOD_FORMS
from tracker.reports.metrics import FORMATS, check_format, to_csv, to_json, to_table
from tracker.reports.pivot import pivot_tables
from tracker.wording import plural


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("metrics")(metrics)


PERIODS = typer.Option(
    None,
    "--period",
    "-p",
    metavar="PERIOD",
    help=f"Period (repeatable; default this-quarter): {PERIOD_FORMS}.",
)
BY = typer.Option(
    None,
    "--by",
    metavar="DIMENSION",
    help=f"Break down by (repeatable, crossed): {', '.join(DIMENSIONS)}.",
)
METRICS = typer.Option(
    None,
    "--metric",
    "-m",
    metavar="METRIC",
    help=(
        "Metric (repeatable; default all, the activity ones once activities are synced): "
        f"{', '.join(REGISTRY.names())}."
    ),
)
FILTERS = typer.Option(
    None,
    "--filter",
    metavar="DIMENSION=VALUE",
    help="Keep deals with DIMENSION=VALUE (repeatable; same dimension: any).",
)
FORMAT = typer.Option(
    "table", "--format", "-f", metavar="FORMAT", help=f"Output: {', '.join(FORMATS)}."
)
SAVE = typer.Option(False, "--save", help="Also store the rows as a snapshot.")
TODAY = typer.Option(
    None, "--today", metavar="DATE", help="Evaluation date for relative periods (default: today)."
)
DETAIL = typer.Option(False, "--detail", help="One line per value, with n (deals) and coverage.")
REPORTED_AT = typer.Option(
    None,
    "--reported-at",
    metavar="WHEN",
    help="Show the saved snapshot current at this date/time (local) instead of computing.",
)


def metrics(
    ctx: typer.Context,
    period: list[str] | None = PERIODS,
    by: list[str] | None = BY,
    metric: list[str] | None = METRICS,
    filters: list[str] | None = FILTERS,
    fmt: str = FORMAT,
    output: Path | None = OUTPUT,
    save: bool = SAVE,
    today: str | None = TODAY,
    detail: bool = DETAIL,
    reported_at: str | None = REPORTED_AT,
) -> None:
    """Compute sales metrics (revenue, win rate, cycle, margin...) per period and scope."""
    fmt = check_format(fmt)
    metric = [REGISTRY.get(name).name for name in metric or []]
    by = [check_dimension(name) for name in by or []]
    for text in filters or []:
        parse_filter(text)
    st = state(ctx)
    zone = st.settings.tracker.timezone
    warn_orphans(st)
    if reported_at is not None:
        at = local_moment(reported_at, zone, flag="--reported-at")
        report = tasks.saved_report(st.store(), at, metric)
    else:
        query = tasks.MetricsQuery(period or [], metric, by, filters or [])
        day = local_today(today, zone)
        if save:
            kept = tasks.snapshot(st.settings, st.store(), day, query)
            report = kept.report
            st.info(f"saved snapshot {kept.snapshot_id} ({plural(len(report.rows), 'row')})")
        else:
            report = tasks.metrics_report(st.settings, st.store(), day, query)
    _emit(st, report, fmt, output, detail)


def _emit(st: AppState, report: Report, fmt: str, output: Path | None, detail: bool) -> None:
    if fmt == "json":
        text = to_json(report)
    elif fmt == "csv":
        text = to_csv(report)
    else:
        if not detail and tasks.live_deals(st.settings, st.store()) == 0:
            st.err.print("no deals yet: run `tracker sync`", highlight=False, markup=False)
            return
        # fit a terminal's width; files and pipes get 80 columns
        width = st.out.width if output is None and st.out.is_terminal else 80
        console = Console(record=True, width=width, file=io.StringIO())
        tables = (
            [to_table(report, st.settings.tracker.currency)]
            if detail
            else (pivot_tables(report, st.settings.tracker.currency, width))
        )
        for table in tables:
            console.print(table)
        text = console.export_text()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        st.info(f"wrote {plural(len(report.rows), 'row')} to {output}")
