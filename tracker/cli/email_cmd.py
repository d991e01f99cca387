"""``tracker email``: each manager's variance digest, sent once per period and slot."""

from __future__ import annotations

from pathlib import Path

import typer

from jobs.digests import DigestQuery, DigestRun, Outcome, send_digests
from tracker.cli.common import AppState, state
from tracker.cli.options import local_today
from tracker.wording import plural

SAID = {
    "sent": "sent",
    "written": "wrote",
    "failed": "FAILED",
    "uncertain": "delivery uncertain",
    "already_sent": "already sent (--resend sends again)",
    "still_uncertain": "delivery uncertain in an earlier run: not re-sent (--resend sends again)",
    "no_goals": "no goals concern this address: nothing to send",
}


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("email")(email)


def _line(outcome: Outcome) -> str:
    text = f"{SAID[outcome.status]}: {outcome.recipient}"
    if outcome.goals:
        text += f" ({plural(outcome.goals, 'goal')})"
    if outcome.path is not None:
        text += f" → {outcome.path}"
    if outcome.error:
        text += f": {outcome.error}"
    return text


def _summary(st: AppState, run: DigestRun) -> None:
    for source in run.stale:
        st.info(f"warning: {source.source}: {source.problem}")
    if run.withheld:
        typer.echo(
            "withheld: no digest sent because some data is stale (withhold_on_stale = true); "
            "sync the sources named above, then run again",
            err=True,
        )
        return
    if run.unaddressed:
        st.info(
            f"warning: nobody to send {plural(len(run.unaddressed), 'goal')} to "
            f"({', '.join(run.unaddressed[:5])}{', ...' if len(run.unaddressed) > 5 else ''}): "
            "set the goal's notify or [email] default_to"
        )
    counts = [
        f"{run.count(status)} {word}"
        for status, word in (
            ("sent", "sent"),
            ("written", "written"),
            ("already_sent", "already sent"),
            ("failed", "failed"),
            ("uncertain", "uncertain"),
            ("still_uncertain", "uncertain before"),
        )
        if run.count(status)
    ]
    typer.echo(f"digests for {run.slot}: {', '.join(counts) or 'nothing to send'}")


def email(
    ctx: typer.Context,
    period: str | None = typer.Option(
        None, "--period", "-p", metavar="PERIOD", help="The goals of this period."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", metavar="DATE", help="Evaluate as of this date (default: today, local)."
    ),
    to: list[str] = typer.Option(
        [], "--to", metavar="ADDR", help="Only these recipients (repeatable)."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Write .eml files to the outbox; send nothing."
    ),
    outbox: Path = typer.Option(
        Path("outbox"), "--outbox", metavar="DIR", help="Where --dry-run writes.", file_okay=False
    ),
    resend: bool = typer.Option(
        False, "--resend", help="Send again to recipients already sent (or uncertain)."
    ),
) -> None:
    """Email each recipient the goals that concern them, once per period and as-of date.

    Exit 0 when all went out, 3 when some recipients failed (they are listed), 1 when
    withheld for stale data or the SMTP server cannot be used."""
    st = state(ctx)
    day = local_today(as_of, st.settings.tracker.timezone, flag="--as-of")
    query = DigestQuery(period=period, to=to, dry_run=dry_run, outbox=outbox, resend=resend)
    quiet_ok = ("sent", "written", "already_sent")

    def said(outcome: Outcome) -> None:
        if outcome.status not in quiet_ok or st.verbose:
            typer.echo(_line(outcome), err=outcome.status not in quiet_ok)

    run = send_digests(st.settings, st.store(ready=False), day, query, on_outcome=said)
    _summary(st, run)
    raise typer.Exit(run.exit_code)
