"""Named locks shared by every process (and thread) using the same store.

One writer per source (``source_lock``), one schema migration at a time
(``named_lock(store, "schema-migration")``) and one active scheduler (``"scheduler"``).

PostgreSQL: a session-level advisory lock on a dedicated connection (works across hosts
sharing the database; the server releases it when the holder's connection ends, kill -9
included). Its key is derived from the database, the schema and the name, so stores in
two schemas of one database do not share locks. The holder names itself in the
connection's ``application_name`` (read back from ``pg_stat_activity``).
SQLite: ``flock`` on a file in ``<database>.locks/`` beside the database; the holder
writes its host, pid and start time into the file. ``flock`` locks belong to the open
file, so two threads of one process exclude each other as well; the OS releases them
when the process dies.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from tracker.errors import SourceError

if TYPE_CHECKING:
    from tracker.store import Store

_APP_PREFIX = "tracker-lock "


@dataclass(frozen=True)
class LockHolder:
    """Who holds a lock: host, process id and since when (UTC)."""

    host: str
    pid: int
    since: datetime | None

    def describe(self) -> str:
        """``host web-1, pid 4711, since 2026-12-05 07:00:00 UTC``."""
        when = f", since {self.since:%Y-%m-%d %H:%M:%S %Z}" if self.since else ""
        return f"host {self.host}, pid {self.pid}{when}"


class LockBusy(Exception):
    """The lock is held by someone else (only raised with ``wait=False``)."""

    def __init__(self, name: str, holder: LockHolder | None = None) -> None:
        super().__init__(name)
        self.name = name
        self.holder = holder

    def who(self) -> str:
        """The holder in words, or that it is not known."""
        return self.holder.describe() if self.holder else "holder unknown"


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha1(name.encode()).digest()[:8], "big", signed=True)


def _pg_key(conn: Connection, name: str) -> int:
    database, schema = conn.execute(text("SELECT current_database(), current_schema()")).one()
    return _key(f"{database}/{schema}/{name}")


def _me() -> LockHolder:
    return LockHolder(socket.gethostname(), os.getpid(), datetime.now(UTC).replace(microsecond=0))


def _pg_holder(conn: Connection, key: int) -> LockHolder | None:
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    row = conn.execute(
        text(
            "SELECT a.application_name, a.backend_start FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid::bigint = :hi AND l.objid::bigint = :lo LIMIT 1"
        ),
        {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF},
    ).first()
    if row is None:
        return None
    app, started = row
    parts = (app or "").removeprefix(_APP_PREFIX).rsplit(" ", 1)
    if not (app or "").startswith(_APP_PREFIX) or len(parts) != 2 or not parts[1].isdigit():
        return LockHolder("unknown host (not a tracker process)", 0, started)
    return LockHolder(parts[0], int(parts[1]), started)


def _lock_file(store: Store, name: str) -> Path | None:
    database = make_url(store.url).database
    if not database or database == ":memory:":
        return None
    folder = Path(database + ".locks")
    folder.mkdir(exist_ok=True)
    return folder / f"{hashlib.sha1(name.encode()).hexdigest()[:16]}.lock"


def _file_holder(path: Path) -> LockHolder | None:
    try:
        host, pid, since = path.read_text(encoding="utf-8").strip().split("\t")
        return LockHolder(host, int(pid), datetime.fromisoformat(since))
    except (OSError, ValueError):
        return None


@contextmanager
def named_lock(store: Store, name: str, *, wait: bool = True) -> Iterator[LockHolder]:
    """Hold the store-wide lock ``name`` for the duration of the block (yields who holds
    it: this process); ``LockBusy`` naming the holder with ``wait=False`` when taken."""
    me = _me()
    if store.dialect == "postgresql":
        with store.engine.connect() as conn:
            key = {"k": _pg_key(conn, name)}
            label = f"{_APP_PREFIX}{me.host[:40]} {me.pid}"
            conn.execute(text("SELECT set_config('application_name', :a, false)"), {"a": label})
            if wait:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), key)
            elif not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), key).scalar():
                holder = _pg_holder(conn, key["k"])
                conn.rollback()
                raise LockBusy(name, holder)
            conn.commit()
            try:
                yield me
            finally:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), key)
                    conn.execute(text("SELECT set_config('application_name', '', false)"))
                    conn.commit()
                except SQLAlchemyError:  # the connection ended: the server released the lock
                    conn.invalidate()
        return
    path = _lock_file(store, name)
    if path is None:
        yield me
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockBusy(name, _file_holder(path)) from None
        try:
            os.ftruncate(fd, 0)
            stamp = me.since.isoformat() if me.since else ""
            os.pwrite(fd, f"{me.host}\t{me.pid}\t{stamp}\n".encode(), 0)
            yield me
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def lock_holder(store: Store, name: str) -> LockHolder | None:
    """Who holds lock ``name`` now (``None``: nobody, or not known)."""
    if store.dialect == "postgresql":
        with store.engine.connect() as conn:
            return _pg_holder(conn, _pg_key(conn, name))
    path = _lock_file(store, name)
    if path is None or not path.exists():
        return None
    fd = os.open(path, os.O_RDWR)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _file_holder(path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def source_lock_name(source: str) -> str:
    """The name of source ``source``'s writer lock."""
    return f"sync:{source}"


@contextmanager
def source_lock(store: Store, source: str, *, wait: bool = False) -> Iterator[None]:
    """The writer lock of ``source``: with ``wait`` until it is free, else ``LockBusy``
    naming the holder at once when another sync holds it."""
    with named_lock(store, source_lock_name(source), wait=wait):
        yield


def busy_error(source: str, busy: LockBusy) -> SourceError:
    """The one-line error for a sync refused because ``source`` is busy."""
    return SourceError(
        f"another sync of source {source!r} is running ({busy.who()}); wait for it to finish "
        "and retry"
    )
