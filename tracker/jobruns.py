"""Job history, the active scheduler's heartbeat and alert state (tables of migration 0008).

Written by the scheduler (``jobs/``), read by ``tracker status`` and ``tracker doctor``.
Every write commits at once, so a run killed mid-way stays visible as ``running``.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.exc import IntegrityError

from tracker.models import Alert, SchedulerHeartbeat
from tracker.models import JobRun as JobRunRow

if TYPE_CHECKING:
    from tracker.store import Store

OUTCOMES = ("running", "ok", "partial", "failed", "skipped", "interrupted")


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


_RUNS = _table(JobRunRow)
_BEAT = _table(SchedulerHeartbeat)
_ALERTS = _table(Alert)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def one_line(text: str, limit: int = 1000) -> str:
    """``text`` on one line, at most ``limit`` characters."""
    return " ".join(text.split())[:limit]


@dataclass(frozen=True)
class JobRun:
    """One recorded job run (times in UTC)."""

    id: int
    job_id: str
    kind: str
    source: str | None
    slot: datetime
    started_at: datetime
    ended_at: datetime | None
    outcome: str
    error: str | None
    counts: dict[str, Any] | None
    host: str
    pid: int


@dataclass(frozen=True)
class Heartbeat:
    """The scheduler holding the store's lease: where, since when, last beat (UTC)."""

    host: str
    pid: int
    since: datetime
    beat_at: datetime


@dataclass(frozen=True)
class AlertState:
    """One alert: open while ``cleared_at`` is ``None``."""

    key: str
    raised_at: datetime
    mailed_at: datetime | None
    cleared_at: datetime | None
    detail: str


def record_start(store: Store, job_id: str, kind: str, source: str | None, slot: datetime) -> int:
    """Record a job run starting now for ``slot`` (its scheduled fire time); its id."""
    values = {
        "job_id": job_id,
        "kind": kind,
        "source": source,
        "slot": slot.astimezone(UTC),
        "started_at": _now(),
        "outcome": "running",
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }
    with store.engine.begin() as conn:
        key = conn.execute(insert(_RUNS).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def record_end(
    store: Store,
    run_id: int,
    outcome: str,
    error: str | None = None,
    counts: dict[str, Any] | None = None,
) -> None:
    """Record how run ``run_id`` ended (``outcome`` one of ``OUTCOMES``)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown job outcome {outcome!r}")
    values: dict[str, Any] = {
        "outcome": outcome,
        "ended_at": _now(),
        "error": one_line(error) if error else None,
        "counts": counts,
    }
    with store.engine.begin() as conn:
        conn.execute(update(_RUNS).where(_RUNS.c.id == run_id).values(**values))


def _run(row: Any) -> JobRun:
    m = row._mapping
    return JobRun(
        id=m["id"],
        job_id=m["job_id"],
        kind=m["kind"],
        source=m["source"],
        slot=cast(datetime, _aware(m["slot"])),
        started_at=cast(datetime, _aware(m["started_at"])),
        ended_at=_aware(m["ended_at"]),
        outcome=m["outcome"],
        error=m["error"],
        counts=m["counts"],
        host=m["host"],
        pid=m["pid"],
    )


def recent_runs(store: Store, job_id: str | None = None, limit: int = 20) -> list[JobRun]:
    """The newest runs (of one job), newest first."""
    query = select(_RUNS).order_by(_RUNS.c.id.desc()).limit(limit)
    if job_id is not None:
        query = query.where(_RUNS.c.job_id == job_id)
    with store.engine.connect() as conn:
        return [_run(r) for r in conn.execute(query)]


def last_runs(store: Store) -> dict[str, JobRun]:
    """The newest run of every job id."""
    newest = select(_RUNS.c.job_id, _RUNS.c.id).order_by(_RUNS.c.id.desc())
    out: dict[str, JobRun] = {}
    with store.engine.connect() as conn:
        ids: dict[str, int] = {}
        for job_id, run_id in conn.execute(newest):
            ids.setdefault(job_id, run_id)
        if ids:
            for row in conn.execute(select(_RUNS).where(_RUNS.c.id.in_(ids.values()))):
                run = _run(row)
                out[run.job_id] = run
    return out


def consecutive_failures(store: Store, job_id: str) -> int:
    """How many of the job's newest finished runs failed in a row (running/skipped ignored)."""
    query = (
        select(_RUNS.c.outcome)
        .where(_RUNS.c.job_id == job_id, _RUNS.c.outcome.notin_(("running", "skipped")))
        .order_by(_RUNS.c.id.desc())
    )
    count = 0
    with store.engine.connect() as conn:
        for (outcome,) in conn.execute(query):
            if outcome != "failed":
                break
            count += 1
    return count


def heartbeat(store: Store) -> Heartbeat | None:
    """The active scheduler's heartbeat row, ``None`` if no scheduler ever ran."""
    with store.engine.connect() as conn:
        row = conn.execute(select(_BEAT).where(_BEAT.c.id == 1)).first()
    if row is None:
        return None
    m = row._mapping
    return Heartbeat(
        m["host"],
        m["pid"],
        cast(datetime, _aware(m["since"])),
        cast(datetime, _aware(m["beat_at"])),
    )


def beat(store: Store, host: str, pid: int, since: datetime) -> None:
    """Write the heartbeat of the scheduler ``host``/``pid`` active ``since`` (now)."""
    values = {"host": host, "pid": pid, "since": since.astimezone(UTC), "beat_at": _now()}
    with store.engine.begin() as conn:
        done = conn.execute(update(_BEAT).where(_BEAT.c.id == 1).values(**values)).rowcount
        if not done:
            conn.execute(insert(_BEAT).values(id=1, **values))


def _alert(row: Any) -> AlertState:
    m = row._mapping
    return AlertState(
        m["key"],
        cast(datetime, _aware(m["raised_at"])),
        _aware(m["mailed_at"]),
        _aware(m["cleared_at"]),
        m["detail"],
    )


def open_alert(store: Store, key: str, detail: str) -> bool:
    """Raise alert ``key``; ``True`` when newly raised (not open already), so mail it once.

    Safe under concurrency: of several processes raising it at once, one gets ``True``."""
    detail = one_line(detail, 2000)
    try:
        with store.writing() as conn:
            query = select(_ALERTS.c.cleared_at).where(_ALERTS.c.key == key).with_for_update()
            row = conn.execute(query).first()
            where = _ALERTS.c.key == key
            if row is not None and row.cleared_at is None:
                conn.execute(update(_ALERTS).where(where).values(detail=detail))
                return False
            fresh = {"raised_at": _now(), "mailed_at": None, "cleared_at": None, "detail": detail}
            if row is not None:
                conn.execute(update(_ALERTS).where(where).values(**fresh))
            else:
                conn.execute(insert(_ALERTS).values(key=key, **fresh))
    except IntegrityError:  # raised by another process between our read and our insert
        return False
    return True


def mark_mailed(store: Store, key: str) -> None:
    """Record that the open alert ``key`` was mailed."""
    with store.engine.begin() as conn:
        conn.execute(update(_ALERTS).where(_ALERTS.c.key == key).values(mailed_at=_now()))


def clear_alert(store: Store, key: str) -> bool:
    """Clear alert ``key``; ``True`` when it was open."""
    with store.engine.begin() as conn:
        done = conn.execute(
            update(_ALERTS)
            .where(_ALERTS.c.key == key, _ALERTS.c.cleared_at.is_(None))
            .values(cleared_at=_now())
        ).rowcount
    return bool(done)


def open_alerts(store: Store) -> list[AlertState]:
    """Every open alert, oldest first."""
    query = select(_ALERTS).where(_ALERTS.c.cleared_at.is_(None)).order_by(_ALERTS.c.raised_at)
    with store.engine.connect() as conn:
        return [_alert(r) for r in conn.execute(query)]
