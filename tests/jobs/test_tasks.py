"""The operations as library calls: what the CLI, the scheduler and tests share."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from connectors.registry import settings_models
from jobs import tasks
from tests.csv_factory import rows, write_config, write_csv
from tracker.errors import ConfigError
from tracker.settings import Settings, load_settings
from tracker.sync import SyncResult, SyncSummary

N = 120


def _settings(tmp_path: Path, extra: str = "") -> Settings:
    csv_path = write_csv(tmp_path / "deals.csv", N)
    config = write_config(tmp_path, csv_path, "sqlite:///tracker.db")
    if extra:
        config.write_text(config.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return load_settings(config, settings_models())


def _won_revenue_2024() -> float:
    """Revenue of 2024 from the export rows themselves (EUR at the configured 1.1)."""
    total = 0.0
    for row in rows(N):
        stage, closed, value, currency = row[6], row[8], row[9], row[11]
        if stage == "Won" and closed.startswith("2024"):
            amount = float(value.replace(",", ""))
            total += amount * 1.1 if currency == "EUR" else amount
    return total


MISSING = """
[sources.gone]
kind = "csv"
path = "missing.csv"
[sources.gone.columns]
id = "opportunity_id"
stage = "deal_stage"
[sources.gone.stages]
won = ["Won"]
lost = ["Lost"]
"""


def test_sync_reports_each_source_and_classifies_the_run(tmp_path: Path) -> None:
    settings = _settings(tmp_path, MISSING)
    summary = tasks.sync(settings)
    by_name = {r.source: r for r in summary.results}
    assert [r.source for r in summary.results] == ["export", "gone"]
    assert by_name["export"].outcome == "ok"
    assert by_name["export"].counts.received["deals"] == N
    assert by_name["gone"].outcome == "failed" and "missing.csv" in (by_name["gone"].error or "")
    assert (summary.exit_code, summary.outcome) == (3, "partial")
    # only the failing source: nothing synced at all
    alone = tasks.sync(settings, ["gone"])
    assert (alone.exit_code, alone.outcome) == (1, "failed")


def test_unknown_source_is_refused_before_the_store_is_created(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with pytest.raises(ConfigError, match="unknown source 'crm'; configured sources: export"):
        tasks.sync(settings, ["crm"])
    assert not (tmp_path / "tracker.db").exists()


def test_dry_run_keeps_nothing(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    summary = tasks.sync(settings, dry_run=True)
    assert summary.results[0].outcome == "dry-run" and summary.exit_code == 0
    store = tasks.open_store(settings)
    assert store.last_runs() == []


def test_snapshot_keeps_what_metrics_report_computes(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert tasks.sync(settings).exit_code == 0
    store = tasks.open_store(settings)
    query = tasks.MetricsQuery(periods=["2024"], metrics=["revenue"])
    now = datetime(2026, 1, 2, tzinfo=UTC)
    report = tasks.metrics_report(settings, store, date(2026, 1, 1), query, now=now)
    [row] = report.rows
    assert row.period.label == "2024" and row.scope == {}
    assert math.isclose(float(row.value or 0), _won_revenue_2024(), rel_tol=1e-9)
    kept = tasks.snapshot(settings, store, date(2026, 1, 1), query, now=now)
    again = tasks.saved_report(store, now, ["revenue"])
    assert again.rows == kept.report.rows == report.rows
    with pytest.raises(Exception, match="no metrics snapshot was saved at or before"):
        tasks.saved_report(store, datetime(2025, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("codes", "exit_code", "outcome"),
    [
        ([0, 0], 0, "ok"),
        ([0, 1], 3, "partial"),
        ([0, 3], 3, "partial"),
        ([2, 2], 2, "config error"),
        ([3], 3, "partial"),
        ([1, 2], 1, "failed"),
        ([1], 1, "failed"),
    ],
)
def test_summary_exit_rules(codes: list[int], exit_code: int, outcome: str) -> None:
    results = [SyncResult(source=f"s{i}", outcome="x", exit_code=c) for i, c in enumerate(codes)]
    summary = SyncSummary(results)
    assert (summary.exit_code, summary.outcome) == (exit_code, outcome)
