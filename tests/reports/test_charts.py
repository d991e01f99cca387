"""The shared chart helpers: PNG/SVG output and the blank check."""

from __future__ import annotations

from tracker.reports.charts import figure, is_blank, png, style, svg


def test_a_drawn_chart_is_not_blank_and_an_empty_one_is() -> None:
    with figure(300, 120) as fig:
        axes = fig.add_subplot()
        style(axes)
        axes.plot([1, 2, 3], [3, 1, 2])
        drawn = png(fig)
    with figure(300, 120) as fig:
        empty = png(fig)
    assert drawn.startswith(b"\x89PNG") and not is_blank(drawn)
    assert is_blank(empty)
    assert is_blank(b"not a png")


def test_png_has_the_asked_pixel_size_and_svg_inlines() -> None:
    with figure(320, 160) as fig:
        fig.add_subplot().bar(["a", "b"], [1, 2])
        data = png(fig)
        text = svg(fig)
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert (width, height) == (320, 160)
    assert text.startswith("<svg") and "<?xml" not in text
