"""Rows of a CSV or XLSX file as (line number, {column: value}) with one header row."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracker.errors import SourceError

Row = dict[str, Any]
ERROR_KEY = "__error__"
MAX_FIELD = 16 * 1024 * 1024  # long description columns are common in CRM exports


@dataclass(frozen=True)
class FileInfo:
    """What is known of the file before reading rows: header, fingerprint, size."""

    header: list[str]
    sha256: str
    approx_rows: int


def inspect_file(path: Path, encoding: str, delimiter: str, sheet: str | None) -> FileInfo:
    """Read the header and fingerprint the file, with one-line errors naming it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SourceError(f"{path}: file not found; check the source's path") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}") from None
    digest = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() == ".xlsx":
        first = next(iter_rows(path, encoding, delimiter, sheet, header_only=True), None)
        header = list(first[1]) if first else []
    else:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"{path}: not {encoding} text (byte {exc.start}); set the source's encoding, "
                'e.g. encoding = "cp1252"'
            ) from None
        reader = csv.reader(text.splitlines()[:1], delimiter=delimiter)
        header = next(reader, [])
    header = [h.strip() for h in header]
    if not header or not any(header):
        raise SourceError(f"{path}: the file is empty (no header row)")
    return FileInfo(header=header, sha256=digest, approx_rows=max(data.count(b"\n") - 1, 0))


def iter_rows(
    path: Path, encoding: str, delimiter: str, sheet: str | None, header_only: bool = False
) -> Iterator[tuple[int, Row]]:
    """Yield (line, row) for every data row; with ``header_only`` just (1, header)."""
    if path.suffix.lower() == ".xlsx":
        yield from _xlsx_rows(path, sheet, header_only)
        return
    csv.field_size_limit(MAX_FIELD)
    with path.open(newline="", encoding=encoding) as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = [h.strip() for h in next(reader, [])]
            if header_only:
                yield 1, {h: h for h in header}
                return
            line = reader.line_num + 1
            for values in reader:
                start, line = line, reader.line_num + 1
                if not any(v.strip() for v in values):
                    continue
                yield start, _fit(header, values)
        except csv.Error as exc:
            raise SourceError(f"{path.name}:{reader.line_num}: unreadable CSV: {exc}") from None
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"{path.name}: not {encoding} text (byte {exc.start} near line "
                f"{reader.line_num}); set the source's encoding"
            ) from None


def _fit(header: list[str], values: list[Any] | tuple[Any, ...]) -> Row:
    """The row as {column: value}; a row with the wrong field count carries ``ERROR_KEY``
    (its cells are kept so the deal id can still be read)."""
    row = dict(zip(header, values, strict=False))
    extra = [v for v in values[len(header) :] if v is not None and str(v).strip()]
    if len(values) < len(header) or extra:
        row[ERROR_KEY] = f"has {len(values)} fields, the header has {len(header)}"
    return row


def _xlsx_rows(path: Path, sheet: str | None, header_only: bool) -> Iterator[tuple[int, Row]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise SourceError(f"{path}: not a readable .xlsx workbook ({type(exc).__name__})") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise SourceError(f"{path}: no sheet {sheet!r}; sheets: {', '.join(book.sheetnames)}")
        ws = book[sheet] if sheet is not None else book.active
        rows = ws.iter_rows(values_only=True)
        header = ["" if v is None else str(v).strip() for v in next(rows, ())]
        if header_only:
            yield 1, {h: h for h in header}
            return
        for line, values in enumerate(rows, start=2):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            padded = list(values) + [None] * (len(header) - len(values))
            yield line, _fit(header, padded)
    finally:
        book.close()
