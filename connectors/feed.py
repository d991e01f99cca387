"""Producers run in threads, their items merged into one bounded hand-over queue.

A connector uses it to keep the API busy while the sync engine maps and stores: each
producer (an iterator making API calls) runs in its own daemon thread; the consuming thread
iterates the feed and gets every producer's items in that producer's order, interleaved as
they come. At most ``ahead`` items wait in the queue, so a producer never runs far ahead.
An exception in a producer is raised by the iteration; closing the feed (leaving its
``with``) stops the producers at their next item.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
JOIN_TIMEOUT = 2.0


class _Done:
    """A producer's end."""


class _Stopped(Exception):
    """The consumer went away: the producer ends quietly."""


class ThreadedFeed(Generic[T]):
    """Iterate ``producers`` in threads; iterating the feed yields their items."""

    def __init__(
        self,
        producers: Iterable[Iterator[T]],
        *,
        ahead: int,
        name: str,
        stop: threading.Event | None = None,
    ) -> None:
        """``stop`` (set when the feed closes) lets a producer end a long wait early."""
        self._queue: queue.Queue[T | _Done | BaseException] = queue.Queue(maxsize=ahead)
        self._stop = stop if stop is not None else threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(p,), name=f"{name}-{i}", daemon=True)
            for i, p in enumerate(producers)
        ]

    def __enter__(self) -> ThreadedFeed[T]:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[T]:
        running = len(self._threads)
        while running:
            item = self._queue.get()
            if isinstance(item, _Done):
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item

    def close(self) -> None:
        """Stop the producers: each stops at its next item (within 0.1 s when waiting to
        hand one over); one still waiting on a request is not waited for long."""
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=JOIN_TIMEOUT)

    def _put(self, item: T | _Done | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue
        raise _Stopped

    def _run(self, producer: Iterator[T]) -> None:
        try:
            for item in producer:
                self._put(item)
            self._put(_Done())
        except _Stopped:
            return
        except BaseException as exc:  # handed to the consuming thread, which raises it
            with contextlib.suppress(_Stopped):
                self._put(exc)
        finally:
            close = getattr(producer, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()
