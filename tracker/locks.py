"""One writer per source: a lock held for the whole sync of a source.

PostgreSQL: a session-level advisory lock (works across hosts sharing the database).
SQLite: a byte-range lock in a ``<database>.sync.lock`` file beside the database.
Either way a second sync of the same source fails fast with a clear message, while syncs
of different sources may run side by side.
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


def _key(source: str) -> int:
    return int.from_bytes(hashlib.sha1(source.encode()).digest()[:8], "big", signed=True)


def _busy(source: str) -> SourceError:
    return SourceError(
        f"another sync of source {source!r} is running; wait for it to finish and retry"
    )


@contextmanager
def source_lock(store: Store, source: str) -> Iterator[None]:
    """Hold the writer lock of ``source`` for the duration of the block."""
    if store.dialect == "postgresql":
        with store.engine.connect() as conn:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _key(source)})
            if not got.scalar():
                raise _busy(source)
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _key(source)})
                conn.commit()
        return
    database = make_url(store.url).database
    if not database or database == ":memory:":
        yield
        return
    path = Path(database + ".sync.lock")
    offset = _key(source) % (2**31)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
        except OSError:
            raise _busy(source) from None
        try:
            yield
        finally:
            fcntl.lockf(fd, fcntl.LOCK_UN, 1, offset)
    finally:
        os.close(fd)
