"""The tables of ``convcost analyze`` described without rich: the layer table and the summary
grid as :class:`Frame` (title, columns, box, padding) and rows of text.

A description is drawn two ways: :mod:`convcost.render.table` builds rich tables from it (any
console; colour, bold and dim), and :mod:`convcost.render.plain_table` writes it as rich would
on a console that draws no styles (a pipe, a file, a CI log) without importing rich.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice

from convcost.render import numbers
from convcost.render.escape import printable
from convcost.render.numbers import memoized
from convcost.render.rows import Row, rows
from convcost.report import Report, intensity_terms
from convcost.valueclasses import dataclass

KEEP_ROWS = 100_000
"""Tables up to this many rows keep their cells between measuring and drawing (about 60 MB at
the limit); longer ones format their rows again for drawing (twice the formatting, no copy of
every cell)."""

CHUNK_ROWS = 1_000
"""Tables are written this many rows at a time."""


class Styled:
    """A body cell drawn in a style (``"bold"``) where the console draws styles.

    A plain class: a ``NamedTuple`` would cost the start-up of the table more than its
    writer does."""

    __slots__ = ("style", "text")

    def __init__(self, text: str, style: str) -> None:
        self.text = text
        self.style = style


Cell = str | Styled
"""A body cell: plain text (never read as markup), or text in a style."""


@dataclass(frozen=True, slots=True)
class Column:
    """A column as rich's ``Table.add_column`` takes it (the options convcost uses)."""

    header: str
    footer: str = ""
    justify: str = "left"
    """``left``, ``right`` or ``center``."""
    style: str = ""
    """The style of every body cell (``dim``), where the console draws styles."""
    no_wrap: bool = False
    overflow: str = "ellipsis"
    """What a word too long for the column does: ``fold``, ``crop`` or ``ellipsis``."""
    min_width: int | None = None
    max_width: int | None = None
    ratio: int | None = None
    """Only read by rich when a table expands (none of convcost's does)."""
    markup: bool = False
    """The header and footer are rich markup (an extra column's, as its renderer wrote them)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """A table without its rows, as rich's ``Table(...)`` takes it."""

    columns: tuple[Column, ...]
    title: tuple[tuple[str, str], ...] = ()
    """The title's pieces and their styles (``""``: none); no title when empty."""
    box: bool = True
    """rich's ``box.SIMPLE_HEAD`` (a rule under the header, blank edges), else no box."""
    padding: tuple[int, int, int, int] = (0, 1, 0, 1)
    """Each cell's padding: top, right, bottom, left."""
    collapse_padding: bool = False
    pad_edge: bool = True
    show_header: bool = True
    show_footer: bool = False
    show_edge: bool = True


def grid(*columns: Column, padding: int) -> Frame:
    """rich's ``Table.grid(padding=(0, padding))``: no box, header, footer nor edge."""
    return Frame(
        columns=columns,
        box=False,
        padding=(0, padding, 0, padding),
        collapse_padding=True,
        pad_edge=False,
        show_header=False,
        show_footer=False,
        show_edge=False,
    )


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A frame with its body rows; ``rows()`` yields the same rows each time it is called
    (once to measure, once more to draw when there are more than :data:`KEEP_ROWS`)."""

    frame: Frame
    rows: Callable[[], Iterable[Sequence[Cell]]]


@dataclass(frozen=True, slots=True)
class ExtraColumn:
    """A column another renderer appends to the layer table (``--execute`` timings)."""

    header: str
    footer: str
    cell: Callable[[Row], str]


def layer_spec(
    report: Report,
    *,
    depth: int | None = None,
    exact: bool = False,
    extra: Sequence[ExtraColumn] = (),
    width: int | None = None,
) -> TableSpec:
    """One row per layer (or collapsed block, in bold).

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
    frame = layer_frame(report, exact=exact, extra=extra, kind=True)
    kind = True
    room = None
    if width is not None:
        widest = _widest(cells(), len(frame.columns))
        room = _layer_room(frame, widest, width)
        if room < NARROW_PATH:
            kind = False
            frame = layer_frame(report, exact=exact, extra=extra, kind=False)
            room = _layer_room(frame, [widest[0], widest[1], *widest[3:]], width)

    def body() -> Iterator[Sequence[Cell]]:
        for line, row in zip(cells(), shown, strict=True):
            path = line[1] if room is None else wrap_path(line[1], room)
            yield (
                line[0],
                Styled(path, "bold") if row.collapsed else path,
                *(line[2:] if kind else line[3:]),
            )

    return TableSpec(frame, body)


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


def layer_frame(report: Report, *, exact: bool, extra: Sequence[ExtraColumn], kind: bool) -> Frame:
    """The layer table's frame: its title, and its columns with their headers and footers."""
    columns = [
        Column("#", justify="right", style="dim", no_wrap=True),
        Column("layer", footer="total", overflow="fold", min_width=8, ratio=1),
    ]
    if kind:
        columns.append(
            Column("kind", overflow="fold", min_width=7 if extra else None, max_width=16)
        )
    columns += [
        Column("output", footer=numbers.shape(report.output_shape), no_wrap=True, justify="right"),
        Column(
            "params",
            footer=numbers.count(report.totals.params, exact=exact),
            justify="right",
            no_wrap=True,
        ),
        Column(
            "MACs",
            # placeholder layers of unknown cost (report.notes): the total is a lower bound
            footer=numbers.count(report.totals.macs, exact=exact)
            + (" + ?" if report.notes else ""),
            justify="right",
            no_wrap=True,
        ),
        Column("%", justify="right", no_wrap=True, style="dim"),
        Column(
            "RF",
            footer=numbers.receptive(report.receptive_field),
            justify="right",
            no_wrap=True,
        ),
        *(
            Column(column.header, footer=column.footer, justify="right", no_wrap=True, markup=True)
            for column in extra
        ),
    ]
    title = [
        (printable(report.name), "bold"),
        (f"  input {numbers.shape(report.input_shape)}", ""),
    ]
    if report.batch != 1:
        title.append((f"  batch {report.batch}", ""))
    return Frame(tuple(columns), title=tuple(title), show_footer=True, pad_edge=False)


def _layer_room(frame: Frame, widest: list[int], width: int) -> int:
    """The width left for the layer column once every other column has its widest cell
    (``widest``: the longest body cell of each column).

    Each column costs its padding (1 on each side, none at the table's two edges), and the
    SIMPLE_HEAD box draws a blank divider between columns and at both edges: 3 per column.
    """
    used = 3 * len(frame.columns)
    for position, column in enumerate(frame.columns):
        if position == 1:
            continue
        longest = max(len(column.header), len(column.footer), widest[position])
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


SUMMARY = grid(
    Column("", style="bold"),
    Column("", justify="right"),
    Column("", style="dim", overflow="fold"),
    padding=2,
)
"""The summary's grid: what, how much, and the detail."""


def summary_spec(report: Report, *, exact: bool = False) -> TableSpec:
    return TableSpec(SUMMARY, summary_rows(report, exact=exact).copy)


def summary_rows(report: Report, *, exact: bool) -> list[tuple[str, str, str]]:
    """The summary's rows: fixed words and numbers, and a layer's name."""
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
            numbers.intensity_of(intensity_terms(totals, report.bytes_per_element)),
            "FLOPs per byte moved",
        ),
        (
            "peak memory",
            numbers.size(report.peak_memory_bytes, exact=exact),
            f"{numbers.size(report.peak_activation_bytes, exact=exact)} live at "
            f"{printable(report.peak_at)} + {numbers.size(report.parameter_bytes, exact=exact)} params",
        ),
        (
            "receptive field",
            numbers.receptive(report.receptive_field),
            f"jump {numbers.jump(report.receptive_field)}",
        ),
    ]
