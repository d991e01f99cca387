"""The operations tables of the config: ``[email]`` (how digests and alerts are sent) and
``[schedule]`` (when the scheduler runs each job)."""

from __future__ import annotations

import re
from datetime import timedelta
from email.utils import parseaddr
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from tracker.config_types import ConfigPath, Secret, Strict, zone_name
from tracker.durations import parse_duration

if TYPE_CHECKING:
    from tracker.settings import TrackerSection


_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+$")


def _address(value: str) -> str:
    """``value`` if it is an address, bare or with a display name (``Name <a@b.c>``)."""
    value = value.strip()
    _, address = parseaddr(value)
    if any(c in value for c in "\r\n\0") or not _ADDRESS.match(address):
        raise ValueError(
            f"{value!r} is not an email address (write name@example.com or Name <name@example.com>)"
        )
    return value


class EmailSection(Strict):
    """``[email]``: how digests are sent (``docs/email.md``). Absent: no mail is sent."""

    host: str | None = None
    """SMTP server; required to send."""
    port: int | None = Field(default=None, ge=1, le=65535)
    """SMTP port (default 587 with starttls, 465 with ssl, 25 without TLS)."""
    security: Literal["starttls", "ssl", "none"] = "starttls"
    """starttls, ssl (implicit TLS) or none (a trusted network only)."""
    username: str | None = None
    """SMTP AUTH user (with password, or neither)."""
    password: Secret | None = None
    """SMTP AUTH password, as a secret ({ env = ... } or { file = ... })."""
    sender: str | None = Field(default=None, alias="from")
    """The From address (Name <addr> allowed); required to send."""
    reply_to: str | None = None
    """The Reply-To address, if any."""
    default_to: tuple[str, ...] = ()
    """Who receives the goals nobody else is found for."""
    ops_to: tuple[str, ...] = ()
    """Who receives operational alerts (failing jobs, stale data)."""
    max_data_age: str = "36h"
    """Data older than this is flagged in digests (e.g. 36h, 2d)."""
    withhold_on_stale: bool = False
    """Send no digest while some source's data is stale (exit 1)."""
    timeout: float = Field(default=30.0, gt=0, le=600)
    """Seconds per SMTP operation."""
    ca_file: ConfigPath | None = None
    """A CA bundle to trust besides the system's (a private mail relay)."""

    @field_validator("host", "username")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or any(c in value for c in "\r\n\0 ")):
            raise ValueError(f"{value!r}: give a single word without spaces or line breaks")
        return value

    @field_validator("sender", "reply_to")
    @classmethod
    def _one_address(cls, value: str | None) -> str | None:
        return None if value is None else _address(value)

    @field_validator("default_to", "ops_to")
    @classmethod
    def _addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_address(item) for item in value)

    @field_validator("max_data_age")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @model_validator(mode="after")
    def _login_pairs(self) -> EmailSection:
        if (self.username is None) != (self.password is None):
            raise ValueError("give both username and password, or neither (no AUTH)")
        return self

    @property
    def configured(self) -> bool:
        """True when mail can be sent: a host and a sender are set."""
        return self.host is not None and self.sender is not None

    @property
    def smtp_port(self) -> int:
        """The port: as configured, else 465 for ssl, 587 for starttls, 25 without TLS."""
        if self.port is not None:
            return self.port
        return {"ssl": 465, "starttls": 587, "none": 25}[self.security]

    @property
    def data_age_limit(self) -> timedelta:
        """``max_data_age`` as a ``timedelta``."""
        return parse_duration(self.max_data_age)


class ScheduleSection(Strict):
    """``[schedule]``: when the scheduler runs each job (cron: minute hour day month
    weekday, crontab's day numbers: 0 or 7 Sunday; or 6 fields with seconds first; in
    ``timezone``); a job exists only if its key is set (``docs/operations.md``)."""

    timezone: str | None = None
    """Time zone of the cron expressions (default: ``[tracker] timezone``)."""
    sync: str | None = None
    """Every source, incremental (e.g. "0 2 * * *")."""
    reconcile: str | None = None
    """Every source with id-set reconciliation (e.g. "30 3 * * SUN")."""
    snapshot: str | None = None
    """Metric snapshots and a goals check-in (e.g. "15 2 * * *")."""
    digest: str | None = None
    """The variance emails (e.g. "0 7 * * MON")."""
    misfire_grace: str = "6h"
    """How late a run missed (scheduler down) may still start, once; later ones are skipped."""
    sources: dict[str, str] = Field(default_factory=dict)
    """Per-source sync schedules replacing ``sync`` for that source."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else zone_name(value)

    @field_validator("misfire_grace")
    @classmethod
    def _grace(cls, value: str) -> str:
        parse_duration(value)
        return value

    def zone(self, tracker: TrackerSection) -> str:
        """The schedule's time zone name."""
        return self.timezone or tracker.timezone
