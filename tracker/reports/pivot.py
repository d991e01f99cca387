"""Metrics as a person reads them: one row per scope value, one column per metric.

With one metric over several periods the columns are the periods instead. Figures are
never cut: when the columns do not fit the width, they are split over several tables
(each repeating the scope column); names wrap instead. Money is in the reporting
currency with thousands separators, fractions are percentages, cycle lengths are days.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich import box
from rich.table import Table

from tracker.metrics.compute import MetricRow
from tracker.metrics.registry import REGISTRY, Unit
from tracker.metrics.report import Report

#: column headers for people (metric names stay the keys of JSON and CSV)
LABELS = {
    "revenue": "revenue",
    "deals_won": "deals won",
    "deals_lost": "deals lost",
    "win_rate": "win rate",
    "win_rate_value": "win rate by value",
    "avg_deal_size": "avg deal size",
    "sales_cycle_days": "median cycle (days)",
    "new_customers": "new customers",
    "discount_pct": "discount",
    "gross_margin_pct": "gross margin",
    "pipeline_created": "pipeline created",
}
SCOPE_MIN_WIDTH = 12  # a scope name narrower than this never wraps
CELL_COST = 3  # a column's padding and border around its text


def label(metric: str, currency: str) -> str:
    """The header of a metric's column, with the currency for money."""
    text = LABELS.get(metric, metric.replace("_", " "))
    unit = REGISTRY.get(metric).unit if metric in REGISTRY else "count"
    return f"{text} ({currency})" if unit == "money" else text


def figure(value: float | int | None, unit: Unit) -> str:
    """A value as shown in a pivot cell: ``1,234,568``, ``17.7 %``, ``45.0``, ``12``, ``3.25``."""
    if value is None:
        return "—"
    if unit == "money":
        return f"{value:,.0f}"
    if unit == "fraction":
        return f"{value * 100:.1f} %"
    if unit == "days":
        return f"{value:,.1f}"
    if unit == "ratio":
        return f"{value:,.2f}"
    return f"{int(value):,}"


def filter_text(filters: Mapping[str, Sequence[str | None]]) -> str:
    """The total row's name: the filters it lies within (``region=EMEA``), else company."""
    if not filters:
        return "company"
    return ", ".join(
        f"{dim}={'|'.join('(none)' if v is None else v for v in values)}"
        for dim, values in filters.items()
    )


def _scope_name(scope: Mapping[str, str | None], total: str) -> str:
    if not scope:
        return total
    return " / ".join("(none)" if v is None else v for v in scope.values())


@dataclass(frozen=True)
class _Column:
    key: str  # metric name or period label
    header: str
    cells: dict[tuple[tuple[str, str | None], ...], str]

    @property
    def width(self) -> int:
        widest_cell = max((len(c) for c in self.cells.values()), default=1)
        widest_word = max(len(word) for word in self.header.split())
        return max(widest_cell, widest_word)


def _scope_key(row: MetricRow) -> tuple[tuple[str, str | None], ...]:
    return tuple(row.scope.items())


def _columns(rows: list[MetricRow], by_period: bool, currency: str) -> list[_Column]:
    columns: dict[str, _Column] = {}
    for row in rows:
        key = row.period.label if by_period else row.metric
        header = row.period.label if by_period else label(row.metric, currency)
        column = columns.setdefault(key, _Column(key, header, {}))
        unit: Unit = REGISTRY.get(row.metric).unit if row.metric in REGISTRY else "count"
        column.cells[_scope_key(row)] = figure(row.value, unit)
    return list(columns.values())


def _groups(columns: list[_Column], scope_width: int, width: int) -> list[list[_Column]]:
    """Columns packed into tables no wider than ``width`` (at least one column each)."""
    groups: list[list[_Column]] = [[]]
    used = 1 + scope_width + CELL_COST
    for column in columns:
        cost = column.width + CELL_COST
        if groups[-1] and used + cost > width:
            groups.append([])
            used = 1 + scope_width + CELL_COST
        groups[-1].append(column)
        used += cost
    return groups


def pivot_tables(report: Report, currency: str, width: int = 80) -> list[Table]:
    """The report as pivot tables fitting ``width`` columns: per period one table of
    scope rows × metric columns, or, for a single metric, scope rows × period columns."""
    metrics = list(dict.fromkeys(row.metric for row in report.rows))
    periods = list(dict.fromkeys(row.period.label for row in report.rows))
    by_period = len(metrics) == 1 and len(periods) > 1
    total = filter_text(report.filters)
    tables: list[Table] = []
    sections = [(label(metrics[0], currency), report.rows)] if by_period else []
    if not by_period:
        sections = [(p, [r for r in report.rows if r.period.label == p]) for p in periods]
    for title, rows in sections:
        scopes = list(dict.fromkeys(_scope_key(row) for row in rows))
        names = [_scope_name(dict(key), total) for key in scopes]
        dims = [dim for dim, _ in scopes[-1]] if scopes else []
        scope_header = " / ".join(dims) if dims else "scope"
        scope_width = min(max([len(n) for n in names] + [len(scope_header)]), SCOPE_MIN_WIDTH)
        columns = _columns(rows, by_period, currency)
        groups = _groups(columns, scope_width, width)
        for number, group in enumerate(groups, start=1):
            part = f" ({number}/{len(groups)})" if len(groups) > 1 else ""
            table = Table(
                title=f"{title}{part} · {report.timezone}",
                box=box.SIMPLE_HEAVY,
                title_justify="left",
            )
            table.add_column(scope_header, min_width=scope_width, overflow="fold")
            for column in group:
                table.add_column(
                    column.header, justify="right", min_width=column.width, max_width=column.width
                )
            for key, name in zip(scopes, names, strict=True):
                table.add_row(name, *(column.cells.get(key, "") for column in group))
            tables.append(table)
    return tables
