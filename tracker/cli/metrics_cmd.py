"""``tracker metrics``: compute metrics for periods and scopes; table, JSON or CSV."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from tracker.cli.common import AppState, state
from tracker.errors import TrackerError, UsageError
from tracker.metrics import REGISTRY, check_dimension
from tracker.metrics.compute import build_request, parse_filter
from tracker.metrics.frame import DIMENSIONS
from tracker.metrics.load import build_report
from tracker.metrics.report import Report
from tracker.periods import PERIOD_FORMS
from tracker.reports.metrics import FORMATS, check_format, to_csv, to_json, to_table
from tracker.snapshots import load_snapshot, save_snapshot


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("metrics")(metrics)


def _today(text: str | None, now: datetime, timezone: str) -> date:
    if text is None:
        return now.astimezone(ZoneInfo(timezone)).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"bad --today '{text}': write a date as YYYY-MM-DD") from None


def metrics(
    ctx: typer.Context,
    period: list[str] | None = typer.Option(
        None, "--period", "-p", help=f"Period (repeatable; default this-quarter): {PERIOD_FORMS}."
    ),
    by: list[str] | None = typer.Option(
        None, "--by", help=f"Break down by (repeatable): {', '.join(DIMENSIONS)}."
    ),
    metric: list[str] | None = typer.Option(
        None,
        "--metric",
        "-m",
        help=f"Metric (repeatable; default all): {', '.join(REGISTRY.names())}.",
    ),
    filters: list[str] | None = typer.Option(
        None, "--filter", help="Keep deals with DIMENSION=VALUE (repeatable; same dimension: any)."
    ),
    fmt: str = typer.Option("table", "--format", "-f", help=f"Output: {', '.join(FORMATS)}."),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write to FILE instead of stdout.", dir_okay=False
    ),
    save: bool = typer.Option(False, "--save", help="Also store the rows as a snapshot."),
    today: str | None = typer.Option(
        None, "--today", help="Evaluation date for relative periods (default: today, local)."
    ),
    reported_at: str | None = typer.Option(
        None,
        "--reported-at",
        help="Show the saved snapshot current at this date/time (local) instead of computing.",
    ),
) -> None:
    """Compute sales metrics (revenue, win rate, cycle, margin...) per period and scope."""
    check_format(fmt)
    for name in metric or []:
        REGISTRY.get(name)
    for name in by or []:
        check_dimension(name)
    for text in filters or []:
        parse_filter(text)
    st = state(ctx)
    settings = st.settings
    if reported_at is not None:
        at = _moment(reported_at, settings.tracker.timezone)
        saved = load_snapshot(st.store().engine, at=at)
        if saved is None:
            raise TrackerError(f"no metrics snapshot was saved at or before {at.isoformat()}")
        if metric:
            saved = replace(saved, rows=[r for r in saved.rows if r.metric in metric])
        _emit(st, saved, fmt, output, settings.tracker.currency)
        return
    now = datetime.now(UTC)
    request = build_request(
        periods=period or [],
        today=_today(today, now, settings.tracker.timezone),
        fiscal_year_start_month=settings.tracker.fiscal_year_start_month,
        metrics=metric or [],
        by=by or [],
        filters=filters or [],
    )
    store = st.store()
    report = build_report(
        store.engine,
        request,
        timezone=settings.tracker.timezone,
        currency=settings.tracker.currency,
        generated_at=now,
    )
    if save:
        snapshot = save_snapshot(store.engine, report)
        st.info(f"saved snapshot {snapshot} ({len(report.rows)} rows)")
    _emit(st, report, fmt, output, settings.tracker.currency)


def _moment(text: str, timezone: str) -> datetime:
    """A local date (its end) or date-time as an aware instant."""
    try:
        if len(text.strip()) == 10:
            day = date.fromisoformat(text.strip())
            moment = datetime.combine(day, time.max)
        else:
            moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"bad --reported-at '{text}': write YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment


def _emit(st: AppState, report: Report, fmt: str, output: Path | None, currency: str) -> None:
    if fmt == "json":
        text = to_json(report)
    elif fmt == "csv":
        text = to_csv(report)
    else:
        table = to_table(report, currency)
        if output is None:
            st.out.print(table)
            return
        console = Console(record=True, width=120, file=io.StringIO())
        console.print(table)
        text = console.export_text()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        st.info(f"wrote {len(report.rows)} rows to {output}")
