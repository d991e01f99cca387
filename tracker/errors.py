"""Domain exceptions. The CLI turns them into one line on stderr and an exit code.

Each subclass builds its own message; none of them ever carries a secret value.
Anything that is not a ``TrackerError`` is a bug and keeps its traceback.
"""

from __future__ import annotations


class TrackerError(Exception):
    """Base of every expected error; ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class UsageError(TrackerError):
    """Bad command-line input (an unknown period, metric, dimension, flag value...)."""

    exit_code = 2


class ConfigError(TrackerError):
    """The configuration file is missing, unreadable or invalid; names the key and the fix."""

    exit_code = 2


class StoreError(TrackerError):
    """The store cannot be opened or is at the wrong schema revision."""

    exit_code = 1


class SourceError(TrackerError):
    """A source failed: unreachable, refused, returned something unusable."""

    exit_code = 1


class BudgetExhausted(SourceError):
    """A source stopped cleanly because its API budget for this run or day is spent."""

    exit_code = 3


class MailError(TrackerError):
    """Mail cannot be sent at all: the SMTP server is unreachable, refuses TLS or AUTH.

    The message names the host, port and config key to fix; never the password."""

    exit_code = 1
