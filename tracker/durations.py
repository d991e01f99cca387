"""Durations written in the config: ``36h``, ``90m``, ``2d``, ``1h30m``, ``45s``."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)\s*([dhms])")
_WHOLE = re.compile(r"^\s*(?:\d+\s*[dhms]\s*)+$")
_UNIT_SECONDS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
DURATION_FORMS = "a number with d, h, m or s, such as 36h, 90m, 2d or 1h30m"


def parse_duration(text: str) -> timedelta:
    """``text`` as a ``timedelta``; a ``ValueError`` saying how to write one otherwise."""
    lowered = text.strip().lower()
    if not _WHOLE.match(lowered):
        raise ValueError(f"{text!r} is not a duration: write {DURATION_FORMS}")
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(lowered))
    if seconds <= 0:
        raise ValueError(f"{text!r}: give a duration longer than zero")
    return timedelta(seconds=seconds)


def describe_duration(value: timedelta) -> str:
    """``value`` in the largest unit that divides it: ``36h``, ``2d``, ``90m``, ``45s``."""
    seconds = int(value.total_seconds())
    for unit, size in _UNIT_SECONDS.items():
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
