"""The CSV/XLSX source end to end: file → connector → sync engine → store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from connectors.base import SyncContext
from connectors.csv.connector import CsvConnector
from connectors.registry import settings_models
from tests.csv_factory import CONFIG, HEADER, write_csv
from tracker.errors import SourceError
from tracker.settings import Settings, load_settings
from tracker.store import Store
from tracker.sync import SyncResult, run_sync


def settings_for(tmp_path: Path, csv_path: Path, store: Store, **extra: str) -> Settings:
    body = CONFIG.format(path=csv_path.as_posix(), store_url=store.url, timezone="UTC")
    for key, value in extra.items():
        body = body.replace(
            "[sources.export.columns]", f"{key} = {value}\n[sources.export.columns]"
        )
    path = tmp_path / "tracker.toml"
    path.write_text(body, encoding="utf-8")
    return load_settings(path, settings_models())


def sync(settings: Settings, store: Store) -> SyncResult:
    source = settings.source("export")
    connector = CsvConnector("export", source, SyncContext(tracker=settings.tracker))
    connector.check()
    return run_sync(store, "export", "csv", connector.batches)


def query(store: Store, sql: str) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def write_rows(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    import csv

    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


GOOD = [
    "OPP1",
    "Big deal",
    "Ana",
    "Mel",
    "Central",
    "Acme",
    "Won",
    "2026-01-02",
    "2026-02-03",
    "$1,200.50",
    "1,500",
    "USD",
]


def row(**changes: str) -> list[str]:
    values = dict(zip(HEADER, GOOD, strict=True))
    values.update(changes)
    return [values[h] for h in HEADER]


def test_loads_deals_owners_accounts(tmp_path: Path, store: Store) -> None:
    path = write_rows(
        tmp_path / "deals.csv",
        [
            row(),
            row(opportunity_id="OPP2", deal_stage="Lost", close_value="900", currency="EUR"),
            row(
                opportunity_id="OPP3",
                deal_stage="Engaging",
                close_date="",
                close_value="",
                account="",
            ),
        ],
    )
    result = sync(settings_for(tmp_path, path, store), store)
    assert (result.outcome, result.rejected_total) == ("ok", 0)
    got = query(
        store,
        "SELECT external_id, is_closed, is_won, close_date, amount, currency, "
        "amount_reporting, list_amount, account_external_id FROM deals ORDER BY 1",
    )
    assert [
        (r[0], bool(r[1]), bool(r[2]), str(r[3]) if r[3] else None, r[4], r[5], r[6], r[7], r[8])
        for r in got
    ] == [
        ("OPP1", True, True, "2026-02-03", 1200.5, "USD", 1200.5, 1500.0, "Acme"),
        ("OPP2", True, False, "2026-02-03", 900.0, "EUR", 990.0, 1500.0, "Acme"),
        ("OPP3", False, False, None, None, "USD", None, 1500.0, None),
    ]
    assert query(store, "SELECT external_id, team, region FROM owners") == [
        ("Ana", "Mel", "Central")
    ]
    assert query(store, "SELECT external_id, name FROM accounts") == [("Acme", "Acme")]


def test_malformed_rows_are_rejected_whole_with_file_and_line(tmp_path: Path, store: Store) -> None:
    path = write_rows(
        tmp_path / "deals.csv",
        [
            row(),
            row(opportunity_id="OPP2", close_value="12abc"),
            row(opportunity_id="OPP3", close_date="31.12.2026"),
            row(opportunity_id="OPP4", deal_stage="Won", close_date=""),
            row(opportunity_id="", deal_name="no id"),
            row(opportunity_id="OPP1", deal_name="dup"),
            row(opportunity_id="OPP7", currency="JPY"),
            ["OPP8", "short row"],
            row(opportunity_id="OPP9"),
        ],
    )
    result = sync(settings_for(tmp_path, path, store), store)
    assert (result.outcome, result.exit_code) == ("partial", 3)
    assert [str(r) for r in result.rejected] == [
        "deals.csv:3: close_value: '12abc' is not a number",
        "deals.csv:4: close_date: '31.12.2026' is not a date in ISO 8601 (set date_format for others)",
        "deals.csv:5: close_date: a won deal needs a close date",
        "deals.csv:6: opportunity_id: the deal id is blank",
        "deals.csv:7: duplicate deal id 'OPP1' (first on line 2)",
        "deals.csv:9: has 2 fields, the header has 12",
    ]
    assert result.rejected_total == 6
    # a currency without a rate is no reject: stored in its own currency, unconverted
    assert query(
        store, "SELECT external_id, name, currency, amount_reporting FROM deals ORDER BY 1"
    ) == [
        ("OPP1", "Big deal", "USD", 1200.5),
        ("OPP7", "Big deal", "JPY", None),
        ("OPP9", "Big deal", "USD", 1200.5),
    ]
    assert result.unconverted == {"JPY": 1}


def test_reimport_changes_nothing_and_missing_deals_are_deleted(
    tmp_path: Path, store: Store
) -> None:
    path = write_csv(tmp_path / "deals.csv", 300)
    settings = settings_for(tmp_path, path, store)
    first = sync(settings, store)
    assert first.counts.changed["deals"] == 300
    before = query(store, "SELECT * FROM deals ORDER BY external_id")
    again = sync(settings, store)
    assert sum(again.counts.changed.values()) == 0 and again.counts.deleted == 0
    assert query(store, "SELECT * FROM deals ORDER BY external_id") == before
    # a newer export without two deals, one row now broken: only the two are deleted
    import csv

    with path.open(newline="", encoding="utf-8") as fh:
        header, *data = list(csv.reader(fh))
    data[2][HEADER.index("close_value")] = "not money"
    write_rows(path, data[:-2], header=header)
    third = sync(settings, store)
    assert third.counts.deleted == 2 and third.rejected_total == 1
    live = query(store, "SELECT count(*) FROM deals WHERE is_deleted = false")[0][0]
    assert live == 298


def test_empty_export_refuses_to_delete_everything(tmp_path: Path, store: Store) -> None:
    path = write_csv(tmp_path / "deals.csv", 5)
    settings = settings_for(tmp_path, path, store)
    sync(settings, store)
    write_rows(path, [])
    result = sync(settings, store)
    assert result.outcome == "failed"
    assert "no data rows; refusing to mark every deal of source 'export' deleted" in str(
        result.error
    )
    assert query(store, "SELECT count(*) FROM deals WHERE is_deleted = false")[0][0] == 5


def test_missing_column_is_named_with_its_key(tmp_path: Path, store: Store) -> None:
    path = write_rows(tmp_path / "deals.csv", [row()[:-1]], header=HEADER[:-1])
    with pytest.raises(
        SourceError,
        match=r"deals.csv: column 'currency' \(sources.export.columns.currency\) not found; columns in the file: opportunity_id",
    ):
        sync(settings_for(tmp_path, path, store), store)


def test_missing_file(tmp_path: Path, store: Store) -> None:
    with pytest.raises(SourceError, match="nope.csv: file not found"):
        sync(settings_for(tmp_path, tmp_path / "nope.csv", store), store)


def test_xlsx_export(tmp_path: Path, store: Store) -> None:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = "Deals"
    ws.append(HEADER)
    from datetime import date, datetime

    ws.append(
        [
            "OPP1",
            "X",
            "Ana",
            "Mel",
            "C",
            "Acme",
            "Won",
            datetime(2026, 1, 2, 9, 30),
            date(2026, 2, 3),
            1200.5,
            1500,
            "USD",
        ]
    )
    ws.append(
        [1002, "Y", "Bo", "Mel", "C", "Acme", "Lost", "2026-01-05", "2026-03-01", "900", None, None]
    )
    ws.append(["OPP3", "Z", "Bo", "Mel", "C", "Acme", "Won", "2026-01-05", None, 5, 5, "USD"])
    path = tmp_path / "deals.xlsx"
    book.save(path)
    result = sync(settings_for(tmp_path, path, store, sheet='"Deals"'), store)
    assert [str(r) for r in result.rejected] == [
        "deals.xlsx:4: close_date: a won deal needs a close date"
    ]
    got = query(store, "SELECT external_id, close_date, amount, currency FROM deals ORDER BY 1")
    assert [(r[0], str(r[1]), r[2], r[3]) for r in got] == [
        ("1002", "2026-03-01", 900.0, "USD"),
        ("OPP1", "2026-02-03", 1200.5, "USD"),
    ]


def test_fifty_thousand_rows(tmp_path: Path, store: Store) -> None:
    path = write_csv(tmp_path / "deals.csv", 50_000)
    result = sync(settings_for(tmp_path, path, store), store)
    assert (result.outcome, result.rejected_total) == ("ok", 0)
    assert result.counts.received["deals"] == 50_000
    assert query(store, "SELECT count(*), count(DISTINCT external_id) FROM deals") == [
        (50_000, 50_000)
    ]
    won = query(store, "SELECT count(*) FROM deals WHERE is_won = true")[0][0]
    assert 20_000 < won < 30_000


def test_rows_without_a_readable_id_never_cause_deletions(tmp_path: Path, store: Store) -> None:
    path = write_rows(tmp_path / "deals.csv", [row(opportunity_id=f"OPP{i}") for i in range(5)])
    settings = settings_for(tmp_path, path, store)
    sync(settings, store)
    # a newer export where one row lost its id and another has an extra field: no deletions,
    # even though OPP3 and OPP4 are "missing"
    write_rows(
        path,
        [
            row(opportunity_id="OPP0"),
            row(opportunity_id=""),
            [*row(opportunity_id="OPP2"), "extra"],
        ],
    )
    result = sync(settings, store)
    assert result.counts.deleted == 0 and result.rejected_total == 2
    assert query(store, "SELECT count(*) FROM deals WHERE is_deleted = false")[0][0] == 5


def test_a_row_with_an_extra_field_keeps_its_deal(tmp_path: Path, store: Store) -> None:
    path = write_rows(tmp_path / "deals.csv", [row(opportunity_id=f"OPP{i}") for i in range(3)])
    settings = settings_for(tmp_path, path, store)
    sync(settings, store)
    write_rows(
        path,
        [
            row(opportunity_id="OPP0"),
            [*row(opportunity_id="OPP1"), "x"],
            row(opportunity_id="OPP2"),
        ],
    )
    result = sync(settings, store)
    assert [str(r) for r in result.rejected] == ["deals.csv:3: has 13 fields, the header has 12"]
    assert result.counts.deleted == 0


def test_huge_fields_and_tsv_files(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "deals.tsv"
    values = row(deal_name="x" * 200_000)
    path.write_text("\t".join(HEADER) + "\n" + "\t".join(values) + "\n", encoding="utf-8")
    result = sync(settings_for(tmp_path, path, store), store)
    assert (result.outcome, result.counts.received["deals"]) == ("ok", 1)


def test_repeated_mapped_column_is_an_error(tmp_path: Path, store: Store) -> None:
    header = [*HEADER[:-1], "deal_stage"]
    path = write_rows(tmp_path / "deals.csv", [row()], header=header)
    with pytest.raises(SourceError, match="column 'deal_stage' appears more than once"):
        sync(settings_for(tmp_path, path, store), store)
