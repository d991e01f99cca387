"""Rows of a CSV or XLSX export as (line number, {column: value}) under one header row.

CRM report exports wrap the data: title lines above the header (``skip_header_rows``) and
a footer block below the data: a blank row, then a totals row (``Grand Totals (8,800
records)``, ``Total``) and single-cell lines (``Confidential Information - Do Not
Distribute``, ``Copyright (c) ...``). The trailing block from the first blank row after
the last data row, when it holds only blank rows, single-cell rows or a totals row, is
that footer: it is skipped and counted (``ExportRows.footer``), never rejected. A blank row
in the middle of the data followed by more data rows is not a footer. ``skip_footer_rows``
drops a fixed number of last rows for files whose footer looks like data.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracker.errors import SourceError

Row = dict[str, Any]
Values = Sequence[Any]
ERROR_KEY = "__error__"
MAX_FIELD = 16 * 1024 * 1024  # long description columns are common in CRM exports
_TOTALS = re.compile(r"^\s*(grand\s+)?totals?\b", re.IGNORECASE)


@dataclass(frozen=True)
class FileInfo:
    """What is known of the file before reading rows: header, fingerprint, size."""

    header: list[str]
    sha256: str
    approx_rows: int


@dataclass(frozen=True)
class Layout:
    """Where the data sits in the file: the reading options of one source."""

    encoding: str = "utf-8-sig"
    delimiter: str = ","
    sheet: str | None = None
    skip_header_rows: int = 0
    skip_footer_rows: int = 0


@dataclass
class Footer:
    """The rows skipped below the data: how many, and their first and last line."""

    rows: int = 0
    first_line: int | None = None
    last_line: int | None = None


def _blank(values: Values) -> bool:
    return all(v is None or not str(v).strip() for v in values)


def _footer_like(values: Values) -> bool:
    """A row a report footer holds: blank, one non-empty cell, or a totals row."""
    filled = [v for v in values if v is not None and str(v).strip()]
    return len(filled) <= 1 or bool(values and _TOTALS.match(str(values[0] or "")))


def inspect_file(path: Path, layout: Layout) -> FileInfo:
    """Read the header and fingerprint the file, with one-line errors naming it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SourceError(f"{path}: file not found; check the source's path") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}") from None
    digest = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() == ".xlsx":
        first = next(_xlsx_records(path, layout.sheet, layout.skip_header_rows), None)
        header = ["" if v is None else str(v) for v in first[1]] if first else []
    else:
        try:
            text = data.decode(layout.encoding)
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"{path}: not {layout.encoding} text (byte {exc.start}); set the source's "
                'encoding, e.g. encoding = "cp1252"'
            ) from None
        reader = csv.reader(io.StringIO(text), delimiter=layout.delimiter)
        header = []
        try:
            for _ in range(layout.skip_header_rows + 1):
                header = next(reader, [])
        except csv.Error as exc:
            raise SourceError(f"{path.name}:{reader.line_num}: unreadable CSV: {exc}") from None
    header = [h.strip() for h in header]
    if not header or not any(header):
        raise SourceError(f"{path}: the file is empty (no header row)")
    return FileInfo(header=header, sha256=digest, approx_rows=max(data.count(b"\n") - 1, 0))


class ExportRows:
    """The data rows of an export, iterated once; ``footer`` is set when they are done."""

    def __init__(self, path: Path, layout: Layout) -> None:
        self.path = path
        self.layout = layout
        self.footer = Footer()

    def __iter__(self) -> Iterator[tuple[int, Row]]:
        if self.path.suffix.lower() == ".xlsx":
            records = _xlsx_records(self.path, self.layout.sheet, self.layout.skip_header_rows)
        else:
            records = _csv_records(self.path, self.layout)
        first = next(records, None)
        if first is None:
            return
        header = ["" if h is None else str(h).strip() for h in first[1]]
        body = _drop_last(records, self.layout.skip_footer_rows)
        for line, values in self._without_footer(body):
            yield line, _fit(header, values)

    def _without_footer(
        self, records: Iterator[tuple[int, Values]]
    ) -> Iterator[tuple[int, Values]]:
        pending: list[tuple[int, Values]] = []  # from a blank row on, while footer-like
        for line, values in records:
            if (pending and _footer_like(values)) or _blank(values):
                pending.append((line, values))
                continue
            # a data row: what was held back was data with blank rows between
            yield from ((ln, v) for ln, v in pending if not _blank(v))
            pending.clear()
            yield line, values
        if any(not _blank(v) for _, v in pending):
            self.footer = Footer(len(pending), pending[0][0], pending[-1][0])


def _drop_last(records: Iterator[tuple[int, Values]], count: int) -> Iterator[tuple[int, Values]]:
    """Every record but the last ``count`` (``skip_footer_rows``)."""
    if count <= 0:
        yield from records
        return
    held: deque[tuple[int, Values]] = deque()
    for record in records:
        held.append(record)
        if len(held) > count:
            yield held.popleft()


def _csv_records(path: Path, layout: Layout) -> Iterator[tuple[int, Values]]:
    """(first line, values) of every CSV record from the header on, blank ones included."""
    csv.field_size_limit(MAX_FIELD)
    with path.open(newline="", encoding=layout.encoding) as fh:
        reader = csv.reader(fh, delimiter=layout.delimiter)
        try:
            for _ in range(layout.skip_header_rows):
                next(reader, None)
            line = reader.line_num + 1
            for values in reader:
                start, line = line, reader.line_num + 1
                yield start, values
        except csv.Error as exc:
            raise SourceError(f"{path.name}:{reader.line_num}: unreadable CSV: {exc}") from None
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"{path.name}: not {layout.encoding} text (byte {exc.start} near line "
                f"{reader.line_num}); set the source's encoding"
            ) from None


def _fit(header: list[str], values: Values) -> Row:
    """The row as {column: value}; a row with the wrong field count carries ``ERROR_KEY``
    (its cells are kept so the deal id can still be read)."""
    row = dict(zip(header, values, strict=False))
    extra = [v for v in values[len(header) :] if v is not None and str(v).strip()]
    if len(values) < len(header) or extra:
        row[ERROR_KEY] = f"has {len(values)} fields, the header has {len(header)}"
    return row


def _xlsx_records(path: Path, sheet: str | None, skip: int) -> Iterator[tuple[int, Values]]:
    """(row number, values) of every sheet row from the header on, padded to the header."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise SourceError(f"{path}: not a readable .xlsx workbook ({type(exc).__name__})") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise SourceError(f"{path}: no sheet {sheet!r}; sheets: {', '.join(book.sheetnames)}")
        ws = book[sheet] if sheet is not None else book.active
        width = 0
        for line, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if line <= skip:
                continue
            width = width or len(values)
            yield line, list(values) + [None] * (width - len(values))
    finally:
        book.close()
