"""A host that refuses the connection is no passing fault: one retry, then one line naming
the source's URL (never a token) and the key to check; a server's Retry-After beyond the
run's wait budget stops the run cleanly."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.retry import RetrySettings, RetryVerdict, WaitBudget, call_with_retry
from tracker.cli import app
from tracker.errors import BudgetExhausted

runner = CliRunner()
TOKEN_ENV, TOKEN = "TRACKER_TEST_UNREACHABLE_TOKEN", "tok-0123456789abcdef0123456789"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # closed again when the block ends


CONFIGS = {
    "hubspot": '[sources.crm]\nkind = "hubspot"\nbase_url = "{url}"\n'
    'access_token = {{ env = "' + TOKEN_ENV + '" }}\n',
    "salesforce": '[sources.crm]\nkind = "salesforce"\ninstance_url = "{url}"\n'
    'access_token = {{ env = "' + TOKEN_ENV + '" }}\n',
}
KEYS = {"hubspot": "base_url", "salesforce": "instance_url"}


@pytest.mark.parametrize("kind", ["hubspot", "salesforce"])
def test_a_closed_port_fails_after_one_retry_naming_the_url(tmp_path: Path, kind: str) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    config = tmp_path / "tracker.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "t.db"}"\n' + CONFIGS[kind].format(url=url),
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["--config", str(config), "sync"], env={TOKEN_ENV: TOKEN}, catch_exceptions=False
    )
    assert result.exit_code == 1
    vendor = {"hubspot": "HubSpot", "salesforce": "Salesforce"}[kind]
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error: crm: ")]
    assert f"error: crm: {vendor} " in error
    assert f": cannot reach {url} (connection refused); check sources.crm.{KEYS[kind]} " in error
    retries = [line for line in result.stderr.splitlines() if "retry 1 of 1" in line]
    assert len(retries) == 1  # one retry, not ten
    assert "retry 2" not in result.stderr and TOKEN not in result.stdout + result.stderr


def test_retry_after_is_honoured_in_full_within_the_run_budget() -> None:
    budget = WaitBudget(limit=0.5)
    answers = iter([RuntimeError("slow down"), RuntimeError("slow down"), None])

    def flaky() -> str:
        failure = next(answers)
        if failure is not None:
            raise failure
        return "ok"

    def classify(exc: BaseException) -> RetryVerdict | None:
        return RetryVerdict("429", retry_after=0.2)

    # the vendor's 0.2 s is waited in full, not cut to max_delay
    settings = RetrySettings(max_delay=0.01)
    assert call_with_retry(flaky, classify, settings, budget=budget, source="crm") == "ok"
    assert budget.waited == pytest.approx(0.4)
    # the next wait would overrun the run's 0.5 s: a clean stop, no sleep
    answers = iter([RuntimeError("slow down"), None])
    with pytest.raises(BudgetExhausted, match=r"stopped: rate limited: .* asked to wait 0.2 s"):
        call_with_retry(flaky, classify, settings, budget=budget, source="crm")
    assert budget.waited == pytest.approx(0.4)
