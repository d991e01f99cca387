"""``tracker scheduler list`` (each scheduled job, its trigger and next runs) and
``tracker scheduler run`` (the foreground scheduler, or a standby)."""

from __future__ import annotations

import logging
import signal
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import typer

from jobs.daemon import Daemon
from jobs.scheduler import next_runs, planned_jobs
from tracker.cli.common import state
from tracker.errors import ConfigError
from tracker.signals import stop_on_signals

log = logging.getLogger("tracker.scheduler")
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


@scheduler_app.command("run")
def run(ctx: typer.Context) -> None:
    """Run the schedule in the foreground (for systemd and containers).

    One scheduler is active per store: a second one says which is active (host, pid,
    since) and waits as a standby, taking over within a minute when that one stops or
    dies. SIGTERM/SIGINT: no new job starts, a running sync stops after its current batch,
    the lease is released, exit 0.
    """
    st = state(ctx)
    settings = st.settings
    if not planned_jobs(settings):
        where = settings.config_path or "the config"
        raise ConfigError(f"no job scheduled in {where}: add a [schedule] table")
    if not (st.verbose or st.quiet):
        logging.getLogger().setLevel(logging.INFO)
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    store = st.store()

    def say(line: str) -> None:
        if st.log_format == "json":  # everything on stderr is then one JSON object a line
            log.info(line)
        else:
            typer.echo(line, err=True)

    daemon = Daemon(settings, store, say=say)

    def stopping(signum: int) -> None:
        say(f"{signal.Signals(signum).name}: stopping (a running sync ends after its batch)")
        daemon.stop()

    with stop_on_signals(stopping):
        daemon.run()
