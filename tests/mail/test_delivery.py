"""Delivery exactly once over a real SMTP server: TLS both ways, AUTH, a server down,
transient and permanent refusals per recipient, reruns, and a process killed between
DATA and its record."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from connectors.registry import settings_models
from jobs.digests import DigestQuery, send_digests
from tests.mail.mail_fixtures import AS_OF, RECIPIENTS, auth_lines, make_mail_config
from tests.mail.smtp_server import PASSWORD, free_port, smtp_server
from tracker.cli import app
from tracker.mail import Backoff
from tracker.models import EmailSend
from tracker.settings import load_settings
from tracker.store import Store

runner = CliRunner()
ENV = {"TRACKER_TEST_SMTP_PASSWORD": PASSWORD}
QUICK = Backoff(attempts=3, first_wait=0.05, max_wait=0.2)


def invoke(config: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--config", str(config), *args], env=ENV)
    return result.exit_code, result.stdout, result.stderr


def sends(config: Path) -> list[tuple[str, str]]:
    """(recipient, status) of every send record, oldest first."""
    settings = load_settings(config, settings_models())
    store = Store(settings.store.url)
    table = EmailSend.__table__  # type: ignore[attr-defined]
    with store.engine.connect() as conn:
        rows = conn.execute(select(table.c.recipient, table.c.status).order_by(table.c.id)).all()
    store.close()
    return [(r, s) for r, s in rows]


def library_run(config: Path, **query: object) -> object:
    settings = load_settings(config, settings_models())
    store = Store(settings.store.url)
    try:
        return send_digests(
            settings, store, date.fromisoformat(AS_OF), DigestQuery(**query), backoff=QUICK
        )
    finally:
        store.close()


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_a_certificate_made_here_and_auth(tmp_path: Path, security: str) -> None:
    with smtp_server(tmp_path, security=security, auth=True) as server:
        config = make_mail_config(tmp_path, server, email_extra=auth_lines())
        code, out, err = invoke(config, "--verbose", "email", "--as-of", AS_OF)
        assert code == 0, err
        assert sorted(r.rcpt_to[0] for r in server.inbox.received) == sorted(RECIPIENTS)
        assert server.inbox.logins == ["digest-bot"]
        assert PASSWORD not in out + err
        assert PASSWORD.encode() not in (tmp_path / "tracker.db").read_bytes()
        assert all(PASSWORD.encode() not in r.data for r in server.inbox.received)
        code, out, _ = invoke(config, "config", "show")
        assert code == 0 and PASSWORD not in out and "<from env TRACKER_TEST_SMTP_PASSWORD>" in out


def test_bad_credentials_are_one_line_and_send_nothing(tmp_path: Path) -> None:
    with smtp_server(tmp_path, security="starttls", auth=True) as server:
        config = make_mail_config(tmp_path, server, email_extra=auth_lines())
        result = runner.invoke(
            app,
            ["--config", str(config), "--verbose", "email", "--as-of", AS_OF],
            env={"TRACKER_TEST_SMTP_PASSWORD": "wrong-password-123"},
        )
        assert result.exit_code == 1
        assert (
            f"error: SMTP server 127.0.0.1:{server.port} refused AUTH for user digest-bot "
            "(535): check [email] username and password"
        ) in result.stderr.splitlines()
        assert "wrong-password-123" not in result.stdout + result.stderr
        assert server.inbox.received == [] and sends(config) == []


def test_untrusted_certificate_is_refused(tmp_path: Path) -> None:
    with smtp_server(tmp_path, security="ssl") as server:
        config = make_mail_config(tmp_path, server)
        text = config.read_text().replace(f'ca_file = "{server.ca_file}"\n', "")
        config.write_text(text)
        code, _, err = invoke(config, "email", "--as-of", AS_OF)
        assert code == 1
        assert err.startswith(f"error: TLS with SMTP server 127.0.0.1:{server.port} failed (")
        assert err.count("\n") == 1 and server.inbox.received == []


def test_server_down_is_one_line_and_records_nothing(tmp_path: Path) -> None:
    config = make_mail_config(tmp_path, None)
    port = free_port()
    config.write_text(
        config.read_text() + f'host = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
    )
    code, out, err = invoke(config, "email", "--as-of", AS_OF)
    assert (code, out) == (1, "")
    assert err == (
        f"error: cannot reach SMTP server 127.0.0.1:{port}: connection refused "
        "(check [email] host and port)\n"
    )
    assert sends(config) == []


def test_transient_refusal_is_retried_for_that_recipient_only(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as server:
        config = make_mail_config(tmp_path, server)
        server.inbox.defer["ann@example.com"] = 2  # 451 twice, then accepted
        run = library_run(config)
        assert run.exit_code == 0  # type: ignore[attr-defined]
        counts = {a: len(server.inbox.to(a)) for a in RECIPIENTS}
        assert counts == dict.fromkeys(RECIPIENTS, 1)
        assert sorted(sends(config)) == sorted((a, "sent") for a in RECIPIENTS)


def test_permanent_refusal_fails_one_recipient_and_a_rerun_sends_only_it(
    tmp_path: Path, store_url: str
) -> None:
    with smtp_server(tmp_path) as server:
        config = make_mail_config(tmp_path, server, url=store_url)
        server.inbox.refuse.add("bob@example.com")
        code, out, err = invoke(config, "email", "--as-of", AS_OF)
        assert code == 3
        assert (
            "FAILED: bob@example.com (1 goal): RCPT TO refused: 550 5.1.1 mailbox unavailable"
            in err
        )
        assert out == "digests for 2026-08-15: 4 sent, 1 failed\n"
        others = [a for a in RECIPIENTS if a != "bob@example.com"]
        assert {a: len(server.inbox.to(a)) for a in others} == dict.fromkeys(others, 1)
        assert server.inbox.to("bob@example.com") == []
        # the mailbox comes back: the rerun sends Bob his digest and nobody a second one
        server.inbox.refuse.clear()
        code, out, _ = invoke(config, "email", "--as-of", AS_OF)
        assert (code, out) == (0, "digests for 2026-08-15: 1 sent, 4 already sent\n")
        assert {a: len(server.inbox.to(a)) for a in RECIPIENTS} == dict.fromkeys(RECIPIENTS, 1)
        # and a third run sends nothing at all, unless asked to
        code, out, _ = invoke(config, "email", "--as-of", AS_OF)
        assert (code, out) == (0, "digests for 2026-08-15: 5 already sent\n")
        assert len(server.inbox.received) == 5
        code, out, _ = invoke(
            config, "email", "--as-of", AS_OF, "--resend", "--to", "ann@example.com"
        )
        assert (code, out) == (0, "digests for 2026-08-15: 1 sent\n")
        assert len(server.inbox.to("ann@example.com")) == 2


def test_kill_between_data_and_record_leaves_delivery_uncertain_never_a_second_copy(
    tmp_path: Path, store_url: str
) -> None:
    with smtp_server(tmp_path) as server:
        config = make_mail_config(tmp_path, server, url=store_url)
        command = [
            sys.executable,
            "-m",
            "tracker.cli",
            "--config",
            str(config),
            "email",
            "--as-of",
            AS_OF,
        ]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **ENV},
            cwd=tmp_path,
        )
        server.inbox.kill_on_data = process.pid  # killed when the first DATA has arrived
        process.communicate(timeout=120)
        assert process.returncode == -9
        [first] = server.inbox.received
        victim = first.rcpt_to[0]
        assert sends(config) == [(victim, "sending")]
        code, out, _ = invoke(config, "status")
        assert code == 0
        assert f"delivery uncertain: {victim} (2026-Q3, as of {AS_OF}, started " in out
        # the rerun sends everyone else once, and the uncertain one not again
        code, out, err = invoke(config, "email", "--as-of", AS_OF)
        assert code == 3
        assert (
            f"delivery uncertain in an earlier run: not re-sent (--resend sends again): {victim}"
            in err
        )
        assert out == "digests for 2026-08-15: 4 sent, 1 uncertain before\n"
        assert {a: len(server.inbox.to(a)) for a in RECIPIENTS} == dict.fromkeys(RECIPIENTS, 1)


def test_config_without_host_says_what_to_set(tmp_path: Path) -> None:
    config = make_mail_config(tmp_path, None)
    code, _, err = invoke(config, "email", "--as-of", AS_OF)
    assert code == 2
    assert err == (
        "error: [email] host: required to send mail (docs/email.md); --dry-run writes the "
        "messages to an outbox without them\n"
    )
