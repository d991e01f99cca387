"""One line of a checklist (``tracker doctor``): a status, what was found and the fix.

Kept apart from the checks themselves so connectors can report theirs without the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PASS, WARN, FAIL, INFO, SKIP = "pass", "warn", "fail", "info", "skip"
STATUSES = (PASS, WARN, FAIL, INFO, SKIP)


@dataclass(frozen=True)
class Check:
    """One line of the checklist: ``fix`` says what to do when it is not a pass."""

    name: str
    status: str
    detail: str
    fix: str | None = None

    def as_json(self) -> dict[str, Any]:
        """Plain JSON values."""
        return {"check": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class DoctorReport:
    """Every check in order; ``config_error`` when the configuration could not be read."""

    checks: list[Check]
    config_error: bool = False

    @property
    def failures(self) -> list[Check]:
        """The failed checks."""
        return [c for c in self.checks if c.status == FAIL]

    @property
    def exit_code(self) -> int:
        """2 for a configuration error, 1 for any other failure, else 0."""
        if self.config_error:
            return 2
        return 1 if self.failures else 0

    def as_json(self) -> dict[str, Any]:
        """The ``tracker doctor --format json`` document."""
        counts = {s: sum(c.status == s for c in self.checks) for s in STATUSES}
        return {
            "ok": self.exit_code == 0,
            "exit_code": self.exit_code,
            "counts": counts,
            "checks": [c.as_json() for c in self.checks],
        }


LOW_BUDGET = 0.10
"""Below this share of the daily API limit left, the budget line is a warning."""


def budget_check(name: str, crm: str, remaining: int, total: int) -> Check:
    """The API-budget line of a source: a warning when less than ``LOW_BUDGET`` is left."""
    detail = f"{crm} API budget left today: {remaining:,} of {total:,} requests"
    if remaining < total * LOW_BUDGET:
        fix = "syncs stop early on a low budget: sync less often or raise the API limit"
        return Check(name, WARN, detail, fix)
    return Check(name, PASS, detail)


LABELS = {PASS: "ok  ", WARN: "WARN", FAIL: "FAIL", INFO: "info", SKIP: "skip"}


def render_text(report: DoctorReport) -> str:
    """One line per check (``FAIL  store: ... fix: ...``), then a summary line."""
    lines = []
    for check in report.checks:
        fix = f"  fix: {check.fix}" if check.fix and check.status in (FAIL, WARN) else ""
        lines.append(f"{LABELS[check.status]}  {check.name}: {check.detail}{fix}")
    tally = report.as_json()["counts"]
    lines.append(
        f"{len(report.checks)} checks: {tally[PASS]} ok, {tally[WARN]} warnings, "
        f"{tally[FAIL]} failed"
    )
    return "\n".join(lines) + "\n"


def credentials_failed(source: str, reason: Exception, fix: str) -> list[Check]:
    """A source's credentials line failed with ``fix``; its mapped-fields line is then
    skipped (nothing can be read without them)."""
    return [
        Check(f"source {source} credentials", FAIL, str(reason), fix),
        Check(f"source {source} mapped fields", SKIP, "not checked: the credentials failed"),
    ]
