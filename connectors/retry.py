"""Bounded exponential backoff with jitter for CRM calls (tenacity), shared by connectors.

A connector classifies each failure with a function returning a ``Retry`` verdict:
``None`` = not retryable (raise at once), otherwise retry after the server's
``Retry-After`` when it sent one (as long as the vendor asks, not cut at ``max_delay``),
else after an exponentially growing, jittered delay. A host that refuses the connection or
does not resolve is not a passing fault: one retry, then a one-line error naming the URL.
Every wait of a run draws on one budget (``max_wait_seconds``); a wait that would overrun
it stops the sync cleanly ("stopped: rate limited", exit 3) instead of sleeping on.
Never use this for daily-limit errors: those must stop the sync cleanly instead.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import Field
from tenacity import RetryCallState, Retrying, retry_if_exception
from tenacity.wait import wait_exponential, wait_random

from tracker.config_types import Strict
from tracker.errors import BudgetExhausted

log = logging.getLogger(__name__)
T = TypeVar("T")


class RetrySettings(Strict):
    """``[sources.NAME.retry]``: how 429s, 5xx and dropped connections are retried."""

    max_attempts: int = Field(default=6, ge=1, le=20)
    """Attempts per request."""
    initial_delay: float = Field(default=0.5, ge=0)
    """First wait, in seconds (doubling)."""
    max_delay: float = Field(default=30.0, ge=0)
    """Longest single wait, in seconds."""
    jitter: float = Field(default=0.5, ge=0)
    """Random seconds added to each wait."""
    max_wait_seconds: float = Field(default=300.0, ge=0)
    """Total seconds a run may wait on rate limits before stopping (exit 3)."""


UNREACHABLE_ATTEMPTS = 2  # a refused connection or an unknown host: one retry, no more


@dataclass(frozen=True)
class RetryVerdict:
    """A failure worth retrying; ``retry_after`` is the server's hint in seconds;
    ``attempts`` caps the attempts for this kind of failure (below ``max_attempts``)."""

    reason: str
    retry_after: float | None = None
    attempts: int | None = None


class RateLimitedStop(BudgetExhausted):
    """The run's wait budget cannot cover the wait the server asks for (exit 3)."""


@dataclass
class WaitBudget:
    """Seconds one sync run may spend waiting between retries, across all its calls."""

    limit: float
    waited: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self, seconds: float, what: str, source: str) -> None:
        """Draw ``seconds`` from the budget, or stop the run cleanly."""
        with self._lock:
            if self.waited + seconds > self.limit:
                raise RateLimitedStop(
                    f"stopped: rate limited: {what} asked to wait {seconds:g} s and this "
                    f"run has waited {self.waited:,.0f} of its {self.limit:,.0f} s "
                    f"(sources.{source}.retry.max_wait_seconds); everything committed is "
                    f"kept: run `tracker sync {source}` later to resume"
                )
            self.waited += seconds


def unreachable(exc: BaseException) -> str | None:
    """Why ``exc`` means the host cannot be reached at all (refused, unknown name), by
    its cause chain; None for other failures (timeouts, resets: those are transient)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, socket.gaierror) or type(current).__name__ == "NameResolutionError":
            return "host name not found"
        pending += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        pending += [a for a in getattr(current, "args", ()) if isinstance(a, BaseException)]
    return None


def cannot_reach(vendor: str, what: str, url: str | None, why: str, key: str) -> str:
    """The final error of a host that could not be reached, worded alike by every
    connector: the URL (never a token), why, and the key to check."""
    return (
        f"{vendor} {what}: cannot reach {url or 'the server'} ({why}); check {key} and that "
        "the server is up"
    )


Classifier = Callable[[BaseException], RetryVerdict | None]


def call_with_retry(
    fn: Callable[[], T],
    classify: Classifier,
    settings: RetrySettings,
    *,
    what: str = "request",
    on_retry: Callable[[RetryVerdict], None] | None = None,
    budget: WaitBudget | None = None,
    source: str = "",
) -> T:
    """Call ``fn``, retrying failures ``classify`` accepts; re-raises the last failure.

    ``budget`` (the run's) bounds the total wait: a wait that would overrun it raises
    :class:`RateLimitedStop` instead of sleeping.
    """
    backoff = wait_exponential(multiplier=settings.initial_delay, max=settings.max_delay) + (
        wait_random(0, settings.jitter)
    )

    def verdict_of(state: RetryCallState) -> RetryVerdict | None:
        exc = state.outcome.exception() if state.outcome else None
        return classify(exc) if exc is not None else None

    def wait(state: RetryCallState) -> float:
        verdict = verdict_of(state)
        if verdict is not None and verdict.retry_after is not None:
            seconds = max(verdict.retry_after, 0.0)  # as long as the server asks
        else:
            seconds = float(backoff(state))
        if budget is not None:
            budget.take(seconds, what, source)
        return seconds

    def stop(state: RetryCallState) -> bool:
        verdict = verdict_of(state)
        cap = verdict.attempts if verdict is not None and verdict.attempts else None
        limit = min(settings.max_attempts, cap) if cap else settings.max_attempts
        return state.attempt_number >= limit

    def before_sleep(state: RetryCallState) -> None:
        verdict = verdict_of(state)
        if verdict is not None:
            log.warning(
                "%s failed (%s); retry %d of %d",
                what,
                verdict.reason,
                state.attempt_number,
                min(settings.max_attempts, verdict.attempts or settings.max_attempts) - 1,
            )
            if on_retry is not None:
                on_retry(verdict)

    retrying = Retrying(
        stop=stop,
        wait=wait,
        retry=retry_if_exception(lambda e: classify(e) is not None),
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(fn)
