"""``make demo`` end to end on a smaller sandbox: every step succeeds, the goals it writes
show every situation, each digest goes out once, and no secret reaches its files."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jobs.demo import HS_ENV, SF_ENV, main
from tracker.cli import app


def _goals(config: Path, *args: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(app, ["--config", str(config), "report", "--format", "json", *args])
    assert result.exit_code == 0, result.stderr
    return list(json.loads(result.stdout)["goals"])


def test_demo_shows_the_whole_product(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "demo"
    assert main(folder, deals=2500) == 0
    out = capsys.readouterr().out
    for step in (
        "sync",
        "status",
        "report",
        "goals check",
        "scheduler list",
        "scheduler run",
        "doctor",
        "review",
        "email --dry-run",
        "email",
    ):
        assert f"tracker --config {folder / 'tracker.toml'} {step}" in out
    config = folder / "tracker.toml"
    goals = _goals(config) + _goals(config, "--period", "last-quarter")
    statuses = {g["status"] for g in goals}
    assert statuses == {"achieved", "missed", "on_track", "at_risk", "behind", "no_data"}
    assert {"none", "target", "stretch"} <= {g["tier"] for g in goals}
    assert any(g["guardrails"] for g in goals)
    assert any(item["level"] == "warning" for g in goals for item in g["lint"])
    assert any(str(g["id"]).startswith("rep-quotas/") for g in goals)  # the quotas file
    # doctor against the scheduler the demo started: every check passes
    assert re.search(r"^ok +scheduler: active: host .*heartbeat \d+s ago$", out, re.M)
    assert re.search(r"^\d+ checks: \d+ ok, 0 warnings, 0 failed$", out, re.M)
    assert "scheduler stopped (exit 0): scheduler stopped: lease released" in out
    assert re.search(r"^sync:sandbox-hubspot +0 \*/4 \* \* \* .*next: ", out, re.M)
    [html] = folder.glob("review-*.html")
    assert html.stat().st_size > 10_000 and list(folder.glob("review-*.xlsx"))
    # every recipient's digest written once to the outbox and sent once
    written = sorted((folder / "outbox").rglob("*.eml"))
    [received] = re.findall(r"the demo's SMTP server received (\d+) messages", out)
    assert written and int(received) == len(written)
    assert "digests for " in out and f"{len(written)} sent" in out
    # the metrics export covers both CRMs, and the demo's secrets stay out of its files
    report = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    assert set(report["as_of"]) == {"sandbox-salesforce", "sandbox-hubspot"}
    tokens = [os.environ[SF_ENV], os.environ[HS_ENV]]  # the tokens the demo's sandbox issued
    assert all(len(token) > 8 for token in tokens)
    for path in [config, folder / "metrics.json", folder / "quotas.csv", *written]:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert not any(token in text for token in tokens), path
    assert not any(token in out for token in tokens)
