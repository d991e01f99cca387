"""The JSON contract, CSV and the people's table."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from rich.console import Console

from tests.metrics.metrics_fixtures import deal, run, utc
from tracker.errors import UsageError
from tracker.metrics import REGISTRY
from tracker.metrics.report import Report
from tracker.reports.metrics import check_format, format_value, to_csv, to_json, to_table

GENERATED = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)


def _report() -> Report:
    deals = [
        deal(
            "a",
            won=True,
            close_date=date(2017, 2, 1),
            created_at=utc("2017-01-01 00:00"),
            amount=1234.5,
            owner_external_id="o1",
            owner_name="Ann",
            team="EMEA",
            account_external_id="x",
            list_amount=2000.0,
        ),
        deal(
            "b",
            lost=True,
            close_date=date(2017, 3, 1),
            amount=10.0,
            owner_external_id="o2",
            owner_name="Bob",
            team=None,
        ),
    ]
    rows = run(deals, REGISTRY.names("deals"), ["2017-Q1"], by=("team",))
    return Report(
        timezone="UTC",
        definitions_version=1,
        generated_at=GENERATED,
        as_of={"crm": datetime(2026, 11, 25, 2, tzinfo=UTC)},
        rows=rows,
    )


def test_json_contract() -> None:
    document = json.loads(to_json(_report()))
    assert list(document) == [
        "timezone",
        "definitions_version",
        "generated_at",
        "as_of",
        "filters",
        "rows",
    ]
    assert document["filters"] == {}
    assert document["timezone"] == "UTC"
    assert document["definitions_version"] == 1
    assert document["generated_at"] == "2026-11-25T08:30:00+00:00"
    assert document["as_of"] == {"crm": "2026-11-25T02:00:00+00:00"}
    rows = document["rows"]
    assert len(rows) == len(REGISTRY.names("deals")) * 3  # company-wide, EMEA, no team
    for row in rows:
        assert list(row) == [
            "metric",
            "period",
            "period_start",
            "period_end",
            "scope",
            "value",
            "n",
            "coverage",
            "stats",
        ]
        assert isinstance(row["n"], int)
    revenue = rows[0]
    assert revenue == {
        "metric": "revenue",
        "period": "2017-Q1",
        "period_start": "2017-01-01",
        "period_end": "2017-03-31",
        "scope": {},
        "value": 1234.5,
        "n": 1,
        "coverage": 1.0,
        "stats": {},
    }
    scopes = [r["scope"] for r in rows if r["metric"] == "revenue"]
    assert scopes == [{}, {"team": "EMEA"}, {"team": None}]
    won = next(r for r in rows if r["metric"] == "deals_won" and not r["scope"])
    assert won["value"] == 1 and isinstance(won["value"], int)
    rate = next(r for r in rows if r["metric"] == "win_rate" and not r["scope"])
    assert rate["value"] == 0.5  # a fraction, not a percent
    cycle = next(r for r in rows if r["metric"] == "sales_cycle_days" and not r["scope"])
    assert cycle["value"] == 31.0
    assert cycle["stats"] == {"mean": 31.0, "p75": 31.0, "negative_excluded": 0}
    margin = next(r for r in rows if r["metric"] == "gross_margin_pct" and not r["scope"])
    assert (margin["value"], margin["n"], margin["coverage"]) == (None, 0, 0.0)


def test_csv_has_one_line_per_row_with_the_scope_split() -> None:
    report = _report()
    lines = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert len(lines) == len(report.rows)
    assert lines[0]["metric"] == "revenue" and lines[0]["dimension"] == ""
    assert lines[1]["dimension"] == "team" and lines[1]["scope_value"] == "EMEA"
    assert lines[0]["value"] == "1234.5"
    assert "negative_excluded" in lines[0]


def test_table_formats_money_and_percents_for_people() -> None:
    console = Console(record=True, width=200, file=io.StringIO())
    console.print(to_table(_report(), "EUR"))
    text = console.export_text()
    assert "1,234.50 EUR" in text
    assert "50.0 %" in text  # win rate
    assert "100.0 %" in text  # coverage
    assert "team: (none)" in text and "company" in text


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1234567.891, "money", "1,234,567.89 USD"),
        (0.125, "fraction", "12.5 %"),
        (-0.05, "fraction", "-5.0 %"),
        (12.0, "days", "12.0 d"),
        (1200, "count", "1,200"),
        (3.25, "ratio", "3.25"),
        (1234.5, "ratio", "1,234.50"),
        (None, "money", "—"),
    ],
)
def test_format_value(value: float | None, unit: str, text: str) -> None:
    assert format_value(value, unit, "USD") == text  # type: ignore[arg-type]


def test_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown format 'xml': choose from table, json, csv"):
        check_format("xml")
