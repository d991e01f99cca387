"""What ``tracker status`` shows: per source, what the store holds, then its last run.

Built from the store and the settings as plain values; the CLI only renders them (a table
or JSON), so the scheduler, ``doctor`` and mail footers can reuse the same facts. Times
are given in the configured time zone, with their offset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

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
class StoreStatus:
    """The store's URL (password hidden), the time zone of the times, every source."""

    store: str
    timezone: str
    sources: list[SourceStatus]

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
    return StoreStatus(store.display_url, settings.tracker.timezone, sources)
