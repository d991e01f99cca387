"""``tracker scheduler list``: each scheduled job, its trigger and its next runs."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import typer

from jobs.scheduler import next_runs, planned_jobs
from tracker.cli.common import state

scheduler_app = typer.Typer(
    help="The schedule of [schedule] (docs/operations.md).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    """Add the command group to ``app``."""
    app.add_typer(scheduler_app, name="scheduler")


@scheduler_app.command("list")
def list_jobs(
    ctx: typer.Context,
    count: int = typer.Option(3, "--next", metavar="N", min=1, max=50, help="Runs to show."),
) -> None:
    """Each job of [schedule], its cron trigger and its next runs in local time."""
    st = state(ctx)
    settings = st.settings
    jobs = planned_jobs(settings)
    zone = settings.schedule.zone(settings.tracker)
    if not jobs:
        typer.echo("no job scheduled: add a [schedule] table (docs/operations.md)")
        return
    now = datetime.now(UTC)
    for job in jobs:
        runs = ", ".join(
            f"{r.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M %Z}" for r in next_runs(job, now, count)
        )
        typer.echo(f"{job.id:<24} {job.cron:<16} ({zone})  next: {runs}")
