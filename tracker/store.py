"""The local SQL store: engine set-up, schema revisions (Alembic) and read helpers.

SQLite (WAL) is the embedded default; PostgreSQL when a team outgrows one file. The schema
only changes through the migrations in ``tracker/migrations``: ``Store.upgrade`` applies
them, ``Store.ensure_ready`` upgrades a brand-new database and refuses an outdated one.
Writes of synced data go through ``tracker.writer`` (bulk upserts, atomic batches).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, MetaData, create_engine, event, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel

from tracker.errors import StoreError

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
SOURCE_COUNT_KEYS = ("deals_live", "deals_deleted", "accounts", "owners", "line_items")
#: every table holding rows of one source, children first
SOURCE_TABLES = (
    "line_items",
    "deals",
    "accounts",
    "owners",
    "sync_cursors",
    "sync_rejects",
    "sync_runs",
)


def metadata() -> MetaData:
    """The metadata of every table the store holds (imports the model module)."""
    import tracker.models  # noqa: F401

    return SQLModel.metadata


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # SQLAlchemy's pysqlite recipe: the driver stops managing transactions itself and
    # SQLAlchemy emits BEGIN (see _sqlite_begin), so DDL in migrations is transactional too
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get("sqlite_immediate")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_store_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and a created parent folder."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database
        if db and db != ":memory:":
            folder = Path(db).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the store folder {folder}: {exc.strerror}; check [store] url"
                ) from None
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


class Store:
    """A handle on one database: its engine and its schema revision."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_store_engine(url)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        """The URL with any password hidden, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A connection in a transaction that will write after reading: on SQLite it takes
        the write lock at once (``BEGIN IMMEDIATE``, waiting up to the busy timeout), so a
        concurrent writer cannot make its read snapshot stale mid-way."""
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn = conn.execution_options(sqlite_immediate=True)
            with conn.begin():
                yield conn

    # ------------------------------------------------------------ revisions

    def _alembic_config(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        return cfg

    def head_revision(self) -> str:
        """The newest revision this version of tracker knows."""
        head = ScriptDirectory.from_config(self._alembic_config()).get_current_head()
        assert head is not None
        return head

    def current_revision(self) -> str | None:
        """The revision the database is at, ``None`` for a database never migrated."""
        try:
            with self.engine.connect() as conn:
                return MigrationContext.configure(conn).get_current_revision()
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot open the store at {self.display_url}: {_reason(exc)}"
            ) from None

    def known_revisions(self) -> set[str]:
        """Every revision this version of tracker knows."""
        script = ScriptDirectory.from_config(self._alembic_config())
        return {s.revision for s in script.walk_revisions()}

    def upgrade(self) -> tuple[str | None, str]:
        """Apply every pending migration; returns (revision before, revision after).

        Serialised by a lock in the database (or beside a SQLite file), so two processes
        starting on a new database do not both create it; DDL runs in one transaction.
        """
        from tracker.locks import named_lock

        head = self.head_revision()
        with named_lock(self, "schema-migration"):
            before = self.current_revision()
            if before is not None and before not in self.known_revisions():
                raise self._newer_error(before)
            if before == head:
                return before, head
            cfg = self._alembic_config()
            try:
                with self.writing() as conn:  # two processes migrating: one waits
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
            except (SQLAlchemyError, CommandError) as exc:
                reason = _reason(exc) if isinstance(exc, SQLAlchemyError) else str(exc)
                raise StoreError(
                    f"migrating the store at {self.display_url} failed: {reason}"
                ) from None
        return before, head

    def _newer_error(self, current: str) -> StoreError:
        return StoreError(
            f"the store at {self.display_url} is at revision {current}, newer than this "
            f"tracker knows ({self.head_revision()}): upgrade tracker"
        )

    def ensure_ready(self) -> None:
        """Upgrade a brand-new database; refuse one at another revision with a hint."""
        current = self.current_revision()
        head = self.head_revision()
        if current == head:
            return
        if current is None:
            try:
                with self.engine.connect() as conn:
                    tables = set(inspect(conn).get_table_names()) & set(metadata().tables)
            except SQLAlchemyError as exc:
                raise StoreError(
                    f"cannot read the store at {self.display_url}: {_reason(exc)}"
                ) from None
            if tables:
                raise StoreError(
                    f"the store at {self.display_url} has tracker tables but no schema "
                    "revision; point [store] url at a fresh database"
                )
            log.info("creating the store schema at %s", self.display_url)
            self.upgrade()
            return
        if current not in self.known_revisions():
            raise self._newer_error(current)
        raise StoreError(
            f"the store at {self.display_url} is at revision {current} but this tracker needs "
            f"{head}: run `tracker db upgrade`"
        )

    # ------------------------------------------------------------ reads

    def last_runs(self) -> list[dict[str, Any]]:
        """The newest sync run of every source, as plain dicts."""
        from tracker.models import SyncRun

        table = SyncRun.__table__  # type: ignore[attr-defined]
        newest = select(func.max(table.c.id)).group_by(table.c.source)
        with self.engine.connect() as conn:
            rows = conn.execute(select(table).where(table.c.id.in_(newest))).mappings()
            return [dict(row) for row in rows]

    def last_success(self) -> dict[str, datetime]:
        """When each source last finished a sync that stored its data (its "as of")."""
        return last_successful_syncs(self.engine)

    def last_rejects(self, source: str) -> list[dict[str, Any]]:
        """Every row the newest sync run of ``source`` rejected: location, reason, id."""
        from tracker.models import SyncReject, SyncRun

        runs = SyncRun.__table__  # type: ignore[attr-defined]
        rejects = SyncReject.__table__  # type: ignore[attr-defined]
        newest = select(func.max(runs.c.id)).where(runs.c.source == source).scalar_subquery()
        query = (
            select(rejects.c.location, rejects.c.reason, rejects.c.external_id)
            .where(rejects.c.run_id == newest)
            .order_by(rejects.c.id)
        )
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def people(self, sources: list[str]) -> list[dict[str, Any]]:
        """The owners (CRM users) of ``sources``: ids, name, email, manager, team."""
        from tracker.models import Owner

        owners = Owner.__table__  # type: ignore[attr-defined]
        query = (
            select(
                owners.c.source,
                owners.c.external_id,
                owners.c.name,
                owners.c.email,
                owners.c.manager_external_id,
                owners.c.team,
                owners.c.is_active,
            )
            .where(owners.c.source.in_(sources))
            .order_by(owners.c.id)
        )
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def top_deals(
        self, sources: list[str], start: date, end: date, *, won: bool, limit: int
    ) -> list[dict[str, Any]]:
        """The largest won (or lost) live deals closed in ``start``..``end``, by amount in
        the reporting currency, with their owner's and account's names."""
        from tracker.models import Account, Deal, Owner

        deals = Deal.__table__  # type: ignore[attr-defined]
        owners = Owner.__table__  # type: ignore[attr-defined]
        accounts = Account.__table__  # type: ignore[attr-defined]
        query = (
            select(
                deals.c.source,
                deals.c.external_id,
                deals.c.name,
                owners.c.name.label("owner"),
                accounts.c.name.label("account"),
                deals.c.amount_reporting,
                deals.c.amount,
                deals.c.list_amount,
                deals.c.created_at,
                deals.c.close_date,
            )
            .select_from(
                deals.outerjoin(
                    owners,
                    (owners.c.source == deals.c.source)
                    & (owners.c.external_id == deals.c.owner_external_id),
                ).outerjoin(
                    accounts,
                    (accounts.c.source == deals.c.source)
                    & (accounts.c.external_id == deals.c.account_external_id),
                )
            )
            .where(
                deals.c.source.in_(sources),
                deals.c.is_deleted.is_(False),
                deals.c.is_closed.is_(True),
                deals.c.is_won.is_(won),
                deals.c.close_date >= start,
                deals.c.close_date <= end,
                deals.c.amount_reporting.is_not(None),
            )
            .order_by(deals.c.amount_reporting.desc(), deals.c.external_id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def live_deal_ids(self, source: str) -> frozenset[str]:
        """External ids of the source's deals not marked deleted."""
        from tracker.models import Deal

        deals = Deal.__table__  # type: ignore[attr-defined]
        query = select(deals.c.external_id).where(
            deals.c.source == source, deals.c.is_deleted.is_(False)
        )
        with self.engine.connect() as conn:
            return frozenset(row[0] for row in conn.execute(query))

    def source_counts(self) -> dict[str, dict[str, int]]:
        """source → rows it holds: ``deals_live``, ``deals_deleted``, ``accounts``,
        ``owners``, ``line_items`` (live ones), for every source with any row."""
        out: dict[str, dict[str, int]] = {}

        def add(source: str, key: str, n: int) -> None:
            out.setdefault(source, dict.fromkeys(SOURCE_COUNT_KEYS, 0))[key] += int(n)

        with self.engine.connect() as conn:
            deals = conn.exec_driver_sql(
                "SELECT source, is_deleted, count(*) FROM deals GROUP BY source, is_deleted"
            )
            for source, deleted, n in deals:
                add(source, "deals_deleted" if deleted else "deals_live", n)
            for table, live in (
                ("accounts", "WHERE NOT is_deleted"),
                ("owners", ""),
                ("line_items", "WHERE NOT is_deleted"),
            ):
                rows = conn.exec_driver_sql(
                    f"SELECT source, count(*) FROM {table} {live} GROUP BY source"
                )
                for source, n in rows:
                    add(source, table, n)
        return out

    def drop_source(self, source: str) -> dict[str, int]:
        """Delete every row of ``source`` (records, cursor, runs) in one transaction, while
        holding its sync lock; returns the rows deleted per table."""
        from tracker.locks import LockBusy, busy_error, source_lock

        deleted: dict[str, int] = {}
        try:
            with source_lock(self, source), self.engine.begin() as conn:
                for table in SOURCE_TABLES:
                    result = conn.exec_driver_sql(
                        f"DELETE FROM {table} WHERE source = {self._placeholder}", (source,)
                    )
                    deleted[table] = max(result.rowcount, 0)
        except LockBusy as busy:
            raise busy_error(source, busy) from None
        return deleted

    @property
    def _placeholder(self) -> str:
        return "?" if self.engine.dialect.name == "sqlite" else "%s"


def last_successful_syncs(engine: Engine) -> dict[str, datetime]:
    """source → end of its last sync that stored data (outcome ok or partial), aware UTC."""
    from tracker.models import SyncRun

    runs = SyncRun.__table__  # type: ignore[attr-defined]
    query = (
        select(runs.c.source, func.max(runs.c.finished_at))
        .where(runs.c.outcome.in_(("ok", "partial")))
        .group_by(runs.c.source)
        .order_by(runs.c.source)
    )
    with engine.connect() as conn:
        found = conn.execute(query).all()
    return {
        source: finished if finished.tzinfo else finished.replace(tzinfo=UTC)
        for source, finished in found
        if finished is not None
    }


def _reason(exc: SQLAlchemyError) -> str:
    """The driver's own message, first line only (never the SQL or its parameters)."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
