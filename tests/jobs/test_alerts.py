"""Operational alerts over a real SMTP server (aiosmtpd, STARTTLS and AUTH) on SQLite and
PostgreSQL stores: one mail per problem to ``[email] ops_to``, none again while it lasts,
cleared by a recovery so the next occurrence mails again; a mail that could not go out
is sent on the next run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from connectors.registry import settings_models
from jobs.alerts import after_run
from tests.cli.test_report import SOURCE
from tests.jobs.conftest import Procs
from tests.jobs.procs import wait_until
from tests.mail.mail_fixtures import auth_lines, email_table
from tests.mail.smtp_server import PASSWORD, Server, free_port, smtp_server
from tracker import jobruns
from tracker.models import SyncRun
from tracker.settings import Settings, load_settings
from tracker.store import Store

OPS = ["oncall@example.com", "revops@example.com"]
SLOT = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    os.environ["TRACKER_TEST_SMTP_PASSWORD"] = PASSWORD
    with smtp_server(tmp_path, security="starttls", auth=True) as running:
        yield running


SCHEDULE = '[schedule]\nsync = "0 2 * * *"\nsnapshot = "15 2 * * *"\ndigest = "0 7 * * MON"\n'


def settings_for(
    tmp_path: Path, server: Server | None, port: int | None = None, schedule: str = SCHEDULE
) -> Settings:
    if server is None:  # no SMTP server configured
        mail = '[email]\nfrom = "tracker@example.com"\n'
    else:
        mail = email_table(server) + auth_lines()
    if port is not None:
        assert server is not None
        mail = mail.replace(f"port = {server.port}", f"port = {port}")
    ops = ", ".join(f'"{a}"' for a in OPS)
    text = f'{SOURCE}\n{schedule}\n{mail}ops_to = [{ops}]\nmax_data_age = "36h"\n'
    path = tmp_path / "tracker.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, settings_models())


def run_job(store: Store, job: str, outcome: str, error: str | None = None) -> None:
    run = jobruns.record_start(store, job, "sync", None, SLOT)
    jobruns.record_end(store, run, outcome, error)


def synced(store: Store, source: str, ended: datetime) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            insert(SyncRun.__table__).values(  # type: ignore[attr-defined]
                source=source,
                kind="csv",
                started_at=ended - timedelta(minutes=1),
                finished_at=ended,
                outcome="ok",
                counts={},
            )
        )


def subjects(server: Server) -> list[tuple[str, list[str]]]:
    return [(str(r.message["Subject"]), r.rcpt_to) for r in server.inbox.received]


def test_a_job_failing_twice_mails_once_until_it_recovers(
    store: Store, server: Server, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, server)
    now = datetime.now(UTC)
    synced(store, "crm", now)  # fresh data: only the job can alert
    run_job(store, "sync", "failed", "HubSpot rejected the access token (401)")
    assert after_run(settings, store, now).mailed == []
    assert server.inbox.received == []
    run_job(store, "sync", "failed", "HubSpot rejected the access token (401)")
    round_two = after_run(settings, store, now)
    assert round_two.mailed == ["job:sync"]
    alert = "[tracker] ALERT: job sync failed 2 times in a row"
    assert subjects(server) == [(alert, [OPS[0]]), (alert, [OPS[1]])]
    body = server.inbox.received[0].message.get_content()
    assert "HubSpot rejected the access token (401)" in body
    assert "tracker doctor" in body
    assert PASSWORD not in body
    # still failing, and other jobs running: no second mail
    run_job(store, "sync", "failed", "again")
    run_job(store, "digest", "ok")
    assert after_run(settings, store, now).mailed == []
    assert len(server.inbox.received) == 2
    # recovery clears it, without a mail
    run_job(store, "sync", "ok")
    assert after_run(settings, store, now).cleared == ["job:sync"]
    assert jobruns.open_alerts(store) == []
    assert len(server.inbox.received) == 2
    # a new run of failures is a new alert
    run_job(store, "sync", "failed", "down")
    run_job(store, "sync", "failed", "down")
    assert after_run(settings, store, now).mailed == ["job:sync"]
    assert len(server.inbox.received) == 4


def test_stale_data_mails_once_and_a_good_sync_clears_it(
    store: Store, server: Server, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, server)
    now = datetime.now(UTC)
    synced(store, "crm", now - timedelta(hours=40))
    assert after_run(settings, store, now).mailed == ["stale:crm"]
    assert subjects(server)[0][0] == "[tracker] ALERT: data of crm is 40h old"
    assert "more than max_data_age 36h" in server.inbox.received[0].message.get_content()
    assert after_run(settings, store, now + timedelta(hours=1)).mailed == []
    assert len(server.inbox.received) == len(OPS)
    synced(store, "crm", now + timedelta(hours=2))
    assert after_run(settings, store, now + timedelta(hours=2)).cleared == ["stale:crm"]
    assert len(server.inbox.received) == len(OPS)
    # within the limit: nothing; past it again: a new mail
    assert after_run(settings, store, now + timedelta(hours=30)).mailed == []
    assert after_run(settings, store, now + timedelta(hours=39)).mailed == ["stale:crm"]
    assert len(server.inbox.received) == 2 * len(OPS)


def test_an_alert_that_could_not_be_mailed_goes_out_on_the_next_run(
    store: Store, server: Server, tmp_path: Path
) -> None:
    down = settings_for(tmp_path, server, port=free_port())
    now = datetime.now(UTC)
    synced(store, "crm", now)
    run_job(store, "snapshot", "failed", "x")
    run_job(store, "snapshot", "failed", "x")
    assert after_run(down, store, now).unmailed == ["job:snapshot"]
    assert [a.key for a in jobruns.open_alerts(store)] == ["job:snapshot"]
    up = settings_for(tmp_path, server)
    assert after_run(up, store, now).mailed == ["job:snapshot"]
    assert after_run(up, store, now).mailed == []
    assert len(server.inbox.received) == len(OPS)


def test_without_an_smtp_server_nothing_is_sent_and_the_alert_stays_open(
    store: Store, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, None)
    now = datetime.now(UTC)
    run_job(store, "sync", "failed")
    run_job(store, "sync", "failed")
    done = after_run(settings, store, now)
    assert done.unmailed == ["job:sync"] and done.mailed == []
    alerts = jobruns.open_alerts(store)
    assert [(a.key, a.mailed_at) for a in alerts] == [("job:sync", None)]


def test_the_running_scheduler_mails_a_failing_job_once(
    server: Server, tmp_path: Path, procs: Procs
) -> None:
    """A real `tracker scheduler run` firing a sync every two seconds: while its export
    is missing the job fails, and ops_to gets one mail after the second failure, no more
    while it keeps failing; the export back clears the alert; failing again mails again."""
    from tests.csv_factory import write_config, write_csv

    export = tmp_path / "deals.csv"
    store_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    config = write_config(tmp_path, export, store_url)
    ops = ", ".join(f'"{a}"' for a in OPS)
    with config.open("a", encoding="utf-8") as fh:
        fh.write(f'\n[schedule]\nsync = "*/2 * * * * *"\n\n{email_table(server)}{auth_lines()}')
        fh.write(f"ops_to = [{ops}]\n")
    store = Store(store_url)
    store.ensure_ready()
    scheduler = procs.start("scheduler", config, "scheduler", "run")

    def failures() -> int:
        return sum(r.outcome == "failed" for r in jobruns.recent_runs(store, "sync", 100))

    try:
        scheduler.wait_for("active scheduler: ")
        wait_until(lambda: len(server.inbox.received) >= len(OPS), 40, "the alert mail")
        seen = failures()
        assert seen >= 2
        wait_until(lambda: failures() >= seen + 2, 40, "two more failures")
        assert subjects(server) == [
            ("[tracker] ALERT: job sync failed 2 times in a row", [address]) for address in OPS
        ]
        write_csv(export, 30)
        wait_until(lambda: not jobruns.open_alerts(store), 40, "the alert cleared")
        assert len(server.inbox.received) == len(OPS)
        export.unlink()
        wait_until(lambda: len(server.inbox.received) >= 2 * len(OPS), 40, "a second alert")
        assert scheduler.stop() == 0, scheduler.stderr
    finally:
        store.close()
    assert len(server.inbox.received) == 2 * len(OPS)


def test_rounds_at_once_mail_an_alert_once(store: Store, server: Server, tmp_path: Path) -> None:
    """Jobs end in several threads at once: their rounds never mail one alert twice."""
    import threading

    settings = settings_for(tmp_path, server)
    now = datetime.now(UTC)
    synced(store, "crm", now)
    run_job(store, "sync", "failed")
    run_job(store, "sync", "failed")
    start = threading.Barrier(4)
    mailed: list[list[str]] = []

    def one_round() -> None:
        start.wait()
        mailed.append(after_run(settings, store, now).mailed)

    threads = [threading.Thread(target=one_round) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(mailed) == [[], [], [], ["job:sync"]]
    assert len(server.inbox.received) == len(OPS)


def test_a_job_taken_off_the_schedule_clears_its_alert(
    store: Store, server: Server, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    synced(store, "crm", now)
    run_job(store, "snapshot", "failed")
    run_job(store, "snapshot", "failed")
    assert after_run(settings_for(tmp_path, server), store, now).mailed == ["job:snapshot"]
    without = settings_for(tmp_path, server, schedule='[schedule]\nsync = "0 2 * * *"\n')
    assert after_run(without, store, now).cleared == ["job:snapshot"]
    assert len(server.inbox.received) == len(OPS)
