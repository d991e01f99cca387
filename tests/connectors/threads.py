"""Waiting for a connector's worker threads to end (they are daemon threads named by
their feed)."""

from __future__ import annotations

import threading
import time


def threads_named(prefix: str) -> list[threading.Thread]:
    """Live threads whose name starts with ``prefix``."""
    return [t for t in threading.enumerate() if t.name.startswith(prefix)]


def assert_no_thread_left(prefix: str, within: float = 5.0) -> None:
    """Fail unless every thread named ``prefix…`` ends within ``within`` seconds."""
    deadline = time.monotonic() + within
    while threads_named(prefix) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threads_named(prefix) == []
