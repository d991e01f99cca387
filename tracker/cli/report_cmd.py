"""``tracker report``: the goals' variance summary, worst first; ``--save`` a check-in."""

from __future__ import annotations

from pathlib import Path

import typer

from jobs import tasks
from tracker.cli.common import AppState, state
from tracker.cli.options import OUTPUT, local_today
from tracker.reports.goals import FORMATS, check_format, render
from tracker.wording import plural


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("report")(report)


def emit(st: AppState, text: str, output: Path | None, what: str) -> None:
    """``text`` to stdout, or to ``output`` with a note on stderr."""
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    st.info(f"wrote {what} to {output}")


def report(
    ctx: typer.Context,
    period: str | None = typer.Option(
        None,
        "--period",
        "-p",
        metavar="PERIOD",
        help="The goals of this period (default: running ones).",
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", metavar="DATE", help="Evaluate as of this date (default: today, local)."
    ),
    fmt: str = typer.Option(
        "table", "--format", "-f", metavar="FORMAT", help=f"Output: {', '.join(FORMATS)}."
    ),
    output: Path | None = OUTPUT,
    save: bool = typer.Option(False, "--save", help="Record this evaluation as a check-in."),
) -> None:
    """Where each goal stands: actual against baseline, target and stretch, pace, pipeline
    coverage, guardrails and the change since the last check-in; worst first."""
    fmt = check_format(fmt)
    st = state(ctx)
    day = local_today(as_of, st.settings.tracker.timezone, flag="--as-of")
    done = tasks.report(st.settings, st.store(ready=False), day, period=period, save=save)
    if done.checkin_id is not None:
        st.info(f"saved check-in {done.checkin_id} ({plural(len(done.report.results), 'goal')})")
    width = st.out.width if output is None and st.out.is_terminal else 80  # files, pipes: 80
    text = render(done.report, fmt, st.settings.tracker.currency, width)
    emit(st, text, output, plural(len(done.report.results), "goal"))
