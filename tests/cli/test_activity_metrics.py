"""The activity metrics on the command line: ``tracker metrics`` and ``tracker report``
over the hand-computed week of ``tests.metrics.activity_fixtures`` (Europe/Berlin)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.cli.test_report import SOURCE
from tests.metrics.activity_fixtures import insert_week
from tracker.cli import app
from tracker.store import Store

runner = CliRunner()
GOAL = """
[[goals]]
id = "meetings"
metric = "meetings"
every = "week"
for_each = "owner"
target = 2
why = "two customer meetings a week"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = Store(url)
    store.ensure_ready()
    insert_week(store.engine)
    store.close()
    path = tmp_path / "tracker.toml"
    path.write_text(
        f'[tracker]\ntimezone = "Europe/Berlin"\n[store]\nurl = "{url}"\n{SOURCE}{GOAL}',
        encoding="utf-8",
    )
    return path


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def test_metrics_json_per_owner_for_a_week(config: Path) -> None:
    code, out, err = invoke(
        config, "metrics", "-p", "2026-W37", "--by", "owner", "-m", "meetings", "-f", "json"
    )
    assert code == 0, err
    rows = json.loads(out)["rows"]
    got = {(r["scope"].get("owner", "company"), r["value"], r["n"]) for r in rows}
    # Monday 01:30 in Berlin, a3 is W38's; a14 has no owner
    assert got == {("company", 4, 4), ("Ann", 2, 2), ("Bob", 1, 1), ("Cy", 0, 0), (None, 1, 1)}
    assert {r["period_start"] for r in rows} == {"2026-09-07"}


def test_metrics_table_shows_ratios_with_two_decimals(config: Path) -> None:
    code, out, err = invoke(
        config, "metrics", "-p", "2026-W37", "-m", "meetings_per_won_deal", "-m", "calls"
    )
    assert code == 0, err
    company = next(line.split() for line in out.splitlines() if line.strip().startswith("company"))
    assert company == ["company", "2.00", "4"]


def test_default_metrics_include_the_activity_ones_once_synced(config: Path) -> None:
    code, out, err = invoke(config, "metrics", "-p", "2026-W37", "-f", "json")
    assert code == 0, err
    metrics = list(dict.fromkeys(r["metric"] for r in json.loads(out)["rows"]))
    assert metrics[-5:] == [
        "calls",
        "meetings",
        "emails",
        "meetings_per_won_deal",
        "activities_per_open_deal",
    ]


def test_report_evaluates_the_weekly_meetings_goal_per_rep(config: Path) -> None:
    code, out, err = invoke(
        config, "report", "--as-of", "2026-09-16", "--period", "2026-W37", "-f", "json"
    )
    assert code == 0, err
    found = {g["id"]: (g["actual"], g["target"], g["status"]) for g in json.loads(out)["goals"]}
    assert found == {
        "meetings/Ann": (2, 2, "achieved"),
        "meetings/Bob": (1, 2, "missed"),
        "meetings/Cy": (0, 2, "missed"),
    }


def test_goals_suggest_a_weekly_meetings_goal(config: Path) -> None:
    code, out, err = invoke(
        config,
        "goals",
        "suggest",
        "-m",
        "meetings",
        "--period",
        "2026-W38",
        "--as-of",
        "2026-09-14",
    )
    assert code == 0, err
    # one week on record (W37: 4 meetings); target: 4 + 5 % = 4.2, a count: 5; stretch:
    # 10 % beyond max(best 4, target 5) = 5.5, so 6
    assert "#   2026-W37 4\n" in out
    assert "\ntarget = 5  #" in out and "\nstretch = 6  #" in out
    assert 'period = "2026-W38"' in out


def test_csv_activities_synced_then_counted_per_owner(tmp_path: Path) -> None:
    """A CSV export's activities file, synced by ``tracker sync``, feeds the activity
    metrics: the European file of tests/connectors/csv/test_activities.py, counted by hand.
    December 2026 (Berlin): A1, Ana's completed call on the 31st (09:30); A3, Bo's email on
    the 31st with no "Done" value (completion unknown: not counted, coverage 0); A5 is
    rejected (32/12). July: A2, Ana's meeting, not held."""
    from tests.connectors.csv.test_activities import CONFIG, CSV_ROWS, DEALS, write_file

    write_file(tmp_path / "deals.csv", DEALS[1:], DEALS[0])
    activities = write_file(tmp_path / "activities.csv", CSV_ROWS)
    config = tmp_path / "tracker.toml"
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    config.write_text(CONFIG.format(store_url=url, activities=activities), encoding="utf-8")
    code, _, err = invoke(config, "sync")
    assert code == 3, err  # two rows rejected (A5's date, A6's kind), the rest stored
    code, out, err = invoke(
        config, "metrics", "-p", "2026-12", "--by", "owner", "-m", "calls", "-m", "emails",
        "-f", "json",
    )  # fmt: skip
    assert code == 0, err
    rows = json.loads(out)["rows"]
    got = {
        (r["metric"], r["scope"].get("owner", "company")): (r["value"], r["n"], r["coverage"])
        for r in rows
    }
    assert got[("calls", "company")] == (1, 1, 1.0)
    assert got[("calls", "Ana")] == (1, 1, 1.0)
    assert got[("calls", "Bo")][:2] == (0, 0)
    assert got[("emails", "company")] == (0, 0, 0.0)
    code, out, err = invoke(config, "metrics", "-p", "2026-07", "-m", "meetings", "-f", "json")
    assert code == 0, err
    [july] = json.loads(out)["rows"]
    assert (july["value"], july["n"]) == (0, 0)
