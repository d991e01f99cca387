"""``tracker demo``: the whole product on the built-in CRM sandbox (what ``make demo`` runs)."""

from __future__ import annotations

from pathlib import Path

import typer

from jobs.demo import DEMO_DEALS
from jobs.demo import main as run_demo


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("demo")(demo)


def demo(
    folder: Path = typer.Argument(
        Path(".demo"), metavar="FOLDER", help="Where the demo writes (emptied first)."
    ),
    deals: int = typer.Option(
        DEMO_DEALS, "--deals", metavar="N", min=100, max=1_000_000, help="Deals in the sandbox."
    ),
) -> None:
    """Start the CRM sandbox, sync it, set goals on its data, report, check them, write
    and send the managers' digests, and print what to try next. No credentials needed."""
    raise typer.Exit(run_demo(folder, deals=deals))
