"""``tracker sandbox serve``: the built-in CRM sandbox, standalone, for trying tracker out."""

from __future__ import annotations

import sys

import typer

from tracker.cli.common import state
from tracker.errors import UsageError

sandbox_app = typer.Typer(
    help="The built-in CRM sandbox (Salesforce + HubSpot emulator).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add the command group to ``app``."""
    app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command("serve")
def serve(
    ctx: typer.Context,
    port: int = typer.Option(8765, help="Loopback port to listen on (0: any free port)."),
    deals: int = typer.Option(2000, help="Deals to generate (100 to 1,000,000)."),
    seed: int = typer.Option(7, help="Seed of the generated data (same seed, same data)."),
    faults: str | None = typer.Option(
        None,
        help="Faults to inject, e.g. '429@hubspot,retry_after=1,every=10' "
        "(grammar: connectors/sandbox/faults.py).",
    ),
) -> None:
    """Serve seeded Salesforce and HubSpot APIs on 127.0.0.1 and print a ready-to-paste config."""
    from connectors.sandbox.faults import FaultSpecError, parse_spec
    from connectors.sandbox.standalone import serve_forever

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
