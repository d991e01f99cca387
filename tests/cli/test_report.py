"""``tracker report`` through Typer's CliRunner: the JSON contract with hand-computed
figures, every format, check-ins, and one-line errors."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from tests.goals.goal_fixtures import deal, utc, won
from tests.metrics.metrics_fixtures import insert
from tracker.cli import app
from tracker.models import Deal
from tracker.store import Store

runner = CliRunner()

SOURCE = (
    '[sources.crm]\nkind = "csv"\npath = "crm.csv"\n[sources.crm.columns]\nid = "id"\n'
    'stage = "stage"\n[sources.crm.stages]\nwon = ["Won"]\nlost = ["Lost"]\n'
)
GOAL = """
[[goals]]
id = "emea-revenue"
metric = "revenue"
period = "2026-Q3"
scope = { team = "EMEA" }
target = 800
stretch = 1000
why = "EMEA carries the Q4 launch"
"""


def _emea(external_id: str, close: date, amount: float, **fields: object) -> dict[str, object]:
    return won(
        external_id, close, amount, owner_external_id="o1", owner_name="Ann", team="EMEA", **fields
    )


def sample() -> list[dict[str, object]]:
    """2025-Q3 .. 2026-Q2: 100 won on day 10 and 300 on day 80 of each quarter (25 % of a
    quarter's revenue by day 46); a lost 400 in 2026-Q1; this quarter 150 won on 10 July
    and 500 open, due 20 September."""
    deals = []
    for start in (date(2025, 7, 1), date(2025, 10, 1), date(2026, 1, 1), date(2026, 4, 1)):
        deals.append(_emea(f"e{start}", start + timedelta(days=9), 100.0))
        deals.append(_emea(f"l{start}", start + timedelta(days=79), 300.0))
    deals.append(
        deal(
            "lost",
            lost=True,
            close_date=date(2026, 2, 1),
            amount=400.0,
            owner_external_id="o1",
            owner_name="Ann",
            team="EMEA",
            created_at=utc("2026-01-05 00:00"),
        )
    )
    deals.append(_emea("now", date(2026, 7, 10), 150.0))
    deals.append(
        deal(
            "open",
            close_date=date(2026, 9, 20),
            amount=500.0,
            owner_external_id="o1",
            owner_name="Ann",
            team="EMEA",
            created_at=utc("2026-08-01 09:00"),
        )
    )
    return deals


def make_config(
    tmp_path: Path, goals: str = GOAL, deals: list[dict[str, object]] | None = None
) -> Path:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = Store(url)
    store.ensure_ready()
    insert(store.engine, sample() if deals is None else deals)
    store.close()
    path = tmp_path / "tracker.toml"
    path.write_text(f'[store]\nurl = "{url}"\n{SOURCE}{goals}', encoding="utf-8")
    return path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return make_config(tmp_path)


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_contract_with_hand_computed_figures(config: Path) -> None:
    code, out, err = invoke(config, "report", "--as-of", "2026-08-15", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["as_of"] == "2026-08-15"
    assert (data["timezone"], data["definitions_version"], data["data_as_of"]) == ("UTC", 2, {})
    assert list(data) == ["as_of", "timezone", "definitions_version", "data_as_of", "goals"]
    [found] = data["goals"]
    # 16 August .. 30 September: 46 days, 33 of them Monday to Friday
    expected = {
        "id": "emea-revenue",
        "metric": "revenue",
        "period": "2026-Q3",
        "scope": {"team": "EMEA"},
        "why": "EMEA carries the Q4 launch",
        "actual": 150.0,
        "n": 1,
        "coverage": 1.0,
        "baseline": 400.0,
        "target": 800,
        "stretch": 1000,
        "variance": -650.0,
        "variance_pct": -0.8125,
        "attainment": 0.1875,
        "tier": "none",
        "status": "behind",  # 150 against 800 × 25 % = 200 expected: pace 0.75
        "expected_to_date": 200.0,
        "projected": 600.0,
        "pacing_method": "history",
        "needed_run_rate": {
            "business_days_left": 33,
            "weeks_left": 6.57,
            "target": {
                "remaining": 650.0,
                "per_business_day": pytest.approx(650 / 33),
                "per_week": pytest.approx(650 * 7 / 46),
            },
            "stretch": {
                "remaining": 850.0,
                "per_business_day": pytest.approx(850 / 33),
                "per_week": pytest.approx(850 * 7 / 46),
            },
        },
        "pipeline": {
            "open": 500.0,
            "open_deals": 1,
            "gap": 650.0,
            "coverage_ratio": pytest.approx(500 / 650),
            "win_rate": 0.8,  # 1,600 won of 2,000 closed over 2025-Q3 .. 2026-Q2
            "win_rate_basis": "scope",
            "expected": 400.0,
        },
        "guardrails": [],
        "lint": [
            {
                "level": "warning",
                "rule": "achievable",
                "message": "target 800 is beyond the best of 4 past periods (400) by more than 20%: a moonshot",
            },
            {
                "level": "warning",
                "rule": "achievable",
                "message": "stretch 1,000 is beyond the best of 4 past periods (400) by more than 20%: a moonshot",
            },
        ],
        "since_last_checkin": None,
    }
    assert found == expected
    assert list(found) == list(expected)


def test_table_markdown_and_csv(config: Path, tmp_path: Path) -> None:
    code, out, _ = invoke(config, "report", "--as-of", "2026-08-15")
    assert code == 0
    assert "Goals as of 2026-08-15 (UTC; money in USD)" in out
    line = next(text for text in out.splitlines() if "emea-revenue" in text)
    # status, goal, actual, target, attainment 0.1875, tier, expected 800 × 25 %
    assert line.split() == ["behind", "emea-revenue", "150", "800", "19", "%", "none", "200"]
    assert "2026-Q3 · team=EMEA" in out
    assert (
        "warning emea-revenue: achievable: target 800 is beyond the best of 4 past periods "
        "(400) by more than 20%: a moonshot\n"
    ) in out
    code, out, _ = invoke(config, "report", "--as-of", "2026-08-15", "-f", "md")
    assert code == 0
    assert (
        "| behind | emea-revenue | 2026-Q3 | team=EMEA | 150 | 800 | 19 % | none | 200 | 600 |  |  |"
        in out
    )
    assert "- **emea-revenue**: EMEA carries the Q4 launch" in out
    target = tmp_path / "out.csv"
    code, out, err = invoke(
        config, "report", "--as-of", "2026-08-15", "-f", "csv", "-o", str(target)
    )
    assert (code, out) == (0, "")
    assert f"wrote 1 goal to {target}" in err
    [row] = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert (row["id"], row["status"], row["actual"], row["target"], row["variance"]) == (
        "emea-revenue",
        "behind",
        "150.0",
        "800",
        "-650.0",
    )


def test_save_records_a_check_in_and_later_reports_show_the_change(config: Path) -> None:
    code, _, err = invoke(config, "report", "--as-of", "2026-08-15", "--save")
    assert code == 0 and "saved check-in 1 (1 goal)" in err
    # the open deal is won on 10 September: the quarter has 150 + 500
    store = Store(f"sqlite:///{config.parent / 'tracker.db'}")
    with store.engine.begin() as conn:
        conn.execute(
            update(Deal.__table__)  # type: ignore[arg-type]
            .where(Deal.__table__.c.external_id == "open")  # type: ignore[attr-defined]
            .values(is_won=True, is_closed=True, close_date=date(2026, 9, 10))
        )
    store.close()
    code, out, _ = invoke(config, "report", "--as-of", "2026-09-15", "-f", "json")
    [found] = json.loads(out)["goals"]
    # attainment 650 / 800 = 0.8125 against 0.1875: +62.5 points; by day 77 of 92 history
    # says 100 / 400 reached (the 300 come on day 80): expected 200, pace 3.25 → on track
    assert (found["actual"], found["status"]) == (650.0, "on_track")
    assert found["since_last_checkin"] == {
        "as_of": "2026-08-15",
        "actual": 150.0,
        "attainment_points": 62.5,
        "status": "behind",
        "status_changed": True,
    }
    code, out, _ = invoke(config, "report", "--as-of", "2026-09-15", "-f", "md")
    assert "| on track | emea-revenue | 2026-Q3 | team=EMEA | 650 | 800 | 81 % | baseline |" in out
    assert "| +62.5 pts (was behind) |" in out
    # a replay of the first date has no earlier check-in to compare with
    code, out, _ = invoke(config, "report", "--as-of", "2026-08-15", "-f", "json")
    assert json.loads(out)["goals"][0]["since_last_checkin"] is None


def test_period_selects_the_goals_of_another_period(config: Path) -> None:
    code, out, _ = invoke(config, "report", "--as-of", "2026-11-02", "-f", "json")
    assert (code, json.loads(out)["goals"]) == (0, [])
    code, out, _ = invoke(config, "report", "--as-of", "2026-11-02")
    assert (code, out) == (0, "no goals running on 2026-11-02 (--period selects others)\n")
    code, out, _ = invoke(config, "report", "--as-of", "2026-11-02", "-p", "2026-Q3", "-f", "json")
    [found] = json.loads(out)["goals"]
    assert (found["actual"], found["status"], found["pacing_method"]) == (150.0, "missed", None)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "15/08/2026"], "error: bad --as-of '15/08/2026': write a date as YYYY-MM-DD"),
        (["--period", "2026-Q5"], "error: unknown period '2026-Q5': use one of"),
        (["--format", "pdf"], "error: unknown format 'pdf': choose from table, md, json, csv"),
    ],
)
def test_bad_input_is_one_line_exit_2(config: Path, args: list[str], message: str) -> None:
    code, out, err = invoke(config, "report", *args)
    assert code == 2 and out == ""
    assert err.startswith(message) and err.count("\n") == 1, err


@pytest.mark.parametrize(
    ("goals", "message"),
    [
        ("", "error: no goals configured in "),
        (
            GOAL.replace('"revenue"', '"revnue"'),
            "error: tracker.toml: goal emea-revenue: unknown metric 'revnue': did you mean 'revenue'?",
        ),
        (
            GOAL.replace("stretch = 1000", "stretch = 700"),
            "error: tracker.toml: goal emea-revenue: stretch 700 is not beyond target 800",
        ),
        (
            GOAL.replace("target = 800\n", ""),
            "error: tracker.toml: goal emea-revenue: target: required key is missing",
        ),
    ],
)
def test_invalid_goals_are_configuration_errors(tmp_path: Path, goals: str, message: str) -> None:
    config = make_config(tmp_path, goals)
    code, out, err = invoke(config, "report", "--as-of", "2026-08-15")
    assert code == 2 and out == ""
    assert err.startswith(message) and err.count("\n") == 1, err
