"""The terminal table of ``convcost analyze`` (rich)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from convcost.render import numbers
from convcost.render.escape import printable
from convcost.render.rows import Row, rows
from convcost.report import Report


@dataclass(frozen=True, slots=True)
class ExtraColumn:
    """A column another renderer appends to the layer table (``--execute`` timings)."""

    header: str
    footer: str
    cell: Callable[[Row], str]


def layer_table(
    report: Report,
    *,
    depth: int | None = None,
    exact: bool = False,
    extra: Sequence[ExtraColumn] = (),
    width: int | None = None,
) -> Table:
    """One row per layer (or collapsed block).

    Given the console ``width``, layer paths that would not fit break after a dot
    (``layer1.0.add1.`` / ``body1.conv1``) rather than mid-name, and when even that leaves the
    path column too narrow the ``kind`` column is dropped (the path names the layer).
    """
    total_macs = report.totals.macs
    shown = rows(report, depth)
    cells = [
        [
            str(index),
            printable(row.path),
            printable(row.kind),
            numbers.shape(row.output_shape),
            numbers.count(row.cost.params, exact=exact) if row.cost.params else "—",
            numbers.count(row.cost.macs, exact=exact) if row.cost.macs else "—",
            numbers.share(row.cost.macs, total_macs) if row.cost.macs else "",
            numbers.receptive(row.receptive_field),
            *(column.cell(row) for column in extra),
        ]
        for index, row in enumerate(shown, start=1)
    ]
    table = _empty_table(report, exact=exact, extra=extra, kind=True)
    room = None if width is None else _layer_room(table, cells, width)
    if room is not None and room < NARROW_PATH:
        table = _empty_table(report, exact=exact, extra=extra, kind=False)
        cells = [[line[0], line[1], *line[3:]] for line in cells]
        room = _layer_room(table, cells, width or 0)
    for line, row in zip(cells, shown, strict=True):
        path = line[1] if room is None else wrap_path(line[1], room)
        table.add_row(
            line[0],
            Text(path, style="bold" if row.collapsed else ""),
            *(Text(cell) for cell in line[2:]),
        )
    return table


NARROW_PATH = 24
"""Below this many characters for the layer path, the kind column gives its room to the path."""


def _empty_table(report: Report, *, exact: bool, extra: Sequence[ExtraColumn], kind: bool) -> Table:
    table = Table(
        title=Text.assemble(
            (printable(report.name), "bold"),
            f"  input {numbers.shape(report.input_shape)}",
            f"  batch {report.batch}" if report.batch != 1 else "",
        ),
        box=box.SIMPLE_HEAD,
        show_footer=True,
        pad_edge=False,
    )
    table.add_column("#", justify="right", style="dim", no_wrap=True)
    table.add_column("layer", footer="total", overflow="fold", min_width=8, ratio=1)
    if kind:
        table.add_column("kind", overflow="fold", min_width=7 if extra else None, max_width=16)
    table.add_column(
        "output", footer=numbers.shape(report.output_shape), no_wrap=True, justify="right"
    )
    table.add_column(
        "params",
        footer=numbers.count(report.totals.params, exact=exact),
        justify="right",
        no_wrap=True,
    )
    table.add_column(
        "MACs",
        footer=numbers.count(report.totals.macs, exact=exact),
        justify="right",
        no_wrap=True,
    )
    table.add_column("%", justify="right", no_wrap=True, style="dim")
    table.add_column(
        "RF", footer=numbers.receptive(report.receptive_field), justify="right", no_wrap=True
    )
    for column in extra:
        table.add_column(column.header, footer=column.footer, justify="right", no_wrap=True)
    return table


def _layer_room(table: Table, cells: list[list[str]], width: int) -> int:
    """The width left for the layer column once every other column has its widest cell.

    Each column costs its padding (1 on each side, none at the table's two edges), and the
    SIMPLE_HEAD box draws a blank divider between columns and at both edges: 3 per column.
    """
    used = 3 * len(table.columns)
    for position, column in enumerate(table.columns):
        if position == 1:
            continue
        texts = [str(column.header), str(column.footer or ""), *(line[position] for line in cells)]
        widest = max(len(text) for text in texts)
        used += min(widest, column.max_width or widest)
    return max(8, width - used)


def wrap_path(path: str, limit: int) -> str:
    """Break a dotted layer path into lines of at most ``limit`` characters, after dots."""
    if len(path) <= limit:
        return path
    parts = [part + "." for part in path.split(".")]
    parts[-1] = parts[-1][:-1]
    lines = [""]
    for part in parts:
        if lines[-1] and len(lines[-1]) + len(part) > limit:
            lines.append("")
        lines[-1] += part
    return "\n".join(lines)


def summary(report: Report, *, exact: bool = False) -> Table:
    totals = report.totals
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(justify="right")
    grid.add_column(style="dim", overflow="fold")
    grid.add_row(
        "parameters",
        numbers.count(totals.params, exact=exact),
        f"{numbers.count(totals.weights, exact=True)} weights + "
        f"{numbers.count(totals.biases, exact=True)} biases",
    )
    grid.add_row(
        "MACs", numbers.count(totals.macs, exact=exact), numbers.count(totals.macs, exact=True)
    )
    grid.add_row("FLOPs", numbers.count(totals.flops, exact=exact), "2 × MACs")
    grid.add_row(
        "other ops", numbers.count(totals.ops, exact=exact), "bias, norm, activation, pool, merge"
    )
    grid.add_row(
        "activations",
        numbers.size(report.activation_bytes, exact=exact),
        f"{numbers.count(totals.activation_elements, exact=True)} elements × "
        f"{report.bytes_per_element} B ({report.dtype})",
    )
    grid.add_row(
        "peak memory",
        numbers.size(report.peak_memory_bytes, exact=exact),
        Text(
            f"{numbers.size(report.peak_activation_bytes, exact=exact)} live at "
            f"{printable(report.peak_at)} + {numbers.size(report.parameter_bytes, exact=exact)} params"
        ),
    )
    grid.add_row(
        "receptive field",
        numbers.receptive(report.receptive_field),
        f"jump {numbers.jump(report.receptive_field)}",
    )
    return grid


def render_report(
    report: Report, *, depth: int | None = None, exact: bool = False, width: int | None = None
) -> RenderableType:
    return Group(
        layer_table(report, depth=depth, exact=exact, width=width),
        summary(report, exact=exact),
        Text(""),
    )


def print_reports(
    console: Console, reports: list[Report], *, depth: int | None, exact: bool
) -> None:
    for report in reports:
        console.print(render_report(report, depth=depth, exact=exact, width=console.width))


def zoo_table(reports: list[Report], *, exact: bool = False) -> Table:
    """One line per model: its input, output, totals and final receptive field."""
    table = Table(
        title="bundled models (convcost analyze NAME)", box=box.SIMPLE_HEAD, pad_edge=False
    )
    table.add_column("model", no_wrap=True)
    table.add_column("input", justify="right", no_wrap=True)
    table.add_column("params", justify="right", no_wrap=True)
    table.add_column("MACs", justify="right", no_wrap=True)
    table.add_column("activations", justify="right", no_wrap=True)
    table.add_column("layers", justify="right")
    for report in reports:
        table.add_row(
            Text(printable(report.name)),
            numbers.shape(report.input_shape),
            numbers.count(report.totals.params, exact=exact),
            numbers.count(report.totals.macs, exact=exact),
            numbers.size(report.activation_bytes, exact=exact),
            str(len(report.layers)),
        )
    return table
