"""``tracker goals check`` (the SMART linter) and ``tracker goals suggest``."""

from __future__ import annotations

from pathlib import Path

import typer

from jobs import tasks
from tracker.cli.common import state
from tracker.cli.options import OUTPUT, local_today
from tracker.cli.report_cmd import emit
from tracker.errors import UsageError
from tracker.metrics import REGISTRY
from tracker.reports.goal_check import CHECK_FORMATS, counts, render_check
from tracker.reports.goal_suggest import to_quotas_csv, to_toml
from tracker.wording import plural, unknown_name

goals_app = typer.Typer(
    help="Check goals against the data; suggest new ones.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
AS_OF = typer.Option(
    None, "--as-of", metavar="DATE", help="As of this date (default: today, local)."
)


def register(app: typer.Typer) -> None:
    """Add the command group to ``app``."""
    app.add_typer(goals_app, name="goals")


@goals_app.command("check")
def check(
    ctx: typer.Context,
    period: str | None = typer.Option(
        None, "--period", "-p", metavar="PERIOD", help="Only this period's goals."
    ),
    as_of: str | None = AS_OF,
    fmt: str = typer.Option("table", "--format", "-f", metavar="FORMAT", help="table or json."),
) -> None:
    """Lint every goal against the data (specific, measurable, achievable, relevant,
    time-bound, rollups): one line per error or warning; exit 1 on errors."""
    if fmt.strip().lower() not in CHECK_FORMATS:
        raise UsageError(unknown_name("format", fmt, CHECK_FORMATS))
    st = state(ctx)
    day = local_today(as_of, st.settings.tracker.timezone, flag="--as-of")
    report = tasks.goals_check(st.settings, st.store(ready=False), day, period=period)
    typer.echo(render_check(report, fmt.strip().lower()), nl=False)
    if counts(report)[0]:
        raise typer.Exit(1)


@goals_app.command("suggest")
def suggest(
    ctx: typer.Context,
    metric: str = typer.Option(
        ..., "--metric", "-m", metavar="METRIC", help=f"One of {', '.join(REGISTRY.names())}."
    ),
    scope: list[str] | None = typer.Option(
        None, "--scope", metavar="DIMENSION=VALUE", help="Scope (repeatable)."
    ),
    period: str | None = typer.Option(
        None, "--period", "-p", metavar="PERIOD", help="Default: next quarter."
    ),
    for_each: str | None = typer.Option(
        None, "--for-each", metavar="owner", help="A quotas CSV, one row per owner."
    ),
    as_of: str | None = AS_OF,
    output: Path | None = OUTPUT,
) -> None:
    """Suggest baseline, target and stretch from history: a [[goals]] table to paste, or a
    quotas CSV with --for-each owner (method: docs/goals.md)."""
    st = state(ctx)
    day = local_today(as_of, st.settings.tracker.timezone, flag="--as-of")
    query = tasks.SuggestQuery(metric, scope or [], period, for_each)
    found, skipped = tasks.goals_suggest(st.settings, st.store(ready=False), day, query)
    if skipped:
        st.info(f"left out for want of history: {', '.join(skipped)}")
    text = to_quotas_csv(found) if for_each else "\n".join(to_toml(s) for s in found)
    emit(st, text, output, plural(len(found), "suggestion"))
