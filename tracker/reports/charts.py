"""Charts drawn with matplotlib (Agg, no screen) for mail and the review pack.

Mail embeds PNG (``png``), the review pack inline SVG (``svg``). A chart is only ever
drawn from data: callers leave a chart out, with a line saying so, when there is nothing
to plot, and ``is_blank`` checks what was drawn before anyone sees it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg")

from matplotlib import pyplot as plt  # after use("Agg"): the backend is chosen first
from matplotlib.axes import Axes
from matplotlib.figure import Figure

matplotlib.rcParams["svg.fonttype"] = "none"  # SVG text stays text: smaller, faster, searchable

PALETTE = {
    "actual": "#1f4e79",
    "baseline": "#7f7f7f",
    "target": "#2e7d32",
    "stretch": "#b8860b",
    "behind": "#c62828",
    "at_risk": "#ef6c00",
    "grid": "#e0e0e0",
}
"""One palette for every chart so mail and pack read the same."""

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def new_figure(width_px: int, height_px: int, dpi: int = 100) -> Figure:
    """A matplotlib figure of ``width_px`` × ``height_px`` at ``dpi`` (``close`` it)."""
    return plt.figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)


def close(fig: Figure) -> None:
    """Release a figure made by ``new_figure``."""
    plt.close(fig)


@contextmanager
def figure(width_px: int, height_px: int, dpi: int = 100) -> Iterator[Figure]:
    """A matplotlib figure of ``width_px`` × ``height_px`` at ``dpi``, closed on exit."""
    fig = new_figure(width_px, height_px, dpi)
    try:
        yield fig
    finally:
        close(fig)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes, at the figure's own size and dpi (no metadata)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi, metadata={"Software": None})
    return buffer.getvalue()


def svg(fig: Figure) -> str:
    """The figure as an SVG document without the XML prolog, ready to inline in HTML."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    start = text.find("<svg")
    text = text[start:] if start >= 0 else text
    return re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)


def is_blank(png_bytes: bytes) -> bool:
    """True when the PNG is not a PNG or holds a single colour (nothing was drawn)."""
    if not png_bytes.startswith(PNG_SIGNATURE):
        return True
    image = plt.imread(io.BytesIO(png_bytes), format="png")
    flat = image.reshape(-1, image.shape[-1]) if image.ndim == 3 else image.reshape(-1, 1)
    return bool((flat == flat[0]).all())


def style(axes: Axes) -> None:
    """The shared look: light grid behind, no top/right spines, small ticks."""
    axes.set_axisbelow(True)
    axes.grid(True, color=PALETTE["grid"], linewidth=0.6)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(labelsize=8)
