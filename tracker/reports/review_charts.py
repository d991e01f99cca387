"""The review pack's trend charts as inline SVG: each core metric over the last periods,
company-wide (with the goal's target and stretch where a company goal exists) and as
small multiples per team. Drawn only from data: a metric without values is left out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from matplotlib.ticker import FuncFormatter

from tracker.metrics import REGISTRY, MetricRow
from tracker.periods import Period
from tracker.reports.charts import PALETTE, figure, style, svg
from tracker.reports.pivot import LABELS
from tracker.reports.pivot import figure as cell

Series = dict[str, list[float | None]]


def series(rows: Sequence[MetricRow], periods: Sequence[Period], metric: str) -> Series:
    """scope name ('' company-wide, else the team) → values in period order."""
    index = {p.label: i for i, p in enumerate(periods)}
    out: Series = defaultdict(lambda: [None] * len(periods))
    for row in rows:
        if row.metric != metric or row.period.label not in index:
            continue
        name = "" if not row.scope else str(next(iter(row.scope.values())) or "(none)")
        out[name][index[row.period.label]] = None if row.value is None else float(row.value)
    return dict(out)


def _format(unit: str) -> FuncFormatter:
    return FuncFormatter(lambda x, _: cell(x, unit))  # type: ignore[arg-type]


def company_chart(
    metric: str, periods: Sequence[Period], values: list[float | None], levels: Mapping[str, float]
) -> str | None:
    """The company-wide trend of ``metric`` with its goal's levels; None without data."""
    if all(v is None for v in values):
        return None
    unit = REGISTRY.get(metric).unit
    labels = [p.label for p in periods]
    with figure(460, 200) as fig:
        axes = fig.add_subplot()
        style(axes)
        points = [(i, v) for i, v in enumerate(values) if v is not None]
        axes.plot(
            [i for i, _ in points],
            [v for _, v in points],
            color=PALETTE["actual"],
            marker="o",
            linewidth=2,
            label="actual",
        )
        for name, level in levels.items():
            axes.axhline(level, color=PALETTE[name], linestyle="--", linewidth=1.2, label=name)
        axes.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        axes.yaxis.set_major_formatter(_format(unit))
        axes.set_title(LABELS.get(metric, metric), fontsize=9, loc="left")
        axes.legend(fontsize=7, frameon=False, loc="best")
        fig.tight_layout()
        return svg(fig)


def team_multiples(metric: str, periods: Sequence[Period], by_team: Series) -> str | None:
    """One small chart per team for ``metric`` on a shared scale; None without data."""
    teams = sorted(t for t, values in by_team.items() if t and any(v is not None for v in values))
    if not teams:
        return None
    unit = REGISTRY.get(metric).unit
    columns = min(3, len(teams))
    rows = (len(teams) + columns - 1) // columns
    with figure(640, 130 * rows + 20) as fig:
        grid = fig.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)
        for position, axes in enumerate(grid.flat):
            if position >= len(teams):
                axes.set_visible(False)
                continue
            team = teams[position]
            style(axes)
            points = [(i, v) for i, v in enumerate(by_team[team]) if v is not None]
            axes.plot(
                [i for i, _ in points],
                [v for _, v in points],
                color=PALETTE["actual"],
                marker=".",
                linewidth=1.5,
            )
            axes.set_title(team, fontsize=8, loc="left")
            axes.yaxis.set_major_formatter(_format(unit))
            axes.set_xticks([0, len(periods) - 1], [periods[0].label, periods[-1].label])
        fig.tight_layout()
        return svg(fig)
