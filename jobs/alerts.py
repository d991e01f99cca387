"""Operational alerts: one mail to ``[email] ops_to`` per problem, none again until it
recovers.

The scheduler calls ``after_run`` after every job run. Two problems are watched:

* a job that failed twice in a row (its last two recorded runs), key ``job:<id>``;
* a source whose last successful sync is older than ``[email] max_data_age``, key
  ``stale:<source>`` (a source never synced is left to the failing-job alert).

Each open problem is an ``alerts`` row (``tracker.jobruns``): opened once, marked mailed
once its mail went out, cleared when the problem is gone, so the next occurrence mails
again. A mail that cannot go out (no ``ops_to``, SMTP down) leaves the alert open and
unmailed: the next run tries again. Nothing here raises for a mail problem; the job's own
outcome is what the scheduler records.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from jobs.scheduler import planned_jobs
from tracker import jobruns
from tracker.durations import describe_duration
from tracker.errors import MailError, TrackerError
from tracker.locks import named_lock
from tracker.mail import DeliveryFailed, SmtpSender
from tracker.reports.message import compose_text, new_message_id
from tracker.settings import Settings
from tracker.store import Store, last_successful_syncs

log = logging.getLogger(__name__)
FAILURES_IN_A_ROW = 2
ALERTS_LOCK = "alerts"


@dataclass(frozen=True)
class Problem:
    """One thing an operator must look at: its alert key, a subject and the details."""

    key: str
    subject: str
    text: str


@dataclass
class AlertRound:
    """What one ``after_run`` did: alerts mailed, still unmailed, cleared."""

    mailed: list[str] = field(default_factory=list)
    unmailed: list[str] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)


def problems(settings: Settings, store: Store, now: datetime) -> list[Problem]:
    """Every problem there is now: scheduled jobs failing twice in a row (a job no
    longer in ``[schedule]`` has none), stale sources."""
    found = []
    scheduled = {job.id for job in planned_jobs(settings)}
    for job, last in sorted(jobruns.last_runs(store).items()):
        if job not in scheduled:
            continue
        failed = jobruns.consecutive_failures(store, job)
        if failed >= FAILURES_IN_A_ROW:
            error = next(
                (r.error for r in jobruns.recent_runs(store, job, limit=5) if r.error), None
            )
            found.append(
                Problem(
                    f"job:{job}",
                    f"job {job} failed {failed} times in a row",
                    f"The scheduled job {job} failed {failed} times in a row (last run "
                    f"{last.started_at:%Y-%m-%d %H:%M %Z} on {last.host}).\n"
                    f"Last error: {error or 'none recorded'}\n",
                )
            )
    limit = settings.email.data_age_limit
    synced = last_successful_syncs(store.engine)
    for name in sorted(settings.sources):
        at = synced.get(name)
        if at is None:
            continue
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        if now - at > limit:
            hours = int((now - at).total_seconds() // 3600)
            found.append(
                Problem(
                    f"stale:{name}",
                    f"data of {name} is {hours}h old",
                    f"The last successful sync of source {name} ended {at:%Y-%m-%d %H:%M %Z}, "
                    f"{hours}h ago: more than max_data_age {describe_duration(limit)}.\n",
                )
            )
    return found


def after_run(settings: Settings, store: Store, now: datetime) -> AlertRound:
    """Open, mail and clear alerts after a job run (the scheduler calls this). A store
    error is logged, not raised: the scheduler goes on, and the next run tries again."""
    try:
        # jobs run in several threads, and a standby may become active: one round at a
        # time, so an alert is never mailed twice by two rounds seeing it unmailed
        with named_lock(store, ALERTS_LOCK):
            return _round(settings, store, now)
    except (TrackerError, SQLAlchemyError) as exc:
        # a database error's text may carry the store's URL: its type says enough here
        why = type(exc).__name__ if isinstance(exc, SQLAlchemyError) else str(exc)
        log.error("alerts not checked: %s", why)
        return AlertRound()


def _round(settings: Settings, store: Store, now: datetime) -> AlertRound:
    current = {p.key: p for p in problems(settings, store, now)}
    done = AlertRound()
    for alert in jobruns.open_alerts(store):
        if alert.key not in current and jobruns.clear_alert(store, alert.key):
            done.cleared.append(alert.key)
            log.info("alert %s cleared: recovered", alert.key)
    for problem in current.values():
        jobruns.open_alert(store, problem.key, problem.subject)
    unmailed = {a.key for a in jobruns.open_alerts(store) if a.mailed_at is None}
    for problem in current.values():
        if problem.key not in unmailed:
            continue  # mailed when it was raised: not again until it recovers
        if _mail(settings, problem, now):
            jobruns.mark_mailed(store, problem.key)
            done.mailed.append(problem.key)
        else:
            done.unmailed.append(problem.key)
    return done


def _mail(settings: Settings, problem: Problem, now: datetime) -> bool:
    """Send the alert to every ``ops_to`` address; whether it reached them all."""
    email = settings.email
    if not email.configured or not email.ops_to:
        log.warning(
            "alert %s not mailed: set [email] host, from and ops_to (docs/operations.md)",
            problem.key,
        )
        return False
    assert email.sender is not None
    text = (
        problem.text
        + "\nRun `tracker doctor` for every check with its fix, and `tracker status` for "
        "each source's last sync.\nThis alert is not sent again until the problem is gone.\n"
    )
    try:
        with SmtpSender(email) as sender:
            for recipient in email.ops_to:
                message = compose_text(
                    sender=email.sender,
                    recipient=recipient,
                    subject=f"[tracker] ALERT: {problem.subject}",
                    text=text,
                    message_id=new_message_id(email.sender),
                    date=now,
                )
                sender.deliver(message, recipient)
    except (MailError, DeliveryFailed) as exc:
        log.error("alert %s not mailed: %s", problem.key, exc)
        return False
    return True
