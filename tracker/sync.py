"""The sync engine: pulls batches from a source and commits each with its cursor.

A connector (``connectors.base.Connector``) yields ``Batch`` objects; for every batch the
engine writes the records, deletions and the cursor that follows them in ONE transaction,
so a crash (even ``kill -9``) leaves the store at the last committed batch and a rerun
resumes from the cursor saved with it. Each sync is recorded in ``sync_runs``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from tracker.errors import TrackerError
from tracker.locks import LockBusy, source_lock
from tracker.models import SyncCursor, SyncReject, SyncRun
from tracker.money import UnconvertedDeals
from tracker.records import Batch, JsonDict, RejectedRow
from tracker.store import Store
from tracker.writer import BatchWriter, WriteCounts

log = logging.getLogger(__name__)
OpenBatches = Callable[[JsonDict | None], Iterator[Batch]]
MAX_REJECTS_KEPT = 50

_runs = SyncRun.__table__  # type: ignore[attr-defined]
_cursors = SyncCursor.__table__  # type: ignore[attr-defined]
_rejects = SyncReject.__table__  # type: ignore[attr-defined]


@dataclass
class Progress:
    """Reported after every committed batch."""

    source: str
    records: int  # deal rows handled (stored or rejected), comparable to expected_total
    expected_total: int | None
    elapsed: float

    @property
    def total(self) -> int | None:
        """The total to show: the estimate, raised to ``records`` when a run handles more
        (deals re-read after a Bulk backfill, deals created during the run)."""
        return None if self.expected_total is None else max(self.expected_total, self.records)

    @property
    def rate(self) -> float:
        """Deal rows per second so far."""
        return self.records / self.elapsed if self.elapsed > 0 else 0.0


@dataclass
class SyncResult:
    """How one source's sync ended."""

    source: str
    outcome: str  # ok | partial | failed | stopped | interrupted | skipped | dry-run
    counts: WriteCounts = field(default_factory=WriteCounts)
    records: int = 0
    api_calls: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    rejected_total: int = 0
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unconverted: dict[str, int] = field(default_factory=dict)
    """Currency → live deals received without a reporting amount (no rate for it)."""
    _unconverted: UnconvertedDeals = field(
        default_factory=UnconvertedDeals, init=False, repr=False, compare=False
    )
    error: str | None = None
    exit_code: int = 0
    seconds: float = 0.0
    run_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        """The counts as stored with the sync run."""
        return {
            "records": self.records,
            "api_calls": self.api_calls,
            "received": self.counts.received,
            "changed": self.counts.changed,
            "inserted": self.counts.inserted,
            "deleted": self.counts.deleted,
            "activities_deleted": self.counts.activities_deleted,
            "rejected": self.rejected_total,
            "rejected_examples": [str(r) for r in self.rejected[:MAX_REJECTS_KEPT]],
            "notes": self.notes,
            "warnings": self.warnings,
            "unconverted": self.unconverted,
        }


@dataclass
class SyncSummary:
    """The results of one ``tracker sync`` over several sources, and how it exits.

    Exit codes: 0 every source synced; 3 some synced and others failed, stopped or had
    rows rejected; when none synced, the code they share (2: configuration), else 1.
    """

    results: list[SyncResult]
    dry_run: bool = False

    @property
    def exit_code(self) -> int:
        """The process exit code of the whole run."""
        codes = [r.exit_code for r in self.results]
        if all(code == 0 for code in codes):
            return 0
        if any(code == 0 for code in codes):
            return 3
        distinct = set(codes)
        return distinct.pop() if len(distinct) == 1 else 1

    @property
    def outcome(self) -> str:
        """``ok``, ``partial``, ``config error`` or ``failed``, from the exit code."""
        return {0: "ok", 2: "config error", 3: "partial"}.get(self.exit_code, "failed")


def now_utc() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def load_cursor(conn: Connection, source: str) -> JsonDict | None:
    """The cursor saved for ``source``, or ``None`` before its first sync."""
    row = conn.execute(select(_cursors.c.value).where(_cursors.c.source == source)).first()
    return dict(row[0]) if row is not None else None


def save_cursor(conn: Connection, source: str, value: JsonDict) -> None:
    """Save ``source``'s cursor in the caller's transaction."""
    stamp = now_utc()
    done = conn.execute(
        update(_cursors).where(_cursors.c.source == source).values(value=value, updated_at=stamp)
    )
    if done.rowcount == 0:
        conn.execute(_cursors.insert().values(source=source, value=value, updated_at=stamp))


def run_sync(
    store: Store,
    source: str,
    kind: str,
    open_batches: OpenBatches,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    dry_run: bool = False,
    wait: bool = False,
) -> SyncResult:
    """Sync one source; never raises a ``TrackerError`` (it is reported in the result).

    Outcomes: ``ok``; ``partial`` (rows rejected, exit 3); ``stopped`` (API budget spent,
    exit 3); ``failed``; ``interrupted`` (a stop was requested: see ``request_stop``);
    ``skipped`` (another process syncs the source and ``wait`` is off: exit 0, the error
    names the holder). With ``dry_run`` every batch is written and rolled back: the counts
    say what would change, and nothing (no cursor, no sync run) is kept; its exit code is
    the real sync's (3 with rejected rows). Every rejected row is kept in ``sync_rejects``
    with the batch it came in.
    """
    try:
        with source_lock(store, source, wait=wait):
            return _run_locked(store, source, kind, open_batches, on_progress, dry_run)
    except LockBusy as busy:
        error = f"already being synced ({busy.who()}); skipped, `tracker sync --wait` waits"
        return SyncResult(source=source, outcome="skipped", error=error)
    except TrackerError as exc:  # the store is unusable
        return SyncResult(source=source, outcome="failed", error=str(exc), exit_code=exc.exit_code)


_STOP = threading.Event()
STOPPED = "stopped on request after a committed batch; the next run continues from its cursor"


def request_stop() -> None:
    """Ask running syncs (any thread) to stop after committing their current batch."""
    _STOP.set()


def clear_stop() -> None:
    """Forget an earlier ``request_stop`` (before a new run)."""
    _STOP.clear()


def stop_requested() -> bool:
    """Whether a stop was requested."""
    return _STOP.is_set()


def _run_locked(
    store: Store,
    source: str,
    kind: str,
    open_batches: OpenBatches,
    on_progress: Callable[[Progress], None] | None,
    dry_run: bool,
) -> SyncResult:
    result = SyncResult(source=source, outcome="dry-run" if dry_run else "ok")
    started = time.monotonic()
    run_id = None if dry_run else _start_run(store, source, kind)
    result.run_id = run_id
    try:
        with store.engine.connect() as conn:
            cursor = load_cursor(conn, source)
        stream = open_batches(cursor)
        try:
            for batch in stream:
                _commit_batch(store, source, batch, result, run_id, dry_run)
                if on_progress is not None:
                    handled = result.counts.received.get("deals", 0) + result.rejected_total
                    elapsed = time.monotonic() - started
                    on_progress(Progress(source, handled, batch.expected_total, elapsed))
                if _STOP.is_set():
                    result.outcome, result.error, result.exit_code = "interrupted", STOPPED, 1
                    break
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        if result.outcome != "interrupted" and result.rejected_total:
            result.exit_code = 3
            if not dry_run:
                result.outcome = "partial"
    except TrackerError as exc:
        log.debug("sync of %s ended on an error", source, exc_info=True)  # --verbose shows it
        result.outcome = "stopped" if exc.exit_code == 3 else "failed"
        result.error = str(exc)
        result.exit_code = exc.exit_code
    except KeyboardInterrupt:
        result.outcome = "interrupted"
        result.error = "interrupted"
        _finish_run(store, run_id, result, started)
        raise
    except Exception as exc:
        result.outcome = "failed"
        result.error = f"internal error: {type(exc).__name__}"
        _finish_run(store, run_id, result, started)
        raise
    _finish_run(store, run_id, result, started)
    return result


def _commit_batch(
    store: Store,
    source: str,
    batch: Batch,
    result: SyncResult,
    run_id: int | None,
    dry_run: bool,
) -> None:
    stamp = now_utc()
    conn = store.engine.connect()
    if store.dialect == "sqlite":  # the batch reads, then writes: take the write lock first
        conn = conn.execution_options(sqlite_immediate=True)
    try:
        trans = conn.begin()
        counts = BatchWriter(conn, source).write(batch, stamp)
        result.counts.merge(counts)
        result.records += batch.record_count
        result.api_calls += batch.api_calls
        result.rejected_total += len(batch.rejected)
        result.rejected.extend(batch.rejected[: max(0, MAX_REJECTS_KEPT - len(result.rejected))])
        result.notes.extend(batch.notes)
        result.warnings.extend(batch.warnings)
        result.unconverted = result._unconverted.add(batch.deals)
        if dry_run:
            trans.rollback()
            return
        if batch.cursor is not None:
            save_cursor(conn, source, batch.cursor)
        if run_id is not None:
            if batch.rejected:
                conn.execute(
                    _rejects.insert(),
                    [
                        {
                            "run_id": run_id,
                            "source": source,
                            "location": r.location,
                            "reason": r.reason,
                            "external_id": r.external_id,
                        }
                        for r in batch.rejected
                    ],
                )
            conn.execute(update(_runs).where(_runs.c.id == run_id).values(counts=result.as_json()))
        trans.commit()
    finally:
        conn.close()


def _start_run(store: Store, source: str, kind: str) -> int:
    with store.engine.begin() as conn:
        # a run still "running" under our lock was cut short by a crash
        conn.execute(
            update(_runs)
            .where(_runs.c.source == source, _runs.c.outcome == "running")
            .values(outcome="interrupted", error="the process ended before the sync finished")
        )
        inserted = conn.execute(
            _runs.insert().values(
                source=source, kind=kind, started_at=now_utc(), outcome="running", counts={}
            )
        )
        key = inserted.inserted_primary_key
        assert key is not None
        return int(key[0])


def _finish_run(store: Store, run_id: int | None, result: SyncResult, started: float) -> None:
    result.seconds = time.monotonic() - started
    if run_id is None:
        return
    with store.engine.begin() as conn:
        conn.execute(
            update(_runs)
            .where(_runs.c.id == run_id)
            .values(
                finished_at=now_utc(),
                outcome=result.outcome,
                counts=result.as_json(),
                error=result.error,
            )
        )
