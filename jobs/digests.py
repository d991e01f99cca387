"""``tracker email``: the variance digests, one per recipient, delivered exactly once.

For a period and as-of slot, each recipient gets one message holding the goals that
concern them (``tracker.recipients``). A rerun sends only what was not sent; a send whose
outcome nobody knows (the process died mid-transaction, the connection dropped during
DATA) is reported as "delivery uncertain" and never re-sent without ``--resend``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from jobs.tasks import evaluate_goals
from tracker.errors import ConfigError, MailError
from tracker.mail import (
    FAILED,
    SENDING,
    SENT,
    UNCERTAIN,
    Backoff,
    DeliveryFailed,
    SendLog,
    SmtpSender,
    wire_bytes,
)
from tracker.metrics import DEFINITIONS_VERSION
from tracker.periods import parse_period
from tracker.recipients import Directory, Person, bare, restrict, route
from tracker.reports.digest import Digest, DigestContext, render_digest
from tracker.reports.goal_charts import ChartCache
from tracker.reports.message import compose, new_message_id
from tracker.settings import Settings
from tracker.status import SourceFreshness, build_status, freshness
from tracker.store import Store

DRY_RUN_SENDER = "tracker@example.invalid"


@dataclass(frozen=True)
class DigestQuery:
    """What to send: the goals of ``period`` (default: running on the as-of date), to
    ``to`` only (default: everyone), written to ``outbox`` instead with ``dry_run``."""

    period: str | None = None
    to: Sequence[str] = ()
    dry_run: bool = False
    outbox: Path = Path("outbox")
    resend: bool = False


@dataclass(frozen=True)
class Outcome:
    """What happened for one recipient.

    ``status``: ``sent``, ``failed``, ``uncertain`` (this run could not tell),
    ``written`` (dry run), ``already_sent`` / ``still_uncertain`` (an earlier run's record
    stands), ``no_goals`` (``--to`` named someone with no goal)."""

    recipient: str
    status: str
    goals: int = 0
    message_id: str | None = None
    error: str | None = None
    path: Path | None = None


@dataclass
class DigestRun:
    """A digest run: each recipient's outcome, what held it back, what it noticed."""

    as_of: date
    slot: str
    outcomes: list[Outcome] = field(default_factory=list)
    stale: list[SourceFreshness] = field(default_factory=list)
    withheld: bool = False
    unaddressed: list[str] = field(default_factory=list)
    charts_drawn: int = 0

    def count(self, status: str) -> int:
        """How many recipients ended with ``status``."""
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def exit_code(self) -> int:
        """1 withheld for stale data; 3 when a recipient failed or is uncertain; else 0."""
        if self.withheld:
            return 1
        bad = ("failed", "uncertain", "still_uncertain")
        return 3 if any(o.status in bad for o in self.outcomes) else 0


def _directory(store: Store, sources: list[str]) -> Directory:
    return Directory([Person(**row) for row in store.people(sources)])


def _context(settings: Settings, stale: list[SourceFreshness], as_of: date) -> DigestContext:
    where = settings.config_path.name if settings.config_path else "the tracker config"
    return DigestContext(
        as_of=as_of,
        timezone=settings.tracker.timezone,
        currency=settings.tracker.currency,
        fiscal_year_start_month=settings.tracker.fiscal_year_start_month,
        definitions_version=DEFINITIONS_VERSION,
        sources=stale,
        thresholds=settings.goal_thresholds,
        subscription=(
            f"You receive this because of the goals above. To change it, edit the goals' "
            f"notify lists or [email] default_to in {where}."
        ),
    )


def _check_sendable(settings: Settings, dry_run: bool) -> str:
    email = settings.email
    if dry_run:
        return email.sender or DRY_RUN_SENDER
    missing = [key for key, value in (("host", email.host), ("from", email.sender)) if not value]
    if missing:
        raise ConfigError(
            f"[email] {' and '.join(missing)}: required to send mail (docs/email.md); "
            "--dry-run writes the messages to an outbox without them"
        )
    assert email.sender is not None
    return email.sender


def _file_name(recipient: str) -> str:
    return re.sub(r"[^A-Za-z0-9@._+-]", "_", recipient)[:200] + ".eml"


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


class _Delivery:
    """Sends one digest after another over one lazily opened SMTP connection."""

    def __init__(self, settings: Settings, log: SendLog, backoff: Backoff | None) -> None:
        self._settings = settings
        self._log = log
        self._backoff = backoff
        self._sender: SmtpSender | None = None

    def close(self) -> None:
        if self._sender is not None:
            self._sender.close()

    def send(self, digest: Digest, period: str, slot: str, sender: str, now: datetime) -> Outcome:
        if self._sender is None:
            self._sender = SmtpSender(self._settings.email, self._backoff)
            self._sender.connect()
        message_id = new_message_id(sender)
        message = compose(
            digest,
            sender=sender,
            reply_to=self._settings.email.reply_to,
            message_id=message_id,
            date=now,
        )
        row = self._log.begin(digest.recipient, period, slot, message_id, digest.goals, now)
        try:
            self._sender.deliver(message, digest.recipient)
        except DeliveryFailed as exc:
            status = UNCERTAIN if exc.uncertain else FAILED
            self._log.finish(row, status, datetime.now(UTC), str(exc))
            return Outcome(digest.recipient, status, digest.goals, message_id, str(exc))
        except MailError as exc:
            self._log.finish(row, FAILED, datetime.now(UTC), str(exc))
            raise
        self._log.finish(row, SENT, datetime.now(UTC))
        return Outcome(digest.recipient, "sent", digest.goals, message_id)


def send_digests(
    settings: Settings,
    store: Store,
    as_of: date,
    query: DigestQuery,
    *,
    now: datetime | None = None,
    backoff: Backoff | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> DigestRun:
    """Evaluate the goals as of ``as_of`` and send (or, dry, write) each recipient's
    digest once for the period and slot. Raises ``ConfigError`` for missing settings and
    ``MailError`` when the SMTP server cannot be used at all."""
    now = now or datetime.now(UTC)
    sender = _check_sendable(settings, query.dry_run)
    fiscal = settings.tracker.fiscal_year_start_month
    period = parse_period(query.period, as_of, fiscal).label if query.period else None
    report = evaluate_goals(settings, store, as_of, period=query.period)
    status = build_status(settings, store, now)
    fresh = freshness(status, settings.email.data_age_limit, now)
    run = DigestRun(as_of=as_of, slot=as_of.isoformat())
    run.stale = [s for s in fresh if s.problem is not None]
    if run.stale and settings.email.withhold_on_stale and not query.dry_run:
        run.withheld = True
        return run
    routing = restrict(
        route(report.results, _directory(store, list(settings.sources)), settings.email.default_to),
        query.to,
    )
    run.unaddressed = [r.goal.id for r in routing.unaddressed]
    context = _context(settings, fresh, as_of)
    charts = ChartCache()
    log = SendLog(store.engine)
    delivery = _Delivery(settings, log, backoff)
    latest: dict[str, dict[str, str]] = {}
    try:
        for recipient in [bare(a) for a in query.to if a.strip()]:
            if recipient not in routing.by_recipient:
                _note(run, Outcome(recipient, "no_goals"), on_outcome)
        for recipient, results in routing.by_recipient.items():
            digest = render_digest(recipient, results, context, charts)
            key = period or ",".join(digest.periods)
            if query.dry_run:
                path = query.outbox / run.slot / _file_name(recipient)
                message = compose(
                    digest,
                    sender=sender,
                    reply_to=settings.email.reply_to,
                    message_id=new_message_id(sender),
                    date=now,
                )
                _write_atomically(path, wire_bytes(message))
                _note(run, Outcome(recipient, "written", digest.goals, path=path), on_outcome)
                continue
            if key not in latest:
                latest[key] = log.latest(key, run.slot)
            before = latest[key].get(recipient)
            if before == SENT and not query.resend:
                _note(run, Outcome(recipient, "already_sent", digest.goals), on_outcome)
            elif before in (SENDING, UNCERTAIN) and not query.resend:
                _note(run, Outcome(recipient, "still_uncertain", digest.goals), on_outcome)
            else:
                _note(run, delivery.send(digest, key, run.slot, sender, now), on_outcome)
    finally:
        delivery.close()
        charts.close()
        run.charts_drawn = charts.drawn
    return run


def _note(run: DigestRun, outcome: Outcome, listener: Callable[[Outcome], None] | None) -> None:
    run.outcomes.append(outcome)
    if listener is not None:
        listener(outcome)
