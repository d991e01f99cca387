"""docs/configuration.md is generated from the settings models and kept equal to them."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from connectors.registry import settings_models
from tracker.cli import app
from tracker.config_reference import reference

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_the_reference_in_docs_is_the_generated_one() -> None:
    generated = reference(settings_models())
    assert DOC.read_text(encoding="utf-8") == generated, (
        "docs/configuration.md is stale: run `tracker config reference > docs/configuration.md`"
    )


def test_every_key_of_every_section_is_listed_with_its_meaning() -> None:
    text = reference(settings_models())
    for key in (
        "timezone",
        "fiscal_year_start_month",
        "max_data_age",
        "withhold_on_stale",
        "skip_footer_rows",
        "dated_rates",
        "archived_every_minutes",
        "max_wait_seconds",
    ):
        rows = [row for row in text.splitlines() if row.startswith(f"| `{key}` |")]
        assert rows and all(r.rstrip(" |").split("|")[-1].strip() for r in rows), key
    assert "## `[sources.NAME.columns]`" in text and "# Sources of kind `salesforce`" in text
    assert "| `from` | string |" in text  # the alias, as written in TOML


def test_cli_prints_it() -> None:
    result = CliRunner().invoke(app, ["config", "reference"])
    assert result.exit_code == 0 and result.stdout == reference(settings_models())
