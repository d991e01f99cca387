"""Shared fixtures: stores on every database, settings, sample exports.

The store fixtures run each test on a SQLite file in ``tmp_path`` and, when
``TRACKER_TEST_DATABASE_URL`` is set, on PostgreSQL too (each test in its own schema,
dropped afterwards). Without that variable the PostgreSQL cases are skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from connectors.registry import settings_models
from tests.secret_scan import SecretScan
from tracker import writer
from tracker.settings import Settings, settings_from_dict
from tracker.store import Store

PG_ENV = "TRACKER_TEST_DATABASE_URL"


@pytest.fixture(autouse=True)
def _fresh_writer_statements() -> None:
    """Every test builds the writer's SQL, row builders and JSON texts again.

    ``writer._prepare`` caches them per table and dialect, ``_JSON_CACHE`` the encoded
    custom fields; under ``make mutate`` a cache filled before the mutant was switched on
    would hide every mutant of ``insert_sql``, ``upsert_sql``, ``Dialect`` and
    ``_sqlite_json`` (docs/mutation.md). Clearing costs microseconds.
    """
    writer._prepare.cache_clear()
    writer._text_columns.cache_clear()
    writer._JSON_CACHE.clear()


def _pg_schema_url(base: str, schema: str) -> str:
    url = make_url(base)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: a SQLite file, then a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{PG_ENV} is not set in CI: the PostgreSQL cases must run there")
        pytest.skip(f"{PG_ENV} is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield _pg_schema_url(base, schema)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated, empty store on each database."""
    s = Store(store_url)
    s.ensure_ready()
    yield s
    s.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty SQLite store (for tests about files and CLI wiring)."""
    s = Store(f"sqlite:///{tmp_path / 'tracker.db'}")
    s.ensure_ready()
    yield s
    s.close()


@pytest.fixture
def settings_factory(tmp_path: Path) -> Callable[..., Settings]:
    """Build validated ``Settings`` from a dict (as parsed TOML), relative to ``tmp_path``.

    ``settings_factory({"store": {...}}, timezone="Europe/Berlin")``: keyword arguments
    override keys of ``[tracker]``.
    """

    def make(raw: dict[str, Any] | None = None, **tracker: Any) -> Settings:
        data = dict(raw or {})
        if tracker:
            data["tracker"] = {**data.get("tracker", {}), **tracker}
        return settings_from_dict(data, base_dir=tmp_path, source_models=settings_models())

    return make


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line for the PostgreSQL cases skipped without a server (not one per test)."""
    skipped = terminalreporter.stats.get("skipped", [])
    on_pg = [r for r in skipped if f"{PG_ENV} is not set" in str(getattr(r, "longrepr", ""))]
    if on_pg:
        terminalreporter.write_line(
            f"{len(on_pg)} PostgreSQL cases skipped: set {PG_ENV} to run them "
            "(.ci/run does when a server answers on 127.0.0.1:5432)"
        )


SCAN = SecretScan()
"""Secrets found in what the suite printed, logged or wrote (tests/secret_scan.py)."""
_invoke = CliRunner.invoke


def _scanned_invoke(self: CliRunner, *args: Any, **kwargs: Any) -> Result:
    """``CliRunner.invoke``, with what the command printed added to the scan."""
    result = _invoke(self, *args, **kwargs)
    test = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0]
    SCAN.text(f"{test} (command output)", result.output)
    return result


CliRunner.invoke = _scanned_invoke  # type: ignore[method-assign]


IN_WORKER = False
"""Set at configure time: this process is a pytest-xdist worker (``make test`` runs the
suite on several), not its controller, nor a pytest a test starts (which inherits the
worker's environment)."""


def pytest_configure(config: pytest.Config) -> None:
    """Note whether this process is a pytest-xdist worker."""
    global IN_WORKER
    IN_WORKER = hasattr(config, "workerinput")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Scan each test's captured stdout, stderr and log records.

    Under pytest-xdist the controller sees every worker's reports, sections included,
    and scans them there; a worker scans only what the controller cannot see (command
    output, through ``CliRunner.invoke``) and hands its hits over when it ends.
    """
    if IN_WORKER:
        return
    for title, content in report.sections:
        SCAN.text(f"{report.nodeid} ({title})", content)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Scan every file the session wrote; any secret found fails the session.

    A worker hands its hits to the controller (``workeroutput``), whose temporary
    folder holds the workers' folders: the controller scans the files once, for all.
    """
    if IN_WORKER:
        session.config.workeroutput["secret_hits"] = list(SCAN.hits)  # type: ignore[attr-defined]
        return
    factory = getattr(session.config, "_tmp_path_factory", None)
    files = SCAN.folder(factory.getbasetemp()) if factory is not None else 0
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"secret scan: {files} files and every test's output read")
    if SCAN.hits:
        if reporter is not None:
            for hit in SCAN.hits[:50]:
                reporter.write_line(f"secret scan: {hit}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: a worker ended; add the secrets it found to the controller's scan."""
    SCAN.hits.extend(getattr(node, "workeroutput", {}).get("secret_hits", []))
