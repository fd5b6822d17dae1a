"""SVG pieces shared by the charts: linear scales, round tick values, axes, frames."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from convcost.html.markup import text
from convcost.valueclasses import dataclass

WIDTH = 960
"""Width of every chart's view box; the page scales it to the column (``width: 100%``)."""
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 22, 30
"""Margins around the plot area."""


@dataclass(frozen=True, slots=True)
class Scale:
    """Maps ``[low, high]`` onto ``[start, end]`` (pixels; ``end < start`` for a y axis)."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = self.high - self.low
        if span <= 0:
            return self.start
        return self.start + (value - self.low) / span * (self.end - self.start)


def ticks(high: float, count: int = 5) -> list[float]:
    """Round values from 0 to at least ``high``: 0, 20, 40, … (1, 2 or 5 times a power of 10)."""
    if high <= 0:
        return [0.0]
    raw = high / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    top = math.ceil(high / step - 1e-9)
    return [i * step for i in range(top + 1)]


def number(value: float) -> str:
    """A coordinate: at most one decimal."""
    rounded = round(value, 1)
    return str(int(rounded)) if rounded == int(rounded) else str(rounded)


def open_chart(height: int, label: str, *, css: str) -> str:
    """The ``<svg>`` start tag of a chart ``height`` view-box pixels high; ``label`` names it
    for screen readers."""
    return (
        f'<svg class="chart {css}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{text(label)}" xmlns="http://www.w3.org/2000/svg">'
    )


def y_axis(scale: Scale, values: Sequence[float], label: Callable[[float], str]) -> str:
    """Grid lines at ``values`` with their labels left of the plot."""
    parts = []
    for value in values:
        y = number(scale(value))
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y}" dy="0.32em" text-anchor="end">'
            f"{text(label(value))}</text>"
        )
    return "".join(parts)


def x_label(height: int, caption: str) -> str:
    """The caption under the x axis."""
    return (
        f'<text class="axis-label" x="{LEFT + (WIDTH - LEFT - RIGHT) / 2}" y="{height - 6}" '
        f'text-anchor="middle">{text(caption)}</text>'
    )
