"""``tracker status``: per source, what the store holds, then its last sync and warnings."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import typer
from rich.table import Table
from rich.text import Text

from jobs.scheduler import next_runs, planned_jobs
from tracker.cli.common import AppState, state
from tracker.errors import UsageError
from tracker.jobruns import heartbeat
from tracker.status import (
    MailStatus,
    RunStatus,
    ScheduleStatus,
    SourceStatus,
    build_status,
    schedule_status,
)
from tracker.wording import plural, unknown_name

FORMATS = ("table", "json")


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("status")(status)


def status(
    ctx: typer.Context,
    output_format: str = typer.Option("table", "--format", metavar="FORMAT", help="table or json."),
    rejects: str | None = typer.Option(
        None,
        "--rejects",
        metavar="SOURCE",
        help="List every row the last sync of SOURCE rejected, with file:line and reason.",
    ),
) -> None:
    """Show, per source: the deals, accounts, owners and line items the store holds, then
    the last sync (when, outcome, what it changed), the age of the data and any warning;
    the last digest sent; each scheduled job's next and last run, and failing jobs."""
    output_format = output_format.strip().lower()
    if output_format not in FORMATS:
        raise UsageError(unknown_name("format", output_format, FORMATS))
    st = state(ctx)
    if rejects is not None:
        _print_rejects(st, rejects, output_format)
        return
    now = datetime.now(UTC)
    store = st.store()
    report = build_status(st.settings, store, now)
    planned = [
        (job.id, job.cron, next(iter(next_runs(job, now, 1)), None))
        for job in planned_jobs(st.settings)
    ]
    if planned or heartbeat(store) is not None:
        report = replace(report, schedule=schedule_status(store, planned, st.settings.tracker.tz))
    if output_format == "json":
        st.out.print_json(json.dumps(report.as_json()))
        return
    st.out.print(
        f"Store {report.store} (times in {report.timezone})", highlight=False, markup=False
    )
    for source in report.sources:
        configured = "" if source.configured else ", not in the config"
        st.out.print()
        st.out.print(
            f"{source.source} ({source.kind or '?'}{configured})", markup=False, style="bold"
        )
        st.out.print(_block(source))
    _print_mail(st, report.mail)
    if report.schedule is not None:
        _print_schedule(st, report.schedule)


def _print_schedule(st: AppState, schedule: ScheduleStatus) -> None:
    st.out.print()
    st.out.print("schedule", style="bold")
    active = schedule.active
    if active is None:
        st.out.print("  scheduler: never ran (`tracker scheduler run`)", highlight=False)
    else:
        beat = _when_exact(datetime.fromisoformat(active["heartbeat_at"]))
        since = _when_exact(datetime.fromisoformat(active["since"]))
        st.out.print(
            f"  scheduler: host {active['host']}, pid {active['pid']}, since {since}; "
            f"last heartbeat {beat}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    for job in schedule.jobs:
        nxt = _when_exact(job.next_run) if job.next_run else "none"
        run = job.last_run
        last = "never ran" if run is None else f"{_when_exact(run.started_at)}: {run.outcome}"
        st.out.print(
            f"  {job.job_id} ({job.cron}): next {nxt}; last {last}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    for job in schedule.failing:
        run = job.last_run
        reason = run.error if run is not None and run.error else "no reason recorded"
        st.out.print(
            f"  failing: {job.job_id} failed {plural(job.failures, 'time')} in a row: {reason}",
            style="bold yellow",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


def _print_mail(st: AppState, mail: MailStatus) -> None:
    if mail.last_sent is None and not mail.uncertain:
        return
    st.out.print()
    st.out.print("mail", style="bold")
    if mail.last_sent is not None:
        sent = mail.last_sent
        st.out.print(
            f"  last digest sent: {sent['period']} (as of {sent['slot']}) to "
            f"{sent['recipient']} at {_when_exact(sent['finished_at'])}",
            highlight=False,
            markup=False,
        )
    for row in mail.uncertain:
        st.out.print(
            f"  delivery uncertain: {row['recipient']} ({row['period']}, as of {row['slot']}, "
            f"started {_when_exact(row['started_at'])}): check that mailbox, then "
            f"`tracker email --resend --to {row['recipient']} --as-of {row['slot']}` "
            "if it never arrived",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M %z")


def _when_exact(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S %z")


def _holds(holds: dict[str, int]) -> str:
    return (
        f"{plural(holds['deals_live'], 'deal')} ({holds['deals_deleted']:,} deleted), "
        f"{plural(holds['accounts'], 'account')}, {plural(holds['owners'], 'owner')}, "
        f"{plural(holds['line_items'], 'line item')}"
    )


def _changes(run: RunStatus) -> str:
    rows = (
        f"{run.inserted:,} rows new, {run.updated:,} updated"
        if run.inserted is not None and run.updated is not None
        else "rows changed not recorded"
    )
    return (
        f"{plural(run.deals_received, 'deal')} read; {rows}; {run.deleted:,} deals deleted, "
        f"{run.rejected:,} rejected, {run.unconverted:,} unconverted"
    )


def _block(source: SourceStatus) -> Table:
    """One source as labelled lines: what the store holds, the last sync, the data's age."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("  holds", Text(_holds(source.holds)))
    run = source.last_run
    if run is None:
        grid.add_row("  last sync", "never synced")
    else:
        grid.add_row("  last sync", Text(f"{_when(run.started_at)}: {run.outcome}"))
        grid.add_row("  changes", Text(_changes(run)))
    good = f" (last good sync {_when(source.last_success)})" if source.last_success else ""
    grid.add_row("  data age", Text(f"{source.age}{good}"))
    for warning in source.warnings:
        grid.add_row(Text("  warning", style="bold yellow"), Text(warning))
    for note in source.notes:
        grid.add_row("  note", Text(note))
    return grid


def _print_rejects(st: AppState, source: str, output_format: str) -> None:
    store = st.store()
    found = store.last_rejects(source)
    if output_format == "json":
        st.out.print_json(json.dumps({"source": source, "rejected": found}))
        return
    if not found:
        known = {r["source"] for r in store.last_runs()}
        if source not in known:
            raise UsageError(unknown_name("source", source, sorted(known)))
        st.out.print(f"the last sync of {source} rejected no row", highlight=False)
        return
    for item in found:
        typer.echo(f"{item['location']}: {item['reason']}")
