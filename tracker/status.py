"""What ``tracker status`` shows: per source, the last run, its outcome and the data's age.

Built from the store and the settings as plain values; the CLI only renders them (a table
or JSON), so the scheduler, ``doctor`` and mail footers can reuse the same facts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from tracker.settings import Settings
from tracker.store import Store
from tracker.wording import plural


@dataclass(frozen=True)
class SourceStatus:
    """One source as the store knows it."""

    source: str
    kind: str | None
    configured: bool
    last_run: datetime | None
    outcome: str | None
    deals: int
    changed: int
    rejected: int
    error: str | None
    last_success: datetime | None
    age: str
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """Plain JSON values (times as ISO text)."""
        data = asdict(self)
        for key in ("last_run", "last_success"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


@dataclass(frozen=True)
class StoreStatus:
    """The store's URL (password hidden) and every source configured or seen in it."""

    store: str
    sources: list[SourceStatus]

    def as_json(self) -> dict[str, Any]:
        """The ``tracker status --format json`` document."""
        return {"store": self.store, "sources": [s.as_json() for s in self.sources]}


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def data_age(since: datetime | None, now: datetime) -> str:
    """``3h ago``-style age of the data, or ``never synced``."""
    if since is None:
        return "never synced"
    seconds = int((now - since).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def unconverted_warnings(counts: dict[str, Any], reporting_currency: str) -> list[str]:
    """One warning per currency the last run could not convert, naming the key to set."""
    unconverted: dict[str, int] = counts.get("unconverted") or {}
    return [
        f"{plural(n, 'deal')} in {code} not converted to {reporting_currency}: "
        f"add {code} = <{reporting_currency} per 1 {code}> under [tracker.exchange_rates]"
        for code, n in sorted(unconverted.items())
    ]


def build_status(settings: Settings, store: Store, now: datetime) -> StoreStatus:
    """Every configured source and every source with runs in the store, by name."""
    runs = {r["source"]: r for r in store.last_runs()}
    success = {k: _aware(v) for k, v in store.last_success().items()}
    sources: list[SourceStatus] = []
    for name in sorted(set(settings.sources) | set(runs)):
        run = runs.get(name, {})
        counts = run.get("counts") or {}
        configured = name in settings.sources
        last_ok = success.get(name)
        sources.append(
            SourceStatus(
                source=name,
                kind=settings.sources[name].kind if configured else run.get("kind"),
                configured=configured,
                last_run=_aware(run.get("started_at")),
                outcome=run.get("outcome"),
                deals=(counts.get("received") or {}).get("deals", 0),
                changed=sum((counts.get("changed") or {}).values()),
                rejected=counts.get("rejected", 0),
                error=run.get("error"),
                last_success=last_ok,
                age=data_age(last_ok, now),
                warnings=unconverted_warnings(counts, settings.tracker.currency),
            )
        )
    return StoreStatus(store.display_url, sources)
