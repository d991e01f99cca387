"""The Salesforce connector's own errors and the run's API budget, and reading an error body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tracker.errors import BudgetExhausted, SourceError


def error_code(exc: Any) -> tuple[str, str]:
    """(errorCode, message) of an SDK error's JSON body (its ``content``), or ("", "") when
    there is none."""
    content = exc.content
    try:
        body = json.loads(content) if isinstance(content, bytes | str) else content
    except ValueError:
        return "", ""
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return str(body[0].get("errorCode", "")), str(body[0].get("message", ""))
    if isinstance(body, dict):
        return str(body.get("errorCode", body.get("error", ""))), str(body.get("message", ""))
    return "", ""


def first_line(text: str, limit: int = 300) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class ReplicationWindowError(SourceError):
    """getDeleted refused the window (older than the org keeps its delete log)."""


class ResourceNotFound(SourceError):
    """A 404: the resource (an API version, the composite resource, an object) is not in
    this org."""


class RunBudgetSpent(BudgetExhausted):
    """This run's own budget (``max_api_percent``) is spent, not the org's daily limit."""

    def __init__(self, message: str, calls: int) -> None:
        super().__init__(message)
        self.calls = calls


@dataclass
class CallBudget:
    """Requests this run may make; ``check`` is called before each one."""

    limit: int | None = None
    remaining_today: int | None = None
    source: str = ""

    def exhausted_error(self, calls: int) -> RunBudgetSpent:
        """The clean stop once ``limit`` calls were made."""
        return RunBudgetSpent(
            f"API budget for this run spent: stopped after {self._spent(calls)}; run "
            f"`tracker sync {self.source}` again tomorrow (or raise max_api_percent) to resume "
            "from the saved cursor",
            calls,
        )

    def chunk_too_large_error(self, calls: int, chunk: int, chunks: int) -> RunBudgetSpent:
        """The stop of a run whose budget ended before a Bulk chunk did (the next run reads
        that chunk from its start again)."""
        return RunBudgetSpent(
            f"API budget for this run spent before Bulk chunk {chunk} of {chunks} finished: "
            f"stopped after {self._spent(calls)}; the next `tracker sync {self.source}` starts "
            "that chunk over, so raise max_api_percent (or wait for tomorrow's budget) until "
            "a chunk fits in one run",
            calls,
        )

    def _spent(self, calls: int) -> str:
        left = "?" if self.remaining_today is None else f"{self.remaining_today:,}"
        return f"{calls:,} API calls (max_api_percent of the {left} left today)"
