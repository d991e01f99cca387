"""Clean stops: SIGTERM and SIGINT ask the work in progress to stop at a safe point.

The first signal calls ``on_stop`` (a sync commits its current batch with its cursor and
ends ``interrupted``; the scheduler starts no new job); a second SIGINT (Ctrl-C again)
interrupts at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any


@contextmanager
def stop_on_signals(on_stop: Callable[[int], None]) -> Iterator[None]:
    """Within the block, SIGTERM/SIGINT call ``on_stop(signum)`` once; a later SIGINT raises
    ``KeyboardInterrupt``. Outside the main thread this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    seen: list[int] = []

    def handler(signum: int, _frame: FrameType | None) -> None:
        if seen and signum == signal.SIGINT:
            raise KeyboardInterrupt
        if not seen:
            seen.append(signum)
            on_stop(signum)

    previous: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
