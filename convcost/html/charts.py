"""The per-layer charts, in execution order: MACs and parameters as bars, receptive field
and jump against depth, live activation memory. Each is one inline ``<svg>``.

Bars and points carry ``data-path`` (the layer, or ``first … last`` for a run of layers when
the network has more than :data:`~convcost.html.bounds.MAX_BARS`) and ``data-value`` (the exact
integer), and a ``<title>`` that a browser shows on hover.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction

from convcost.compare import exceeds_input
from convcost.html import svg
from convcost.html.bounds import bins
from convcost.html.markup import attribute, short, text
from convcost.receptive import Coverage
from convcost.render import numbers
from convcost.report import LayerReport, Report
from convcost.valueclasses import dataclass

BAR_HEIGHT = 190
FIELD_HEIGHT = 230
MEMORY_HEIGHT = 210


@dataclass(frozen=True, slots=True, kw_only=True)
class Slot:
    """One bar's (or point's) worth of layers: a single layer, or a run past ``MAX_BARS``."""

    layers: range
    label: str
    """The layer's path, or ``first … last``."""


def slots(layers: Sequence[LayerReport], limit: int) -> list[Slot]:
    result = []
    for run in bins(len(layers), limit):
        first, last = layers[run[0]].path, layers[run[-1]].path
        label = first if len(run) == 1 else f"{first} … {last} ({len(run)} layers)"
        result.append(Slot(layers=run, label=label))
    return result


def _x(count: int) -> tuple[float, Callable[[int], float]]:
    """The width of one slot and the left edge of slot ``i``."""
    step = (svg.WIDTH - svg.LEFT - svg.RIGHT) / max(count, 1)
    return step, lambda i: svg.LEFT + i * step


def _groups(report: Report, marks: list[Slot], height: int) -> str:
    """Alternate shading behind the runs of slots whose first layer shares its top-level name
    (a block, a stage), labelled when the label fits."""
    step, left = _x(len(marks))
    parts = []
    start = 0
    tops = [report.layers[slot.layers[0]].path.split(".", 1)[0] for slot in marks]
    shade = True
    for i in range(1, len(tops) + 1):
        if i < len(tops) and tops[i] == tops[start]:
            continue
        if i - start > 1:
            x, width = left(start), (i - start) * step
            if shade:
                parts.append(
                    f'<rect class="band" x="{svg.number(x)}" y="{svg.TOP}" '
                    f'width="{svg.number(width)}" height="{height - svg.TOP - svg.BOTTOM}"/>'
                )
            label = short(tops[start], 24)
            if width >= 6.5 * len(label) + 4:
                parts.append(
                    f'<text class="band-label" x="{svg.number(x + width / 2)}" '
                    f'y="{svg.TOP - 6}" text-anchor="middle">{text(label)}</text>'
                )
            shade = not shade
        start = i
    return "".join(parts)


def bar_chart(
    report: Report,
    values: Sequence[int],
    *,
    title: str,
    css: str,
    unit: Callable[[int], str],
    limit: int,
    hover: bool = True,
) -> str:
    """One bar per layer (per run of layers past ``limit``), in execution order; the runs that
    share a top-level name are shaded alike."""
    marks = slots(report.layers, limit)
    sums = [sum(values[i] for i in slot.layers) for slot in marks]
    height = BAR_HEIGHT
    top = max(sums, default=0)
    grid = svg.ticks(top, 4)
    y = svg.Scale(0, grid[-1], height - svg.BOTTOM, svg.TOP)
    step, left = _x(len(marks))
    gap = 0.15 * step if step >= 3 else 0
    parts = [
        svg.open_chart(height, title, css=css),
        _groups(report, marks, height),
        svg.y_axis(y, grid, lambda v: unit(round(v))),
    ]
    for i, (slot, value) in enumerate(zip(marks, sums, strict=True)):
        top_y = y(value)
        tip = f"<title>{text(slot.label)}: {text(unit(value))}</title>" if hover else ""
        where = attribute("data-path", slot.label) if hover else ""
        parts.append(
            f'<rect class="bar"{where} data-value="{value}" '
            f'x="{svg.number(left(i) + gap / 2)}" y="{svg.number(top_y)}" '
            f'width="{svg.number(max(step - gap, 0.5))}" '
            f'height="{svg.number(max(y(0) - top_y, 0))}">{tip}</rect>'
        )
    parts.append(svg.x_label(height, f"{len(report.layers)} layers in execution order"))
    parts.append("</svg>")
    return "".join(parts)


def macs_chart(report: Report, *, limit: int, hover: bool = True) -> str:
    return bar_chart(
        report,
        [layer.cost.macs for layer in report.layers],
        title="MACs per layer",
        css="macs",
        unit=numbers.count,
        limit=limit,
        hover=hover,
    )


def params_chart(report: Report, *, limit: int, hover: bool = True) -> str:
    return bar_chart(
        report,
        [layer.cost.params for layer in report.layers],
        title="Parameters per layer",
        css="params",
        unit=numbers.count,
        limit=limit,
        hover=hover,
    )


def first_covering(report: Report) -> int | None:
    """Index of the first layer whose field covers the whole input on every axis (or is
    global), as ``compare`` decides it; None when none does."""
    for index, layer in enumerate(report.layers):
        if exceeds_input(layer.receptive_field, report.input_shape):
            return index
    return None


def _polylines(points: list[tuple[float, float] | None], css: str) -> str:
    """Polylines through the points, broken where a point is None (global or unknown)."""
    parts, run = [], []
    for point in [*points, None]:
        if point is not None:
            run.append(f"{svg.number(point[0])},{svg.number(point[1])}")
            continue
        if len(run) == 1:
            run.append(run[0])
        if run:
            parts.append(f'<polyline class="{css}" points="{" ".join(run)}"/>')
        run = []
    return "".join(parts)


AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def field_chart(report: Report, *, limit: int) -> str:
    """Receptive field (solid) and jump (dashed) per spatial axis after each layer, the input
    size as a reference line, the first layer whose field covers the input marked."""
    rank = len(report.input_shape) - 1
    marks = slots(report.layers, limit)
    last = [report.layers[slot.layers[-1]] for slot in marks]
    sizes = report.input_shape[1:]
    names = AXES.get(rank, tuple(f"axis {i}" for i in range(rank)))
    # one line per distinct axis (a square input with square windows draws one)
    axes: list[int] = []
    seen: dict[tuple[object, ...], list[str]] = {}
    for axis in range(rank):
        key = (
            sizes[axis],
            tuple(
                (layer.receptive_field.size[axis], layer.receptive_field.jump[axis])
                if layer.receptive_field.coverage is Coverage.LOCAL
                else None
                for layer in last
            ),
        )
        if key not in seen:
            seen[key] = []
            axes.append(axis)
        seen[key].append(names[axis])
    shared = [", ".join(group) for group in seen.values()]
    fields = [
        layer.receptive_field.size
        for layer in last
        if layer.receptive_field.coverage is Coverage.LOCAL
    ]
    top = max([*(max(f) for f in fields if f), *sizes, 1])
    height = FIELD_HEIGHT
    grid = svg.ticks(top * 1.05, 5)
    y = svg.Scale(0, grid[-1], height - svg.BOTTOM, svg.TOP)
    step, left = _x(len(marks))
    parts = [
        svg.open_chart(height, "Receptive field and jump per layer", css="field"),
        _groups(report, marks, height),
        svg.y_axis(y, grid, lambda v: numbers.compact(round(v))),
    ]
    for i, layer in enumerate(last):
        coverage = layer.receptive_field.coverage
        if coverage is not Coverage.LOCAL:
            parts.append(
                f'<rect class="{coverage.value}" x="{svg.number(left(i))}" y="{svg.TOP}" '
                f'width="{svg.number(step)}" height="{height - svg.TOP - svg.BOTTOM}">'
                f"<title>{text(marks[i].label)}: {coverage.value}</title></rect>"
            )
    for n, axis in enumerate(axes):
        label = "" if len(axes) == 1 else f" ({shared[n]})"
        ref = svg.number(y(sizes[axis]))
        parts.append(
            f'<line class="input-size s{n}" x1="{svg.LEFT}" x2="{svg.WIDTH - svg.RIGHT}" '
            f'y1="{ref}" y2="{ref}" data-value="{sizes[axis]}"/>'
            f'<text class="ref-label" x="{svg.WIDTH - svg.RIGHT - 4}" y="{ref}" dy="-0.35em" '
            f'text-anchor="end">input {sizes[axis]}{text(label)}</text>'
        )
        rf: list[tuple[float, float] | None] = []
        jumps: list[tuple[float, float] | None] = []
        for i, layer in enumerate(last):
            field = layer.receptive_field
            x = left(i) + step / 2
            if field.coverage is Coverage.LOCAL:
                rf.append((x, y(field.size[axis])))
                jumps.append((x, y(float(Fraction(field.jump[axis])))))
            else:
                rf.append(None)
                jumps.append(None)
        parts.append(_polylines(rf, f"rf s{n}"))
        parts.append(_polylines(jumps, f"jump s{n}"))
    covering = first_covering(report)
    if covering is not None:
        index = next(i for i, slot in enumerate(marks) if covering in slot.layers)
        path = report.layers[covering].path
        at = svg.number(left(index) + step / 2)
        anchor = "end" if index > len(marks) / 2 else "start"
        dx = "-0.4em" if anchor == "end" else "0.4em"
        parts.append(
            f'<line class="covers"{attribute("data-path", path)} x1="{at}" x2="{at}" '
            f'y1="{svg.TOP}" y2="{height - svg.BOTTOM}"/>'
            f'<text class="mark-label" x="{at}" y="{svg.TOP + 12}" dx="{dx}" '
            f'text-anchor="{anchor}">covers the input at {text(short(path, 60))}</text>'
        )
    parts.append(
        svg.x_label(height, "layers in execution order (solid: receptive field, dashed: jump)")
    )
    parts.append("</svg>")
    return "".join(parts)


def memory_chart(report: Report, live: Sequence[int], *, limit: int) -> str:
    """Live activation bytes while each layer runs, as an area; the peak marked and named."""
    marks = slots(report.layers, limit)
    values = [max(live[i] for i in slot.layers) for slot in marks]
    height = MEMORY_HEIGHT
    grid = svg.ticks(max(values, default=0), 4)
    y = svg.Scale(0, grid[-1], height - svg.BOTTOM, svg.TOP)
    step, left = _x(len(marks))
    base = svg.number(y(0))
    outline = [f"{svg.number(left(0))},{base}"]
    for i, value in enumerate(values):
        level = svg.number(y(value))
        outline.append(f"{svg.number(left(i))},{level} {svg.number(left(i) + step)},{level}")
    outline.append(f"{svg.number(left(len(values)))},{base}")
    parts = [
        svg.open_chart(height, "Live activation memory", css="memory"),
        _groups(report, marks, height),
        svg.y_axis(y, grid, lambda v: numbers.size(round(v))),
        f'<polygon class="live" points="{" ".join(outline)}"/>',
    ]
    for i, (slot, value) in enumerate(zip(marks, values, strict=True)):
        parts.append(
            f'<rect class="hit"{attribute("data-path", slot.label)} data-value="{value}" '
            f'x="{svg.number(left(i))}" y="{svg.TOP}" width="{svg.number(step)}" '
            f'height="{height - svg.TOP - svg.BOTTOM}">'
            f"<title>{text(slot.label)}: {text(numbers.size(value))} live</title></rect>"
        )
    peak = report.peak_activation_bytes
    index = next(
        (
            i
            for i, slot in enumerate(marks)
            if report.peak_at in {report.layers[j].path for j in slot.layers}
        ),
        0,
    )
    x = left(index) + step / 2
    anchor = "end" if index > len(marks) / 2 else "start"
    dx = "-0.5em" if anchor == "end" else "0.5em"
    parts.append(
        f'<circle class="peak"{attribute("data-path", report.peak_at)} data-value="{peak}" '
        f'cx="{svg.number(x)}" cy="{svg.number(y(peak))}" r="4"/>'
        f'<text class="mark-label" x="{svg.number(x)}" y="{svg.number(max(y(peak), svg.TOP + 10))}" '
        f'dx="{dx}" dy="0.9em" text-anchor="{anchor}">peak {text(numbers.size(peak))} at '
        f"{text(short(report.peak_at, 60))}</text>"
    )
    parts.append(svg.x_label(height, "layers in execution order"))
    parts.append("</svg>")
    return "".join(parts)
