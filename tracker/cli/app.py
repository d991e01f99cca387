"""The ``tracker`` command: a thin Typer layer over the library.

Expected errors (``TrackerError``) print one line on stderr and exit with their code
(2 usage/configuration, 1 error, 3 partial); ``--verbose`` adds the traceback. Rich's
traceback with locals is never used: it would print tokens.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from tracker.cli.common import AppState
from tracker.errors import TrackerError
from tracker.runtime import tune_gc_for_batch_work


class TrackerGroup(TyperGroup):
    """Turns ``TrackerError`` and usage errors into one line on stderr and an exit code."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Like click's ``main``, but a usage error is one line (with a --help hint)."""
        from typer._click.exceptions import ClickException, NoArgsIsHelpError

        kwargs.update(
            args=args,
            prog_name=prog_name,
            complete_var=complete_var,
            windows_expand_args=windows_expand_args,
        )
        if not standalone_mode:
            return super().main(standalone_mode=False, **kwargs)
        try:
            code = super().main(standalone_mode=False, **kwargs)
        except NoArgsIsHelpError as exc:
            exc.show()
            sys.exit(0)
        except ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
            typer.echo(f"error: {exc.format_message()}{hint}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("aborted", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except TrackerError as exc:
            obj = ctx.obj
            if isinstance(obj, AppState) and obj.verbose:
                traceback.print_exc()
            typer.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


app = typer.Typer(
    cls=TrackerGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    help="Sync deals from your CRMs, compute sales metrics and compare them with goals.",
)


@app.callback()
def _global_options(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        help="Config file (default: $TRACKER_CONFIG, else ./tracker.toml).",
        dir_okay=False,
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logs and tracebacks."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors and results."),
) -> None:
    """Sync deals from your CRMs, compute sales metrics and compare them with goals."""
    ctx.obj = AppState(config=config, verbose=verbose, quiet=quiet)
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)


def _register() -> None:
    from tracker.cli import (
        config_cmd,
        db_cmd,
        init_cmd,
        metrics_cmd,
        sandbox_cmd,
        status_cmd,
        sync_cmd,
    )

    for module in (init_cmd, sync_cmd, status_cmd, metrics_cmd, config_cmd, db_cmd, sandbox_cmd):
        module.register(app)


_register()


def main() -> None:
    """Console-script entry point."""
    tune_gc_for_batch_work()
    sys.exit(app(prog_name="tracker"))
