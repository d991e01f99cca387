"""``tracker doctor`` against real parts: the sandbox's two CRMs over loopback, an aiosmtpd
server with STARTTLS and AUTH, SQLite stores synced by the real engine. Every failing
check is provoked for real (a wrong token, a field the org lacks, the SMTP server down or
a wrong password, data too old, a goal the linter rejects, a store behind the schema)
and its line, its fix and the exit code are asserted."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from typer.testing import CliRunner

from sandbox import Sandbox
from sandbox.standalone import config_toml
from tests.jobs.conftest import Procs
from tests.jobs.procs import wait_until
from tests.mail.mail_fixtures import auth_lines, email_table
from tests.mail.smtp_server import PASSWORD, Server, free_port, smtp_server
from tracker import jobruns
from tracker.cli import app
from tracker.doctor import SCHEDULER_LEASE
from tracker.locks import named_lock
from tracker.store import Store

SF, HS = "sandbox-salesforce", "sandbox-hubspot"
HEAD = Store("sqlite://").head_revision()
GOAL = """
[[goals]]
id = "company-revenue"
metric = "revenue"
every = "quarter"
target = 1000000
why = "the plan"
"""


@dataclass
class World:
    sandbox: Sandbox
    smtp: Server
    store: Path  # a SQLite store synced from the sandbox
    env: dict[str, str] = field(repr=False)  # the tokens: never in a failure's report


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("doctor")
    with (
        Sandbox.start(deals=300, seed=5) as sandbox,
        smtp_server(folder, security="starttls", auth=True) as smtp,
    ):
        env = {
            "DOC_SF_TOKEN": sandbox.salesforce_token,
            "DOC_HS_TOKEN": sandbox.hubspot_token,
            "TRACKER_TEST_SMTP_PASSWORD": PASSWORD,
        }
        world = World(sandbox, smtp, folder / "tracker.db", env)
        config = write_config(world, folder)
        run = CliRunner().invoke(app, ["--config", str(config), "sync"], env=env)
        assert run.exit_code == 0, run.stderr
        yield world


def write_config(
    world: World,
    folder: Path,
    *,
    store: Path | None = None,
    email: str | None = None,
    extra: str = GOAL,
    edit: tuple[str, str] | None = None,
) -> Path:
    """A config for the sandbox, the SMTP server (STARTTLS + AUTH) and ``store``."""
    text = config_toml(world.sandbox, sf_token_env="DOC_SF_TOKEN", hs_token_env="DOC_HS_TOKEN")
    if edit is not None:
        assert edit[0] in text
        text = text.replace(*edit)
    mail = email if email is not None else email_table(world.smtp) + auth_lines()
    text += f'\n[store]\nurl = "sqlite:///{store or world.store}"\n' + extra + "\n" + mail
    path = folder / "tracker.toml"
    path.write_text(text, encoding="utf-8")
    return path


def doctor(
    config: Path, env: dict[str, str], *args: str
) -> tuple[int, dict[str, tuple[str, str, str | None]], str]:
    """Exit code, each check's (status, detail, fix) by name (from --format json), and
    the text output of the same run."""
    runner = CliRunner()
    result = runner.invoke(
        app, ["--config", str(config), "doctor", "--format", "json", *args], env=env
    )
    document = json.loads(result.stdout)
    checks = {c["check"]: (c["status"], c["detail"], c["fix"]) for c in document["checks"]}
    text = runner.invoke(app, ["--config", str(config), "doctor"], env=env)
    assert text.exit_code == result.exit_code == document["exit_code"]
    return result.exit_code, checks, text.stdout


def line(text: str, name: str) -> str:
    """The output line of check ``name``."""
    found = [ln for ln in text.splitlines() if ln[6:].startswith(f"{name}: ")]
    assert len(found) == 1, text
    return found[0]


def copy_store(source: Path, target: Path) -> Path:
    """A consistent copy of a SQLite store (the backup API)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()
    return target


def test_a_healthy_setup_passes_every_check_and_sends_no_mail(world: World, tmp_path: Path) -> None:
    sf_budget = world.sandbox.state.budgets["salesforce"]
    hs_budget = world.sandbox.state.budgets["hubspot"]
    sf_used, hs_used = sf_budget.used, hs_budget.used
    logins = len(world.smtp.inbox.logins)
    config = write_config(world, tmp_path)
    code, checks, text = doctor(config, world.env)
    assert code == 0, text
    for name in (
        "config",
        "store",
        f"source {SF} credentials",
        f"source {SF} API budget",
        f"source {SF} mapped fields",
        f"source {HS} credentials",
        f"source {HS} API budget",
        f"source {HS} mapped fields",
        "smtp",
        f"data freshness {SF}",
        f"data freshness {HS}",
        "goals lint",
    ):
        assert checks[name][0] == "pass", (name, checks[name])
    # no schedule configured: warnings, not failures
    assert checks["schedule"][0] == checks["scheduler"][0] == "warn"
    assert "tracker scheduler run" in (checks["schedule"][2] or "")
    # SMTP: STARTTLS and AUTH done twice (json and text runs), not a single message sent
    assert "STARTTLS ok, AUTH ok as digest-bot" in checks["smtp"][1]
    assert world.smtp.inbox.received == []
    assert world.smtp.inbox.logins[logins:] == ["digest-bot", "digest-bot"]
    # the budgets are the sandbox's own counters, read during the run
    for name, budget, before in ((SF, sf_budget, sf_used), (HS, hs_budget, hs_used)):
        detail = checks[f"source {name} API budget"][1]
        left, total = (
            int(n.replace(",", ""))
            for n in detail.split(": ")[1].split(" requests")[0].split(" of ")
        )
        assert total == budget.total
        assert budget.total - budget.used <= left <= budget.total - before - 1
    assert f"revision {HEAD}" in checks["store"][1]
    assert line(text, "store").startswith("ok    store: ")
    assert text.splitlines()[-1].endswith("0 failed")


def test_wrong_tokens_fail_their_credentials_lines(world: World, tmp_path: Path) -> None:
    config = write_config(world, tmp_path)
    env = {**world.env, "DOC_SF_TOKEN": "not-a-token", "DOC_HS_TOKEN": "pat-na1-wrong"}
    code, checks, text = doctor(config, env)
    assert code == 1
    status, detail, fix = checks[f"source {SF} credentials"]
    assert status == "fail" and "401" in detail
    assert f"sources.{SF}.access_token" in (fix or "")
    status, detail, fix = checks[f"source {HS} credentials"]
    assert status == "fail" and "401" in detail
    assert f"sources.{HS}.access_token" in (fix or "")
    assert checks[f"source {SF} mapped fields"][0] == "skip"
    assert "fix: put a valid access token" in line(text, f"source {SF} credentials")
    assert "not-a-token" not in text and "pat-na1-wrong" not in text


def test_an_unset_token_variable_is_named(world: World, tmp_path: Path) -> None:
    config = write_config(world, tmp_path)
    env = {**world.env, "DOC_HS_TOKEN": ""}
    code, checks, _ = doctor(config, env)
    assert code == 1
    status, detail, _ = checks[f"source {HS} credentials"]
    assert status == "fail" and "DOC_HS_TOKEN is not set" in detail
    assert checks[f"source {SF} credentials"][0] == "pass"


def test_a_mapped_field_the_org_lacks_fails_naming_its_key(world: World, tmp_path: Path) -> None:
    config = write_config(
        world, tmp_path, edit=('segment = "Account.Segment__c"', 'segment = "Account.Tier__c"')
    )
    with config.open("a", encoding="utf-8") as fh:  # and a HubSpot deal property
        fh.write(f'\n[sources.{HS}.custom]\nforecast = "hs_forecast_nope"\n')
    code, checks, text = doctor(config, world.env)
    assert code == 1
    status, detail, fix = checks[f"source {SF} mapped fields"]
    assert status == "fail"
    assert detail.startswith(f"sources.{SF}.fields.segment: field Account.Tier__c does not exist")
    assert f"[sources.{SF}.fields]" in (fix or "")
    status, detail, fix = checks[f"source {HS} mapped fields"]
    assert status == "fail"
    assert (
        detail == f"sources.{HS}.custom.forecast: HubSpot has no deals property 'hs_forecast_nope'"
    )
    assert "Settings → Properties" in (fix or "")
    assert checks[f"source {SF} credentials"][0] == "pass"
    assert "fix: fix the API name" in line(text, f"source {SF} mapped fields")


def test_smtp_down_fails_the_smtp_line(world: World, tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    email = (
        email_table(world.smtp).replace(f"port = {world.smtp.port}", f"port = {port}")
        + auth_lines()
    )
    config = write_config(world, tmp_path, email=email)
    code, checks, text = doctor(config, world.env)
    assert code == 1
    status, detail, fix = checks["smtp"]
    assert status == "fail"
    assert detail == (
        f"cannot reach SMTP server 127.0.0.1:{port}: connection refused (check [email] host and port)"
    )
    assert "port" in (fix or "")
    assert "fix: " in line(text, "smtp")


def test_a_wrong_smtp_password_fails_auth_and_is_never_shown(world: World, tmp_path: Path) -> None:
    config = write_config(world, tmp_path)
    env = {**world.env, "TRACKER_TEST_SMTP_PASSWORD": "wrong-pass-771"}
    code, checks, text = doctor(config, env)
    assert code == 1
    status, detail, _ = checks["smtp"]
    assert status == "fail"
    assert "refused AUTH for user digest-bot (535)" in detail
    assert "wrong-pass-771" not in text and PASSWORD not in text
    assert world.smtp.inbox.received == []


def test_stale_data_fails_freshness_per_source(world: World, tmp_path: Path) -> None:
    store = copy_store(world.store, tmp_path / "old.db")
    days_ago = datetime.now(UTC) - timedelta(days=3)
    with sqlite3.connect(store) as conn:  # the Salesforce syncs ended three days ago
        conn.execute(
            "UPDATE sync_runs SET started_at = ?, finished_at = ? WHERE source = ?",
            (
                days_ago.replace(tzinfo=None).isoformat(" "),
                days_ago.replace(tzinfo=None).isoformat(" "),
                SF,
            ),
        )
    config = write_config(world, tmp_path, store=store)
    code, checks, text = doctor(config, world.env)
    assert code == 1
    status, detail, fix = checks[f"data freshness {SF}"]
    assert status == "fail"
    assert detail == "its data is 72h old (more than max_data_age 36h)"
    assert f"tracker sync {SF}" in (fix or "")
    assert checks[f"data freshness {HS}"][0] == "pass"
    assert "fix: run `tracker sync" in line(text, f"data freshness {SF}")


def test_a_goal_the_linter_rejects_fails_goals_lint(world: World, tmp_path: Path) -> None:
    goal = GOAL.replace('why = "the plan"\n', "").replace("company-revenue", "no-why")
    config = write_config(world, tmp_path, extra=goal)
    code, checks, _ = doctor(config, world.env)
    assert code == 1
    status, detail, fix = checks["goals lint"]
    assert status == "fail"
    assert detail.startswith("no-why: relevant: no why")
    assert "tracker goals check" in (fix or "")


def test_a_store_behind_the_schema_fails_with_the_upgrade_command(
    world: World, tmp_path: Path
) -> None:
    path = tmp_path / "behind.db"
    store = Store(f"sqlite:///{path}")
    cfg = store._alembic_config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
    store.close()
    config = write_config(world, tmp_path, store=path)
    code, checks, _ = doctor(config, world.env)
    assert code == 1
    status, detail, fix = checks["store"]
    assert status == "fail"
    assert detail.endswith(f"is at revision 0005, this tracker needs {HEAD}")
    assert fix == "run `tracker db upgrade`"
    assert checks["goals lint"][0] == checks[f"data freshness {SF}"][0] == "skip"
    # the doctor changed nothing: the store is still behind, and a missing file stays missing
    assert Store(f"sqlite:///{path}").current_revision() == "0005"
    missing = write_config(world, tmp_path, store=tmp_path / "none.db")
    code, checks, _ = doctor(missing, world.env)
    assert code == 1 and checks["store"][0] == "fail"
    assert not (tmp_path / "none.db").exists()


def test_a_config_error_exits_2_with_its_line(world: World, tmp_path: Path) -> None:
    config = write_config(world, tmp_path)
    config.write_text(config.read_text() + "\n[surprise]\nkey = 1\n", encoding="utf-8")
    code, checks, _ = doctor(config, world.env)
    assert code == 2
    status, detail, fix = checks["config"]
    assert status == "fail" and "surprise: unknown key" in detail
    assert str(config) in (fix or "")
    assert list(checks) == ["config"]


def test_an_invalid_schedule_fails_naming_its_key(world: World, tmp_path: Path) -> None:
    config = write_config(world, tmp_path, extra=GOAL + '\n[schedule]\nsync = "0 25 * * *"\n')
    code, checks, _ = doctor(config, world.env)
    assert code == 1
    status, detail, _ = checks["schedule"]
    assert status == "fail" and detail.startswith("schedule.sync: '0 25 * * *'")


def test_a_valid_schedule_lists_next_runs(world: World, tmp_path: Path) -> None:
    schedule = (
        '\n[schedule]\ntimezone = "Europe/Berlin"\nsync = "0 2 * * *"\ndigest = "0 7 * * MON"\n'
    )
    config = write_config(world, tmp_path, extra=GOAL + schedule)
    _, checks, _ = doctor(config, world.env)
    status, detail, _ = checks["schedule"]
    assert status == "pass"
    assert detail.startswith("2 jobs: sync (0 2 * * *) next ")
    assert " 02:00 CE" in detail and "digest (0 7 * * MON) next " in detail


def test_a_low_hubspot_budget_is_a_warning(world: World, tmp_path: Path) -> None:
    budget = world.sandbox.state.budgets["hubspot"]
    saved = budget.used
    budget.used = budget.total - 100
    try:
        config = write_config(world, tmp_path)
        code, checks, _ = doctor(config, world.env)
    finally:
        budget.used = saved
    status, detail, fix = checks[f"source {HS} API budget"]
    assert status == "warn" and " of 250,000 requests" in detail
    assert fix is not None
    assert code == 0  # a warning is not a failure


SCHEDULE = '\n[schedule]\nsync = "0 2 * * *"\n'


def test_the_scheduler_line_follows_a_real_scheduler_process(
    world: World, tmp_path: Path, procs: Procs
) -> None:
    """None ever ran: fail. `tracker scheduler run` running: pass, naming its pid. Killed
    with -9: the lease is free again, fail naming the last one."""
    store = copy_store(world.store, tmp_path / "beats.db")
    config = write_config(world, tmp_path, store=store, extra=GOAL + SCHEDULE)
    code, checks, _ = doctor(config, world.env)
    assert code == 1
    status, detail, fix = checks["scheduler"]
    assert (status, detail) == ("fail", "no scheduler has ever run on this store")
    assert "tracker scheduler run" in (fix or "")
    scheduler = procs.start("scheduler", config, "scheduler", "run")
    handle = Store(f"sqlite:///{store}")
    scheduler.wait_for("active scheduler: ")
    wait_until(lambda: jobruns.heartbeat(handle), 30, "the first heartbeat")
    code, checks, text = doctor(config, world.env)
    assert code == 0, text
    status, detail, _ = checks["scheduler"]
    assert status == "pass"
    assert f"pid {scheduler.pid}" in detail and "heartbeat " in detail
    scheduler.kill()
    code, checks, _ = doctor(config, world.env)
    handle.close()
    assert code == 1
    status, detail, _ = checks["scheduler"]
    assert status == "fail"
    assert detail.startswith("no scheduler holds the lease: the last one (host ")
    assert f"pid {scheduler.pid})" in detail


def test_a_lease_held_without_heartbeats_is_a_hung_scheduler(world: World, tmp_path: Path) -> None:
    store = copy_store(world.store, tmp_path / "hung.db")
    config = write_config(world, tmp_path, store=store, extra=GOAL + SCHEDULE)
    handle = Store(f"sqlite:///{store}")
    since = datetime.now(UTC) - timedelta(hours=5)
    with named_lock(handle, SCHEDULER_LEASE, wait=False) as me:
        jobruns.beat(handle, me.host, me.pid, since)
        with handle.engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE scheduler_heartbeat SET beat_at = ?",
                ((datetime.now(UTC) - timedelta(minutes=10)).replace(tzinfo=None).isoformat(" "),),
            )
        code, checks, _ = doctor(config, world.env)
    handle.close()
    assert code == 1
    status, detail, fix = checks["scheduler"]
    assert status == "fail"
    assert detail.startswith(f"the lease is held (host {me.host}, pid {me.pid}")
    assert detail.endswith("but the last heartbeat was 10m ago")
    assert "restart" in (fix or "")


def test_the_doctor_watches_the_lease_the_scheduler_takes() -> None:
    from jobs.daemon import LEASE

    assert SCHEDULER_LEASE == LEASE


def test_a_store_never_migrated_fails_until_db_upgrade_on_each_database(
    world: World, tmp_path: Path, store_url: str
) -> None:
    """A fresh database (a missing SQLite file, an empty PostgreSQL schema) fails with the
    upgrade command; after `tracker db upgrade` the store line passes."""
    sqlite = store_url.startswith("sqlite")
    text = write_config(world, tmp_path).read_text()
    config = tmp_path / "tracker.toml"
    config.write_text(text.replace(f'url = "sqlite:///{world.store}"', f'url = "{store_url}"'))
    code, checks, _ = doctor(config, world.env)
    assert code == 1
    status, detail, fix = checks["store"]
    assert status == "fail"
    if sqlite:
        assert detail.endswith("store.db does not exist")
    else:
        assert detail.endswith(f"reachable but has no tracker schema (needs revision {HEAD})")
    assert "tracker db upgrade" in (fix or "")
    upgraded = CliRunner().invoke(app, ["--config", str(config), "db", "upgrade"], env=world.env)
    assert upgraded.exit_code == 0, upgraded.stderr
    _, checks, _ = doctor(config, world.env)
    assert checks["store"][0] == "pass"
    # never synced into this store: the freshness lines say so
    assert checks[f"data freshness {SF}"][:2] == ("fail", "never synced successfully")


def test_an_unreachable_database_fails_the_store_line(world: World, tmp_path: Path) -> None:
    text = write_config(world, tmp_path).read_text()
    config = tmp_path / "tracker.toml"
    dead = f"postgresql+psycopg://tracker@127.0.0.1:{free_port()}/tracker"
    config.write_text(text.replace(f'url = "sqlite:///{world.store}"', f'url = "{dead}"'))
    code, checks, _ = doctor(config, world.env)
    assert code == 1
    status, detail, fix = checks["store"]
    assert status == "fail" and detail.startswith("cannot open the store at postgresql")
    assert "[store] url" in (fix or "")


def test_a_csv_source_is_checked_through_its_file(world: World, tmp_path: Path) -> None:
    from tests.csv_factory import write_config as csv_config
    from tests.csv_factory import write_csv

    export = write_csv(tmp_path / "deals.csv", 20)
    config = csv_config(tmp_path, export, f"sqlite:///{world.store}")
    _, checks, _ = doctor(config, world.env)
    (name,) = [n for n in checks if n.startswith("source ")]
    assert checks[name][0] == "pass"
    export.unlink()
    code, checks, _ = doctor(config, world.env)
    assert code == 1
    status, detail, fix = checks[name]
    assert status == "fail" and "deals.csv" in detail
    assert fix is not None and "[sources." in fix


def test_a_hubspot_app_without_daily_headers_gets_an_info_line(
    world: World, tmp_path: Path
) -> None:
    budget = world.sandbox.state.budgets["hubspot"]
    budget.reports_daily = False
    try:
        code, checks, _ = doctor(write_config(world, tmp_path), world.env)
    finally:
        budget.reports_daily = True
    assert checks[f"source {HS} API budget"] == (
        "info",
        "daily budget not reported by HubSpot until exceeded",
        None,
    )
    assert code == 0
