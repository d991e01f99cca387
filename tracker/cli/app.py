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
from importlib.metadata import version
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from tracker.cli.common import AppState
from tracker.errors import TrackerError, UsageError
from tracker.logs import setup_logging
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
            typer.echo(f"error: {_usage_message(exc)}", err=True)
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


#: options of ``tracker`` itself, which must come before the command
GLOBAL_OPTIONS = frozenset(
    {"--config", "-c", "--verbose", "-v", "--quiet", "-q", "--version", "--log-format"}
)

EXIT_CODES = (
    "Exit codes: 0 ok; 1 error; 2 usage or configuration error; 3 partial (some sources "
    "failed, stopped on their API budget or had rows rejected while the rest synced)."
)


def _usage_message(exc: Any) -> str:
    """A usage error as one line: a global option after the command says where it goes."""
    from typer._click.exceptions import NoSuchOption

    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, NoSuchOption) and exc.option_name in GLOBAL_OPTIONS:
        command = ctx.command_path if ctx is not None else "tracker COMMAND"
        return (
            f"{exc.option_name} is an option of tracker itself: put it before the command "
            f"(tracker {exc.option_name} ... {command.removeprefix('tracker ')})"
        )
    hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    return f"{exc.format_message()}{hint}"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tracker {version('tracker')}")
        raise typer.Exit()


app = typer.Typer(
    cls=TrackerGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
    help="Sync deals from your CRMs, compute sales metrics and compare them with goals.",
    epilog=EXIT_CODES,
)


@app.callback()
def _global_options(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        metavar="FILE",
        help="Config file (default: $TRACKER_CONFIG, else ./tracker.toml).",
        dir_okay=False,
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logs and tracebacks."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only errors and results."),
    log_format: str = typer.Option(
        "human",
        "--log-format",
        metavar="FORMAT",
        help="Logs on stderr: human, or json (one object per line, with job and source).",
    ),
    _show_version: bool = typer.Option(
        False,
        "--version",
        callback=_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Sync deals from your CRMs, compute sales metrics and compare them with goals."""
    log_format = log_format.strip().lower()
    ctx.obj = AppState(config=config, verbose=verbose, quiet=quiet, log_format=log_format)
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING
    try:
        setup_logging(level, log_format, CurrentStderrHandler())
    except UsageError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    for chatty in ("matplotlib", "PIL"):  # font and image decoding internals, even with -v
        logging.getLogger(chatty).setLevel(max(level, logging.INFO))


class CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Logs to ``sys.stderr`` as it is when a record is written, not as it was at set-up:
    a command run in-process (the demo, a test's runner) swaps stderr and closes it after,
    and later records must not go to that closed stream."""

    @property
    def stream(self) -> Any:
        """The current ``sys.stderr``."""
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass  # set by StreamHandler.__init__; always the current sys.stderr instead


def _register() -> None:
    from tracker.cli import (
        config_cmd,
        db_cmd,
        demo_cmd,
        doctor_cmd,
        email_cmd,
        goals_cmd,
        init_cmd,
        metrics_cmd,
        report_cmd,
        review_cmd,
        sandbox_cmd,
        scheduler_cmd,
        source_cmd,
        status_cmd,
        sync_cmd,
    )

    for module in (
        init_cmd,
        sync_cmd,
        status_cmd,
        doctor_cmd,
        metrics_cmd,
        report_cmd,
        goals_cmd,
        email_cmd,
        review_cmd,
        config_cmd,
        db_cmd,
        source_cmd,
        sandbox_cmd,
        scheduler_cmd,
        demo_cmd,
    ):
        module.register(app)


_register()


def main() -> None:
    """Console-script entry point."""
    tune_gc_for_batch_work()
    sys.exit(app(prog_name="tracker"))
