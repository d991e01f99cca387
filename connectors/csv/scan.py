"""One pass over the rows of an export (deals or activities): each row mapped or rejected
with ``file:line: reason``, and the set of ids the file holds.

Ids of rejected rows count as present: a row that fails to parse never deletes its record.
A row whose id cannot be read may be any record, so then no id set is given (nothing is
deleted) and a warning names the rows; likewise when no row could be mapped at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from connectors.csv.mapping import RowError
from connectors.csv.reader import ERROR_KEY, ExportRows
from tracker.records import RejectedRow
from tracker.wording import plural

log = logging.getLogger(__name__)
T = TypeVar("T")
SHOWN_LOCATIONS = 5  # rows named in a warning; the count says how many there are


@dataclass
class Scan:
    """What a pass over one file found: rows, mapped rows, the ids and where each was."""

    file: str
    noun: str  # "deal" or "activity", in messages
    seen: dict[str, int] = field(default_factory=dict)
    rows: int = 0
    mapped: int = 0
    unidentified: int = 0
    unidentified_at: list[str] = field(default_factory=list)

    def records(
        self,
        export: ExportRows,
        row_id: Callable[[dict[str, Any]], str | None],
        map_row: Callable[[dict[str, Any]], T],
    ) -> Iterator[T | RejectedRow]:
        """Each row's records, or a ``RejectedRow`` saying why it was left out."""
        for line, row in export:
            self.rows += 1
            location = f"{self.file}:{line}"
            key = row_id(row)
            if key is None:
                self.unidentified += 1
                if len(self.unidentified_at) < SHOWN_LOCATIONS:
                    self.unidentified_at.append(location)
            if ERROR_KEY in row:
                if key is not None:
                    self.seen.setdefault(key, line)
                yield RejectedRow(location, str(row[ERROR_KEY]), key)
                continue
            if key is not None and key in self.seen:
                first = self.seen[key]
                yield RejectedRow(
                    location, f"duplicate {self.noun} id {key!r} (first on line {first})", key
                )
                continue
            if key is not None:
                self.seen[key] = line
            try:
                mapped = map_row(row)
            except RowError as exc:
                yield RejectedRow(location, str(exc), key)
                continue
            self.mapped += 1
            yield mapped

    def complete_ids(self, warnings: list[str]) -> frozenset[str] | None:
        """Every id in the file, or ``None`` (with a warning appended) when deleting the
        records missing from it would be unsafe."""
        if self.unidentified or not self.mapped:
            warnings.append(self._deletions_not_applied())
            log.warning("%s", warnings[-1])
            return None
        return frozenset(self.seen)

    def _deletions_not_applied(self) -> str:
        what = (
            "deletions not applied" if self.noun == "deal" else f"{self.noun} deletions not applied"
        )
        if not self.unidentified:
            return f"{what}: no row could be mapped"
        first, count = self.unidentified_at, self.unidentified
        more = f" and {count - len(first):,} more" if count > len(first) else ""
        return f"{what}: {plural(count, 'row')} without an id, {', '.join(first)}{more}"
