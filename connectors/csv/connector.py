"""The CSV/XLSX connector: a full export, re-read whole on every sync.

Every row maps completely or is rejected with ``file:line: reason`` (never half-imported).
The last deal batch carries the complete set of deal ids in the file, so a deal missing
from a newer export of the same source is marked deleted. Ids of rejected rows count as
present: a row that fails to parse never deletes its deal (``scan.py``).

With a ``[sources.NAME.activities]`` table the activities file is read the same way after
the deals: batches of activities, the last carrying the complete set of activity ids.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from connectors.base import Connector
from connectors.csv.activity_mapping import ActivityMapper
from connectors.csv.mapping import MappedRow, RowMapper
from connectors.csv.reader import ExportRows, FileInfo, Layout, inspect_file
from connectors.csv.scan import Scan
from connectors.csv.settings import CsvActivities, CsvSourceSettings
from tracker.errors import SourceError
from tracker.records import Batch, JsonDict, RejectedRow
from tracker.wording import plural

log = logging.getLogger(__name__)


class CsvConnector(Connector):
    """``kind = "csv"``: deals (and, when configured, activities) from CRM exports in CSV or
    XLSX."""

    kind = "csv"
    settings_model = CsvSourceSettings

    @property
    def csv(self) -> CsvSourceSettings:
        """This source's settings, typed."""
        return cast(CsvSourceSettings, self.settings)

    def check(self) -> None:
        """The files exist and have every mapped column."""
        self._deals_file()
        if self.csv.activities is not None:
            self._activities_file(self.csv.activities)

    def _deals_file(self) -> FileInfo:
        s = self.csv
        key = f"sources.{self.name}"
        wanted = {f"{key}.columns.{f}": c for f, c in s.columns.mapped().items()}
        wanted |= {f"{key}.custom.{f}": c for f, c in s.custom.items()}
        return _checked_file(s.path, s.layout, wanted)

    def _activities_file(self, acts: CsvActivities) -> FileInfo:
        key = f"sources.{self.name}.activities.columns"
        wanted = {f"{key}.{f}": c for f, c in acts.columns.mapped().items()}
        return _checked_file(acts.path, self.csv.activity_layout(acts), wanted)

    def batches(self, cursor: JsonDict | None) -> Iterator[Batch]:
        """Map every row; one batch per ``batch_size`` rows, the last of the deals with the
        deal id set, then the activities likewise."""
        s = self.csv
        info = self._deals_file()
        acts_info = self._activities_file(s.activities) if s.activities is not None else None
        mapper = RowMapper(s, self.context.tracker)
        scan = Scan(s.path.name, "deal")
        batch = Batch(expected_total=info.approx_rows)
        export = ExportRows(s.path, s.layout)
        for item in scan.records(export, mapper.row_id, mapper.map):
            _add(batch, item)
            if len(batch.deals) >= s.batch_size:
                yield _dedupe(batch)
                batch = Batch(expected_total=info.approx_rows)
        if scan.rows == 0:
            raise SourceError(
                f"{s.path.name}: no data rows; refusing to mark every deal of source "
                f"{self.name!r} deleted (is this the right export?)"
            )
        _note_footer(batch, export)
        batch.complete_deal_ids = scan.complete_ids(batch.warnings)
        batch.cursor = {
            "file": str(s.path),
            "sha256": info.sha256,
            "rows": scan.rows,
            "imported_at": datetime.now(UTC).isoformat(),
        }
        yield _dedupe(batch)
        if s.activities is not None and acts_info is not None:  # both, or neither
            yield from self._activity_batches(s.activities, acts_info, batch.cursor)

    def _activity_batches(
        self, acts: CsvActivities, info: FileInfo, cursor: JsonDict
    ) -> Iterator[Batch]:
        """The activities file's rows in batches; the last carries the activity id set and
        the cursor with the file's fingerprint."""
        s = self.csv
        mapper = ActivityMapper(self.name, acts, s, self.context.tracker.tz)
        scan = Scan(acts.path.name, "activity")
        batch = Batch()
        export = ExportRows(acts.path, s.activity_layout(acts))
        for item in scan.records(export, mapper.row_id, mapper.map):
            if isinstance(item, RejectedRow):
                batch.rejected.append(item)
                continue
            batch.activities.append(item)
            if len(batch.activities) >= s.batch_size:
                yield batch
                batch = Batch()
        _note_footer(batch, export)
        batch.complete_activity_ids = scan.complete_ids(batch.warnings)
        batch.cursor = {
            **cursor,
            "activities": {"file": str(acts.path), "sha256": info.sha256, "rows": scan.rows},
        }
        yield batch


def _checked_file(path: Path, layout: Layout, wanted: Mapping[str, str]) -> FileInfo:
    """The file's header and fingerprint, once every mapped column (config key → column)
    is in the header exactly once."""
    info = inspect_file(path, layout)
    repeated = sorted({c for c in wanted.values() if info.header.count(c) > 1})
    if repeated:
        raise SourceError(
            f"{path.name}: column {repeated[0]!r} appears more than once in the header; "
            "rename one of them in the export"
        )
    missing = [f"{column!r} ({key})" for key, column in wanted.items() if column not in info.header]
    if missing:
        raise SourceError(
            f"{path.name}: column {missing[0]} not found; columns in the file: "
            f"{', '.join(info.header)}"
        )
    return info


def _note_footer(batch: Batch, export: ExportRows) -> None:
    """Say how many footer rows below the data were skipped, if any."""
    f = export.footer
    if f.rows:
        batch.notes.append(
            f"{export.path.name}: footer: {plural(f.rows, 'row')} skipped "
            f"(lines {f.first_line}-{f.last_line})"
        )


def _add(batch: Batch, item: MappedRow | RejectedRow) -> None:
    if isinstance(item, RejectedRow):
        batch.rejected.append(item)
        return
    batch.deals.append(item.deal)
    if item.owner is not None:
        batch.owners.append(item.owner)
    if item.account is not None:
        batch.accounts.append(item.account)


def _dedupe(batch: Batch) -> Batch:
    """One owner/account row per id within a batch (the last row's values win)."""
    batch.owners = list({o.external_id: o for o in batch.owners}.values())
    batch.accounts = list({a.external_id: a for a in batch.accounts}.values())
    return batch
