"""``tracker metrics`` through Typer's CliRunner: outputs, snapshots, one-line errors."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.metrics.metrics_fixtures import deal, insert, utc
from tracker.cli import app
from tracker.snapshots import list_snapshots
from tracker.store import Store

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = Store(url)
    store.ensure_ready()
    insert(
        store.engine,
        [
            deal(
                "a",
                won=True,
                close_date=date(2026, 8, 1),
                created_at=utc("2026-07-01 00:00"),
                amount=1500.0,
                owner_external_id="o1",
                owner_name="Ann",
                team="EMEA",
            ),
            deal(
                "b",
                lost=True,
                close_date=date(2026, 9, 1),
                amount=500.0,
                owner_external_id="o2",
                owner_name="Bob",
                team="US",
            ),
            deal(
                "c",
                won=True,
                close_date=date(2026, 11, 2),
                amount=99.0,
                owner_external_id="o2",
                owner_name="Bob",
                team="US",
            ),
        ],
    )
    store.close()
    path = tmp_path / "tracker.toml"
    path.write_text(
        f'[tracker]\ntimezone = "UTC"\ncurrency = "EUR"\n\n[store]\nurl = "{url}"\n'
        # the deals above are this source's (metrics count configured sources only)
        '[sources.crm]\nkind = "csv"\npath = "crm.csv"\n[sources.crm.columns]\nid = "id"\n'
        'stage = "stage"\n[sources.crm.stages]\nwon = ["Won"]\nlost = ["Lost"]\n',
        encoding="utf-8",
    )
    return path


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--config", str(config), "metrics", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_output_for_periods_and_breakdowns(config: Path) -> None:
    code, out, _ = invoke(
        config,
        "--today",
        "2026-11-25",
        "-p",
        "last-quarter",
        "--by",
        "team",
        "-m",
        "revenue",
        "-m",
        "win_rate",
        "--format",
        "json",
    )
    assert code == 0
    document = json.loads(out)
    assert document["timezone"] == "UTC" and document["definitions_version"] == 2
    assert document["as_of"] == {}
    got = [(r["metric"], r["period"], r["scope"], r["value"]) for r in document["rows"]]
    assert got == [
        ("revenue", "2026-Q3", {}, 1500.0),
        ("revenue", "2026-Q3", {"team": "EMEA"}, 1500.0),
        ("revenue", "2026-Q3", {"team": "US"}, 0.0),
        ("win_rate", "2026-Q3", {}, 0.5),
        ("win_rate", "2026-Q3", {"team": "EMEA"}, 1.0),
        ("win_rate", "2026-Q3", {"team": "US"}, 0.0),
    ]


def test_default_period_is_this_quarter_and_table_is_for_people(config: Path) -> None:
    code, out, _ = invoke(config, "--today", "2026-11-25", "-m", "revenue", "-m", "win_rate")
    assert code == 0
    lines = [" ".join(line.split()) for line in out.splitlines() if line.strip()]
    # Q4 holds deal c only: won, 99 EUR
    assert lines[0] == "2026-Q4 · UTC"
    assert [line for line in lines if line.startswith("company")] == ["company 99 100.0 %"]
    assert "(EUR)" in out


def test_filters_csv_to_a_file_and_save(config: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    code, _, _ = invoke(
        config,
        "--today",
        "2026-11-25",
        "-p",
        "2026",
        "-m",
        "deals_won",
        "--filter",
        "team=US",
        "--format",
        "csv",
        "--output",
        str(target),
        "--save",
    )
    assert code == 0
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("deals_won,2026,2026-01-01,2026-12-31,,,1,1,1.0")
    store = Store(f"sqlite:///{tmp_path / 'tracker.db'}")
    assert len(list_snapshots(store.engine)) == 1
    store.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "2026-Q5"], "error: unknown period '2026-Q5': use one of YYYY-MM, YYYY-Qn"),
        (["--by", "colour"], "error: unknown dimension 'colour': choose from owner, team, region"),
        (["-m", "profit"], "error: unknown metric 'profit': choose from revenue, deals_won"),
        (["--format", "xml"], "error: unknown format 'xml': choose from table, json, csv"),
        (["--filter", "team"], "error: bad filter 'team': write DIMENSION=VALUE"),
    ],
)
def test_bad_input_exits_2_with_one_line(config: Path, args: list[str], message: str) -> None:
    code, out, err = invoke(config, *args)
    assert code == 2
    assert err.startswith(message)
    assert len(err.strip().splitlines()) == 1
    assert out == ""


def test_reported_at_shows_what_was_saved_even_after_the_data_changed(
    config: Path, tmp_path: Path
) -> None:
    args = ("--today", "2026-11-25", "-p", "2026", "--by", "team", "--format", "json")
    code, saved, _ = invoke(config, *args, "--save")
    assert code == 0
    store = Store(f"sqlite:///{tmp_path / 'tracker.db'}")
    insert(store.engine, [deal("late", won=True, close_date=date(2026, 3, 1), amount=7.0)])
    store.close()
    assert invoke(config, *args)[1] != saved
    code, shown, _ = invoke(config, "--reported-at", "2100-01-01", "--format", "json")
    assert code == 0 and json.loads(shown) == json.loads(saved)
    code, shown, _ = invoke(config, "--reported-at", "2100-01-01", "-m", "revenue", "-f", "json")
    assert {r["metric"] for r in json.loads(shown)["rows"]} == {"revenue"}
    code, _, err = invoke(config, "--reported-at", "2000-01-01")
    assert code == 1 and err.startswith("error: no metrics snapshot was saved at or before 2000")
    code, _, err = invoke(config, "--reported-at", "last week")
    assert code == 2 and err.startswith("error: bad --reported-at 'last week'")


# ---------------------------------------------------------------- the table for people


def _lines(out: str) -> list[str]:
    return [" ".join(line.split()) for line in out.splitlines() if line.strip()]


def test_several_by_are_crossed_with_both_keys_in_the_scope(config: Path) -> None:
    code, out, _ = invoke(
        config, "-p", "2026-Q3", "-m", "revenue", "--by", "team", "--by", "owner", "-f", "json"
    )
    assert code == 0
    got = [(r["scope"], r["value"]) for r in json.loads(out)["rows"]]
    # Q3: a (EMEA, Ann) won 1500; b (US, Bob) lost
    assert got == [
        ({}, 1500.0),
        ({"team": "EMEA", "owner": "Ann"}, 1500.0),
        ({"team": "US", "owner": "Bob"}, 0.0),
    ]
    code, out, _ = invoke(config, "-p", "2026-Q3", "-m", "revenue", "--by", "team", "--by", "owner")
    lines = _lines(out)
    assert "EMEA / Ann 1,500" in lines and "US / Bob 0" in lines and "company 1,500" in lines


def test_a_filter_is_the_scope_of_the_total_row(config: Path) -> None:
    code, out, _ = invoke(
        config, "-p", "2026", "-m", "revenue", "--filter", "team=US", "--by", "owner"
    )
    assert code == 0
    lines = _lines(out)
    assert "team=US 99" in lines and "Bob 99" in lines and "company 99" not in lines
    document = json.loads(invoke(config, "-p", "2026", "--filter", "team=US", "-f", "json")[1])
    assert document["filters"] == {"team": ["US"]}


def test_a_filter_value_not_in_the_data_is_named(config: Path) -> None:
    code, out, err = invoke(config, "--filter", "team=Mars")
    assert code == 2 and out == ""
    assert err == "error: team 'Mars' not found; values: EMEA, US\n"


def test_an_empty_store_says_so(tmp_path: Path) -> None:
    path = tmp_path / "tracker.toml"
    path.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "empty.db"}"\n[sources.crm]\nkind = "csv"\n'
        'path = "crm.csv"\n[sources.crm.columns]\nid = "id"\nstage = "stage"\n'
        '[sources.crm.stages]\nwon = ["Won"]\nlost = ["Lost"]\n',
        encoding="utf-8",
    )
    code, out, err = invoke(path)
    assert (code, out, err) == (0, "", "no deals yet: run `tracker sync`\n")


def test_every_metric_fits_80_columns_with_no_figure_cut(config: Path, tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'tracker.db'}")
    insert(
        store.engine,
        [
            deal(
                "big",
                won=True,
                close_date=date(2026, 8, 2),
                amount=12_345_678.9,
                owner_external_id="o9",
                owner_name="Maximiliana Bartholomew-Fitzgerald de la Vega",
                team="Enterprise Strategic Accounts",
            )
        ],
    )
    store.close()
    code, out, _ = invoke(config, "-p", "2026-Q3", "--by", "owner")
    assert code == 0
    assert max(len(line.rstrip()) for line in out.splitlines()) <= 80
    # Q3 revenue: 1,500 + 12,345,678.9 in whole units; the big deal's owner alone. The
    # first table's rows, cell by cell (revenue, won, lost, win rate, by value, avg size):
    first = out.split("2026-Q3 (2/2)")[0].splitlines()
    rows = {cells[0]: cells[1:] for cells in (line.split() for line in first) if cells}
    assert rows["company"] == ["12,347,179", "2", "1", "66.7", "%", "100.0", "%", "6,173,589"]
    assert rows["Maximiliana"] == ["12,345,679", "1", "0", "100.0", "%", "100.0", "%", "12,345,679"]
    assert rows["Ann"] == ["1,500", "1", "0", "100.0", "%", "100.0", "%", "1,500"]


def test_csv_carries_no_binary_noise(config: Path, tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'tracker.db'}")
    insert(
        store.engine,
        [
            deal("x", won=True, close_date=date(2025, 2, 1), amount=0.1),
            deal("y", won=True, close_date=date(2025, 2, 2), amount=0.2),
        ],
    )
    store.close()
    code, out, _ = invoke(config, "-p", "2025-Q1", "-m", "revenue", "-f", "csv")
    assert code == 0
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert row["value"] == "0.3"  # 0.1 + 0.2 is 0.30000000000000004 in binary


def test_detail_shows_n_and_coverage(config: Path) -> None:
    code, out, _ = invoke(config, "-p", "2026-Q3", "-m", "win_rate", "--detail")
    assert code == 0
    cells = [
        " ".join(line.replace("│", " ").replace("┃", " ").split()) for line in out.splitlines()
    ]
    assert "metric period scope value n coverage" in cells
    # a won, b lost: 50 % over 2 deals, full coverage
    assert "win_rate 2026-Q3 company 50.0 % 2 100.0 %" in cells
