"""The checklist of ``tracker doctor``: what a check says, and the checks of the core.

A check is one line: a status (pass, warn, fail, info, skip), what was found and, for a
failure or a warning, the fix. The checks that need a connector, the schedule or the goal
linter are gathered by ``jobs/doctor.py``; those here need only the settings and the store:
the store's reachability and schema revision, the SMTP server (connected, TLS, AUTH, no
mail sent), the age of each source's data, and the scheduler's heartbeat.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

from tracker.checks import FAIL, PASS, WARN, Check
from tracker.durations import describe_duration
from tracker.errors import ConfigError, MailError, StoreError
from tracker.jobruns import heartbeat
from tracker.locks import lock_holder
from tracker.mail import probe
from tracker.settings import Settings
from tracker.status import build_status, data_age, freshness
from tracker.store import Store

UPGRADE_FIX = "run `tracker db upgrade`"
SCHEDULE_KEYS = ("sync", "reconcile", "snapshot", "digest")
SCHEDULER_LEASE = "scheduler"
"""The named lock the active scheduler holds (``jobs.daemon.LEASE``)."""
HEARTBEAT_STALE = timedelta(minutes=3)
"""A heartbeat older than this: no scheduler holds the lease (a standby takes over within a
minute, so a live one beats well within it)."""


def config_failure(exc: ConfigError, path: Path) -> Check:
    """The configuration check when loading failed."""
    return Check(
        "config",
        FAIL,
        str(exc),
        f"fix {path} (every key: docs/configuration.md; `tracker init` writes a starter)",
    )


def config_passed(settings: Settings) -> Check:
    """The configuration check when the settings loaded."""
    sources = ", ".join(sorted(settings.sources)) or "none"
    where = settings.config_path or "the config"
    return Check("config", PASS, f"{where} is valid; sources: {sources}")


def _missing_sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    db = parsed.database
    if parsed.get_backend_name() != "sqlite" or not db or db == ":memory:":
        return None
    path = Path(db)
    return None if path.is_file() else path


def open_store_check(settings: Settings) -> tuple[Check, Store | None]:
    """The store reachable and at this tracker's schema revision (Alembic head); the store
    when it is ready to read. Never creates or migrates anything."""
    url = settings.store.url
    missing = _missing_sqlite_file(url)
    if missing is not None:
        return (
            Check(
                "store",
                FAIL,
                f"the SQLite store {missing} does not exist",
                f"check [store] url, or {UPGRADE_FIX} to create it",
            ),
            None,
        )
    try:
        store = Store(settings.store.connect_url())
    except ConfigError as exc:  # the store's password secret is unreadable
        return Check("store", FAIL, str(exc), "set the secret [store] password names"), None
    try:
        current, head = store.current_revision(), store.head_revision()
    except StoreError as exc:
        store.close()
        return (
            Check(
                "store",
                FAIL,
                str(exc),
                "check [store] url and that the database server runs and accepts this user",
            ),
            None,
        )
    where = store.display_url
    if current == head:
        return Check("store", PASS, f"{where} reachable, schema at revision {head}"), store
    store.close()
    if current is None:
        detail = f"{where} reachable but has no tracker schema (needs revision {head})"
        return Check("store", FAIL, detail, UPGRADE_FIX), None
    if current not in store.known_revisions():
        detail = f"{where} is at revision {current}, newer than this tracker knows ({head})"
        return Check("store", FAIL, detail, "upgrade tracker to the version that wrote it"), None
    detail = f"{where} is at revision {current}, this tracker needs {head}"
    return Check("store", FAIL, detail, UPGRADE_FIX), None


def smtp_check(settings: Settings) -> Check:
    """Connect to the SMTP server, STARTTLS (or implicit TLS) and AUTH as configured, then
    QUIT: no mail is sent."""
    email = settings.email
    if email.host is None:
        return Check(
            "smtp",
            WARN,
            "no [email] host: digests and alerts cannot be sent",
            "set [email] host, from and ops_to (docs/email.md)",
        )
    try:
        found = probe(email)
    except ConfigError as exc:  # the password secret is unreadable
        return Check("smtp", FAIL, str(exc), "set the secret [email] password names")
    except MailError as exc:
        return Check(
            "smtp",
            FAIL,
            str(exc),
            "fix [email] host, port, security, ca_file, username or password as the error says",
        )
    return Check("smtp", PASS, f"{found.describe()} (no mail sent)")


def freshness_checks(settings: Settings, store: Store, now: datetime) -> list[Check]:
    """Each configured source's data age against ``[email] max_data_age``."""
    limit = settings.email.data_age_limit
    status = build_status(settings, store, now)
    out = []
    for item in freshness(status, limit, now):
        name = f"data freshness {item.source}"
        if item.problem is None:
            detail = f"last good sync {item.age} (max_data_age {describe_duration(limit)})"
            out.append(Check(name, PASS, detail))
        else:
            out.append(
                Check(
                    name,
                    FAIL,
                    item.problem,
                    f"run `tracker sync {item.source}` and see why it failed "
                    "(`tracker status`); schedule it (docs/operations.md)",
                )
            )
    return out


def scheduler_check(settings: Settings, store: Store, now: datetime) -> Check:
    """The scheduler holds the lease and its heartbeat is recent (a warning when no
    ``[schedule]`` asks for one)."""
    schedule = settings.schedule
    if not (schedule.sources or any(getattr(schedule, k) for k in SCHEDULE_KEYS)):
        return Check(
            "scheduler",
            WARN,
            "no [schedule] configured, so no scheduler is expected",
            "add a [schedule] and run `tracker scheduler run` (docs/operations.md)",
        )
    start = "start `tracker scheduler run` (a systemd unit, a Deployment: docs/operations.md)"
    holder = lock_holder(store, SCHEDULER_LEASE)
    beat = heartbeat(store)
    if holder is None:
        if beat is None:
            return Check("scheduler", FAIL, "no scheduler has ever run on this store", start)
        who = f"host {beat.host}, pid {beat.pid}"
        last = data_age(beat.beat_at, now)
        detail = f"no scheduler holds the lease: the last one ({who}) beat {last}"
        return Check("scheduler", FAIL, detail, start)
    age = now - beat.beat_at if beat is not None else None
    if age is None or age > HEARTBEAT_STALE:
        last = "never" if beat is None else data_age(beat.beat_at, now)
        detail = f"the lease is held ({holder.describe()}) but the last heartbeat was {last}"
        fix = "the scheduler looks hung: restart it (systemctl restart tracker-scheduler)"
        return Check("scheduler", FAIL, detail, fix)
    seconds = max(int(age.total_seconds()), 0)
    return Check("scheduler", PASS, f"active: {holder.describe()}; heartbeat {seconds}s ago")
