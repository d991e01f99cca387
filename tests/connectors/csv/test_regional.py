"""The [tracker] calendar and the source's number and date formats, wired end to end:
European exports (``1.234,50``, ``31/12/2026``, ``;``) in Europe/Berlin, and Asia/Tokyo.

Every expected value is worked out by hand in the comments beside it.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from typer.testing import CliRunner

from tracker.cli import app
from tracker.store import Store

runner = CliRunner()
HEADER = ["Id", "Stage", "Created", "Closed", "Amount", "Currency", "Owner"]


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _config(tmp_path: Path, export: Path, timezone: str, extra: str = "") -> Path:
    path = tmp_path / "tracker.toml"
    path.write_text(
        f"""
[tracker]
timezone = "{timezone}"
currency = "EUR"
[store]
url = "sqlite:///{tmp_path / "tracker.db"}"
[sources.export]
kind = "csv"
path = "{export.name}"
{extra}
[sources.export.columns]
id = "Id"
stage = "Stage"
created = "Created"
closed = "Closed"
amount = "Amount"
currency = "Currency"
owner = "Owner"
[sources.export.stages]
won = ["Gewonnen"]
lost = ["Verloren"]
""",
        encoding="utf-8",
    )
    return path


def _write(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=delimiter)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _deals(tmp_path: Path) -> dict[str, dict[str, Any]]:
    store = Store(f"sqlite:///{tmp_path / 'tracker.db'}")
    with store.engine.connect() as conn:
        found = conn.execute(
            text("SELECT external_id, amount, close_date, created_at, is_deleted FROM deals")
        ).mappings()
        out = {row["external_id"]: dict(row) for row in found}
    store.close()
    return out


def _utc(value: object) -> datetime:
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


EUROPEAN = [
    # a: created 1 Oct (local midnight = 30 Sep 22:00 UTC), won 31 Dec, 1.234,50 EUR
    ["a", "Gewonnen", "01/10/2026", "31/12/2026", "1.234,50", "EUR", "Jana"],
    # b: created 30 Sep, lost 2 Oct, 12.000,00 EUR
    ["b", "Verloren", "30/09/2026", "02/10/2026", "12.000,00", "EUR", "Jana"],
    # c: created 15 Nov, won 20 Nov, 999,99 EUR
    ["c", "Gewonnen", "15/11/2026", "20/11/2026", "999,99", "EUR", "Udo"],
]
EUROPEAN_OPTIONS = 'delimiter = ";"\ndecimal_separator = ","\ndate_format = "%d/%m/%Y"'


def test_a_european_export_in_berlin(tmp_path: Path) -> None:
    export = _write(tmp_path / "deals.csv", EUROPEAN, delimiter=";")
    config = _config(tmp_path, export, "Europe/Berlin", EUROPEAN_OPTIONS)
    code, _, err = invoke(config, "sync")
    assert code == 0, err
    deals = _deals(tmp_path)
    assert deals["a"]["amount"] == 1234.5 and deals["b"]["amount"] == 12000.0
    assert deals["c"]["amount"] == 999.99
    assert str(deals["a"]["close_date"]) == "2026-12-31"
    assert _utc(deals["a"]["created_at"]) == datetime(2026, 9, 30, 22, 0, tzinfo=UTC)
    code, out, _ = invoke(
        config,
        "metrics",
        "-p",
        "2026-Q4",
        "-m",
        "revenue",
        "-m",
        "pipeline_created",
        "-m",
        "win_rate",
        "-f",
        "json",
    )
    values = {row["metric"]: row["value"] for row in json.loads(out)["rows"]}
    # won in Q4: a + c = 1234.50 + 999.99; created in Q4 (Berlin dates): a (1 Oct), c
    assert values["revenue"] == 2234.49
    assert values["pipeline_created"] == 2234.49
    # closed in Q4: a, c won, b lost → 2 of 3
    assert abs(values["win_rate"] - 2 / 3) < 1e-12


def test_the_same_export_read_in_utc_places_a_differently(tmp_path: Path) -> None:
    """Control: the time zone is what moved deal a's creation into Q4 above."""
    export = _write(tmp_path / "deals.csv", EUROPEAN, delimiter=";")
    config = _config(tmp_path, export, "UTC", EUROPEAN_OPTIONS)
    assert invoke(config, "sync")[0] == 0
    assert _utc(_deals(tmp_path)["a"]["created_at"]) == datetime(2026, 10, 1, tzinfo=UTC)


def test_tokyo_dates_and_instants(tmp_path: Path) -> None:
    rows = [
        # created on a Tokyo date: local midnight = 15:00 UTC the day before
        ["t1", "Gewonnen", "2026-07-01", "2026-06-30T23:30:00+00:00", "100", "EUR", "Aki"],
        # closed at 14:59 UTC on 30 Jun = 23:59 in Tokyo: still June
        ["t2", "Gewonnen", "2026-06-01", "2026-06-30T14:59:00+00:00", "200", "EUR", "Aki"],
    ]
    config = _config(tmp_path, _write(tmp_path / "deals.csv", rows), "Asia/Tokyo")
    assert invoke(config, "sync")[0] == 0
    deals = _deals(tmp_path)
    assert _utc(deals["t1"]["created_at"]) == datetime(2026, 6, 30, 15, 0, tzinfo=UTC)
    # 23:30 UTC on 30 Jun is 08:30 on 1 Jul in Tokyo
    assert str(deals["t1"]["close_date"]) == str(date(2026, 7, 1))
    assert str(deals["t2"]["close_date"]) == str(date(2026, 6, 30))
    out = invoke(config, "metrics", "-p", "2026-Q3", "-p", "2026-Q2", "-m", "revenue", "-f", "json")
    values = {row["period"]: row["value"] for row in json.loads(out[1])["rows"]}
    assert values == {"2026-Q3": 100.0, "2026-Q2": 200.0}


def test_an_xlsx_export_with_european_text_cells(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in EUROPEAN:
        sheet.append(row)
    path = tmp_path / "deals.xlsx"
    book.save(path)
    config = _config(
        tmp_path, path, "Europe/Berlin", 'decimal_separator = ","\ndate_format = "%d/%m/%Y"'
    )
    code, _, err = invoke(config, "sync")
    assert code == 0, err
    deals = _deals(tmp_path)
    assert deals["a"]["amount"] == 1234.5 and str(deals["a"]["close_date"]) == "2026-12-31"


def test_nothing_mapped_means_no_deletions(tmp_path: Path) -> None:
    export = _write(tmp_path / "deals.csv", EUROPEAN, delimiter=";")
    config = _config(tmp_path, export, "Europe/Berlin", EUROPEAN_OPTIONS)
    assert invoke(config, "sync")[0] == 0
    # a re-export of deal a alone in which no row can be mapped (its id readable, its
    # dates not): b and c must not be taken for deleted
    broken = [[r[0], r[1], "1st of October", "31/12/2026", r[4], r[5], r[6]] for r in EUROPEAN[:1]]
    _write(tmp_path / "deals.csv", broken, delimiter=";")
    code, _, err = invoke(config, "sync")
    assert code == 3
    assert "warning: export: deletions not applied: no row could be mapped" in err.splitlines()
    assert {k: v["is_deleted"] for k, v in _deals(tmp_path).items()} == {
        "a": False,
        "b": False,
        "c": False,
    }
