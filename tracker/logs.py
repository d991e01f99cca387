"""Log set-up: human lines by default, one JSON object per line for log shippers.

Every record carries the scheduled ``job`` and the ``source`` it works on (set with
``log_context``), and passes through a filter that masks the configured secrets, so a
token quoted by a library's message never reaches a log.
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from tracker.config_types import Secret
from tracker.errors import ConfigError, UsageError

LOG_FORMATS = ("human", "json")
MASK = "***"
_job: contextvars.ContextVar[str | None] = contextvars.ContextVar("job", default=None)
_source: contextvars.ContextVar[str | None] = contextvars.ContextVar("source", default=None)


@contextmanager
def log_context(job: str | None = None, source: str | None = None) -> Iterator[None]:
    """Within the block (this thread), log records name ``job`` and ``source`` (``None``
    keeps the one already set)."""
    tokens = (_job.set(job or _job.get()), _source.set(source or _source.get()))
    try:
        yield
    finally:
        _job.reset(tokens[0])
        _source.reset(tokens[1])


class ContextFilter(logging.Filter):
    """Adds ``job`` and ``source`` to each record and masks secrets in its message."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keeps the record, with its context set and its message masked."""
        record.job = getattr(record, "job", None) or _job.get()
        record.source = getattr(record, "source", None) or _source.get()
        if self.secrets:
            record.msg, record.args = mask(record.getMessage(), self.secrets), ()
            if record.exc_info and record.exc_info[1] is not None:
                # a traceback may quote a secret (in a message or a repr): masked as well
                text = logging.Formatter().formatException(record.exc_info)
                record.exc_text = mask(text, self.secrets)
        return True


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by ``***``."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, job, source."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        item: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "job": getattr(record, "job", None),
            "source": getattr(record, "source", None),
        }
        if record.exc_info and record.exc_info[1] is not None:
            item["error_type"] = type(record.exc_info[1]).__name__
            item["traceback"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(item, ensure_ascii=False, default=str)


class HumanFormatter(logging.Formatter):
    """``WARNING connectors.retry: [sync:hubspot hubspot] message`` (job and source when set)."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(context)s%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The record as a human line."""
        parts = [p for p in (getattr(record, "job", None), getattr(record, "source", None)) if p]
        record.context = f"[{' '.join(dict.fromkeys(parts))}] " if parts else ""
        return super().format(record)


_FILTER = ContextFilter()


def setup_logging(
    level: int, log_format: str = "human", handler: logging.Handler | None = None
) -> None:
    """Route every log record to ``handler`` (default: stderr) at ``level`` in
    ``log_format`` (human or json)."""
    if log_format not in LOG_FORMATS:
        raise UsageError(f"--log-format {log_format}: use human or json")
    handler = handler or logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else HumanFormatter())
    handler.addFilter(_FILTER)
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))


def hide_secrets(model: BaseModel) -> None:
    """Mask every readable secret of ``model`` (the settings) in the logs from now on."""
    _FILTER.secrets.update(value for value in _secret_values(model) if len(value) >= 4)


def _secret_values(value: Any) -> Iterator[str]:
    if isinstance(value, Secret):
        try:
            yield value.reveal()
        except ConfigError:
            return
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _secret_values(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _secret_values(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _secret_values(item)
