"""End to end, as a team would run it: the sandbox's two CRMs → sync → metrics → goals →
report → digests over SMTP. Every figure is checked against the sandbox's own truth,
computed here from its records by the metric definitions (docs/metrics.md), never against
another output of the product."""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sandbox import Sandbox
from sandbox.standalone import config_toml
from tests.mail.mail_fixtures import parts
from tests.mail.smtp_server import Server, smtp_server
from tracker.cli import app

NOW = datetime(2026, 8, 20, 15, 0, tzinfo=UTC)
AS_OF = "2026-08-20"
PERIOD, START, END = "2026-Q2", date(2026, 4, 1), date(2026, 6, 30)
SF, HS = "sandbox-salesforce", "sandbox-hubspot"
SF_TEAM, HS_TEAM = "NA - Enterprise", "EMEA - SMB"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Server, Path]]:
    folder = tmp_path_factory.mktemp("e2e")
    with Sandbox.start(deals=3000, seed=17, now=NOW) as sandbox, smtp_server(folder) as server:
        os.environ["E2E_SF_TOKEN"] = sandbox.salesforce_token
        os.environ["E2E_HS_TOKEN"] = sandbox.hubspot_token
        goals = "".join(
            f'\n[[goals]]\nid = "{key}-revenue"\nmetric = "revenue"\nperiod = "{PERIOD}"\n'
            f'scope = {{ team = "{team}" }}\ntarget = 1000000\nwhy = "the plan"\n'
            for key, team in (("sf", SF_TEAM), ("hs", HS_TEAM))
        )
        config = folder / "tracker.toml"
        config.write_text(
            config_toml(sandbox, sf_token_env="E2E_SF_TOKEN", hs_token_env="E2E_HS_TOKEN")
            + f'\n[store]\nurl = "sqlite:///{folder / "tracker.db"}"\n'
            + goals
            + f'\n[email]\nhost = "127.0.0.1"\nport = {server.port}\nsecurity = "none"\n'
            'from = "tracker@example.com"\ndefault_to = ["revops@example.com"]\n',
            encoding="utf-8",
        )
        run = CliRunner().invoke(app, ["--config", str(config), "sync"])
        assert run.exit_code == 0, run.stderr
        yield sandbox, server, config


def invoke(config: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["--config", str(config), *args])
    assert result.exit_code == 0, result.stderr
    return result.stdout


def truth_by_team(sandbox: Sandbox) -> dict[str, dict[str, float]]:
    """Revenue and win rate of 2026-Q2 per team, from the sandbox's records."""
    won: dict[str, float] = defaultdict(float)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # won, closed
    for crm in ("salesforce", "hubspot"):
        truth = sandbox.truth(crm)
        for deal in truth.live_deals().values():
            if not deal.is_closed or deal.close_date is None:
                continue
            if not START <= deal.close_date <= END:
                continue
            owner = truth.owners.get(deal.owner_external_id or "")
            team = owner.team if owner is not None else None
            if team is None:
                continue
            counts[team][1] += 1
            if deal.is_won:
                counts[team][0] += 1
                won[team] += deal.amount_reporting or 0.0
    return {team: {"revenue": won[team], "win_rate": w / c} for team, (w, c) in counts.items() if c}


def test_metrics_equal_the_truth(world: tuple[Sandbox, Server, Path]) -> None:
    sandbox, _, config = world
    out = invoke(
        config,
        "metrics",
        "--period",
        PERIOD,
        "--by",
        "team",
        "--metric",
        "revenue",
        "--metric",
        "win_rate",
        "--format",
        "json",
    )
    rows = json.loads(out)["rows"]
    got = {(r["metric"], r["scope"].get("team")): r["value"] for r in rows if r["scope"]}
    expected = truth_by_team(sandbox)
    assert {team for _, team in got} == set(expected)
    for team, figures in expected.items():
        assert got[("revenue", team)] == pytest.approx(figures["revenue"], abs=0.01), team
        assert got[("win_rate", team)] == pytest.approx(figures["win_rate"], abs=1e-9), team


def test_goal_report_and_digests_carry_the_true_figures(
    world: tuple[Sandbox, Server, Path],
) -> None:
    sandbox, server, config = world
    expected = truth_by_team(sandbox)
    report = json.loads(
        invoke(config, "report", "--period", PERIOD, "--as-of", AS_OF, "--format", "json")
    )
    actual = {g["id"]: g["actual"] for g in report["goals"]}
    assert actual["sf-revenue"] == pytest.approx(expected[SF_TEAM]["revenue"], abs=0.01)
    assert actual["hs-revenue"] == pytest.approx(expected[HS_TEAM]["revenue"], abs=0.01)
    out = invoke(config, "email", "--period", PERIOD, "--as-of", AS_OF)
    assert out == "digests for 2026-08-20: 2 sent\n"
    # the Salesforce team's goal goes to the manager its reps report to (the CRM's users);
    # HubSpot owners have no manager, so that team's goal goes to default_to
    truth = sandbox.truth("salesforce")
    managers = [
        truth.owners[o.manager_external_id]
        for o in truth.owners.values()
        if o.team == SF_TEAM and o.is_active is not False and o.manager_external_id in truth.owners
    ]
    top = max({m.external_id for m in managers}, key=[m.external_id for m in managers].count)
    manager_email = str(truth.owners[top].email).lower()
    assert sorted(r.rcpt_to[0] for r in server.inbox.received) == sorted(
        [manager_email, "revops@example.com"]
    )
    for address, goal, team in (
        (manager_email, "sf-revenue", SF_TEAM),
        ("revops@example.com", "hs-revenue", HS_TEAM),
    ):
        [message] = server.inbox.to(address)
        text = parts(message.message)["text"]
        assert f"{goal} [" in text
        shown = re.search(r"actual:\s+([\d,]+) USD", text)
        assert shown is not None
        assert int(shown.group(1).replace(",", "")) == round(expected[team]["revenue"])


def test_review_pack_carries_the_true_figures(
    world: tuple[Sandbox, Server, Path], tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    sandbox, _, config = world
    expected = truth_by_team(sandbox)
    out = invoke(config, "review", "--period", PERIOD, "--as-of", AS_OF, "--output", str(tmp_path))
    assert out.splitlines() == [
        str(tmp_path / f"review-{PERIOD}.{ext}") for ext in ("html", "xlsx")
    ]
    teams = load_workbook(tmp_path / f"review-{PERIOD}.xlsx")["Teams"]
    header = [c.value for c in teams[1]]
    rows = {
        r[0]: dict(zip(header, r, strict=True))
        for r in teams.iter_rows(min_row=2, values_only=True)
    }
    for team, figures in expected.items():
        assert rows[team]["revenue"] == pytest.approx(figures["revenue"], abs=0.01), team
        assert rows[team]["win_rate"] == pytest.approx(figures["win_rate"], abs=1e-9), team
    html = (tmp_path / f"review-{PERIOD}.html").read_text(encoding="utf-8")
    shown = f"{round(expected[SF_TEAM]['revenue']):,}"
    assert shown in html  # the scorecard's actual for the Salesforce team's goal
