"""The review pack's trend charts as inline SVG: each core metric over the last periods,
company-wide (with the goal's target and stretch where a company goal exists) and as
small multiples per team. Drawn only from data: a metric without values is left out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from matplotlib.ticker import FuncFormatter

from tracker.metrics import REGISTRY, MetricRow
from tracker.periods import Period
from tracker.reports.charts import PALETTE, close, figure, new_figure, style, svg
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
        axes.legend(fontsize=7, frameon=False, loc="upper left")
        fig.subplots_adjust(left=0.17, right=0.98, top=0.9, bottom=0.22)
        return svg(fig)


class TeamGrid:
    """The small multiples' figure, built once for a set of teams and redrawn per metric
    (building a figure of many axes costs more than drawing it)."""

    def __init__(self, teams: Sequence[str], periods: Sequence[Period]) -> None:
        self.teams = list(teams)
        columns = min(3, len(self.teams))
        rows = (len(self.teams) + columns - 1) // columns
        self._figure = new_figure(640, 130 * rows + 20)
        grid = self._figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)
        self._lines = []
        for position, axes in enumerate(grid.flat):
            if position >= len(self.teams):
                axes.set_visible(False)
                continue
            style(axes)
            axes.set_title(self.teams[position], fontsize=8, loc="left")
            axes.set_xticks([0, len(periods) - 1], [periods[0].label, periods[-1].label])
            (line,) = axes.plot([], [], color=PALETTE["actual"], marker=".", linewidth=1.5)
            target = axes.axhline(0, color=PALETTE["target"], linestyle="--", linewidth=1)
            self._lines.append((axes, line, target))
        self._figure.subplots_adjust(
            left=0.12, right=0.98, top=0.94, bottom=0.1, hspace=0.5, wspace=0.15
        )

    def draw(self, metric: str, by_team: Series, targets: Mapping[str, float]) -> str:
        """The multiples of ``metric`` as SVG, each team's goal target dashed."""
        unit = REGISTRY.get(metric).unit
        low, high = float("inf"), float("-inf")
        for team, (axes, line, target) in zip(self.teams, self._lines, strict=True):
            points = [(i, v) for i, v in enumerate(by_team.get(team, [])) if v is not None]
            line.set_data([i for i, _ in points], [v for _, v in points])
            level = targets.get(team)
            target.set_visible(level is not None)
            values = [v for _, v in points] + ([level] if level is not None else [])
            if level is not None:
                target.set_ydata([level, level])
            for v in values:
                low, high = min(low, v), max(high, v)
            axes.yaxis.set_major_formatter(_format(unit))
        if low <= high:
            pad = (high - low) * 0.08 or abs(high) * 0.08 or 1.0
            self._lines[0][0].set_ylim(low - pad, high + pad)  # shared by every axes
            self._lines[0][0].set_xlim(-0.3, len(next(iter(by_team.values()))) - 0.7)
        return svg(self._figure)

    def close(self) -> None:
        """Release the figure."""
        close(self._figure)


def team_multiples(
    metric: str,
    periods: Sequence[Period],
    by_team: Series,
    grids: dict[tuple[str, ...], TeamGrid],
    targets: Mapping[str, float] | None = None,
) -> str | None:
    """One small chart per team for ``metric`` on a shared scale (``grids`` keeps the
    figures to reuse); None without data."""
    teams = tuple(
        sorted(t for t, values in by_team.items() if t and any(v is not None for v in values))
    )
    if not teams:
        return None
    if teams not in grids:
        grids[teams] = TeamGrid(teams, periods)
    return grids[teams].draw(metric, by_team, targets or {})
