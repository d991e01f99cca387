"""Small helpers for messages people read: plurals and "did you mean" hints."""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 row``, ``2 rows``, ``1,200 rows`` (``plural_form`` for irregular words)."""
    word = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count:,} {word}"


def unknown_name(kind: str, name: str, known: Iterable[str]) -> str:
    """``unknown metric 'revnue': did you mean 'revenue'? choose from a, b, c``."""
    choices = list(known)
    close = get_close_matches(name.lower(), choices, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown {kind} '{name}': {hint}choose from {', '.join(choices) or 'none'}"
