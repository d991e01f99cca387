"""Goals in the config: [[goals]] tables, goal files, quotas files; every invalid goal is a
one-line configuration error naming the goal (and file:line for quotas)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from connectors.registry import settings_models
from tests.goals.goal_fixtures import evaluate_deals, goal, won
from tracker.errors import ConfigError
from tracker.goals.expand import OwnerRef, QuotaRow
from tracker.goals.load import read_quotas
from tracker.goals.validate import check_goal_configs
from tracker.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "tracker.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, settings_models())


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as exc:
        _load(tmp_path, text)
    message = str(exc.value)
    assert "\n" not in message
    return message


FULL = """
[[goals]]
id = "emea-cycle"
metric = "sales_cycle_days"
period = "2026-Q3"
scope = { team = "EMEA" }
for_each = "owner"
baseline = "previous"
target = 45
stretch = 38
why = "Shorter cycles free capacity for the Q4 push"
notify = ["ana@example.com"]
guardrails = ["discount_pct", "gross_margin_pct"]
"""


def test_the_issue_example_loads_with_every_key(tmp_path: Path) -> None:
    settings = _load(tmp_path, FULL)
    [loaded] = settings.goals  # type: ignore[attr-defined]
    assert (loaded.id, loaded.metric, loaded.period, loaded.every) == (
        "emea-cycle",
        "sales_cycle_days",
        "2026-Q3",
        None,
    )
    assert loaded.scope == {"team": "EMEA"}
    assert (loaded.for_each, loaded.target, loaded.stretch) == ("owner", 45, 38)
    assert loaded.baseline_spec.kind == "previous"
    assert loaded.notify == ("ana@example.com",)
    assert loaded.guardrails == ("discount_pct", "gross_margin_pct")
    assert loaded.origin == "tracker.toml"
    check_goal_configs(settings.goals)  # type: ignore[attr-defined]


def test_goal_files_relative_to_the_config_and_quotas_relative_to_their_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "goals").mkdir()
    (tmp_path / "goals" / "q3.toml").write_text(
        '[[goals]]\nid = "quota"\nmetric = "revenue"\nevery = "quarter"\nquotas = "q3.csv"\n',
        encoding="utf-8",
    )
    (tmp_path / "goals" / "b.toml").write_text(
        '[[goals]]\nid = "b"\nmetric = "deals_won"\nperiod = "2026"\ntarget = 10\n',
        encoding="utf-8",
    )
    settings = _load(tmp_path, '[tracker]\ngoal_files = ["goals/*.toml"]\n' + FULL)
    goals = settings.goals  # type: ignore[attr-defined]
    assert [g.id for g in goals] == ["emea-cycle", "b", "quota"]  # config, then files sorted
    assert goals[2].quotas == tmp_path / "goals" / "q3.csv"
    assert goals[2].origin == str(Path("goals") / "q3.toml")


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('id = "a"\nperiod = "2026-Q3"\ntarget = 1\n', "goal a: metric: required key is missing"),
        (
            'id = "a"\nmetric = "revenue"\nperiod = "2026-Q3"\n',
            "goal a: target: required key is missing",
        ),
        ('id = "a"\nmetric = "revenue"\ntarget = 1\n', "goal a: give exactly one of period"),
        (
            'id = "a"\nmetric = "revenue"\nperiod = "2026-Q3"\nevery = "quarter"\ntarget = 1\n',
            "goal a: give exactly one of period",
        ),
        (
            'id = "a"\nmetric = "revenue"\nperiod = "2026-Q5"\ntarget = 1\n',
            "goal a: period: unknown period '2026-Q5'",
        ),
        (
            'id = "a"\nmetric = "revenue"\nperiod = "this-quarter"\ntarget = 1\n',
            "goal a: period: 'this-quarter' is relative",
        ),
        (
            'id = "a"\nmetric = "revenue"\nevery = "fortnight"\ntarget = 1\n',
            "goal a: every: Input should be 'week', 'month', 'quarter' or 'year'",
        ),
        (
            'id = "a"\nmetric = "revenue"\nperiod = "2026"\ntarget = 1\nbaseline = "last"\n',
            "goal a: baseline: 'last' is not a baseline",
        ),
        (
            'id = "a"\nmetric = "revenue"\nperiod = "2026"\ntarget = 1\nbaseline = "average:0"\n',
            "goal a: baseline: 'average:0' is not a baseline",
        ),
        (
            'id = "a"\nmetric = "revenue"\nperiod = "2026"\ntarget = 1\ntraget = 2\n',
            "goal a: traget: unknown key (a typo?)",
        ),
        (
            'id = "a b"\nmetric = "revenue"\nperiod = "2026"\ntarget = 1\n',
            "goal a b: id: 'a b': ids use letters",
        ),
        (
            'metric = "revenue"\nperiod = "2026"\ntarget = 1\n',
            "goal #1: id: required key is missing",
        ),
        (
            'id = "a"\nmetric = "revenue"\nperiod = "2026"\ntarget = 1\nnotify = ["ana"]\n',
            "goal a: notify: 'ana' is not an email address",
        ),
        (
            'id = "a"\nmetric = "revenue"\nperiod = "2026"\nquotas = "q.csv"\ntarget = 1\n',
            "goal a: with quotas, target and stretch come from the quotas file",
        ),
        (
            'id = "a"\nmetric = "revenue"\nperiod = "2026"\ntarget = 1\nscope = { owner = "Ann" }\nfor_each = "owner"\n',
            "goal a: for_each = 'owner' is also a key of scope",
        ),
    ],
)
def test_invalid_goal_tables_name_the_goal(tmp_path: Path, table: str, expected: str) -> None:
    message = _error(tmp_path, "[[goals]]\n" + table)
    assert message.startswith(f"tracker.toml: {expected}"), message


def test_duplicate_ids_across_files_name_both_places(tmp_path: Path) -> None:
    (tmp_path / "g.toml").write_text(
        '[[goals]]\nid = "emea-cycle"\nmetric = "revenue"\nperiod = "2026"\ntarget = 5\n',
        encoding="utf-8",
    )
    message = _error(tmp_path, '[tracker]\ngoal_files = ["g.toml"]\n' + FULL)
    assert message == "goal emea-cycle: duplicate id (tracker.toml and g.toml)"


def test_goal_files_that_match_nothing_or_hold_other_tables(tmp_path: Path) -> None:
    message = _error(tmp_path, '[tracker]\ngoal_files = ["goals/*.toml"]\n')
    assert message.startswith("tracker.goal_files: 'goals/*.toml' matches no file in ")
    (tmp_path / "g.toml").write_text("[store]\nurl = 'sqlite:///x.db'\n", encoding="utf-8")
    message = _error(tmp_path, '[tracker]\ngoal_files = ["g.toml"]\n')
    assert message.endswith("g.toml: a goal file holds [[goals]] tables only")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"metric": "revnue"},
            "config: goal g: unknown metric 'revnue': did you mean 'revenue'?",
        ),
        (
            {"metric": "revenue", "scope": {"teem": "EMEA"}},
            "config: goal g: unknown dimension 'teem'",
        ),
        ({"metric": "revenue", "for_each": "rep"}, "config: goal g: unknown dimension 'rep'"),
        (
            {"metric": "revenue", "guardrails": ["win_rate"]},
            "config: goal g: unknown guardrail 'win_rate'",
        ),
        (
            {"metric": "revenue", "target": 100, "stretch": 90},
            "config: goal g: stretch 90 is not beyond target 100: revenue is better higher, "
            "so stretch must be above it",
        ),
        (
            {"metric": "sales_cycle_days", "target": 45, "stretch": 45},
            "config: goal g: stretch 45 is not beyond target 45: sales_cycle_days is better "
            "lower, so stretch must be below it",
        ),
    ],
)
def test_registry_checks_name_the_goal(fields: dict[str, object], expected: str) -> None:
    fields = {"id": "g", "target": 1, **fields}
    with pytest.raises(ConfigError) as exc:
        check_goal_configs([goal(**fields)])
    assert str(exc.value).startswith(expected), str(exc.value)


def test_a_lower_is_better_stretch_below_target_is_valid() -> None:
    check_goal_configs([goal(id="g", metric="sales_cycle_days", target=45, stretch=38)])


def _quotas(tmp_path: Path, text: str) -> list[QuotaRow]:
    path = tmp_path / "q.csv"
    path.write_text(text, encoding="utf-8")
    return read_quotas(goal(id="q", metric="revenue", quotas=path))


OWNERS = [
    OwnerRef("o1", "Ann Lee", "ann@example.com"),
    OwnerRef("o2", "Bob Ray", "bob@example.com"),
    OwnerRef("o3", None, "cy@example.com"),
]


def _quota_goals(tmp_path: Path, text: str) -> list[object]:
    rows = _quotas(tmp_path, text)
    config = goal(id="q", metric="revenue", quotas=tmp_path / "q.csv")
    deals = [won("a", date(2026, 7, 1), owner_external_id="o1", owner_name="Ann Lee")]
    return evaluate_deals(  # type: ignore[return-value]
        deals, [config], date(2026, 8, 15), owners=OWNERS, quotas={tmp_path / "q.csv": rows}
    )


def test_quotas_match_owners_by_name_or_email(tmp_path: Path) -> None:
    results = _quota_goals(
        tmp_path,
        "Owner,Target,Stretch,Baseline,Region\n"
        "ann@example.com,1000,1200,,EMEA\n"
        "\n"
        'Bob Ray,"2,000",,1500,US\n'
        "cy@example.com,300,400,,US\n",
    )
    found = {r.goal.id: r for r in results}  # type: ignore[attr-defined]
    assert set(found) == {"q/Ann Lee", "q/Bob Ray", "q/o3"}
    ann, bob, cy = found["q/Ann Lee"], found["q/Bob Ray"], found["q/o3"]
    assert (ann.goal.scope, ann.goal.target, ann.goal.stretch) == (
        (("owner", "Ann Lee"),),
        1000,
        1200,
    )
    assert (bob.goal.target, bob.goal.stretch, bob.baseline) == (2000, None, 1500)
    assert cy.goal.scope == (("owner", "o3"),)  # no name: the external id is its value
    assert ann.actual == 100.0 and ann.goal.parent == "q"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "owner,target\nann@example.com,1000\nzed@example.com,5\n",
            "q.csv:3: unknown owner 'zed@example.com'",
        ),
        (
            "owner,target\nAnn Lee,1000\nann@example.com,5\n",
            "q.csv:3: owner 'ann@example.com' is also on line 2",
        ),
        ("owner,target\nAnn Lee,lots\n", "q.csv:2: target 'lots' is not a number"),
        ("owner,target\nAnn Lee,\n", "q.csv:2: target is missing"),
        (
            "owner,target,stretch\nAnn Lee,1000,900\n",
            "q.csv:2: stretch 900 is not beyond target 1,000",
        ),
    ],
)
def test_bad_quota_rows_name_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        _quota_goals(tmp_path, text)
    message = str(exc.value)
    assert message.startswith(f"config: goal q: {tmp_path}/"), message
    assert expected in message, message


def test_quota_files_missing_or_without_columns(tmp_path: Path) -> None:
    config = goal(id="q", metric="revenue", quotas=tmp_path / "absent.csv")
    with pytest.raises(ConfigError, match=r"^config: goal q: quotas file .*absent.csv not found$"):
        read_quotas(config)
    with pytest.raises(ConfigError, match=r"no 'target' column \(columns: owner, target"):
        _quotas(tmp_path, "owner,quota\nAnn,1\n")


def test_the_documented_example_goals_are_valid(tmp_path: Path) -> None:
    """The commented goals of config.example.toml, uncommented, load and validate."""
    lines = (ROOT / "config.example.toml").read_text(encoding="utf-8").splitlines()
    start = lines.index("# [[goals]]")
    block = []
    for line in lines[start:]:
        if not line.startswith("#") or line.startswith("# ----"):
            break
        block.append(line[2:] if line.startswith("# ") else "")
    (tmp_path / "quotas.csv").write_text("owner,target\n", encoding="utf-8")
    settings = _load(tmp_path, "\n".join(block))
    goals = settings.goals  # type: ignore[attr-defined]
    assert [g.id for g in goals] == ["emea-revenue", "owner-cycle", "quota"]
    assert settings.goal_thresholds.moonshot_margin == 0.2  # type: ignore[attr-defined]
    check_goal_configs(goals)
