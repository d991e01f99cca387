"""Activity metrics worked out from a sandbox's truth (never from our store): what
``calls`` / ``meetings`` / ``emails`` must say per owner, by the rules of docs/metrics.md."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date
from zoneinfo import ZoneInfo

from sandbox.truth import Truth
from tracker.periods import Period
from tracker.records import ActivityRecord


def local_day(act: ActivityRecord, zone: str) -> date | None:
    """The day the truth says it happened, in ``zone`` (a day-only one as it is)."""
    if act.occurred_at is None:
        return act.occurred_on
    at = act.occurred_at if act.occurred_at.tzinfo else act.occurred_at.replace(tzinfo=UTC)
    return at.astimezone(ZoneInfo(zone)).date()


def in_period(truth: Truth, kind: str, period: Period, zone: str) -> list[ActivityRecord]:
    """The live activities of ``kind`` that occurred in ``period`` (held or not)."""
    return [
        a
        for a in truth.activities.values()
        if not a.is_deleted and a.kind == kind and (local_day(a, zone) or date.min) in period
    ]


def held(act: ActivityRecord) -> bool:
    """Completed, or a meeting whose CRM does not say (it has started by then)."""
    return act.is_completed is True or (act.kind == "meeting" and act.is_completed is None)


def held_per_owner(truth: Truth, kind: str, period: Period, zone: str) -> Counter[str | None]:
    """Held activities of ``kind`` in ``period`` per owner, named as reports name them (the
    owner's name, else their id)."""
    out: Counter[str | None] = Counter()
    for act in in_period(truth, kind, period, zone):
        if held(act):
            owner = truth.owners.get(act.owner_external_id or "")
            out[owner.name if owner else act.owner_external_id] += 1
    return out
