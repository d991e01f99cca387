"""``tracker doctor``: a checklist, one line each, with the fix for each failure."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import typer

from jobs.doctor import doctor as run_doctor
from tracker.checks import DoctorReport, render_text
from tracker.cli.common import state
from tracker.doctor import config_failure
from tracker.errors import ConfigError, UsageError
from tracker.wording import unknown_name

FORMATS = ("text", "json")


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("doctor")(doctor)


def doctor(
    ctx: typer.Context,
    output_format: str = typer.Option("text", "--format", metavar="FORMAT", help="text or json."),
) -> None:
    """Check the configuration, the store, each source's credentials, API budget and mapped
    fields, SMTP (no mail sent), the schedule, the scheduler, data freshness and the goals:
    one line each, with the fix for each failure. Exit 1 on any failure, 2 when the
    configuration cannot be read."""
    output_format = output_format.strip().lower()
    if output_format not in FORMATS:
        raise UsageError(unknown_name("format", output_format, FORMATS))
    st = state(ctx)
    try:
        settings = st.settings
    except ConfigError as exc:
        report = DoctorReport([config_failure(exc, st.config_path)], config_error=True)
    else:
        report = run_doctor(settings, datetime.now(UTC))
    if output_format == "json":
        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        typer.echo(render_text(report), nl=False)
    raise typer.Exit(report.exit_code)
