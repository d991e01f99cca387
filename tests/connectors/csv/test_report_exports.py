"""CSV/XLSX exports as CRMs write them: title lines, footer blocks, rows without an id."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.csv_factory import HEADER, rows, write_config
from tracker.cli import app

runner = CliRunner()
N = 30

SALESFORCE_FOOTER: list[list[str]] = [
    [],
    ["Grand Totals (30 records)", "", "", "", "", "", "", "", "", "1,234,567.00", "99999", ""],
    ["Confidential Information - Do Not Distribute"],
    ["Copyright (c) 2000-2025 salesforce.com, inc. All rights reserved."],
]


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _export(tmp_path: Path, body: list[list[str]], *, above: list[list[str]] = ()) -> Path:  # type: ignore[assignment]
    path = tmp_path / "deals.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerows(above)
        writer.writerow(HEADER)
        writer.writerows(body)
    return path


def _config(tmp_path: Path, path: Path, extra: str = "") -> Path:
    config = write_config(tmp_path, path, "sqlite:///tracker.db")
    if extra:
        text = config.read_text(encoding="utf-8")
        config.write_text(
            text.replace("[sources.export.columns]", f"{extra}\n[sources.export.columns]"),
            encoding="utf-8",
        )
    return config


def _status(config: Path) -> dict[str, object]:
    document = json.loads(invoke(config, "status", "--format", "json")[1])
    [source] = document["sources"]
    return dict(source)


def test_a_report_footer_is_skipped_and_counted_not_rejected(tmp_path: Path) -> None:
    config = _config(tmp_path, _export(tmp_path, rows(N) + SALESFORCE_FOOTER))
    code, _, err = invoke(config, "sync")
    assert code == 0
    # header on line 1, data on 2-31, the footer block on 32-35
    assert "note: export: deals.csv: footer: 4 rows skipped (lines 32-35)" in err.splitlines()
    source = _status(config)
    assert source["last_run"]["rejected"] == 0  # type: ignore[index]
    assert source["store"]["deals_live"] == N  # type: ignore[index]
    assert source["notes"] == ["deals.csv: footer: 4 rows skipped (lines 32-35)"]
    # the footer does not turn off deletion detection: a deal gone from the export is deleted
    _export(tmp_path, rows(N)[1:] + SALESFORCE_FOOTER)
    assert invoke(config, "sync")[0] == 0
    assert _status(config)["store"] == {
        "deals_live": N - 1,
        "deals_deleted": 1,
        "accounts": _status(config)["store"]["accounts"],  # type: ignore[index]
        "owners": 6,
        "line_items": 0,
    }


def test_a_total_line_alone_is_a_footer_too(tmp_path: Path) -> None:
    footer = [[], ["Total", "", "", "", "", "", "", "", "", "12.00", "", ""]]
    config = _config(tmp_path, _export(tmp_path, rows(N) + footer))
    code, _, err = invoke(config, "sync")
    assert code == 0 and "footer: 2 rows skipped (lines 32-33)" in err


def test_a_blank_row_inside_the_data_is_not_a_footer(tmp_path: Path) -> None:
    data = rows(N)
    body = [*data[:10], [], ["lonely cell"], *data[10:]]
    config = _config(tmp_path, _export(tmp_path, body))
    code, _, err = invoke(config, "sync")
    # the single cell is a data row like any other (and has no stage): rejected, not skipped
    assert code == 3 and "footer" not in err
    assert "warning: export: deals.csv:13: " in err
    assert _status(config)["store"]["deals_live"] == N  # type: ignore[index]


def test_title_lines_and_a_data_like_footer_by_count(tmp_path: Path) -> None:
    above = [["Opportunities report"], ["Generated 2026-12-01"]]
    summary = [["SUMMARY", "x", "y", "z", "", "", "Won", "2024-01-01", "", "1", "", "USD"]]
    path = _export(tmp_path, rows(N) + summary, above=above)
    config = _config(tmp_path, path, "skip_header_rows = 2\nskip_footer_rows = 1")
    code, _, err = invoke(config, "sync")
    assert code == 0, err
    assert _status(config)["store"]["deals_live"] == N  # type: ignore[index]


def test_xlsx_footer(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows(N):
        sheet.append(row)
    for row in SALESFORCE_FOOTER:
        sheet.append(row or [None])
    path = tmp_path / "deals.xlsx"
    book.save(path)
    config = _config(tmp_path, path)
    code, _, err = invoke(config, "sync")
    assert code == 0, err
    assert "deals.xlsx: footer: 4 rows skipped (lines 32-35)" in err


def test_rows_without_an_id_turn_off_deletions_visibly(tmp_path: Path) -> None:
    data = rows(N)
    data[12][0] = ""  # line 14
    config = _config(tmp_path, _export(tmp_path, data))
    code, _, err = invoke(config, "--quiet", "sync")
    warning = "deletions not applied: 1 row without an id, deals.csv:14"
    assert code == 3 and f"warning: export: {warning}" in err.splitlines()
    assert warning in _status(config)["warnings"]  # type: ignore[operator]


def test_every_rejected_row_can_be_listed_after_the_run(tmp_path: Path) -> None:
    data = rows(N)
    for row in data[:15]:
        row[7] = "not a date"
    config = _config(tmp_path, _export(tmp_path, data))
    code, _, err = invoke(config, "sync")
    assert code == 3 and err.count("warning: export: deals.csv:") == 10
    code, out, _ = invoke(config, "status", "--rejects", "export")
    listed = out.splitlines()
    assert code == 0 and len(listed) == 15
    assert [line.split(":")[1] for line in listed] == [str(n) for n in range(2, 17)]
    assert all("not a date" in line for line in listed)
    document = json.loads(invoke(config, "status", "--rejects", "export", "--format", "json")[1])
    assert len(document["rejected"]) == 15


@pytest.mark.parametrize("bad", [0, 2])
def test_dry_run_exits_as_the_real_sync_would(tmp_path: Path, bad: int) -> None:
    data = rows(N)
    for row in data[:bad]:
        row[7] = "not a date"
    config = _config(tmp_path, _export(tmp_path, data))
    dry = invoke(config, "sync", "--dry-run")[0]
    real = invoke(config, "sync")[0]
    assert dry == real == (3 if bad else 0)
