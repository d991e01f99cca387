"""SMTP delivery and the send records: the only ``smtplib`` import (``docs/email.md``).

Delivery is one SMTP transaction per recipient. Transient failures (a 4xx reply, a reset
connection, a timeout) are retried with exponential backoff; a 5xx reply fails that
recipient only. A connection lost *during* DATA is not retried: the server may have taken
the message, so the send is left "delivery uncertain" rather than risk a second copy.

``SendLog`` keeps one row per attempt in ``email_sends``: written "sending" (and committed)
before the transaction, "sent" or "failed" after it. A row still "sending" after the
process is gone is a delivery nobody can vouch for; it is reported, never silently re-sent.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from sqlalchemy import Table, func, select, update
from sqlalchemy.engine import Engine
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from tracker.errors import MailError
from tracker.models import EmailSend
from tracker.ops_settings import EmailSection

SENDING, SENT, FAILED, UNCERTAIN = "sending", "sent", "failed", "uncertain"


class DeliveryFailed(Exception):
    """One recipient could not be delivered to; ``uncertain`` when the server may have
    the message anyway (the connection dropped during DATA)."""

    def __init__(self, reason: str, *, uncertain: bool = False) -> None:
        super().__init__(reason)
        self.uncertain = uncertain


class _Transient(Exception):
    """A failure worth another attempt (4xx, dropped connection before DATA, timeout)."""


def _reply_text(code: int, text: bytes | str) -> str:
    raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(raw.split())}"[:300]


@dataclass(frozen=True)
class Backoff:
    """Attempts per recipient and the exponential wait between them (seconds)."""

    attempts: int = 4
    first_wait: float = 1.0
    max_wait: float = 30.0


class SmtpSender:
    """A connection to the configured SMTP server (TLS and AUTH as configured).

    Use as a context manager; ``deliver`` sends one message to one recipient."""

    def __init__(self, settings: EmailSection, backoff: Backoff | None = None) -> None:
        if settings.host is None:
            raise MailError("[email] host is not set: give the SMTP server (docs/email.md)")
        self._settings = settings
        self._backoff = backoff or Backoff()
        self._smtp: smtplib.SMTP | None = None
        self.where = f"{settings.host}:{settings.smtp_port}"

    def __enter__(self) -> SmtpSender:
        self.connect()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _tls(self) -> ssl.SSLContext:
        ca = self._settings.ca_file
        return ssl.create_default_context(cafile=str(ca) if ca else None)

    def _open(self) -> smtplib.SMTP:
        s = self._settings
        assert s.host is not None
        if s.security == "ssl":
            return smtplib.SMTP_SSL(s.host, s.smtp_port, timeout=s.timeout, context=self._tls())
        smtp = smtplib.SMTP(s.host, s.smtp_port, timeout=s.timeout)
        if s.security == "starttls":
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                smtp.close()
                raise MailError(
                    f"SMTP server {self.where} does not offer STARTTLS: use security = "
                    '"ssl" (port 465) or, on a trusted network only, "none"'
                )
            smtp.starttls(context=self._tls())
            smtp.ehlo()
        return smtp

    def connect(self) -> None:
        """Open the connection, TLS and AUTH; a ``MailError`` naming what to fix if not."""
        s = self._settings
        try:
            smtp = self._open()
        except MailError:
            raise
        except ssl.SSLError as exc:
            reason = exc.reason or type(exc).__name__
            raise MailError(
                f"TLS with SMTP server {self.where} failed ({reason}): check [email] "
                "security, port and ca_file"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(
                f"cannot reach SMTP server {self.where}: {_describe(exc)} "
                "(check [email] host and port)"
            ) from None
        if s.username is not None and s.password is not None:
            try:
                _login(smtp, s.username, s.password.reveal())
            except smtplib.SMTPAuthenticationError as exc:
                smtp.close()
                raise MailError(
                    f"SMTP server {self.where} refused AUTH for user {s.username} "
                    f"({exc.smtp_code}): check [email] username and password"
                ) from None
            except smtplib.SMTPNotSupportedError:
                smtp.close()
                raise MailError(
                    f"SMTP server {self.where} offers no AUTH here: use TLS "
                    "(security) or leave username/password out"
                ) from None
            except (OSError, smtplib.SMTPException) as exc:
                smtp.close()
                raise MailError(
                    f"SMTP server {self.where} failed during AUTH: {_describe(exc)}"
                ) from None
        self._smtp = smtp

    def close(self) -> None:
        """Say QUIT (best effort) and close."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None

    def deliver(self, message: EmailMessage, recipient: str) -> None:
        """Send ``message`` to ``recipient`` alone, retrying transient failures; raises
        ``DeliveryFailed`` when it cannot (``MailError`` if the server stops accepting
        our login or TLS on a reconnect)."""
        retrying = Retrying(
            retry=retry_if_exception(lambda exc: isinstance(exc, _Transient)),
            stop=stop_after_attempt(self._backoff.attempts),
            wait=wait_exponential(multiplier=self._backoff.first_wait, max=self._backoff.max_wait),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    self._transaction(message, recipient)
        except _Transient as exc:
            raise DeliveryFailed(f"{exc} (after {self._backoff.attempts} attempts)") from None

    def _transaction(self, message: EmailMessage, recipient: str) -> None:
        if self._smtp is None:
            self.connect()
        smtp = self._smtp
        assert smtp is not None
        sender = str(message["From"])
        utf8 = international(message)
        try:
            smtp.ehlo_or_helo_if_needed()
            if utf8 and not smtp.has_extn("smtputf8"):
                raise DeliveryFailed(
                    f"the address is not ASCII and {self.where} does not offer SMTPUTF8"
                )
            smtp.command_encoding = "utf-8" if utf8 else "ascii"
            code, text = smtp.mail(sender, ["SMTPUTF8"] if utf8 else [])
            if code != 250:
                self._refused(smtp, code, text, "MAIL FROM")
            code, text = smtp.rcpt(recipient)
            if code not in (250, 251):
                self._refused(smtp, code, text, "RCPT TO")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise _Transient(f"connection lost: {_describe(exc)}") from None
        try:
            code, text = smtp.data(wire_bytes(message))
        except smtplib.SMTPDataError as exc:
            self._refused(smtp, exc.smtp_code, exc.smtp_error, "DATA")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise DeliveryFailed(
                f"connection lost during DATA ({_describe(exc)}): the server may have the message",
                uncertain=True,
            ) from None

    def _refused(self, smtp: smtplib.SMTP, code: int, text: bytes | str, step: str) -> None:
        try:
            smtp.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()
        reply = _reply_text(code, text)
        if 400 <= code < 500:
            raise _Transient(f"{step} deferred: {reply}")
        raise DeliveryFailed(f"{step} refused: {reply}")

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None


@dataclass(frozen=True)
class Probe:
    """What ``probe`` established: the server, the TLS in use, the user AUTH accepted."""

    where: str
    security: str
    user: str | None

    def describe(self) -> str:
        """``smtp.example.com:587 reachable, STARTTLS ok, AUTH ok as bot``."""
        tls = {"starttls": "STARTTLS ok", "ssl": "implicit TLS ok", "none": "no TLS"}
        auth = f"AUTH ok as {self.user}" if self.user else "no AUTH configured"
        return f"{self.where} reachable, {tls[self.security]}, {auth}"


def probe(settings: EmailSection) -> Probe:
    """Connect, TLS and AUTH exactly as a send would, say NOOP and QUIT: no mail is sent.

    Raises ``MailError`` naming what failed and the key to fix (never the password)."""
    sender = SmtpSender(settings)
    sender.connect()
    try:
        smtp = sender._smtp
        assert smtp is not None
        code, text = smtp.noop()
        if code != 250:
            reply = _reply_text(code, text)
            raise MailError(f"SMTP server {sender.where} answered NOOP with {reply}")
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(
            f"SMTP server {sender.where} dropped the connection after AUTH: {_describe(exc)}"
        ) from None
    finally:
        sender.close()
    user = settings.username if settings.password is not None else None
    return Probe(sender.where, settings.security, user)


def international(message: EmailMessage) -> bool:
    """True when an address is not ASCII (an EAI address such as zoë@example.com): the
    message must then go as SMTPUTF8, its headers in UTF-8."""
    return not all(str(message[h] or "").isascii() for h in ("From", "To", "Reply-To"))


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as sent (and as written to an .eml file): CRLF lines, and UTF-8
    headers when an address needs them."""
    return message.as_bytes(policy=policy.SMTPUTF8 if international(message) else policy.SMTP)


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """AUTH with one mechanism (PLAIN, else LOGIN, else what smtplib picks): a refusal is
    final, not a cue to try the password again another way."""
    smtp.ehlo_or_helo_if_needed()
    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("AUTH not offered")
    offered = smtp.esmtp_features["auth"].upper().split()
    smtp.user, smtp.password = user, password
    if "PLAIN" in offered:
        smtp.auth("PLAIN", smtp.auth_plain)
    elif "LOGIN" in offered:
        smtp.auth("LOGIN", smtp.auth_login)
    else:
        smtp.login(user, password)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply_text(exc.smtp_code, exc.smtp_error)
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())[:200]


class SendLog:
    """The ``email_sends`` rows: one per attempt, each change committed at once."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._table: Table = EmailSend.__table__  # type: ignore[attr-defined]

    def latest(self, period: str, slot: str) -> dict[str, str]:
        """Each recipient's newest status for ``period`` and ``slot``."""
        t = self._table
        newest = (
            select(t.c.recipient, func.max(t.c.id).label("id"))
            .where(t.c.period == period, t.c.slot == slot)
            .group_by(t.c.recipient)
            .subquery()
        )
        query = select(t.c.recipient, t.c.status).join(newest, t.c.id == newest.c.id)
        with self._engine.connect() as conn:
            return {r: s for r, s in conn.execute(query).all()}

    def begin(
        self, recipient: str, period: str, slot: str, message_id: str, goals: int, now: datetime
    ) -> int:
        """Record a send about to start (committed before any byte goes to the server)."""
        row = {
            "recipient": recipient,
            "period": period,
            "slot": slot,
            "message_id": message_id,
            "status": SENDING,
            "goals": goals,
            "started_at": now,
        }
        with self._engine.begin() as conn:
            key = conn.execute(self._table.insert().values(**row)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def finish(self, row_id: int, status: str, now: datetime, error: str | None = None) -> None:
        """Record how the send ended."""
        values: dict[str, Any] = {"status": status, "finished_at": now, "error": error}
        if error is not None:
            values["error"] = error[:1000]
        with self._engine.begin() as conn:
            conn.execute(update(self._table).where(self._table.c.id == row_id).values(**values))

    def rows(self, *, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The newest rows (of one status), newest first."""
        t = self._table
        query = select(t).order_by(t.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(t.c.status == status)
        with self._engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]
