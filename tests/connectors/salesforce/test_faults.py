"""Every fault kind of the sandbox: transient errors retried, limits stopping cleanly, data
changing mid-sync, expired sessions, budgets; secrets never leak."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from tests.connectors.salesforce.conftest import Harness
from tests.connectors.store_truth import store_file_bytes


@pytest.mark.parametrize(
    "spec",
    [
        "429@sf.query,retry_after=0,times=2",
        "429@sf.describe,times=1",
        "500@sf.query,after=1,times=2",
        "503@sf.*,every=4,times=3",
        "drop@sf.query,after=2,times=2",
        "drop@sf.describe,after=2,times=1",
        "slow@sf.query,delay=0.05,times=3",
    ],
)
def test_transient_faults_are_retried(h: Harness, spec: str) -> None:
    h.sb.faults.add(spec)
    result = h.sync()
    assert result.outcome == "ok", result.error
    assert h.differences() == []
    assert sum(h.sb.counters.snapshot()["faults"].values()) >= 1


def test_retries_are_bounded(h: Harness) -> None:
    h.sb.faults.add("500@sf.query,every=1")
    result = h.sync()
    assert result.outcome == "failed" and result.exit_code == 1
    assert result.error is not None and "HTTP 500" in result.error
    # the opening composite call's 4 queries (User, Account, COUNT, first CreatedDate),
    # then the first of them alone: max_attempts
    assert h.sb.counters.snapshot()["requests"]["salesforce.query"] == 4 + 4


def test_daily_limit_is_never_retried_and_resumes(h: Harness) -> None:
    h.sb.faults.add("daily@sf.query,after=4,times=1")  # the first query made alone
    stopped = h.sync(page_size=200)
    assert stopped.outcome == "stopped" and stopped.exit_code == 3
    assert stopped.error is not None and "tracker sync sf" in stopped.error
    assert h.sb.counters.snapshot()["statuses"].get("salesforce.403") == 1
    resumed = h.sync(page_size=200)
    assert resumed.outcome == "ok", resumed.error
    assert h.differences() == []


def test_budget_stops_with_exit_3_and_resumes(harness_factory: Callable[..., Harness]) -> None:
    h = harness_factory(deals=600)
    h.sb.set_budget("sf", total=1000, used=960)
    stopped = h.sync(page_size=200, max_api_percent=10)  # 10 % of 39 left: 3 more calls
    assert stopped.outcome == "stopped" and stopped.exit_code == 3
    assert stopped.error is not None
    assert "stopped after 4 API calls" in stopped.error
    assert "run `tracker sync sf` again tomorrow (or raise max_api_percent)" in stopped.error
    h.sb.set_budget("sf", total=15_000)
    rest = h.sync(page_size=200)
    assert rest.outcome == "ok", rest.error
    assert h.differences() == []


def test_expired_token_fails_with_a_hint_and_no_secret(h: Harness) -> None:
    token = h.sb.salesforce_token
    h.sb.expire_session("sf")
    result = h.sync()
    assert result.outcome == "failed" and result.error is not None
    assert "session invalid or expired" in result.error and "access_token" in result.error
    assert token not in result.error


def test_password_mode_reauthenticates_on_401(h: Harness) -> None:
    # the 5th query is the first one made alone (4 ride in the opening composite call)
    h.sb.faults.add("expire@sf.query,after=4,times=1")
    result = h.sync(**_password_mode(h, "sandbox-password"))
    assert result.outcome == "ok", result.error
    assert h.sb.counters.snapshot()["requests"]["salesforce.soap.login"] == 2
    assert h.differences() == []


@pytest.mark.parametrize(
    "spec",
    [
        "expire@sf.describe,times=1",  # (the org has no composite resource here)
        "expire@sf.bulk2.results,times=1",
        "expire@sf.bulk2.job,times=1",
    ],
)
def test_every_call_logs_in_again_once_on_401(h: Harness, spec: str) -> None:
    router = h.sb.router  # every read made alone, describes included
    router.routes = [r for r in router.routes if r.endpoint != "composite"]
    h.sb.faults.add(spec)
    result = h.sync(bulk_threshold=10, **_password_mode(h, "sandbox-password"))
    assert result.outcome == "ok", result.error
    assert h.sb.counters.snapshot()["requests"]["salesforce.soap.login"] == 2
    assert h.differences() == []


@pytest.mark.parametrize("spec", ["500@sf.soap.login,times=2", "503@sf.soap.login,times=1"])
def test_a_login_answered_5xx_is_retried_not_called_a_credentials_problem(
    h: Harness, spec: str
) -> None:
    h.sb.faults.add(spec)
    result = h.sync(**_password_mode(h, "sandbox-password"))
    assert result.outcome == "ok", result.error
    assert h.sb.counters.snapshot()["faults"] == {f"salesforce.{spec[:3]}": int(spec[-1])}
    assert h.differences() == []


def test_a_refused_login_is_not_retried(h: Harness) -> None:
    result = h.sync(**_password_mode(h, "not-the-password"))
    assert result.outcome == "failed" and "login refused" in (result.error or "")
    assert h.sb.counters.snapshot()["requests"]["salesforce.soap.login"] == 1


def test_a_second_401_in_a_row_stops_with_one_line(h: Harness) -> None:
    h.sb.faults.add("expire@sf.bulk2.results,times=2")
    result = h.sync(bulk_threshold=10, **_password_mode(h, "sandbox-password"))
    assert result.outcome == "failed" and result.exit_code == 1
    assert result.error is not None and "\n" not in result.error
    assert "401" in result.error
    assert h.sb.counters.snapshot()["requests"]["salesforce.soap.login"] == 2


def test_jwt_mode_logs_in(h: Harness) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (h.tmp / "sf.key").write_bytes(pem)
    result = h.sync(
        access_token=None,
        username="integration@sandbox.example",
        consumer_key="sandbox-consumer-key",
        private_key_file="sf.key",
    )
    assert result.outcome == "ok", result.error
    assert h.sb.counters.snapshot()["requests"]["salesforce.oauth.token"] == 1


@pytest.mark.parametrize(
    "spec",
    [
        "update@sf.query,after=4,n=5",
        "delete@sf.query,after=4,n=5",
        "undelete@sf.query,after=4,n=3",
        "late@sf.query,after=4,n=4",
        "samestamp@sf.query,after=4,n=30",
        "harddelete@sf.query,after=4,n=3",
        "merge@sf.query,after=4,n=2",
    ],
)
def test_data_changing_mid_sync_converges(
    harness_factory: Callable[..., Harness], spec: str
) -> None:
    h = harness_factory(deals=500)
    h.sb.faults.add(spec)
    assert h.sync(page_size=200, overlap_minutes=15).outcome == "ok"
    assert sum(h.sb.counters.snapshot()["faults"].values()) == 1
    h.sb.advance_clock(60)
    result = h.sync(page_size=200, overlap_minutes=15, reconcile=spec.startswith("harddelete"))
    assert result.outcome == "ok", result.error
    assert h.differences() == []


def test_secrets_never_reach_logs_errors_or_the_store(
    h: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    token = h.sb.salesforce_token
    caplog.set_level(logging.DEBUG)
    h.sb.faults.add("500@sf.query,times=1;429@sf.describe,times=1")
    assert h.sync().outcome == "ok"
    h.sb.expire_session("sf")
    failed = h.sync()
    assert failed.error is not None and token not in failed.error
    assert token not in caplog.text
    stored = store_file_bytes(h.store)
    assert b"salesforce" in stored.lower()  # the search below reads the real store
    assert token.encode() not in stored


@pytest.mark.parametrize(
    "spec",
    ["500@sf.bulk2.results,times=1", "drop@sf.bulk2.job,times=1", "429@sf.bulk2.create,times=1"],
)
def test_bulk_backfill_retries_transient_faults(h: Harness, spec: str) -> None:
    h.sb.faults.add(spec)
    result = h.sync(bulk_threshold=50)
    assert result.outcome == "ok", result.error
    assert sum(h.sb.counters.snapshot()["faults"].values()) == 1
    assert h.differences() == []


def _password_mode(h: Harness, password: str) -> dict[str, Any]:
    (h.tmp / "pw.txt").write_text(password, encoding="utf-8")
    (h.tmp / "st.txt").write_text("SANDBOXSECURITYTOKEN", encoding="utf-8")
    return {
        "access_token": None,
        "username": "integration@sandbox.example",
        "password": {"file": "pw.txt"},
        "security_token": {"file": "st.txt"},
    }


def test_wrong_password_is_one_line_without_the_secret(h: Harness) -> None:
    result = h.sync(**_password_mode(h, "not-the-password-123"))
    assert result.outcome == "failed" and result.error is not None
    assert "login refused" in result.error and "\n" not in result.error
    assert "not-the-password-123" not in result.error
    assert h.sb.counters.snapshot()["requests"]["salesforce.soap.login"] == 1  # not retried


def test_dropped_login_is_retried(h: Harness) -> None:
    h.sb.faults.add("drop@sf.soap.login,times=1")
    result = h.sync(**_password_mode(h, "sandbox-password"))
    assert result.outcome == "ok", result.error
    assert h.sb.counters.snapshot()["requests"]["salesforce.soap.login"] == 2
    assert h.differences() == []
