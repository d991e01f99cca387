"""The scheduled jobs' bodies: what ``sync``, ``reconcile``, ``snapshot`` and ``digest`` do.

APScheduler pickles a reference to ``run_job`` and its arguments (job kind and source
name: strings only); the running scheduler ``install``s the settings and store the jobs
use. Every run is recorded in ``job_runs`` with its slot (the fire time it was scheduled
for, told by the executor through ``slot_of_this_thread``), and logs with its job and
source named.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jobs import alerts, tasks
from jobs.digests import DigestQuery, send_digests
from tracker.errors import TrackerError
from tracker.jobruns import one_line, record_end, record_start
from tracker.logs import log_context
from tracker.settings import Settings
from tracker.store import Store
from tracker.sync import SyncSummary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobOutcome:
    """How a job run ended: ``ok``, ``partial``, ``failed``, ``skipped`` or ``interrupted``."""

    outcome: str
    error: str | None = None
    counts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Runtime:
    """What the jobs of the running scheduler work with."""

    settings: Settings
    store: Store


_runtime: list[Runtime] = []
_thread = threading.local()


def install(settings: Settings, store: Store) -> None:
    """Give the jobs of this process their settings and store (the scheduler does, once)."""
    _runtime[:] = [Runtime(settings, store)]


def set_slot(slot: datetime | None) -> None:
    """The scheduled fire time of the job this thread is about to run (the executor's)."""
    _thread.slot = slot


def slot_of_this_thread() -> datetime | None:
    """The fire time set by ``set_slot`` for this thread, if any."""
    slot: datetime | None = getattr(_thread, "slot", None)
    return slot


def job_id(kind: str, source: str = "") -> str:
    """The job id of ``kind`` (and a source with its own schedule): ``sync:hubspot``."""
    return f"{kind}:{source}" if source else kind


def run_job(kind: str, source: str = "") -> None:
    """Run one scheduled job (``source`` empty for a job over every source) and record it.

    Never raises: a failure is recorded (one line, no secret) and logged."""
    if not _runtime:
        raise RuntimeError("jobs.service.install() was not called")
    settings, store = _runtime[0].settings, _runtime[0].store
    name = job_id(kind, source)
    slot = slot_of_this_thread() or datetime.now(UTC)
    with log_context(job=name, source=source or None):
        run_id = record_start(store, name, kind, source or None, slot)
        log.info("started (slot %s)", slot.astimezone(UTC).isoformat())
        try:
            done = BODIES[kind](settings, store, source or None, slot)
        except TrackerError as exc:
            done = JobOutcome("failed", str(exc))
        except Exception as exc:  # recorded, and the scheduler goes on with the next run
            log.debug("the job failed", exc_info=True)
            done = JobOutcome("failed", f"internal error: {type(exc).__name__}")
        record_end(store, run_id, done.outcome, done.error, done.counts or None)
        level = logging.INFO if done.outcome in ("ok", "skipped") else logging.WARNING
        reason = f": {one_line(done.error)}" if done.error else ""
        log.log(level, "ended %s%s", done.outcome, reason)
        alerts.after_run(settings, store, datetime.now(UTC))  # mail ops_to once per problem


def _sync_outcome(summary: SyncSummary) -> JobOutcome:
    results = summary.results
    counts = {
        r.source: {
            "outcome": r.outcome,
            "deals": r.counts.received.get("deals", 0),
            "changed": sum(r.counts.changed.values()),
            "deleted": r.counts.deleted,
            "rejected": r.rejected_total,
        }
        for r in results
    }
    error = "; ".join(f"{r.source}: {r.error}" for r in results if r.error) or None
    if any(r.outcome == "interrupted" for r in results):
        outcome = "interrupted"
    elif results and all(r.outcome == "skipped" for r in results):
        outcome = "skipped"
    else:
        outcome = {0: "ok", 3: "partial"}.get(summary.exit_code, "failed")
    return JobOutcome(outcome, error, counts)


def _sources(settings: Settings, source: str | None, *, everyone: bool) -> list[str]:
    if source is not None:
        return [source]
    own = settings.schedule.sources
    return [name for name in settings.sources if everyone or name not in own]


def _sync(settings: Settings, store: Store, source: str | None, _slot: datetime) -> JobOutcome:
    """Incremental sync of the source (or every source without its own schedule)."""
    names = _sources(settings, source, everyone=False)
    if not names:
        return JobOutcome("skipped", "every source has its own schedule")
    return _sync_outcome(tasks.sync(settings, names, store=store))


def _reconcile(settings: Settings, store: Store, source: str | None, _slot: datetime) -> JobOutcome:
    """Sync with id-set reconciliation, every source."""
    names = _sources(settings, source, everyone=True)
    return _sync_outcome(tasks.sync(settings, names, reconcile=True, store=store))


def _snapshot(settings: Settings, store: Store, _source: str | None, slot: datetime) -> JobOutcome:
    """A metrics snapshot, then a goals check-in when goals are configured."""
    today = slot.astimezone(settings.tracker.tz).date()
    kept = tasks.snapshot(settings, store, today, tasks.MetricsQuery())
    counts: dict[str, Any] = {"snapshot_id": kept.snapshot_id, "rows": len(kept.report.rows)}
    if settings.goals:
        checkin = tasks.report(settings, store, today, save=True)
        counts.update(checkin_id=checkin.checkin_id, goals=len(checkin.report.results))
    return JobOutcome("ok", counts=counts)


def _digest(settings: Settings, store: Store, _source: str | None, slot: datetime) -> JobOutcome:
    """The variance emails as of the slot's date (each recipient once per period and date)."""
    as_of = slot.astimezone(settings.tracker.tz).date()
    run = send_digests(settings, store, as_of, DigestQuery())
    counts: dict[str, Any] = {"as_of": as_of.isoformat()}
    for outcome in run.outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    if run.withheld:
        stale = ", ".join(f"{s.source}: {s.problem}" for s in run.stale)
        return JobOutcome("failed", f"withheld: the data is stale ({stale})", counts)
    errors = "; ".join(f"{o.recipient}: {o.error}" for o in run.outcomes if o.error) or None
    return JobOutcome({0: "ok", 3: "partial"}.get(run.exit_code, "failed"), errors, counts)


BODIES: dict[str, Callable[[Settings, Store, str | None, datetime], JobOutcome]] = {
    "sync": _sync,
    "reconcile": _reconcile,
    "snapshot": _snapshot,
    "digest": _digest,
}
