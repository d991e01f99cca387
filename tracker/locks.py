"""Named locks shared by every process (and thread) using the same store.

One writer per source (``source_lock``) and one schema migration at a time
(``named_lock(store, "schema-migration")``).

PostgreSQL: a session-level advisory lock (works across hosts sharing the database).
SQLite: ``flock`` on a file in ``<database>.locks/`` beside the database. ``flock`` locks
belong to the open file, so two threads of one process exclude each other as well.
A lock held elsewhere fails fast for a sync (``source_lock``) and waits for a migration.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import make_url

from tracker.errors import SourceError

if TYPE_CHECKING:
    from tracker.store import Store


class LockBusy(Exception):
    """The lock is held by someone else (only raised with ``wait=False``)."""


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha1(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def named_lock(store: Store, name: str, *, wait: bool = True) -> Iterator[None]:
    """Hold the store-wide lock ``name`` for the duration of the block."""
    if store.dialect == "postgresql":
        key = {"k": _key(name)}
        with store.engine.connect() as conn:
            if wait:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), key)
            elif not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), key).scalar():
                raise LockBusy(name)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), key)
                conn.commit()
        return
    database = make_url(store.url).database
    if not database or database == ":memory:":
        yield
        return
    folder = Path(database + ".locks")
    folder.mkdir(exist_ok=True)
    path = folder / f"{hashlib.sha1(name.encode()).hexdigest()[:16]}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockBusy(name) from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def source_lock(store: Store, source: str) -> Iterator[None]:
    """The writer lock of ``source``; a ``SourceError`` at once when another sync holds it."""
    try:
        with named_lock(store, f"sync:{source}", wait=False):
            yield
    except LockBusy:
        raise SourceError(
            f"another sync of source {source!r} is running; wait for it to finish and retry"
        ) from None
