"""Metric reports as people and programs read them: the JSON contract, CSV and a table.

The JSON is a stable contract (``docs/metrics.md``)::

    {"timezone": "UTC", "definitions_version": 1, "generated_at": "<ISO>",
     "as_of": {"<source>": "<last successful sync, ISO>"},
     "rows": [{"metric": "revenue", "period": "2017-Q1", "period_start": "2017-01-01",
               "period_end": "2017-03-31", "scope": {"team": "EMEA"}, "value": 1234.5,
               "n": 12, "coverage": 1.0, "stats": {}}]}

Counts are integers, fractions are numbers (0.25, not 25), undefined values are null.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from rich.table import Table

from tracker.errors import UsageError
from tracker.metrics.compute import MetricRow
from tracker.metrics.registry import REGISTRY, MetricRegistry, Unit
from tracker.metrics.report import Report
from tracker.reports.cells import neutral
from tracker.wording import unknown_name

FORMATS: tuple[str, ...] = ("table", "json", "csv")
SCOPE_JOIN = " × "


def check_format(name: str) -> str:
    """``name`` (any case) as an output format, else a ``UsageError`` listing them."""
    lowered = name.strip().lower()
    if lowered not in FORMATS:
        raise UsageError(unknown_name("format", name, FORMATS))
    return lowered


def _tidy(value: Any) -> Any:
    """Floats to 12 significant digits: sums of converted amounts carry binary noise
    (4480101.433499999) that no CRM figure has; integers and nulls pass unchanged."""
    return float(f"{value:.12g}") if isinstance(value, float) else value


def row_dict(row: MetricRow) -> dict[str, Any]:
    """One row as in the JSON contract."""
    return {
        "metric": row.metric,
        "period": row.period.label,
        "period_start": row.period.start.isoformat(),
        "period_end": row.period.end.isoformat(),
        "scope": dict(row.scope),
        "value": _tidy(row.value),
        "n": row.n,
        "coverage": _tidy(row.coverage),
        "stats": {name: _tidy(v) for name, v in row.stats.items()},
    }


def to_dict(report: Report) -> dict[str, Any]:
    """The whole report as in the JSON contract."""
    return {
        "timezone": report.timezone,
        "definitions_version": report.definitions_version,
        "generated_at": report.generated_at.isoformat(),
        "as_of": {source: at.isoformat() for source, at in sorted(report.as_of.items())},
        "filters": {dim: list(values) for dim, values in report.filters.items()},
        "rows": [row_dict(row) for row in report.rows],
    }


def to_json(report: Report) -> str:
    """The JSON document (NaN never appears: undefined values are null)."""
    return json.dumps(to_dict(report), indent=2, allow_nan=False) + "\n"


def _cell(value: float | int | None) -> Any:
    """A CSV cell: empty for null, floats to 12 significant digits (as the JSON)."""
    return "" if value is None else _tidy(value)


def _stat_names(rows: list[MetricRow]) -> list[str]:
    return list(dict.fromkeys(name for row in rows for name in row.stats))


def to_csv(report: Report) -> str:
    """One CSV line per row; the scope as ``dimension`` and ``scope_value`` columns (for a
    crossed scope, its dimensions and values joined by `` × ``: ``team × owner``)."""
    stats = _stat_names(report.rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "metric",
            "period",
            "period_start",
            "period_end",
            "dimension",
            "scope_value",
            "value",
            "n",
            "coverage",
            *stats,
        ]
    )
    for row in report.rows:
        writer.writerow(
            [
                row.metric,
                row.period.label,
                row.period.start.isoformat(),
                row.period.end.isoformat(),
                SCOPE_JOIN.join(row.scope),
                neutral(SCOPE_JOIN.join("" if v is None else v for v in row.scope.values())),
                _cell(row.value),
                row.n,
                _cell(row.coverage),
                *[_cell(row.stats.get(s)) for s in stats],
            ]
        )
    return buffer.getvalue()


def format_value(value: float | int | None, unit: Unit, currency: str) -> str:
    """A value for people: money with separators, fractions as percents, days, counts."""
    if value is None:
        return "—"
    if unit == "money":
        return f"{value:,.2f} {currency}"
    if unit == "fraction":
        return f"{value * 100:.1f} %"
    if unit == "days":
        return f"{value:,.1f} d"
    if unit == "ratio":
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _scope_text(scope: dict[str, str | None]) -> str:
    if not scope:
        return "company"
    return ", ".join(f"{k}: {'(none)' if v is None else v}" for k, v in scope.items())


def to_table(report: Report, currency: str, registry: MetricRegistry = REGISTRY) -> Table:
    """A rich table: metric, period, scope, value, n, coverage (percent)."""
    table = Table(title=f"Sales metrics ({report.timezone})", show_lines=False)
    for name, justify in (
        ("metric", "left"),
        ("period", "left"),
        ("scope", "left"),
        ("value", "right"),
        ("n", "right"),
        ("coverage", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in report.rows:
        unit: Unit = registry.get(row.metric).unit if row.metric in registry else "count"
        table.add_row(
            row.metric,
            row.period.label,
            _scope_text(row.scope),
            format_value(row.value, unit, currency),
            f"{row.n:,}",
            format_value(row.coverage, "fraction", currency),
        )
    return table
