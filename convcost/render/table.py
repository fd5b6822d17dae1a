"""The terminal table of ``convcost analyze`` (rich)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from convcost.render import numbers
from convcost.render.escape import printable
from convcost.render.fast_table import KEEP_ROWS, FastTable
from convcost.render.numbers import memoized
from convcost.render.rows import Row, rows
from convcost.render.table_rows import Cell
from convcost.report import Report, intensity
from convcost.valueclasses import dataclass


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
) -> FastTable:
    """One row per layer (or collapsed block), laid out as rich would lay it out in time
    linear in the rows (:class:`FastTable`).

    Given the console ``width``, layer paths that would not fit break after a dot
    (``layer1.0.add1.`` / ``body1.conv1``) rather than mid-name, and when even that leaves the
    path column too narrow the ``kind`` column is dropped (the path names the layer).
    """
    total_macs = report.totals.macs
    shown = rows(report, depth)

    def counted(value: int) -> str:
        return numbers.count(value, exact=exact) if value else "—"

    def shared(macs: int) -> str:
        return numbers.share(macs, total_macs) if macs else ""

    shape, count, share = memoized(numbers.shape), memoized(counted), memoized(shared)
    receptive = memoized(numbers.receptive, key=id)  # `shown` holds every field meanwhile

    def formatted() -> Iterator[list[str]]:
        for index, row in enumerate(shown, start=1):
            cost = row.cost
            yield [
                str(index),
                printable(row.path),
                printable(row.kind),
                shape(row.output_shape),
                count(cost.params),
                count(cost.macs),
                share(cost.macs),
                receptive(row.receptive_field),
                *(column.cell(row) for column in extra),
            ]

    cells = _replayable(formatted, len(shown))
    table = _empty_table(report, exact=exact, extra=extra, kind=True)
    kind = True
    room = None
    if width is not None:
        widest = _widest(cells(), len(table.columns))
        room = _layer_room(table, widest, width)
        if room < NARROW_PATH:
            kind = False
            table = _empty_table(report, exact=exact, extra=extra, kind=False)
            room = _layer_room(table, [widest[0], widest[1], *widest[3:]], width)

    def body() -> Iterator[tuple[Cell, ...]]:
        for line, row in zip(cells(), shown, strict=True):
            path = line[1] if room is None else wrap_path(line[1], room)
            yield (
                line[0],
                Text(path, style="bold") if row.collapsed else path,
                *(line[2:] if kind else line[3:]),
            )

    return FastTable(table, body)


def _replayable(
    cells: Callable[[], Iterator[list[str]]], count: int
) -> Callable[[], Iterable[list[str]]]:
    """``cells`` formatted once and kept for a table of up to :data:`KEEP_ROWS` rows;
    formatted again at each pass for a longer one (no copy of every cell)."""
    if count > KEEP_ROWS:
        return cells
    kept = list(cells())
    return lambda: kept


def _widest(cells: Iterable[list[str]], count: int) -> list[int]:
    """The length of each column's longest cell."""
    widest = [0] * count
    lines = iter(cells)
    while batch := list(islice(lines, 10_000)):
        widest = [
            max(width, *map(len, column))
            for width, column in zip(widest, zip(*batch, strict=True), strict=True)
        ]
    return widest


NARROW_PATH = 24
"""Below this many characters for the layer path, the kind column gives its room to the path."""


def _empty_table(report: Report, *, exact: bool, extra: Sequence[ExtraColumn], kind: bool) -> Table:
    """The layer table's frame. Its own headers and footers are ``Text``, words and numbers
    that rich would otherwise parse for markup and emoji codes (which loads rich's 4,000
    emoji names); an extra column's are text as its renderer wrote them."""
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
    table.add_column(Text("#"), footer=Text(""), justify="right", style="dim", no_wrap=True)
    table.add_column(Text("layer"), footer=Text("total"), overflow="fold", min_width=8, ratio=1)
    if kind:
        table.add_column(
            Text("kind"),
            footer=Text(""),
            overflow="fold",
            min_width=7 if extra else None,
            max_width=16,
        )
    table.add_column(
        Text("output"),
        footer=Text(numbers.shape(report.output_shape)),
        no_wrap=True,
        justify="right",
    )
    table.add_column(
        Text("params"),
        footer=Text(numbers.count(report.totals.params, exact=exact)),
        justify="right",
        no_wrap=True,
    )
    table.add_column(
        Text("MACs"),
        # placeholder layers of unknown cost (report.notes): the total is a lower bound
        footer=Text(
            numbers.count(report.totals.macs, exact=exact) + (" + ?" if report.notes else "")
        ),
        justify="right",
        no_wrap=True,
    )
    table.add_column(Text("%"), footer=Text(""), justify="right", no_wrap=True, style="dim")
    table.add_column(
        Text("RF"),
        footer=Text(numbers.receptive(report.receptive_field)),
        justify="right",
        no_wrap=True,
    )
    for column in extra:
        table.add_column(column.header, footer=column.footer, justify="right", no_wrap=True)
    return table


def _layer_room(table: Table, widest: list[int], width: int) -> int:
    """The width left for the layer column once every other column has its widest cell
    (``widest``: the longest body cell of each column).

    Each column costs its padding (1 on each side, none at the table's two edges), and the
    SIMPLE_HEAD box draws a blank divider between columns and at both edges: 3 per column.
    """
    used = 3 * len(table.columns)
    for position, column in enumerate(table.columns):
        if position == 1:
            continue
        longest = max(len(str(column.header)), len(str(column.footer or "")), widest[position])
        used += min(longest, column.max_width or longest)
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
    grid = _summary_frame()
    for row in _summary_rows(report, exact=exact):
        grid.add_row(*row)
    return grid


def _summary_frame() -> Table:
    """The summary's grid without rows."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(justify="right")
    grid.add_column(style="dim", overflow="fold")
    return grid


def _summary_rows(report: Report, *, exact: bool) -> list[tuple[Cell, Cell, Cell]]:
    """The summary's rows: fixed words and numbers (no markup, no emoji code), and a
    ``Text`` where a layer's name appears."""
    totals = report.totals
    moved = totals.traffic_elements * report.bytes_per_element
    unknown = " + placeholders of unknown cost" if report.notes else ""
    return [
        (
            "parameters",
            numbers.count(totals.params, exact=exact),
            f"{numbers.count(totals.weights, exact=True)} weights + "
            f"{numbers.count(totals.biases, exact=True)} biases",
        ),
        (
            "MACs",
            numbers.count(totals.macs, exact=exact),
            numbers.count(totals.macs, exact=True) + unknown,
        ),
        ("FLOPs", numbers.count(totals.flops, exact=exact), "2 × MACs"),
        (
            "other ops",
            numbers.count(totals.ops, exact=exact),
            "bias, norm, activation, pool, merge",
        ),
        (
            "activations",
            numbers.size(report.activation_bytes, exact=exact),
            f"{numbers.count(totals.activation_elements, exact=True)} elements × "
            f"{report.bytes_per_element} B ({report.dtype})",
        ),
        (
            "memory traffic",
            numbers.size(moved, exact=exact),
            f"{numbers.size(totals.read_elements * report.bytes_per_element, exact=exact)} read + "
            f"{numbers.size(totals.written_elements * report.bytes_per_element, exact=exact)} "
            "written",
        ),
        (
            "intensity",
            numbers.intensity(intensity(totals, report.bytes_per_element)),
            "FLOPs per byte moved",
        ),
        (
            "peak memory",
            numbers.size(report.peak_memory_bytes, exact=exact),
            Text(
                f"{numbers.size(report.peak_activation_bytes, exact=exact)} live at "
                f"{printable(report.peak_at)} + {numbers.size(report.parameter_bytes, exact=exact)} params"
            ),
        ),
        (
            "receptive field",
            numbers.receptive(report.receptive_field),
            f"jump {numbers.jump(report.receptive_field)}",
        ),
    ]


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
    """As ``console.print(render_report(...))`` for each report, with the layer table
    written a chunk of rows at a time, and both tables drawn by :class:`FastTable` (the
    summary through rich's generic table took longer than the 200 rows of ResNet-50)."""
    for report in reports:
        layer_table(report, depth=depth, exact=exact, width=console.width).print(console)
        FastTable(_summary_frame(), _summary_rows(report, exact=exact).copy).print(console)
        console.print(Text(""))


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
