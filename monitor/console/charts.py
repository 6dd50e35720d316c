"""Charts drawn on the server as SVG geometry (no JavaScript charting): the template draws the shapes
these functions compute, so every number on a chart is also in the page's text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    """One bar: its box in the SVG's coordinates, the value and its label."""

    x: float
    y: float
    width: float
    height: float
    value: int
    label: str
    css: str


@dataclass(frozen=True)
class BarChart:
    """A grouped bar chart: bars, axis labels under each group, the scale's top value and lines."""

    width: int
    height: int
    bars: list[Bar]
    groups: list[tuple[float, str]]  # (x of the group's centre, label)
    top: int
    gridlines: list[tuple[float, int]]  # (y, value)
    baseline: float
    line: list[tuple[float, float]]  # a polyline over the groups (e.g. open at the end of each week)
    line_points: list[tuple[float, float, int]]


def nice_top(value: int) -> int:
    """A round upper bound of the scale: 1, 2, 5 × 10ⁿ at least ``value``."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def grouped_bars(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    line: Sequence[int] | None = None,
    *,
    width: int = 640,
    height: int = 220,
) -> BarChart:
    """Bars for each label, one per series (``(css class, values)``), and an optional line drawn over
    the groups on the same scale."""
    left, right, top_pad, bottom = 36.0, 8.0, 10.0, 28.0
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    biggest = max([v for _, values in series for v in values] + list(line or []) + [0])
    top = nice_top(biggest)
    n = max(len(labels), 1)
    group_w = plot_w / n
    bar_w = max(group_w * 0.7 / max(len(series), 1), 1.0)
    baseline = top_pad + plot_h
    bars: list[Bar] = []
    groups: list[tuple[float, str]] = []
    line_pts: list[tuple[float, float]] = []
    points: list[tuple[float, float, int]] = []
    for i, label in enumerate(labels):
        gx = left + i * group_w
        start = gx + group_w * 0.15
        for j, (css, values) in enumerate(series):
            v = values[i]
            h = plot_h * v / top
            bars.append(
                Bar(
                    round(start + j * bar_w, 1),
                    round(baseline - h, 1),
                    round(bar_w - 1, 1),
                    round(h, 1),
                    v,
                    label,
                    css,
                )
            )
        centre = gx + group_w / 2
        groups.append((round(centre, 1), label))
        if line is not None:
            y = round(baseline - plot_h * line[i] / top, 1)
            line_pts.append((round(centre, 1), y))
            points.append((round(centre, 1), y, line[i]))
    grid = [(round(baseline - plot_h * k / 4, 1), round(top * k / 4)) for k in range(5)]
    return BarChart(width, height, bars, groups, top, grid, baseline, line_pts, points)
