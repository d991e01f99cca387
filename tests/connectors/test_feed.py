"""ThreadedFeed: producers' items in their own order, errors raised, producers stopped."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from connectors.feed import ThreadedFeed


def counting(tag: str, n: int, delay: float = 0.0) -> Iterator[tuple[str, int]]:
    for i in range(n):
        if delay:
            time.sleep(delay)
        yield tag, i


def test_every_item_arrives_once_in_its_producers_order() -> None:
    with ThreadedFeed([counting("a", 500), counting("b", 300, 0.0001)], ahead=4, name="t") as feed:
        items = list(feed)
    assert [i for tag, i in items if tag == "a"] == list(range(500))
    assert [i for tag, i in items if tag == "b"] == list(range(300))


def test_a_producer_error_is_raised_by_the_iteration() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("boom")

    with (
        ThreadedFeed([failing()], ahead=2, name="t") as feed,
        pytest.raises(ValueError, match="boom"),
    ):
        list(feed)


def test_leaving_early_stops_the_producers_and_closes_them() -> None:
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                n += 1
                yield n
        finally:
            closed.set()

    with ThreadedFeed([endless()], ahead=3, name="feed-test") as feed:
        for n in feed:
            if n == 10:
                break
    assert closed.wait(2)
    assert not [t for t in threading.enumerate() if t.name.startswith("feed-test")]
