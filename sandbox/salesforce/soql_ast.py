"""The SOQL syntax tree built by :mod:`soql` (and :class:`SoqlError`, raised by both the
parser and the evaluator)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


class SoqlError(Exception):
    """A query Salesforce would reject: ``error_code`` (MALFORMED_QUERY, INVALID_FIELD,
    INVALID_TYPE) and the vendor-shaped ``message``."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(f"{error_code}: {message}")
        self.error_code = error_code
        self.message = message


# --- AST ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldPath:
    """A field or relationship path as written, e.g. ``("Owner", "Manager", "Name")``."""

    parts: tuple[str, ...]
    pos: int = field(default=0, compare=False)

    @property
    def text(self) -> str:
        """The path joined with dots."""
        return ".".join(self.parts)


ValueKind = Literal["string", "number", "boolean", "null", "date", "datetime", "date_literal"]


@dataclass(frozen=True)
class Value:
    """A literal. ``date_literal`` values hold ``(NAME, n or None)``."""

    kind: ValueKind
    value: object
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Comparison:
    """``path op value``; op is one of = != < <= > >= LIKE IN NOT IN (IN values a tuple)."""

    path: FieldPath
    op: str
    value: Value | tuple[Value, ...]


@dataclass(frozen=True)
class And:
    """All of ``items``."""

    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Or:
    """Any of ``items``."""

    items: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    """Negation of ``item``."""

    item: Condition


Condition = Comparison | And | Or | Not


@dataclass(frozen=True)
class CountItem:
    """``COUNT()`` (path None) or ``COUNT(path) [alias]``."""

    path: FieldPath | None
    alias: str | None = None


@dataclass(frozen=True)
class SubQuery:
    """A child-relationship subquery in the select list."""

    query: Query


SelectItem = FieldPath | CountItem | SubQuery


@dataclass(frozen=True)
class OrderItem:
    """One ORDER BY key."""

    path: FieldPath
    descending: bool = False
    nulls_last: bool | None = None  # None: the default (first for ASC, last for DESC)


@dataclass(frozen=True)
class Query:
    """A parsed SELECT statement."""

    select: tuple[SelectItem, ...]
    from_name: str
    where: Condition | None = None
    order_by: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None
    text: str = field(default="", compare=False)
    from_pos: int = field(default=0, compare=False)
