"""Client-side request budgets: one token bucket per HubSpot rate-limit bucket.

HubSpot counts the CRM search API separately (about 5 requests/s per account) from every
other endpoint (100-190 requests per 10 s per private app, by tier). Spacing requests here
keeps a sync under both limits instead of learning them from 429s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """``rate`` requests per second on average, bursts of up to ``burst`` requests."""

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.burst = max(burst, 1.0)
        self._tokens = self.burst
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()
        self.waited = 0.0

    def take(self) -> float:
        """Wait until a request may go out; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
            self.waited += wait
        if wait > 0:
            self._sleep(wait)
        return wait


def search_bucket(per_second: float) -> TokenBucket:
    """The search API's bucket: no burst beyond one second's worth."""
    return TokenBucket(per_second, per_second)


def general_bucket(per_10s: float) -> TokenBucket:
    """Every other endpoint: the 10-second window HubSpot enforces, spread evenly."""
    return TokenBucket(per_10s / 10.0, max(per_10s / 10.0, 1.0))
