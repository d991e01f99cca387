"""The CSV/XLSX connector: a full export, re-read whole on every sync.

Every row maps completely or is rejected with ``file:line: reason`` (never half-imported).
The last batch carries the complete set of deal ids in the file, so a deal missing from a
newer export of the same source is marked deleted. Ids of rejected rows count as present:
a row that fails to parse never deletes its deal.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import cast

from connectors.base import Connector
from connectors.csv.mapping import RowError, RowMapper
from connectors.csv.reader import ERROR_KEY, ExportRows, inspect_file
from connectors.csv.settings import CsvSourceSettings
from tracker.errors import SourceError
from tracker.records import AccountRecord, Batch, DealRecord, JsonDict, OwnerRecord, RejectedRow
from tracker.wording import plural

log = logging.getLogger(__name__)
SHOWN_LOCATIONS = 5  # rows named in a warning; the count says how many there are


class CsvConnector(Connector):
    """``kind = "csv"``: deals from a CRM export in CSV or XLSX."""

    kind = "csv"
    settings_model = CsvSourceSettings

    @property
    def csv(self) -> CsvSourceSettings:
        """This source's settings, typed."""
        return cast(CsvSourceSettings, self.settings)

    def check(self) -> None:
        """The file exists and has every mapped column."""
        self._header_info()

    def _header_info(self) -> tuple[list[str], str, int]:
        s = self.csv
        info = inspect_file(s.path, s.layout)
        mapped_columns = [*s.columns.mapped().values(), *s.custom.values()]
        repeated = sorted({c for c in mapped_columns if info.header.count(c) > 1})
        if repeated:
            raise SourceError(
                f"{s.path.name}: column {repeated[0]!r} appears more than once in the header; "
                "rename one of them in the export"
            )
        missing = [
            f"{column!r} (sources.{self.name}.columns.{field})"
            for field, column in s.columns.mapped().items()
            if column not in info.header
        ] + [
            f"{column!r} (sources.{self.name}.custom.{field})"
            for field, column in s.custom.items()
            if column not in info.header
        ]
        if missing:
            raise SourceError(
                f"{s.path.name}: column {missing[0]} not found; columns in the file: "
                f"{', '.join(info.header)}"
            )
        return info.header, info.sha256, info.approx_rows

    def batches(self, cursor: JsonDict | None) -> Iterator[Batch]:
        """Map every row; one batch per ``batch_size`` rows, the last with the id set."""
        s = self.csv
        _, digest, approx = self._header_info()
        mapper = RowMapper(s, self.context.tracker)
        seen: dict[str, int] = {}
        batch = Batch(expected_total=approx)
        rows = mapped = unidentified = 0
        unidentified_at: list[str] = []  # the first rows without a readable deal id
        export = ExportRows(s.path, s.layout)
        for line, row in export:
            rows += 1
            location = f"{s.path.name}:{line}"
            deal_id = mapper.row_id(row)
            if deal_id is None:
                unidentified += 1
                if len(unidentified_at) < SHOWN_LOCATIONS:
                    unidentified_at.append(location)
            if ERROR_KEY in row:
                batch.rejected.append(RejectedRow(location, str(row[ERROR_KEY]), deal_id))
                if deal_id is not None:
                    seen.setdefault(deal_id, line)
                continue
            if deal_id in seen:
                batch.rejected.append(
                    RejectedRow(
                        location,
                        f"duplicate deal id {deal_id!r} (first on line {seen[deal_id]})",
                        deal_id,
                    )
                )
                continue
            if deal_id is not None:
                seen[deal_id] = line
            try:
                records = mapper.map(row)
            except RowError as exc:
                batch.rejected.append(RejectedRow(location, str(exc), deal_id))
                continue
            _add(batch, records.deal, records.owner, records.account)
            mapped += 1
            if len(batch.deals) >= s.batch_size:
                yield _dedupe(batch)
                batch = Batch(expected_total=approx)
        if rows == 0:
            raise SourceError(
                f"{s.path.name}: no data rows; refusing to mark every deal of source "
                f"{self.name!r} deleted (is this the right export?)"
            )
        if export.footer.rows:
            f = export.footer
            batch.notes.append(
                f"{s.path.name}: footer: {plural(f.rows, 'row')} skipped "
                f"(lines {f.first_line}-{f.last_line})"
            )
        if unidentified or not mapped:
            # a row whose id cannot be read may be any deal: deleting "missing" ones is unsafe
            batch.warnings.append(_deletions_not_applied(unidentified, unidentified_at))
            log.warning("%s", batch.warnings[-1])
        else:
            batch.complete_deal_ids = frozenset(seen)
        batch.cursor = {
            "file": str(s.path),
            "sha256": digest,
            "rows": rows,
            "imported_at": datetime.now(UTC).isoformat(),
        }
        yield _dedupe(batch)


def _deletions_not_applied(count: int, first: list[str]) -> str:
    """Why deals missing from the export were not marked deleted, naming the rows."""
    if not count:
        return "deletions not applied: no row could be mapped"
    more = f" and {count - len(first):,} more" if count > len(first) else ""
    return f"deletions not applied: {plural(count, 'row')} without an id, {', '.join(first)}{more}"


def _add(
    batch: Batch, deal: DealRecord, owner: OwnerRecord | None, account: AccountRecord | None
) -> None:
    batch.deals.append(deal)
    if owner is not None:
        batch.owners.append(owner)
    if account is not None:
        batch.accounts.append(account)


def _dedupe(batch: Batch) -> Batch:
    """One owner/account row per id within a batch (the last row's values win)."""
    batch.owners = list({o.external_id: o for o in batch.owners}.values())
    batch.accounts = list({a.external_id: a for a in batch.accounts}.values())
    return batch
