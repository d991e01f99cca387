"""One money rule in every connector: a currency without a rate is stored unconverted and
counted, never a failed sync or a rejected row; Salesforce dated rates follow close dates."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from sandbox import Sandbox
from sandbox.standalone import config_toml
from tests.csv_factory import HEADER, rows, write_config
from tracker.cli import app
from tracker.store import Store

runner = CliRunner()
SF_ENV, HS_ENV = "TRACKER_TEST_MONEY_SF", "TRACKER_TEST_MONEY_HS"


def invoke(config: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--config", str(config), *args], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _stored(db: Path, sql: str) -> list[dict[str, Any]]:
    store = Store(f"sqlite:///{db}")
    with store.engine.connect() as conn:
        found = [dict(r) for r in conn.execute(text(sql)).mappings()]
    store.close()
    return found


def _last_run(config: Path, source: str) -> dict[str, Any]:
    status = json.loads(invoke(config, "status", "--format", "json")[1])
    return next(s for s in status["sources"] if s["source"] == source)


def test_csv_row_in_a_currency_without_rate_is_stored_unconverted(tmp_path: Path) -> None:
    data = rows(20)
    data[3][11] = "JPY"  # no JPY rate in the config (EUR = 1.1 only)
    data[3][6] = "Won"
    data[3][8] = "2024-05-05"
    path = tmp_path / "deals.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(data)
    config = write_config(tmp_path, path, "sqlite:///tracker.db")
    code, _, err = invoke(config, "sync")
    assert code == 0, err
    [deal] = _stored(
        tmp_path / "tracker.db",
        "SELECT amount, currency, amount_reporting FROM deals WHERE external_id = 'OPP0000003'",
    )
    assert deal["currency"] == "JPY" and deal["amount_reporting"] is None
    assert deal["amount"] == float(data[3][9].replace(",", ""))
    source = _last_run(config, "export")
    assert source["last_run"]["rejected"] == 0 and source["last_run"]["unconverted"] == 1
    assert source["warnings"] == [
        "1 deal in JPY not converted to USD: add JPY = <USD per 1 JPY> under "
        "[tracker.exchange_rates]"
    ]
    # revenue of 2024 leaves it out and says so in its coverage
    out = invoke(config, "metrics", "-p", "2024", "-m", "revenue", "-f", "json")[1]
    [row] = json.loads(out)["rows"]
    assert row["coverage"] < 1.0


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(deals=1500, seed=3, now=datetime.now(UTC)) as running:
        yield running


def _crm_config(
    tmp_path: Path, sandbox: Sandbox, *, drop_rate: str | None = None, extra: str = ""
) -> Path:
    body = config_toml(sandbox, sf_token_env=SF_ENV, hs_token_env=HS_ENV)
    if drop_rate:
        body = "\n".join(
            line for line in body.splitlines() if not line.startswith(f"{drop_rate} =")
        )
    path = tmp_path / "tracker.toml"
    path.write_text(
        body + f'\n[store]\nurl = "sqlite:///{tmp_path / "tracker.db"}"\n' + extra, encoding="utf-8"
    )
    return path


def _env(sandbox: Sandbox) -> dict[str, str]:
    return {SF_ENV: sandbox.salesforce_token, HS_ENV: sandbox.hubspot_token}


def test_hubspot_deal_without_rate_is_stored_unconverted(tmp_path: Path, sandbox: Sandbox) -> None:
    config = _crm_config(tmp_path, sandbox, drop_rate="GBP")
    code, _, err = invoke(config, "sync", "sandbox-hubspot", env=_env(sandbox))
    assert code == 0, err
    truth = sandbox.truth("hubspot").live_deals()
    gbp = {k for k, d in truth.items() if d.currency == "GBP" and d.amount is not None}
    assert gbp  # the portal has GBP deals
    stored = _stored(
        tmp_path / "tracker.db",
        "SELECT external_id, amount, amount_reporting FROM deals "
        "WHERE currency = 'GBP' AND NOT is_deleted AND amount IS NOT NULL",
    )
    assert {r["external_id"] for r in stored} == gbp
    assert all(r["amount_reporting"] is None for r in stored)
    run = _last_run(config, "sandbox-hubspot")["last_run"]
    assert run["unconverted"] == len(gbp) and run["outcome"] == "ok"


def test_salesforce_dated_rates_follow_the_close_date(tmp_path: Path, sandbox: Sandbox) -> None:
    config = _crm_config(tmp_path, sandbox)
    code, _, err = invoke(config, "sync", "sandbox-salesforce", env=_env(sandbox))
    assert code == 0, err
    stored = _stored(
        tmp_path / "tracker.db",
        "SELECT close_date, amount, amount_reporting FROM deals "
        "WHERE currency = 'EUR' AND amount > 0",
    )
    schedule = sandbox.state.dated_rates["EUR"]  # (1900: 1.02), (early: 1.05), (late: 1.08)
    early, late = schedule[1][0], schedule[2][0]

    def factors(low: date, high: date) -> set[float]:
        return {
            round(r["amount_reporting"] / r["amount"], 4)
            for r in stored
            if low <= date.fromisoformat(str(r["close_date"])) < high
        }

    # one currency, two rates: the one in force on each deal's close date
    assert factors(early, late) == {1.05}
    assert factors(late, date(9999, 1, 1)) == {1.08}
    assert _last_run(config, "sandbox-salesforce")["last_run"]["unconverted"] == 0


def test_salesforce_currency_without_rate_is_stored_unconverted(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    # an org read through CurrencyType (dated rates off) where GBP was deactivated since
    db = sandbox.state.salesforce
    with sandbox.state.lock:
        [gbp_rate] = [i for i, r in db.rows["CurrencyType"].items() if r["IsoCode"] == "GBP"]
        db.update("CurrencyType", gbp_rate, {"IsActive": False}, modstamp=sandbox.now())
    try:
        config = _crm_config(tmp_path, sandbox, extra="[sources.sandbox-salesforce.retry]\n")
        text_ = config.read_text(encoding="utf-8").replace(
            "[sources.sandbox-salesforce.fields]",
            "dated_rates = false\n\n[sources.sandbox-salesforce.fields]",
        )
        config.write_text(text_, encoding="utf-8")
        code, _, err = invoke(config, "sync", "sandbox-salesforce", env=_env(sandbox))
        assert code == 0, err
        truth = sandbox.truth("salesforce").live_deals()
        gbp = {k for k, d in truth.items() if d.currency == "GBP" and d.amount is not None}
        stored = _stored(
            tmp_path / "tracker.db",
            "SELECT external_id, amount_reporting FROM deals WHERE currency = 'GBP' "
            "AND NOT is_deleted AND amount IS NOT NULL",
        )
        assert gbp and {r["external_id"] for r in stored} == gbp
        assert all(r["amount_reporting"] is None for r in stored)
        run = _last_run(config, "sandbox-salesforce")["last_run"]
        assert run["unconverted"] == len(gbp) and run["outcome"] == "ok"
    finally:
        with sandbox.state.lock:
            db.update("CurrencyType", gbp_rate, {"IsActive": True}, modstamp=sandbox.now())


def test_salesforce_org_without_dated_rates_converts_at_currency_type_rates(
    tmp_path: Path,
) -> None:
    # an org without advanced currency management: DatedConversionRate is INVALID_TYPE
    with Sandbox.start(deals=800, seed=3, now=datetime.now(UTC), dated_rates=False) as org:
        config = _crm_config(tmp_path, org)
        code, _, err = invoke(config, "sync", "sandbox-salesforce", env=_env(org))
        assert code == 0, err
    stored = _stored(
        tmp_path / "tracker.db",
        "SELECT amount, amount_reporting FROM deals WHERE currency = 'EUR' AND amount > 0",
    )
    # CurrencyType publishes 1 / 1.08: every EUR deal at 1.08, whatever its close date
    assert stored and {round(r["amount_reporting"] / r["amount"], 4) for r in stored} == {1.08}
