"""``tracker review``: the quarterly review pack (one HTML file and an XLSX workbook)."""

from __future__ import annotations

from pathlib import Path

import typer

from jobs.review import write_review
from tracker.cli.common import state
from tracker.cli.options import local_today


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("review")(review)


def review(
    ctx: typer.Context,
    period: str = typer.Option(
        ..., "--period", "-p", metavar="PERIOD", help="The quarter (or any period) reviewed."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", metavar="DATE", help="Evaluate as of this date (default: today, local)."
    ),
    output: Path = typer.Option(
        Path("."), "--output", "-o", metavar="DIR", help="Where to write.", file_okay=False
    ),
    formats: str = typer.Option(
        "html,xlsx", "--format", "-f", metavar="FORMATS", help="html, xlsx or html,xlsx."
    ),
) -> None:
    """Write review-PERIOD.html (self-contained: opens offline, prints on A4/Letter) and
    review-PERIOD.xlsx: the goal scorecard, trends, teams and owners, the deals that
    mattered, guardrails, next period's suggested levels and the data's quality."""
    st = state(ctx)
    day = local_today(as_of, st.settings.tracker.timezone, flag="--as-of")
    written = write_review(
        st.settings, st.store(ready=False), period, day, output, formats.split(",")
    )
    for path in written.paths:
        typer.echo(str(path))
