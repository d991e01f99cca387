"""Logs: JSON lines with job and source, human lines by default, secrets masked."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tracker.cli import app
from tracker.logs import hide_secrets, log_context, setup_logging
from tracker.settings import settings_from_dict

TOKEN = "pat-na1-7f3c9e2a-secret-token"


def settings_with_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    from connectors.registry import settings_models

    monkeypatch.setenv("LOGS_HS_TOKEN", TOKEN)
    source = {"kind": "hubspot", "access_token": {"env": "LOGS_HS_TOKEN"}}
    return settings_from_dict(
        {"sources": {"crm": source}}, base_dir=tmp_path, source_models=settings_models()
    )


@pytest.mark.parametrize("log_format", ["json", "human"])
def test_records_name_job_and_source_and_never_a_secret(
    log_format: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup_logging(logging.INFO, log_format)
    try:
        hide_secrets(settings_with_token(tmp_path, monkeypatch))  # type: ignore[arg-type]
        log = logging.getLogger("tracker.test")
        with log_context(job="sync:crm"), log_context(source="crm"):
            log.warning("calling with Bearer %s", TOKEN)
            try:
                raise RuntimeError(f"401 for token {TOKEN}")
            except RuntimeError:
                log.exception("the call failed")
        log.info("outside any job")
    finally:
        setup_logging(logging.WARNING)
    err = capsys.readouterr().err
    assert TOKEN not in err
    lines = err.splitlines()
    if log_format == "json":
        items = [json.loads(line) for line in lines]
        assert [(i["level"], i["job"], i["source"]) for i in items] == [  # one line each
            ("warning", "sync:crm", "crm"),
            ("error", "sync:crm", "crm"),
            ("info", None, None),
        ]
        assert items[0]["message"] == "calling with Bearer ***"
        assert items[1]["message"] == "the call failed"
        assert items[1]["error_type"] == "RuntimeError"
        assert items[1]["traceback"].endswith("RuntimeError: 401 for token ***")
        assert all(i["time"].endswith("+00:00") for i in items)
    else:
        assert lines[0] == "WARNING tracker.test: [sync:crm crm] calling with Bearer ***"
        assert lines[1] == "ERROR tracker.test: [sync:crm crm] the call failed"
        assert lines[2] == "Traceback (most recent call last):"
        assert "RuntimeError: 401 for token ***" in lines
        assert lines[-1] == "INFO tracker.test: outside any job"


def test_an_unknown_log_format_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["--log-format", "xml", "status"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --log-format xml: use human or json"
