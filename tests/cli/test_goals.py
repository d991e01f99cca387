"""``tracker goals check`` and ``tracker goals suggest`` through Typer's CliRunner."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tests.cli.test_report import GOAL, invoke, make_config
from tracker.goals.model import GoalConfig

BAD = """
[[goals]]
id = "margin"
metric = "gross_margin_pct"
every = "quarter"
target = 0.4
"""


def test_check_lists_findings_one_line_each_and_exits_1_on_errors(tmp_path: Path) -> None:
    config = make_config(tmp_path, GOAL + BAD)
    code, out, err = invoke(config, "goals", "check", "--as-of", "2026-08-15")
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        "error   margin: measurable: no deal over 2025-07-01..2026-06-30 carries the cost "
        "gross_margin_pct needs; map it with [sources.crm.columns] cost_amount",
        'error   margin: relevant: no why: say why this goal matters (why = "...")',
        "warning emea-revenue: achievable: target 800 is beyond the best of 4 past periods (400) "
        "by more than 20%: a moonshot",
        "warning emea-revenue: achievable: stretch 1,000 is beyond the best of 4 past periods "
        "(400) by more than 20%: a moonshot",
        "checked 2 goals as of 2026-08-15: 2 errors, 2 warnings",
    ]
    code, out, _ = invoke(config, "goals", "check", "--as-of", "2026-08-15", "--format", "json")
    data = json.loads(out)
    assert code == 1
    assert (data["goals_checked"], data["errors"], data["warnings"]) == (2, 2, 2)
    assert data["findings"][0] == {
        "goal": "margin",
        "level": "error",
        "rule": "measurable",
        "message": "no deal over 2025-07-01..2026-06-30 carries the cost gross_margin_pct needs; "
        "map it with [sources.crm.columns] cost_amount",
    }
    assert data["goals"][0]["achievable"] == {"target": "moonshot", "stretch": "moonshot"}


def test_check_of_sound_goals_exits_0_and_warns_of_past_periods(tmp_path: Path) -> None:
    sound = GOAL.replace("target = 800", "target = 450").replace("stretch = 1000", "stretch = 470")
    config = make_config(tmp_path, sound)
    code, out, _ = invoke(config, "goals", "check", "--as-of", "2026-08-15")
    assert (code, out) == (0, "checked 1 goal as of 2026-08-15: 0 errors, 0 warnings\n")
    code, out, _ = invoke(config, "goals", "check", "--as-of", "2026-11-15")
    assert code == 0
    assert out.splitlines()[0] == (
        "warning emea-revenue: time_bound: 2026-Q3 ended on 2026-09-30 (for reviews only)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["check", "--as-of", "2026-13-01"],
            "error: bad --as-of '2026-13-01': write a date as YYYY-MM-DD",
        ),
        (["check", "--format", "xml"], "error: unknown format 'xml': choose from table, json"),
        (["check", "--period", "Q3"], "error: unknown period 'Q3': use one of"),
        (
            ["suggest", "--metric", "revnue"],
            "error: unknown metric 'revnue': did you mean 'revenue'?",
        ),
        (
            ["suggest", "-m", "revenue", "--scope", "team=EMAE"],
            "error: unknown team 'EMAE': did you mean 'EMEA'? values: EMEA",
        ),
        (["suggest", "-m", "revenue", "--scope", "tier=gold"], "error: unknown dimension 'tier'"),
        (
            ["suggest", "-m", "revenue", "--scope", "EMEA"],
            "error: bad filter 'EMEA': write DIMENSION=VALUE",
        ),
        (
            ["suggest", "-m", "revenue", "--for-each", "team"],
            "error: --for-each team: quotas are per owner; use owner",
        ),
        (["suggest", "-m", "revenue", "--period", "2026-Q0"], "error: unknown period '2026-Q0'"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    config = make_config(tmp_path)
    code, out, err = invoke(config, "goals", *args)
    assert (code, out) == (2, "")
    assert err.startswith(message) and err.count("\n") == 1, err


def test_suggest_prints_a_goal_ready_to_paste(tmp_path: Path) -> None:
    config = make_config(tmp_path, "")
    code, out, _ = invoke(
        config, "goals", "suggest", "-m", "revenue", "--scope", "team=EMEA", "--as-of", "2026-08-15"
    )
    assert code == 0
    # four quarters of 400 on record (2025-Q3 .. 2026-Q2; 2026-Q3 is not over): the
    # target beats the baseline by 5 %, the stretch the best quarter or target by 10 %
    assert out.splitlines()[:2] == [
        "# revenue for team=EMEA in 2026-Q4, from 4 quarters on record:",
        "#   2025-Q3 400 · 2025-Q4 400 · 2026-Q1 400 · 2026-Q2 400",
    ]
    [table] = tomllib.loads(out)["goals"]
    assert table == {
        "id": "revenue-emea-2026-q4",
        "metric": "revenue",
        "period": "2026-Q4",
        "scope": {"team": "EMEA"},
        "baseline": "previous",
        "target": 420,
        "stretch": 462,
        "why": "",
    }
    GoalConfig.model_validate(table)
    # pasted with a why, it passes the linter when its quarter comes
    pasted = out.replace('why = ""', 'why = "Q4 launch"')
    (tmp_path / "tracker.toml").write_text(
        (tmp_path / "tracker.toml").read_text(encoding="utf-8") + pasted, encoding="utf-8"
    )
    code, out, _ = invoke(config, "goals", "check", "--as-of", "2026-10-15")
    assert (code, out) == (0, "checked 1 goal as of 2026-10-15: 0 errors, 0 warnings\n")


def test_suggest_quotas_per_owner(tmp_path: Path) -> None:
    config = make_config(tmp_path, "")
    target = tmp_path / "quotas.csv"
    code, out, err = invoke(
        config,
        "goals",
        "suggest",
        "-m",
        "deals_won",
        "--for-each",
        "owner",
        "--period",
        "2026-Q3",
        "--as-of",
        "2026-08-15",
        "-o",
        str(target),
    )
    assert (code, out) == (0, "")
    assert f"wrote 1 suggestion to {target}" in err
    # Ann won 2 deals in each of 2025-Q3 .. 2026-Q2: 2 × 1.05 → 3; 3 × 1.1 → 4
    assert target.read_text(encoding="utf-8") == "owner,target,stretch,baseline\nAnn,3,4,2\n"


def test_suggest_without_history_is_an_error(tmp_path: Path) -> None:
    config = make_config(tmp_path, "")
    code, out, err = invoke(
        config, "goals", "suggest", "-m", "sales_cycle_days", "--as-of", "2026-08-15"
    )
    assert (code, out) == (1, "")
    assert err == (
        "error: no sales_cycle_days on record for the company in the 8 periods before 2026-Q4: "
        "nothing to suggest from\n"
    )
