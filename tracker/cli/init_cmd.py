"""``tracker init``: write a commented starter ``tracker.toml``."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import typer

from tracker.cli.common import state
from tracker.errors import UsageError


def starter_config() -> str:
    """The commented starter configuration (the same text as config.example.toml)."""
    return files("tracker").joinpath("templates/tracker.toml").read_text(encoding="utf-8")


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""
    app.command("init")(init)


def init(
    ctx: typer.Context,
    path: Path | None = typer.Argument(
        None, metavar="PATH", help="Where to write (default: the config path)."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented starter tracker.toml to edit."""
    st = state(ctx)
    target = path or st.config_path
    if target.exists() and not force:
        raise UsageError(f"{target} already exists; pass --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(starter_config(), encoding="utf-8")
    st.out.print(
        f"wrote {target}: edit [sources.*], then run `tracker sync`", markup=False, highlight=False
    )
