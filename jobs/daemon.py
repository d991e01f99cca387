"""``tracker scheduler run``: the one active scheduler of a store, or a standby.

The active scheduler holds the store's ``scheduler`` lease (``tracker.locks``: a
PostgreSQL advisory lock on its own connection, a lock file beside a SQLite store), writes
a heartbeat every ``beat_every`` seconds and runs APScheduler 3.11 with its job store in
the tracker database (table ``scheduler_jobs``). A second process finds the lease taken,
says who holds it and retries every ``retry_every`` seconds: when the active one dies
(kill -9 included) the database or the OS frees the lease and the standby takes over,
keeping the stored schedule. Nothing runs twice: one lease, coalesced runs, and the
digest's send records.

APScheduler's traps, designed out: the scheduler starts paused and the stored jobs are
compared with the configuration (added, changed, removed) before it resumes, so a run
missed while it was down keeps its stored next run time and starts once within
``misfire_grace``; a row that cannot be unpickled is never deleted by the job store but
rebuilt from the configuration, keeping its stored next run time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.executors.base import run_job as apscheduler_run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import and_, select
from sqlalchemy.exc import SQLAlchemyError

from jobs import service
from jobs.scheduler import DstSafeCronTrigger, PlannedJob, planned_jobs
from tracker.durations import parse_duration
from tracker.jobruns import beat, heartbeat
from tracker.locks import LockBusy, LockHolder, lock_holder, named_lock
from tracker.settings import Settings
from tracker.store import Store, create_store_engine
from tracker.sync import clear_stop, request_stop
from tracker.wording import plural

log = logging.getLogger(__name__)
JOBSTORE_TABLE = "scheduler_jobs"
LEASE = "scheduler"


class KeepingJobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    """APScheduler's SQL job store, except that a row it cannot restore is kept (and
    reported in ``broken`` with its next run time) instead of deleted."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.broken: dict[str, float | None] = {}

    def _get_jobs(self, *conditions: Any) -> list[Job]:
        jobs: list[Job] = []
        table = self.jobs_t
        query = select(table.c.id, table.c.next_run_time, table.c.job_state).order_by(
            table.c.next_run_time
        )
        if conditions:
            query = query.where(and_(*conditions))
        with self.engine.begin() as conn:
            rows = conn.execute(query).all()
        for row in rows:
            try:
                jobs.append(self._reconstitute_job(row.job_state))
            except Exception as exc:
                if row.id not in self.broken:
                    log.warning(
                        "scheduled job %s cannot be read back (%s): it is rebuilt from the config",
                        row.id,
                        type(exc).__name__,
                    )
                self.broken[row.id] = row.next_run_time
        return jobs


class SlotExecutor(ThreadPoolExecutor):  # type: ignore[misc]
    """A thread pool that tells each job run its scheduled fire time (its slot), and
    starts it only while ``may_run()`` says this process still holds the lease."""

    def __init__(self, max_workers: int, may_run: Callable[[], bool]) -> None:
        super().__init__(max_workers)
        self.may_run = may_run

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        def run(job: Job, alias: str, run_times: list[datetime], logger: str) -> list[Any]:
            events: list[Any] = []
            if not self.may_run():
                log.error("%s not started: this scheduler lost its lease", job.id)
                return events
            for run_time in run_times:
                service.set_slot(run_time)
                try:
                    events.extend(apscheduler_run_job(job, alias, [run_time], logger))
                finally:
                    service.set_slot(None)
            return events

        def done(future: Any) -> None:
            exc = future.exception()
            if exc is not None:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        future = self._pool.submit(run, job, job._jobstore_alias, run_times, self._logger.name)
        future.add_done_callback(done)


def _same_trigger(stored: Any, planned: DstSafeCronTrigger) -> bool:
    return (
        type(stored) is DstSafeCronTrigger
        and str(stored) == str(planned)
        and str(stored.timezone) == str(planned.timezone)
    )


def reconcile(
    scheduler: BackgroundScheduler, jobstore: KeepingJobStore, planned: list[PlannedJob], grace: int
) -> list[str]:
    """Make the stored jobs those of ``planned`` (scheduler paused); what changed, in words.

    A job whose trigger is unchanged keeps its stored next run time (a run missed while no
    scheduler was active is then due at once and coalesced into one run)."""
    stored = {job.id: job for job in scheduler.get_jobs()}
    changes: list[str] = []
    for job in planned:
        spec: dict[str, Any] = {
            "func": service.run_job,
            "args": (job.kind, job.source or ""),
            "id": job.id,
            "name": f"{job.id} ({job.cron})",
            "misfire_grace_time": grace,
            "coalesce": True,
            "max_instances": 1,
        }
        have = stored.pop(job.id, None)
        if have is not None and _same_trigger(have.trigger, job.trigger):
            if (tuple(have.args), have.misfire_grace_time, have.name) != (
                spec["args"],
                grace,
                spec["name"],
            ):
                scheduler.modify_job(
                    job.id, args=spec["args"], misfire_grace_time=grace, name=spec["name"]
                )
                changes.append(f"{job.id}: updated")
            continue
        if have is not None:
            scheduler.add_job(trigger=job.trigger, replace_existing=True, **spec)
            changes.append(f"{job.id}: rescheduled ({job.cron})")
            continue
        if job.id in jobstore.broken:
            stamp = jobstore.broken.pop(job.id)
            when = datetime.fromtimestamp(stamp, UTC) if stamp is not None else None
            extra = {"next_run_time": when} if when is not None else {}
            scheduler.add_job(trigger=job.trigger, replace_existing=True, **spec, **extra)
            changes.append(f"{job.id}: rebuilt from the config (its stored row was unreadable)")
            continue
        scheduler.add_job(trigger=job.trigger, **spec)
        changes.append(f"{job.id}: added ({job.cron})")
    for leftover in stored:
        scheduler.remove_job(leftover)
        changes.append(f"{leftover}: removed (no longer in [schedule])")
    for leftover in list(jobstore.broken):
        with jobstore.engine.begin() as conn:
            conn.execute(jobstore.jobs_t.delete().where(jobstore.jobs_t.c.id == leftover))
        jobstore.broken.pop(leftover)
        changes.append(f"{leftover}: unreadable row removed (no longer in [schedule])")
    return changes


class Daemon:
    """The scheduler process: standby until it holds the lease, then active until stopped."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        say: Callable[[str], None],
        beat_every: float = 10.0,
        retry_every: float = 3.0,
    ) -> None:
        self.settings = settings
        self.store = store
        self.say = say
        self.beat_every = beat_every
        self.retry_every = retry_every
        self._stop = threading.Event()
        self._lost = threading.Event()
        self.planned = planned_jobs(settings)
        self.grace = int(parse_duration(settings.schedule.misfire_grace).total_seconds())

    def stop(self) -> None:
        """Stop starting jobs; the running one stops after its current batch."""
        self._stop.set()
        request_stop()

    def run(self) -> None:
        """Wait for the lease (as a standby), then run the schedule until ``stop``; a
        scheduler that loses its lease (its database connection ended) stops starting
        jobs and is a standby again."""
        announced: list[LockHolder | None] = []
        while not self._stop.is_set():
            clear_stop()
            try:
                with named_lock(self.store, LEASE, wait=False) as me:
                    if self._active(me):
                        return
                announced.clear()
            except LockBusy as busy:
                if announced != [busy.holder]:
                    announced[:] = [busy.holder]
                    self.say(f"standby: {self._active_one(busy)}; taking over when it stops")
                self._stop.wait(self.retry_every)

    def _active_one(self, busy: LockBusy) -> str:
        text = f"the active scheduler is {busy.who()}"
        last = heartbeat(self.store)
        if last is not None:
            age = int((datetime.now(UTC) - last.beat_at).total_seconds())
            text += f" (last heartbeat {age}s ago)"
        return text

    def _beat(self, me: LockHolder) -> None:
        try:
            beat(self.store, me.host, me.pid, me.since or datetime.now(UTC))
        except Exception as exc:  # the next beat retries; the lease is what counts
            log.warning("heartbeat not written: %s", type(exc).__name__)

    def _holding(self, me: LockHolder) -> bool:
        """Whether this process still holds the lease (a PostgreSQL session lock ends with
        its connection; a lock file cannot be lost)."""
        if self.store.dialect != "postgresql":
            return True
        try:
            holder = lock_holder(self.store, LEASE)
        except SQLAlchemyError:
            return False  # cannot tell: start nothing until it can
        held = holder is not None and (holder.host, holder.pid) == (me.host[:40], me.pid)
        if not held:
            self._lost.set()
        return held

    def _active(self, me: LockHolder) -> bool:
        """Run the schedule while holding the lease: ``True`` once stopped, ``False`` when
        the lease was lost."""
        self._lost.clear()
        self._beat(me)
        service.install(self.settings, self.store)
        jobstore = KeepingJobStore(
            engine=create_store_engine(self.store.url), tablename=JOBSTORE_TABLE
        )
        scheduler = BackgroundScheduler(
            jobstores={"default": jobstore},
            executors={"default": SlotExecutor(4, lambda: self._holding(me))},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": self.grace},
            timezone=self.settings.schedule.zone(self.settings.tracker),
        )
        scheduler.start(paused=True)
        try:
            for change in reconcile(scheduler, jobstore, self.planned, self.grace):
                log.info("schedule: %s", change)
            self.say(
                f"active scheduler: {me.describe()}; {plural(len(self.planned), 'job')}, "
                f"misfire grace {self.settings.schedule.misfire_grace}"
            )
            if not self._stop.is_set():
                scheduler.resume()
            while not self._stop.wait(self.beat_every):
                if self._lost.is_set() or not self._holding(me):
                    break
                self._beat(me)
            scheduler.pause()
        finally:
            request_stop()
            scheduler.shutdown(wait=True)
        if self._lost.is_set() and not self._stop.is_set():
            self.say("lost the scheduler lease (its database connection ended): standby again")
            return False
        self.say("scheduler stopped: lease released")
        return True
