"""``tracker metrics`` through Typer's CliRunner: outputs, snapshots, one-line errors."""

from __future__ import annotations

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
    assert document["timezone"] == "UTC" and document["definitions_version"] == 1
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
    assert "2026-Q4" in out and "99.00 EUR" in out and "100.0 %" in out


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
