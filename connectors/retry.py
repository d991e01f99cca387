"""Bounded exponential backoff with jitter for CRM calls (tenacity), shared by connectors.

A connector classifies each failure with a function returning a ``Retry`` verdict:
``None`` = not retryable (raise at once), otherwise retry after the server's
``Retry-After`` when it sent one, else after an exponentially growing, jittered delay.
Never use this for daily-limit errors: those must stop the sync cleanly instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pydantic import Field
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential, wait_random

from tracker.settings import Strict

log = logging.getLogger(__name__)
T = TypeVar("T")


class RetrySettings(Strict):
    """``[sources.NAME.retry]``: how 429s, 5xx and dropped connections are retried."""

    max_attempts: int = Field(default=6, ge=1, le=20)
    initial_delay: float = Field(default=0.5, ge=0)
    max_delay: float = Field(default=30.0, ge=0)
    jitter: float = Field(default=0.5, ge=0)


@dataclass(frozen=True)
class RetryVerdict:
    """A failure worth retrying; ``retry_after`` is the server's hint in seconds."""

    reason: str
    retry_after: float | None = None


Classifier = Callable[[BaseException], RetryVerdict | None]


def call_with_retry(
    fn: Callable[[], T],
    classify: Classifier,
    settings: RetrySettings,
    *,
    what: str = "request",
    on_retry: Callable[[RetryVerdict], None] | None = None,
) -> T:
    """Call ``fn``, retrying failures ``classify`` accepts; re-raises the last failure."""
    backoff = wait_exponential(multiplier=settings.initial_delay, max=settings.max_delay) + (
        wait_random(0, settings.jitter)
    )

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        verdict = classify(exc) if exc is not None else None
        if verdict is not None and verdict.retry_after is not None:
            return min(max(verdict.retry_after, 0.0), settings.max_delay)
        return float(backoff(state))

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        verdict = classify(exc) if exc is not None else None
        if verdict is not None:
            log.warning(
                "%s failed (%s); retry %d of %d",
                what,
                verdict.reason,
                state.attempt_number,
                settings.max_attempts - 1,
            )
            if on_retry is not None:
                on_retry(verdict)

    retrying = Retrying(
        stop=stop_after_attempt(settings.max_attempts),
        wait=wait,
        retry=retry_if_exception(lambda e: classify(e) is not None),
        before_sleep=before_sleep,
        reraise=True,
    )
    return retrying(fn)
