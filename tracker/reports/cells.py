"""Cell values for files a spreadsheet opens (CSV, XLSX): text that a spreadsheet would
read as a formula is neutralised (OWASP "CSV injection")."""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutral(value: Any) -> Any:
    """``value``, with text starting like a formula (=, +, -, @, tab, CR) prefixed by an
    apostrophe so it stays text; numbers and other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
