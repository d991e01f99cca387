"""What ``tracker status`` shows: per source, what the store holds, then its last run.

Built from the store and the settings as plain values; the CLI only renders them (a table
or JSON), so the scheduler, ``doctor`` and mail footers can reuse the same facts. Times
are given in the configured time zone, with their offset.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tracker.durations import describe_duration
from tracker.jobruns import JobRun, consecutive_failures, heartbeat, last_runs
from tracker.mail import SENDING, SENT, UNCERTAIN, SendLog
from tracker.money import unconverted_warning
from tracker.settings import Settings
from tracker.store import SOURCE_COUNT_KEYS, Store

#: outcomes of a run that did not bring the source up to date
FAILED_OUTCOMES = ("failed", "stopped", "interrupted")


@dataclass(frozen=True)
class RunStatus:
    """The newest sync run of a source: when, how it ended, what it changed."""

    started_at: datetime
    finished_at: datetime | None
    outcome: str
    deals_received: int
    inserted: int | None  # rows (any table) new in the store; None for runs before it was kept
    updated: int | None
    deleted: int
    rejected: int
    unconverted: int
    error: str | None

    def as_json(self) -> dict[str, Any]:
        """Plain JSON values (times as ISO text with their offset)."""
        return {
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "outcome": self.outcome,
            "deals_received": self.deals_received,
            "inserted": self.inserted,
            "updated": self.updated,
            "deleted": self.deleted,
            "rejected": self.rejected,
            "unconverted": self.unconverted,
            "error": self.error,
        }


@dataclass(frozen=True)
class SourceStatus:
    """One source: configured or not, what the store holds of it, its last run."""

    source: str
    kind: str | None
    configured: bool
    holds: dict[str, int]
    last_run: RunStatus | None
    last_success: datetime | None
    age: str
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """Plain JSON values (times as ISO text with their offset)."""
        return {
            "source": self.source,
            "kind": self.kind,
            "configured": self.configured,
            "store": dict(self.holds),
            "last_run": self.last_run.as_json() if self.last_run else None,
            "last_success": self.last_success.isoformat() if self.last_success else None,
            "age": self.age,
            "warnings": list(self.warnings),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class MailStatus:
    """The newest digest sent and every send whose delivery nobody can vouch for."""

    last_sent: dict[str, Any] | None
    uncertain: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        """Plain JSON values (times as ISO text)."""
        return {
            "last_sent": _json_row(self.last_sent) if self.last_sent else None,
            "delivery_uncertain": [_json_row(row) for row in self.uncertain],
        }


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("recipient", "period", "slot", "message_id", "started_at", "finished_at", "error")
    return {k: row[k].isoformat() if isinstance(row[k], datetime) else row[k] for k in keys}


@dataclass(frozen=True)
class JobStatus:
    """One scheduled job: its cron, its next run, its last run and failures in a row."""

    job_id: str
    cron: str
    next_run: datetime | None
    last_run: JobRun | None
    failures: int

    def as_json(self) -> dict[str, Any]:
        """Plain JSON values (times as ISO text with their offset)."""
        run = self.last_run
        return {
            "job": self.job_id,
            "cron": self.cron,
            "next_run": self.next_run.isoformat() if self.next_run else None,
            "last_run": None
            if run is None
            else {
                "slot": run.slot.isoformat(),
                "started_at": run.started_at.isoformat(),
                "ended_at": run.ended_at.isoformat() if run.ended_at else None,
                "outcome": run.outcome,
                "error": run.error,
                "host": run.host,
                "pid": run.pid,
            },
            "failures_in_a_row": self.failures,
        }


@dataclass(frozen=True)
class ScheduleStatus:
    """The scheduled jobs and the active scheduler (its last heartbeat)."""

    jobs: list[JobStatus]
    active: dict[str, Any] | None

    @property
    def failing(self) -> list[JobStatus]:
        """Jobs whose newest finished run failed."""
        return [j for j in self.jobs if j.failures]

    def as_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {
            "jobs": [j.as_json() for j in self.jobs],
            "failing": [j.job_id for j in self.failing],
            "active_scheduler": self.active,
        }


def schedule_status(
    store: Store, planned: list[tuple[str, str, datetime | None]], zone: ZoneInfo
) -> ScheduleStatus:
    """Each planned job (id, cron, next run) with its last run and failures in a row, and
    the active scheduler's heartbeat (times in ``zone``)."""
    runs = last_runs(store)
    jobs = []
    for job_id, cron, next_run in planned:
        run = runs.get(job_id)
        if run is not None:
            run = replace(
                run,
                slot=run.slot.astimezone(zone),
                started_at=run.started_at.astimezone(zone),
                ended_at=_local(run.ended_at, zone),
            )
        failures = consecutive_failures(store, job_id) if run is not None else 0
        jobs.append(JobStatus(job_id, cron, _local(next_run, zone), run, failures))
    beat = heartbeat(store)
    active = (
        None
        if beat is None
        else {
            "host": beat.host,
            "pid": beat.pid,
            "since": beat.since.astimezone(zone).isoformat(),
            "heartbeat_at": beat.beat_at.astimezone(zone).isoformat(),
        }
    )
    return ScheduleStatus(jobs, active)


@dataclass(frozen=True)
class StoreStatus:
    """The store's URL (password hidden), the time zone of the times, every source."""

    store: str
    timezone: str
    sources: list[SourceStatus]
    mail: MailStatus = field(default_factory=lambda: MailStatus(None, []))
    schedule: ScheduleStatus | None = None

    @property
    def orphans(self) -> list[str]:
        """Sources with data in the store that the config no longer lists."""
        return [s.source for s in self.sources if not s.configured]

    def as_json(self) -> dict[str, Any]:
        """The ``tracker status --format json`` document."""
        return {
            "store": self.store,
            "timezone": self.timezone,
            "sources": [s.as_json() for s in self.sources],
            "orphans": self.orphans,
            "mail": self.mail.as_json(),
            "schedule": self.schedule.as_json() if self.schedule else None,
        }


def _local(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)


def data_age(since: datetime | None, now: datetime) -> str:
    """``3h ago``-style age of the data, or ``never synced``."""
    if since is None:
        return "never synced"
    seconds = int((now - since).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def unconverted_warnings(
    counts: dict[str, Any], reporting_currency: str, kind: str | None = None
) -> list[str]:
    """One warning per currency the last run could not convert, naming what fixes it
    (a Salesforce org converts with its own rates: the currency must be active there)."""
    unconverted: dict[str, int] = counts.get("unconverted") or {}
    return [
        unconverted_warning(code, n, reporting_currency, org_rates=kind == "salesforce")
        for code, n in sorted(unconverted.items())
    ]


def _run(row: dict[str, Any], zone: ZoneInfo) -> RunStatus:
    counts: dict[str, Any] = row.get("counts") or {}
    changed = sum((counts.get("changed") or {}).values())
    inserted = sum(counts["inserted"].values()) if "inserted" in counts else None
    started = _local(row["started_at"], zone)
    assert started is not None
    return RunStatus(
        started_at=started,
        finished_at=_local(row.get("finished_at"), zone),
        outcome=row["outcome"],
        deals_received=(counts.get("received") or {}).get("deals", 0),
        inserted=inserted,
        updated=None if inserted is None else changed - inserted,
        deleted=counts.get("deleted", 0),
        rejected=counts.get("rejected", 0),
        unconverted=sum((counts.get("unconverted") or {}).values()),
        error=row.get("error"),
    )


def _warnings(
    name: str,
    configured: bool,
    row: dict[str, Any],
    run: RunStatus | None,
    currency: str,
) -> list[str]:
    out: list[str] = []
    if not configured:
        out.append(
            "not in the config: its data is left out of metrics; "
            f"`tracker source drop {name}` deletes it"
        )
    if run is not None and run.outcome in FAILED_OUTCOMES:
        out.append(f"last sync {run.outcome}: {run.error or 'no reason recorded'}")
    counts = row.get("counts") or {}
    out.extend(counts.get("warnings") or [])
    out.extend(unconverted_warnings(counts, currency, row.get("kind")))
    return out


def build_status(settings: Settings, store: Store, now: datetime) -> StoreStatus:
    """Every configured source and every source with rows or runs in the store, by name."""
    zone = settings.tracker.tz
    runs = {r["source"]: r for r in store.last_runs()}
    success = store.last_success()
    holds = store.source_counts()
    sources: list[SourceStatus] = []
    for name in sorted(set(settings.sources) | set(runs) | set(holds)):
        row = runs.get(name, {})
        configured = name in settings.sources
        run = _run(row, zone) if row else None
        last_ok = success.get(name)
        sources.append(
            SourceStatus(
                source=name,
                kind=settings.sources[name].kind if configured else row.get("kind"),
                configured=configured,
                holds=holds.get(name, dict.fromkeys(SOURCE_COUNT_KEYS, 0)),
                last_run=run,
                last_success=_local(last_ok, zone),
                age=data_age(last_ok, now),
                warnings=_warnings(name, configured, row, run, settings.tracker.currency),
                notes=list((row.get("counts") or {}).get("notes") or []),
            )
        )
    return StoreStatus(
        store.display_url, settings.tracker.timezone, sources, mail_status(store, zone)
    )


def mail_status(store: Store, zone: ZoneInfo) -> MailStatus:
    """The newest sent digest and the sends left "sending" or "uncertain" (newest first,
    each only while no later send to the same recipient, period and slot succeeded)."""
    log = SendLog(store.engine)
    sent = log.rows(status=SENT, limit=1)
    doubtful = log.rows(status=SENDING, limit=200) + log.rows(status=UNCERTAIN, limit=200)
    latest: dict[tuple[str, str], dict[str, str]] = {}
    uncertain = []
    for row in sorted(doubtful, key=lambda r: r["id"], reverse=True):
        key = (row["period"], row["slot"])
        if key not in latest:
            latest[key] = log.latest(*key)
        if latest[key].get(row["recipient"]) in (SENDING, UNCERTAIN):
            uncertain.append(_localised(row, zone))
    return MailStatus(_localised(sent[0], zone) if sent else None, uncertain)


def _localised(row: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    return {k: _local(v, zone) if isinstance(v, datetime) else v for k, v in row.items()}


@dataclass(frozen=True, slots=True)
class SourceFreshness:
    """When a source last synced successfully and whether that is too old to trust."""

    source: str
    last_success: datetime | None
    age: str
    problem: str | None = None
    """Why its data may be stale (too old, last sync failed, never synced); None: fresh."""


def freshness(status: StoreStatus, limit: timedelta, now: datetime) -> list[SourceFreshness]:
    """Each configured source's freshness against ``limit`` (``[email] max_data_age``)."""
    out = []
    for source in status.sources:
        if not source.configured:
            continue
        problem = None
        run = source.last_run
        if source.last_success is None:
            problem = "never synced successfully"
        elif run is not None and run.outcome in FAILED_OUTCOMES:
            problem = f"the last sync {run.outcome} at {run.started_at:%Y-%m-%d %H:%M %Z}"
        elif now - source.last_success > limit:
            hours = int((now - source.last_success).total_seconds() // 3600)
            problem = (
                f"its data is {hours}h old (more than max_data_age {describe_duration(limit)})"
            )
        out.append(SourceFreshness(source.source, source.last_success, source.age, problem))
    return out
