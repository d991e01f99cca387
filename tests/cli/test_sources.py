"""Sources removed from the config: left out of metrics with one warning, listed by
status, and deleted whole by ``tracker source drop``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.csv_factory import rows, write_config, write_csv
from tracker.cli import app
from tracker.store import SOURCE_TABLES, Store

runner = CliRunner()


def invoke(config: Path, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(
        app, ["--config", str(config), *args], input=input, catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr


def _won_2024(n: int, seed: int) -> float:
    total = 0.0
    for row in rows(n, seed):
        if row[6] == "Won" and row[8].startswith("2024"):
            amount = float(row[9].replace(",", ""))
            total += amount * 1.1 if row[11] == "EUR" else amount
    return total


def _two_sources_then_one(tmp_path: Path) -> Path:
    """Sync sources 'export' (40 deals) and 'old' (30 other deals), then drop 'old' from
    the config."""
    config = write_config(tmp_path, write_csv(tmp_path / "a.csv", 40), "sqlite:///tracker.db")
    one = config.read_text(encoding="utf-8")
    old = one[one.index("[sources.export]") :].replace("[sources.export", "[sources.old")
    old = old.replace("a.csv", "b.csv")
    write_csv(tmp_path / "b.csv", 30, seed=11)
    (tmp_path / "b.csv").write_text(
        (tmp_path / "b.csv").read_text(encoding="utf-8").replace("OPP", "OLD"), encoding="utf-8"
    )
    config.write_text(one + old, encoding="utf-8")
    assert invoke(config, "sync")[0] == 0
    config.write_text(one, encoding="utf-8")
    return config


def test_orphan_source_is_left_out_of_metrics_with_one_warning(tmp_path: Path) -> None:
    config = _two_sources_then_one(tmp_path)
    code, out, err = invoke(config, "metrics", "-p", "2024", "-m", "revenue", "-f", "json")
    assert code == 0
    assert err == (
        "warning: source 'old' is not in the config: 30 deals left out of metrics; "
        "`tracker source drop old` deletes them\n"
    )
    [row] = json.loads(out)["rows"]
    assert abs(row["value"] - _won_2024(40, 7)) < 1e-6
    assert set(json.loads(out)["as_of"]) == {"export"}


def test_status_lists_the_orphan(tmp_path: Path) -> None:
    config = _two_sources_then_one(tmp_path)
    status = json.loads(invoke(config, "status", "--format", "json")[1])
    assert status["orphans"] == ["old"]
    old = next(s for s in status["sources"] if s["source"] == "old")
    assert old["configured"] is False and old["store"]["deals_live"] == 30
    assert old["warnings"] == [
        "not in the config: its data is left out of metrics; `tracker source drop old` deletes it"
    ]


def test_source_drop_asks_then_deletes_every_row_of_that_source_only(tmp_path: Path) -> None:
    config = _two_sources_then_one(tmp_path)
    store = Store(f"sqlite:///{tmp_path / 'tracker.db'}")

    def counts(source: str) -> dict[str, int]:
        with store.engine.connect() as conn:
            return {
                table: conn.exec_driver_sql(
                    f"SELECT count(*) FROM {table} WHERE source = ?", (source,)
                ).scalar_one()
                for table in SOURCE_TABLES
            }

    before_export = counts("export")
    code, _, err = invoke(config, "source", "drop", "old", input="n\n")
    assert code == 1 and "Delete 30 deals and every other row of source 'old'?" in err
    assert counts("old")["deals"] == 30
    code, out, _ = invoke(config, "source", "drop", "old", input="y\n")
    assert code == 0 and out.splitlines()[-1].startswith("dropped source 'old': ")
    assert set(counts("old").values()) == {0}
    assert counts("export") == before_export
    code, _, err = invoke(config, "source", "drop", "old", "--yes")
    assert code == 2 and err == "error: nothing is stored for source 'old'\n"
    code, _, err = invoke(config, "metrics", "-p", "2024")
    assert code == 0 and err == ""


def test_source_drop_yes_skips_the_question(tmp_path: Path) -> None:
    config = _two_sources_then_one(tmp_path)
    code, out, err = invoke(config, "source", "drop", "export", "--yes")
    assert code == 0 and err == "" and out.startswith("dropped source 'export': ")
    status = json.loads(invoke(config, "status", "--format", "json")[1])
    export = next(s for s in status["sources"] if s["source"] == "export")
    assert export["store"]["deals_live"] == 0 and export["last_run"] is None
