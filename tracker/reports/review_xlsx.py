"""The review pack's tables as an XLSX workbook (openpyxl): one sheet each, real numbers
with number formats (currency, percent, days), frozen header rows, autofilters and column
widths that fit. Text that a spreadsheet would read as a formula is kept as text."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from tracker.metrics import REGISTRY, MetricRow
from tracker.reports.cells import neutral
from tracker.reports.goals import STATUS_WORDS
from tracker.review import CORE_METRICS, Review

FORMATS = {"money": "#,##0", "fraction": "0.0%", "days": "0.0", "count": "#,##0", "ratio": "0.00"}


def _format(metric: str) -> str:
    return FORMATS[REGISTRY.get(metric).unit]


def _sheet(
    book: Workbook,
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    formats: Sequence[str | None],
) -> None:
    sheet = book.create_sheet(title)
    sheet.append(list(header))
    for values in rows:
        sheet.append([neutral(v) for v in values])
    for column, fmt in enumerate(formats, start=1):
        if fmt is None:
            continue
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.number_format = fmt
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for column, name in enumerate(header, start=1):
        width = max(
            [len(str(name))] + [len(str(r[column - 1])) for r in rows if r[column - 1] is not None]
        )
        sheet.column_dimensions[get_column_letter(column)].width = min(max(width + 2, 8), 60)


def _metric_rows(rows: Sequence[MetricRow], dimension: str) -> list[list[Any]]:
    return [
        [
            r.period.label,
            "company" if not r.scope else r.scope.get(dimension),
            r.metric,
            r.value,
            r.n,
            r.coverage,
        ]
        for r in rows
    ]


def render_xlsx(review: Review) -> bytes:
    """The workbook: Scorecard, Trends, Teams, Owners, Deals, Guardrails, Data quality."""
    book = Workbook()
    book.remove(book.active)
    goals = review.goals.worst_first() if review.goals is not None else []
    _sheet(
        book,
        "Scorecard",
        [
            "goal",
            "metric",
            "scope",
            "status",
            "actual",
            "baseline",
            "target",
            "stretch",
            "attainment",
            "tier",
            "guardrail flags",
            "why",
        ],
        [
            [
                r.goal.id,
                r.goal.metric,
                ", ".join(f"{k}={v}" for k, v in r.goal.scope) or "company",
                STATUS_WORDS[r.status],
                r.actual,
                r.baseline,
                r.goal.target,
                r.goal.stretch,
                r.attainment,
                r.tier,
                "; ".join(f.message for f in r.guardrails),
                r.goal.config.why,
            ]
            for r in goals
        ],
        [
            None,
            None,
            None,
            None,
            "#,##0.####",
            "#,##0.####",
            "#,##0.####",
            "#,##0.####",
            "0.0%",
            None,
            None,
            None,
        ],
    )
    metric_header = ["period", "scope", "metric", "value", "n", "coverage"]
    metric_formats = [None, None, None, "#,##0.####", "#,##0", "0.0%"]
    _sheet(book, "Trends", metric_header, _metric_rows(review.trends, "team"), metric_formats)
    for title, rows, dimension in (
        ("Teams", review.by_team, "team"),
        ("Owners", review.by_owner, "owner"),
    ):
        lines: dict[str, dict[str, Any]] = {}
        for row in rows:
            name = "company" if not row.scope else str(row.scope.get(dimension) or "(none)")
            lines.setdefault(name, {})[row.metric] = row.value
        metrics = [m for m in CORE_METRICS if any(r.metric == m for r in rows)]
        _sheet(
            book,
            title,
            [dimension, *metrics],
            [[name, *(cells.get(m) for m in metrics)] for name, cells in lines.items()],
            [None, *(_format(m) for m in metrics)],
        )
    _sheet(
        book,
        "Deals",
        ["outcome", "deal", "owner", "account", "amount", "cycle_days", "discount", "close_date"],
        [
            [
                outcome,
                d.get("name") or d["external_id"],
                d.get("owner"),
                d.get("account"),
                d["amount_reporting"],
                d.get("cycle_days"),
                d.get("discount"),
                d["close_date"],
            ]
            for outcome, deals in (("won", review.won), ("lost", review.lost))
            for d in deals
        ],
        [None, None, None, None, "#,##0", "0", "0.0%", "yyyy-mm-dd"],
    )
    days = review.clustering[0]["closing_days"] if review.clustering else 0
    closing = [  # the period-end discount clustering, as shares of the period
        [review.period.label, c["scope"], f"{name}_in_last_{days}_days_share", c[key], None, None]
        for c in review.clustering
        for name, key in (("discount", "discount_share"), ("revenue", "revenue_share"))
    ]
    guardrails = _metric_rows(review.guardrails, "team") + closing
    _sheet(book, "Guardrails", metric_header, guardrails, metric_formats)
    quality = [[row.metric, row.n, row.coverage] for row in review.by_team if not row.scope]
    _sheet(
        book, "Data quality", ["metric", "deals (n)", "coverage"], quality, [None, "#,##0", "0.0%"]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
