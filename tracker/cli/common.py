"""Shared CLI state: global options, settings loaded once, the store, consoles."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.console import Console

from tracker.logs import hide_secrets
from tracker.settings import DEFAULT_CONFIG_NAME, Settings, load_settings
from tracker.store import Store
from tracker.wording import plural

PIPED_WIDTH = 80  # without a terminal (files, pipes, logs) output fits 80 columns


def _console(*, stderr: bool) -> Console:
    console = Console(stderr=stderr, soft_wrap=True)
    if not console.is_terminal:
        console.width = PIPED_WIDTH
    return console


@dataclass
class AppState:
    """Global options and lazily loaded settings/store, kept in ``ctx.obj``."""

    config: Path | None = None
    verbose: bool = False
    quiet: bool = False
    log_format: str = "human"
    out: Console = field(default_factory=lambda: _console(stderr=False))
    err: Console = field(default_factory=lambda: _console(stderr=True))
    _settings: Settings | None = None
    _store: Store | None = None

    @property
    def config_path(self) -> Path:
        """``--config``, else ``$TRACKER_CONFIG``, else ``./tracker.toml``."""
        if self.config is not None:
            return self.config
        env = os.environ.get("TRACKER_CONFIG")
        return Path(env) if env else Path(DEFAULT_CONFIG_NAME)

    @property
    def settings(self) -> Settings:
        """The validated settings (loaded on first use)."""
        if self._settings is None:
            from connectors.registry import settings_models

            self._settings = load_settings(self.config_path, settings_models())
            hide_secrets(self._settings)
        return self._settings

    def store(self, *, ready: bool = True) -> Store:
        """The store; with ``ready`` a new database is created, an outdated one refused."""
        if self._store is None:
            from jobs.tasks import open_store

            self._store = open_store(self.settings, ready=False)
        if ready:
            self._store.ensure_ready()
        return self._store

    def info(self, message: str) -> None:
        """A progress/info line on stderr unless --quiet."""
        if not self.quiet:
            self.err.print(message, highlight=False)


def state(ctx: typer.Context) -> AppState:
    """The ``AppState`` of the running command."""
    obj = ctx.find_root().obj
    assert isinstance(obj, AppState)
    return obj


def warn_orphans(st: AppState) -> None:
    """One warning line per source with data in the store that the config no longer lists
    (left out of every figure)."""
    from jobs.tasks import orphan_sources

    for name, deals in orphan_sources(st.settings, st.store()).items():
        st.err.print(
            f"warning: source {name!r} is not in the config: {plural(deals, 'deal')} left out "
            f"of metrics; `tracker source drop {name}` deletes them",
            highlight=False,
            markup=False,
        )
