"""``tracker config show``: the effective settings, secrets redacted."""

from __future__ import annotations

import json

import typer

from tracker.cli.common import state

config_app = typer.Typer(
    help="Inspect the configuration.", no_args_is_help=True, rich_markup_mode=None
)


def register(app: typer.Typer) -> None:
    """Add the command group to ``app``."""
    app.add_typer(config_app, name="config")


@config_app.command("show")
def show(ctx: typer.Context) -> None:
    """Print the effective settings as JSON (defaults filled in, secrets redacted)."""
    st = state(ctx)
    data = {"config_file": str(st.settings.config_path), **st.settings.redacted()}
    st.out.print_json(json.dumps(data, default=str))


@config_app.command("reference")
def reference_cmd() -> None:
    """Print the reference of every configuration key (docs/configuration.md)."""
    from connectors.registry import settings_models
    from tracker.config_reference import reference

    typer.echo(reference(settings_models()), nl=False)
