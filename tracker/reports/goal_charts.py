"""One small bullet chart per goal for mail: the actual as a bar against the baseline,
target and stretch (and, for a running cumulative goal, where it should be by now).

Charts are drawn only from data (a goal without an actual gets none) and each distinct
chart is drawn once per run: ``ChartCache`` keys them by what they show, so the goal a
manager and an owner both receive is rendered once and attached to both messages.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from matplotlib.ticker import FuncFormatter

from tracker.goals.result import GoalResult
from tracker.reports.charts import PALETTE, close, is_blank, new_figure, png, style
from tracker.reports.pivot import figure as cell

WIDTH, HEIGHT, DPI = 480, 96, 100
"""Mail-sized: a few KB each, sharp on ordinary and 2× screens at this size."""

STATUS_COLOURS = {
    "achieved": PALETTE["target"],
    "on_track": PALETTE["actual"],
    "at_risk": PALETTE["at_risk"],
    "behind": PALETTE["behind"],
    "missed": PALETTE["behind"],
}


@dataclass(frozen=True, slots=True)
class Chart:
    """A drawn chart: its Content-ID (without brackets), PNG bytes and pixel size."""

    cid: str
    data: bytes
    width: int = WIDTH
    height: int = HEIGHT


@dataclass(frozen=True, slots=True)
class _Spec:
    unit: str
    status: str
    actual: float
    baseline: float | None
    target: float
    stretch: float | None
    expected: float | None

    @property
    def key(self) -> str:
        return hashlib.sha1(repr(self).encode(), usedforsecurity=False).hexdigest()[:16]


def _spec(result: GoalResult) -> _Spec | None:
    if result.actual is None:
        return None
    pacing = result.pacing
    return _Spec(
        unit=result.unit,
        status=result.status,
        actual=round(float(result.actual), 6),
        baseline=None if result.baseline is None else round(float(result.baseline), 6),
        target=round(float(result.goal.target), 6),
        stretch=None if result.goal.stretch is None else round(float(result.goal.stretch), 6),
        expected=None if pacing is None else round(float(pacing.expected_to_date), 6),
    )


class _Canvas:
    """One figure, drawn once and updated per chart: about half the time of building a
    figure per chart, since most of matplotlib's cost is in making the artists."""

    MARKS = ("baseline", "target", "stretch", "at_risk")

    def __init__(self) -> None:
        self._figure = new_figure(WIDTH, HEIGHT, DPI)
        axes = self._figure.add_axes((0.03, 0.42, 0.94, 0.5))
        style(axes)
        axes.grid(False, axis="y")
        axes.set_yticks([])
        axes.spines["left"].set_visible(False)
        axes.set_ylim(-0.5, 0.5)
        self._axes = axes
        self._bar = axes.barh([0], [1.0], height=0.5, zorder=2)[0]
        self._lines = {
            name: axes.axvline(
                0,
                color=PALETTE[name],
                linestyle="--" if name == "at_risk" else "-",
                linewidth=2,
                zorder=3,
            )
            for name in self.MARKS
        }
        self._legend = self._figure.text(0.03, 0.06, "", fontsize=7, color="#444444")

    def draw(self, spec: _Spec) -> bytes:
        """The chart of ``spec`` as PNG bytes."""
        self._bar.set_width(spec.actual)
        self._bar.set_color(STATUS_COLOURS.get(spec.status, PALETTE["actual"]))
        levels = (spec.baseline, spec.target, spec.stretch, spec.expected)
        marks = dict(zip(self.MARKS, levels, strict=True))
        for name, value in marks.items():
            line = self._lines[name]
            line.set_visible(value is not None)
            if value is not None:
                line.set_xdata([value, value])
        values = [spec.actual] + [v for v in marks.values() if v is not None]
        low, high = min(0.0, *values), max(values)
        self._axes.set_xlim(low, high * 1.08 if high > 0 else 1.0)
        unit = spec.unit
        self._axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _: cell(x, unit)))  # type: ignore[arg-type]
        legend = "actual (bar) · baseline grey · target green · stretch gold"
        if spec.expected is not None:
            legend += " · expected by now dashed"
        self._legend.set_text(legend)
        return png(self._figure)

    def close(self) -> None:
        """Release the figure."""
        close(self._figure)


class ChartCache:
    """Goal charts drawn once per run, whatever the number of messages they go into."""

    def __init__(self) -> None:
        self._charts: dict[str, Chart | None] = {}
        self._canvas: _Canvas | None = None
        self.drawn = 0
        self.left_out_blank = 0

    def chart(self, result: GoalResult) -> Chart | None:
        """The goal's chart, or None when there is nothing to draw (or it came out blank)."""
        spec = _spec(result)
        if spec is None:
            return None
        key = spec.key
        if key not in self._charts:
            if self._canvas is None:
                self._canvas = _Canvas()
            data = self._canvas.draw(spec)
            self.drawn += 1
            if is_blank(data):
                self.left_out_blank += 1
                self._charts[key] = None
            else:
                self._charts[key] = Chart(cid=f"goal-{key}@tracker", data=data)
        return self._charts[key]

    def close(self) -> None:
        """Release the drawing figure (the drawn charts stay)."""
        if self._canvas is not None:
            self._canvas.close()
            self._canvas = None
