"""``tracker sandbox serve``: the built-in CRM sandbox, standalone, for trying tracker out."""

from __future__ import annotations

import sys

import typer

from tracker.cli.common import state
from tracker.errors import UsageError

FAULTS_HELP = (
    "Faults to inject: rules separated by ';', each KIND[@API[.ENDPOINT]][,OPT...]. "
    "KIND: 429, 500, 503, expire (401 session expired), daily (daily API limit), drop "
    "(connection closed), slow, or a data change during the sync: update, delete, "
    "undelete, late, samestamp, harddelete, merge. API: salesforce|sf|hubspot|hs. "
    "OPT: after=N, every=N, times=N, p=F, retry_after=S (429), delay=S (slow), n=N (data "
    "kinds). Example: '429@hubspot,retry_after=1,every=10;500@sf.query,after=2'."
)

sandbox_app = typer.Typer(
    help="The built-in CRM sandbox (Salesforce + HubSpot emulator).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    """Add the command group to ``app``."""
    app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command("serve")
def serve(
    ctx: typer.Context,
    port: int = typer.Option(
        8765, metavar="PORT", help="Loopback port to listen on (0: any free port)."
    ),
    deals: int = typer.Option(
        2000, metavar="N", help="Deals to generate (100 to 1,000,000), deleted ones included."
    ),
    seed: int = typer.Option(
        7, metavar="SEED", help="Seed of the generated data (same seed, same data)."
    ),
    faults: str | None = typer.Option(None, metavar="SPEC", help=FAULTS_HELP),
) -> None:
    """Serve seeded Salesforce and HubSpot APIs on 127.0.0.1 and print a ready-to-paste config."""
    from sandbox.faults import FaultSpecError, parse_spec
    from sandbox.standalone import serve_forever

    if not 100 <= deals <= 1_000_000:
        raise UsageError(f"--deals {deals}: give a number from 100 to 1,000,000")
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port}: give a port from 0 to 65535")
    if faults:
        try:
            parse_spec(faults)
        except FaultSpecError as exc:
            raise UsageError(f"--faults {faults!r}: {exc}") from None
    state(ctx).info(f"generating {deals:,} deals (seed {seed}) ...")
    try:
        serve_forever(port, deals, seed, faults, sys.stdout)
    except OSError as exc:
        raise UsageError(
            f"--port {port}: cannot listen ({exc.strerror}); pick another port"
        ) from None
