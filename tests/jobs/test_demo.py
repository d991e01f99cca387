"""``make demo`` end to end on a small sandbox: every step succeeds and the output adds up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jobs.demo import main


def test_demo_pipeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "demo"
    assert main(folder, deals=400) == 0
    out = capsys.readouterr().out
    assert "Sync summary" in out and "sandbox-salesforce" in out and "sandbox-hubspot" in out
    report = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    assert set(report["as_of"]) == {"sandbox-salesforce", "sandbox-hubspot"}
    revenue = [r for r in report["rows"] if r["metric"] == "revenue" and r["scope"] == {}]
    assert len(revenue) == 1 and revenue[0]["value"] is not None
    # the demo's secrets never reach the files it writes
    for name in ("tracker.toml", "metrics.json"):
        text = (folder / name).read_text(encoding="utf-8")
        assert "sandbox-sf-token" not in text and "sandbox-hs-token" not in text
