"""The alternatives of a comparison on two metrics, with their Pareto front."""

from __future__ import annotations

from collections.abc import Sequence

from convcost.compare import Comparison, Metric
from convcost.html import svg
from convcost.html.markup import attribute, short, text
from convcost.render.comparison_formats import LABELS, value_text

HEIGHT = 380


def pareto_front(points: Sequence[tuple[int, int]]) -> tuple[int, ...]:
    """Indices of the points no other point dominates, lower being better on both axes (a
    point dominates another when it is no worse on either and better on one); in order of
    increasing x. Equal points are all on the front."""
    order = sorted(range(len(points)), key=lambda i: points[i])
    front: list[int] = []
    best_y: int | None = None
    for i in order:
        x, y = points[i]
        if best_y is None or y < best_y:
            front.append(i)
            best_y = y
        elif y == best_y and front and points[front[-1]] == (x, y):
            front.append(i)
    return tuple(front)


def scatter(comparison: Comparison, x_metric: Metric, y_metric: Metric) -> str:
    """Each entry as a point at (``x_metric``, ``y_metric``), axes from 0; the Pareto front (the
    entries no other is cheaper than on both) as a staircase, its points filled orange."""
    values = [(x_metric.of(entry), y_metric.of(entry)) for entry in comparison.entries]
    front = pareto_front(values)
    on_front = set(front)
    x_grid = svg.ticks(max(x for x, _ in values) * 1.1, 6)
    y_grid = svg.ticks(max(y for _, y in values) * 1.1, 5)
    x = svg.Scale(0, x_grid[-1], svg.LEFT, svg.WIDTH - svg.RIGHT)
    y = svg.Scale(0, y_grid[-1], HEIGHT - svg.BOTTOM - 14, svg.TOP)
    title = f"{LABELS[y_metric]} against {LABELS[x_metric]}"
    parts = [
        svg.open_chart(HEIGHT, title, css="scatter"),
        svg.y_axis(y, y_grid, lambda v: value_text(y_metric, round(v), exact=False)),
    ]
    bottom = svg.number(y(0))
    for n, value in enumerate(x_grid):
        at = svg.number(x(value))
        anchor = "end" if n == len(x_grid) - 1 else "middle"
        parts.append(
            f'<line class="grid" x1="{at}" x2="{at}" y1="{svg.TOP}" y2="{bottom}"/>'
            f'<text class="tick" x="{at}" y="{bottom}" dy="1.2em" text-anchor="{anchor}">'
            f"{text(value_text(x_metric, round(value), exact=False))}</text>"
        )
    corners = []
    for n, i in enumerate(front):
        fx, fy = values[i]
        if n:
            corners.append(f"{svg.number(x(fx))},{svg.number(y(values[front[n - 1]][1]))}")
        corners.append(f"{svg.number(x(fx))},{svg.number(y(fy))}")
    parts.append(f'<polyline class="front" points="{" ".join(corners)}"/>')
    for i, (entry, (vx, vy)) in enumerate(zip(comparison.entries, values, strict=True)):
        px, py = x(vx), y(vy)
        css = "point on-front" if i in on_front else "point"
        anchor = "end" if px > svg.WIDTH * 0.7 else "start"
        dx = "-0.6em" if anchor == "end" else "0.6em"
        baseline = " (baseline)" if i == comparison.baseline else ""
        parts.append(
            f'<circle class="{css}"{attribute("data-name", entry.name)} data-x="{vx}" '
            f'data-y="{vy}" cx="{svg.number(px)}" cy="{svg.number(py)}" r="5">'
            f"<title>{text(entry.name)}{baseline}: "
            f"{text(value_text(x_metric, vx, exact=True))} {LABELS[x_metric]}, "
            f"{text(value_text(y_metric, vy, exact=True))} {LABELS[y_metric]}</title></circle>"
            f'<text class="point-label" x="{svg.number(px)}" y="{svg.number(py)}" dx="{dx}" '
            f'dy="-0.5em" text-anchor="{anchor}">{text(short(entry.name, 32))}{baseline}</text>'
        )
    parts.append(
        svg.x_label(
            HEIGHT, f"{LABELS[x_metric]} (orange: the Pareto front, lower is better on both)"
        )
    )
    parts.append("</svg>")
    return "".join(parts)
