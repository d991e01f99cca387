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
from connectors.csv.reader import ERROR_KEY, inspect_file, iter_rows
from connectors.csv.settings import CsvSourceSettings
from tracker.errors import SourceError
from tracker.records import AccountRecord, Batch, DealRecord, JsonDict, OwnerRecord, RejectedRow

log = logging.getLogger(__name__)


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
        info = inspect_file(s.path, s.encoding, s.field_delimiter, s.sheet)
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
        for line, row in iter_rows(s.path, s.encoding, s.field_delimiter, s.sheet):
            rows += 1
            location = f"{s.path.name}:{line}"
            deal_id = mapper.row_id(row)
            if ERROR_KEY in row:
                batch.rejected.append(RejectedRow(location, str(row[ERROR_KEY]), deal_id))
                unidentified += deal_id is None
                if deal_id is not None:
                    seen.setdefault(deal_id, line)
                continue
            if deal_id is None:
                unidentified += 1
            elif deal_id in seen:
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
        if unidentified or not mapped:
            # a row whose id cannot be read may be any deal: deleting "missing" ones is unsafe
            log.warning(
                "%s: %d rows without a readable deal id; deals missing from the export are "
                "not marked deleted this time",
                s.path.name,
                unidentified or rows,
            )
        else:
            batch.complete_deal_ids = frozenset(seen)
        batch.cursor = {
            "file": str(s.path),
            "sha256": digest,
            "rows": rows,
            "imported_at": datetime.now(UTC).isoformat(),
        }
        yield _dedupe(batch)


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
