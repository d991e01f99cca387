"""``tracker doctor``: every check in order, as one ``DoctorReport``.

The configuration, the store (reachable, at the Alembic head), each source through its
connector's ``diagnose`` (credentials, API budget, mapped fields), the SMTP server
(connected, TLS, AUTH, no mail sent), the schedule and its next runs, the scheduler's
heartbeat, each source's data age and the goal linter. A check that needs something an
earlier one found broken is skipped, saying why.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from connectors.base import SyncContext
from connectors.registry import open_source
from jobs import tasks
from jobs.scheduler import next_runs, planned_jobs
from tracker.checks import FAIL, INFO, PASS, SKIP, WARN, Check, DoctorReport
from tracker.doctor import (
    config_passed,
    freshness_checks,
    open_store_check,
    scheduler_check,
    smtp_check,
)
from tracker.errors import TrackerError
from tracker.reports.goal_check import counts, findings
from tracker.settings import Settings
from tracker.store import Store

NO_STORE = "not checked: the store is not ready"
OPERATIONS = "docs/operations.md"


def doctor(settings: Settings, now: datetime) -> DoctorReport:
    """Run every check against ``settings`` at ``now`` (an aware instant)."""
    checks = [config_passed(settings)]
    store_line, store = open_store_check(settings)
    checks.append(store_line)
    try:
        for name in settings.sources:
            context = SyncContext(tracker=settings.tracker, dry_run=True)
            checks += open_source(settings, name, context).diagnose()
        checks.append(smtp_check(settings))
        checks.append(schedule_check(settings, now))
        if store is None:
            checks.append(Check("scheduler", SKIP, NO_STORE))
            checks += [Check(f"data freshness {n}", SKIP, NO_STORE) for n in settings.sources]
            checks.append(Check("goals lint", SKIP, NO_STORE))
        else:
            checks.append(scheduler_check(settings, store, now))
            checks += freshness_checks(settings, store, now)
            checks.append(goals_lint_check(settings, store, now))
    finally:
        if store is not None:
            store.close()
    return DoctorReport(checks)


def schedule_check(settings: Settings, now: datetime) -> Check:
    """``[schedule]`` valid, with each job's next run in the schedule's time zone."""
    try:
        jobs = planned_jobs(settings)
    except TrackerError as exc:
        return Check("schedule", FAIL, str(exc), f"fix the cron expression ({OPERATIONS})")
    if not jobs:
        return Check(
            "schedule",
            WARN,
            "no [schedule]: nothing runs unless cron or a person starts it",
            f"add a [schedule] table and run `tracker scheduler run`, or use cron ({OPERATIONS})",
        )
    zone = ZoneInfo(settings.schedule.zone(settings.tracker))
    parts = []
    for job in jobs:
        runs = next_runs(job, now, 1)
        when = f"{runs[0].astimezone(zone):%Y-%m-%d %H:%M %Z}" if runs else "never"
        parts.append(f"{job.id} ({job.cron}) next {when}")
    return Check("schedule", PASS, f"{len(jobs)} jobs: " + "; ".join(parts))


def goals_lint_check(settings: Settings, store: Store, now: datetime) -> Check:
    """The goal linter (``tracker goals check``) finds no error."""
    if not settings.goals:
        return Check("goals lint", INFO, "no goals configured")
    today = now.astimezone(settings.tracker.tz).date()
    try:
        report = tasks.goals_check(settings, store, today)
    except TrackerError as exc:
        return Check("goals lint", FAIL, str(exc), "fix the goal as the error says (docs/goals.md)")
    errors, warnings = counts(report)
    goals = len(report.results)
    if errors:
        first = next(i for i in findings(report) if i.level == "error")
        more = f" (and {errors - 1} more)" if errors > 1 else ""
        detail = f"{first.subject}: {first.rule}: {first.message}{more}"
        fix = "run `tracker goals check` and fix each error (docs/goals.md)"
        return Check("goals lint", FAIL, detail, fix)
    return Check("goals lint", PASS, f"{goals} goals checked: 0 errors, {warnings} warnings")
