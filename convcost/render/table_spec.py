"""The tables of ``convcost analyze`` described without rich: the layer table and the summary
grid as :class:`Frame` (title, columns, box, padding) and rows of text.

A description is drawn two ways: :mod:`convcost.render.table` builds rich tables from it (any
console; colour, bold and dim), and :mod:`convcost.render.plain_table` writes it as rich would
on a console that draws no styles (a pipe, a file, a CI log) without importing rich.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from operator import attrgetter, itemgetter
from typing import Any, TypeVar, cast

from convcost.render import numbers
from convcost.render.escape import printable
from convcost.render.rows import Row, rows
from convcost.report import LayerReport, Report, intensity_terms
from convcost.valueclasses import dataclass, fields, made, replace

KEEP_ROWS = 100_000
"""Tables up to this many rows keep their cells between measuring and drawing (about 60 MB at
the limit); longer ones format their rows again for drawing (twice the formatting, no copy of
every cell)."""

CHUNK_ROWS = 1_000
"""Tables are written this many rows at a time."""


C = TypeVar("C")
"""A body cell of either writer (plain text or styled text)."""


def measured(
    rows: Iterable[Sequence[C]], measure: Callable[[int, tuple[C, ...]], bool]
) -> tuple[list[Sequence[C]] | None, int] | None:
    """Each column's body cells handed to ``measure`` (the column's index, a batch of its
    cells) ten :data:`CHUNK_ROWS` at a time; then the rows, kept for a table of up to
    :data:`KEEP_ROWS` rows (``None`` past that: they are formatted again to be drawn), and how
    many there are. ``None`` as soon as ``measure`` refuses a batch."""
    kept: list[Sequence[C]] | None = []
    count = 0
    lines = iter(rows)
    while batch := list(islice(lines, CHUNK_ROWS * 10)):
        count += len(batch)
        for index, cells in enumerate(zip(*batch, strict=True)):
            if not measure(index, cells):
                return None
        if kept is not None and count <= KEEP_ROWS:
            kept += batch
        else:
            kept = None
    return kept, count


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
    least_width: int | None = None
    """The table is laid out as on a console at least this wide, and printed whole (lines
    past a narrower console are not cut; the terminal wraps them): the width its columns
    need when they cannot shrink to the console without cutting a number."""


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

    Given the console ``width``, numbers and shapes keep their widest cell, and layer paths
    that would not fit break after a dot (``layer1.0.add1.`` / ``body1.conv1``), mid-name only
    for a name longer than the column; when that leaves the path too little room, the
    ``kind``, ``%`` and ``RF`` columns are dropped in turn (:func:`_fit`).
    """
    total_macs = report.totals.macs
    # every layer a row of its own: the report's layers are the rows (none collapsed)
    shown: Sequence[Row | LayerReport] = (
        report.layers if depth is None and not extra else rows(report, depth)
    )

    def counted(value: int) -> str:
        return numbers.count(value, exact=exact) if value else "—"

    def shared(macs: int) -> str:
        return numbers.share(macs, total_macs) if macs else ""

    shapes: dict[object, str] = {}
    counts: dict[object, str] = {}
    shares: dict[object, str] = {}
    fields: dict[object, str] = {}  # by id: `shown` holds every field meanwhile

    def formatted() -> Iterator[Sequence[str]]:
        # a column at a time, each distinct value formatted once (a deep stack repeats its
        # shapes and counts row after row), a chunk of rows at a time
        for start in range(0, len(shown), CHUNK_ROWS * 10):
            chunk = shown[start : start + CHUNK_ROWS * 10]
            costs = list(map(_COST_OF, chunk))
            macs = list(map(_MACS_OF, costs))
            receptive = list(map(_FIELD_OF, chunk))
            ids = list(map(id, receptive))
            for key, field in dict(zip(ids, receptive, strict=True)).items():
                if key not in fields:
                    fields[key] = numbers.receptive(field)
            yield from zip(
                map(str, range(start + 1, start + len(chunk) + 1)),
                _printable(list(map(_PATH_OF, chunk))),
                _printable(list(map(_KIND_OF, chunk))),
                _distinct(shapes, numbers.shape, list(map(_OUTPUT_OF, chunk))),
                _distinct(counts, counted, list(map(_PARAMS_OF, costs))),
                _distinct(counts, counted, macs),
                _distinct(shares, shared, macs),
                map(fields.__getitem__, ids),
                *([column.cell(cast(Row, row)) for row in chunk] for column in extra),
                strict=True,
            )

    cells = _replayable(formatted, len(shown))
    frame, room, kept = _fit(report, cells(), exact=exact, extra=extra, width=width)

    collapsed = [type(row) is Row and row.collapsed for row in shown] if depth else None
    after = itemgetter(*kept)  # at least output, params and MACs: a tuple

    def body() -> Iterator[Sequence[Cell]]:
        if collapsed is None:
            for line in cells():
                path = line[1] if room is None else wrap_path(line[1], room)
                yield (line[0], path, *after(line))
            return
        for line, bold in zip(cells(), collapsed, strict=True):
            path = line[1] if room is None else wrap_path(line[1], room)
            yield (line[0], Styled(path, "bold") if bold else path, *after(line))

    return TableSpec(frame, body)


_PATH_OF, _KIND_OF, _OUTPUT_OF, _COST_OF, _FIELD_OF = map(
    attrgetter, ("path", "kind", "output_shape", "cost", "receptive_field")
)
_PARAMS_OF, _MACS_OF = attrgetter("params"), attrgetter("macs")

Value = TypeVar("Value")


def _distinct(
    texts: dict[object, str], text: Callable[[Value], str], values: list[Value]
) -> list[str]:
    """``text`` of each value, computed once per distinct value (kept in ``texts``)."""
    for value in set(values).difference(texts):
        texts[value] = text(value)
    return list(map(texts.__getitem__, values))


def _printable(texts: list[str]) -> list[str] | Iterator[str]:
    """:func:`printable` of each text (the texts themselves when all are printable ASCII)."""
    joined = "".join(texts)
    if joined.isascii() and joined.isprintable():
        return texts
    return map(printable, texts)


def _replayable(
    cells: Callable[[], Iterator[Sequence[str]]], count: int
) -> Callable[[], Iterable[Sequence[str]]]:
    """``cells`` formatted once and kept for a table of up to :data:`KEEP_ROWS` rows;
    formatted again at each pass for a longer one (no copy of every cell)."""
    if count > KEEP_ROWS:
        return cells
    kept = list(cells())
    return lambda: kept


def _widest(cells: Iterable[Sequence[str]], count: int) -> list[int]:
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

LEAST_PATH = 12
"""The layer path's least room: below it the ``%`` column, then the ``RF`` column give theirs,
and when the path still has less the table is laid out wider than the console."""

_KIND, _SHARE, _RF = 2, 6, 7
"""The positions of the columns a narrow console drops, in :func:`layer_frame`'s order."""

_DROPPED = ((_KIND, NARROW_PATH), (_SHARE, LEAST_PATH), (_RF, LEAST_PATH))
"""Which column goes first, and below how much room for the layer path."""


def _column(header: str, **values: Any) -> Column:
    """``Column(header, **values)`` through its slots (:func:`~convcost.valueclasses.made`):
    the layer table makes a dozen, fewer than compiling ``Column.__init__`` would pay for."""
    return made(Column, header=header, **values)


def _column_with(column: Column, **changes: Any) -> Column:
    """``replace(column, **changes)`` through :func:`_column`."""
    return made(Column, **({f.name: getattr(column, f.name) for f in fields(Column)} | changes))


def layer_frame(report: Report, *, exact: bool, extra: Sequence[ExtraColumn]) -> Frame:
    """The layer table's frame, every column shown: its title, and its columns with their
    headers and footers."""
    columns = (
        _column("#", justify="right", style="dim", no_wrap=True),
        _column("layer", footer="total", overflow="fold", min_width=8, ratio=1),
        _column("kind", overflow="fold", min_width=7 if extra else None, max_width=16),
        _column("output", footer=numbers.shape(report.output_shape), no_wrap=True, justify="right"),
        _column(
            "params",
            footer=numbers.count(report.totals.params, exact=exact),
            justify="right",
            no_wrap=True,
        ),
        _column(
            "MACs",
            # placeholder layers of unknown cost (report.notes): the total is a lower bound
            footer=numbers.count(report.totals.macs, exact=exact)
            + (" + ?" if report.notes else ""),
            justify="right",
            no_wrap=True,
        ),
        _column("%", justify="right", no_wrap=True, style="dim"),
        _column(
            "RF",
            footer=numbers.receptive(report.receptive_field),
            justify="right",
            no_wrap=True,
        ),
        *(
            _column(column.header, footer=column.footer, justify="right", no_wrap=True, markup=True)
            for column in extra
        ),
    )
    title = [
        (printable(report.name), "bold"),
        (f"  input {numbers.shape(report.input_shape)}", ""),
    ]
    if report.batch != 1:
        title.append((f"  batch {report.batch}", ""))
    return Frame(columns, title=tuple(title), show_footer=True, pad_edge=False)


def _fit(
    report: Report,
    cells: Iterable[Sequence[str]],
    *,
    exact: bool,
    extra: Sequence[ExtraColumn],
    width: int | None,
) -> tuple[Frame, int | None, list[int]]:
    """The layer table's frame on a console ``width`` wide, the room for the layer path
    (None: paths unbroken) and the positions of the cells shown after the path.

    Every column but the path's keeps its widest cell (numbers and shapes are never cut nor
    wrapped); the path takes what is left, and a narrow console drops the kind, ``%`` and
    ``RF`` columns in :data:`_DROPPED`'s order to give the path its room. When even then the
    path has less than :data:`LEAST_PATH`, the frame's ``least_width`` lays the table out
    wider than the console (printed whole; the terminal wraps its lines).
    """
    frame = layer_frame(report, exact=exact, extra=extra)
    columns = frame.columns
    kept = list(range(2, len(columns)))
    if width is None:
        return frame, None, kept
    widest = _widest(cells, len(columns))
    need = [
        _clamped(max(len(column.header), len(column.footer), longest), column)
        for column, longest in zip(columns, widest, strict=True)
    ]
    path = need[1]

    def room() -> int:
        # each column: its padding (1 on each side but at the two edges) and the
        # SIMPLE_HEAD box's blank divider or edge; 3 a column, one to spare
        return width - sum(3 + need[position] for position in (0, *kept)) - 3

    for position, floor in _DROPPED:
        if room() >= min(floor, path):
            break
        kept.remove(position)
    fitted = max(room(), min(LEAST_PATH, path))
    least = width + fitted - room() if fitted > room() else None
    shown = (
        _column_with(columns[0], min_width=need[0]),
        _column_with(columns[1], max_width=fitted),  # its min_width 8 <= fitted (need[1] counts it)
        *(
            _column_with(columns[position], min_width=need[position])
            if columns[position].no_wrap
            else columns[position]
            for position in kept
        ),
    )
    return replace(frame, columns=shown, least_width=least), fitted, kept


def _clamped(width: int, column: Column) -> int:
    """``width`` within the column's least and most width."""
    return min(max(width, column.min_width or 0), column.max_width or max(width, 1))


def cell_padding(
    padding: tuple[int, int, int, int],
    columns: int,
    *,
    collapse: bool,
    pad_edge: bool,
    level: str = "row",
) -> list[tuple[int, int, int, int]]:
    """Each column's (top, right, bottom, left) padding in a ``level`` row (``head``, ``row``,
    ``foot``), as rich's ``Table._get_cells`` sets it: both table writers lay cells out so."""
    top, right, bottom, left = padding
    last = columns - 1
    result = []
    for index in range(columns):
        cell_top, cell_right, cell_bottom, cell_left = top, right, bottom, left
        if collapse:
            if index:
                cell_left = max(0, left - right)
            if level != "foot":
                cell_bottom = max(0, top - bottom)
        if not pad_edge:
            if index == 0:
                cell_left = 0
            if index == last:
                cell_right = 0
            if level == "head":
                cell_top = 0
            if level == "foot":
                cell_bottom = 0
        result.append((cell_top, cell_right, cell_bottom, cell_left))
    return result


def wrap_path(path: str, limit: int) -> str:
    """Break a dotted layer path into lines of at most ``limit`` characters, after dots."""
    if len(path) <= limit:
        return path
    # each line: as many whole names (each with its dot) as fit, or one name longer than that
    lines = []
    start, end = 0, len(path)
    while end - start > limit:
        cut = path.rfind(".", start, start + limit) + 1  # the last name that fits ends there
        if not cut:
            cut = path.find(".", start) + 1  # a name longer than the line: alone on it
            if not cut:
                lines.append(path[start:])
                return "\n".join(lines)
        lines.append(path[start:cut])
        start = cut
    lines.append(path[start:])
    return "\n".join(lines)


SUMMARY = grid(
    Column("", style="bold"),
    Column("", justify="right"),
    Column("", style="dim", overflow="fold"),
    padding=2,
)
"""The summary's grid: what, how much, and the detail (as :func:`fitted_grid` leaves it when
not given a width: rich wraps it)."""


def summary_spec(report: Report, *, exact: bool = False, width: int | None = None) -> TableSpec:
    """The summary (:func:`fitted_grid` on a console ``width`` wide; the peak's layer path
    breaks after its dots)."""
    return fitted_grid(
        summary_rows(report, exact=exact), width=width, path=printable(report.peak_at)
    )


def fitted_grid(
    lines: list[tuple[str, str, str]], *, width: int | None, path: str = ""
) -> TableSpec:
    """:data:`SUMMARY`'s grid of (what, how much, detail) rows; on a console ``width`` wide,
    labels and details broken into lines that fit beside the numbers (numbers with their
    units and words whole, ``path`` among the details after its dots), or laid out wider than
    the console when a detail's longest word does not fit."""
    if width is None:
        return TableSpec(SUMMARY, lines.copy)
    label = max(len(row[0]) for row in lines)
    value = max(len(row[1]) for row in lines)
    detail = max(len(row[2]) for row in lines)
    gaps = 4  # the grid's two gaps of 2
    if label + value + detail + gaps <= width:
        return TableSpec(SUMMARY, lines.copy)
    words = [word for row in lines for word in _words(row[2]) if word != path]
    least = max(map(len, words))
    room = width - gaps - label - value
    if room < least:  # the labels break at their spaces first
        label = max(len(word) for row in lines for word in row[0].split(" "))
        room = width - gaps - label - value
    room = max(room, least)
    broken = [
        (_wrap_words(what, label), much, _wrap_words(more, room, path))
        for what, much, more in lines
    ]
    what, much, more = SUMMARY.columns
    frame = replace(
        SUMMARY,
        columns=(what, replace(much, no_wrap=True), more),
        least_width=label + value + room + gaps,
    )
    return TableSpec(frame, broken.copy)


_UNITS = frozenset(("B", "KiB", "MiB", "GiB", "TiB", "PiB", "K", "M", "G", "T", "P"))


def _words(text: str) -> list[str]:
    """``text``'s words, a number and its unit (``9.2 MiB``) as one."""
    words: list[str] = []
    for word in text.split(" "):
        if word.rstrip(",;)") in _UNITS and words and words[-1][-1:].isdigit():
            words[-1] += f" {word}"
        else:
            words.append(word)
    return words


def _wrap_words(text: str, limit: int, path: str = "") -> str:
    """``text`` broken at its spaces into lines of at most ``limit`` characters; ``path`` (a
    layer path among the words) broken after its dots, or mid-name when a name is longer."""
    lines = [""]
    for word in _words(text):
        pieces = [word]
        if word == path and len(word) > limit:
            pieces = [
                name[start : start + limit]
                for name in wrap_path(word, limit).split("\n")
                for start in range(0, len(name), limit)
            ]
        for piece in pieces:
            if lines[-1] and len(lines[-1]) + 1 + len(piece) > limit:
                lines.append("")
            lines[-1] += f" {piece}" if lines[-1] else piece
    return "\n".join(lines)


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


def zoo_spec(
    reports: Sequence[Report], *, exact: bool = False, width: int | None = None
) -> TableSpec:
    """``convcost zoo``: one line per model, its input, totals and layer count. No cell is
    ever cut or wrapped: on a console narrower than the table, it is laid out whole, wider
    than the console."""
    lines = [
        (
            printable(report.name),
            numbers.shape(report.input_shape),
            numbers.count(report.totals.params, exact=exact),
            numbers.count(report.totals.macs, exact=exact),
            numbers.size(report.activation_bytes, exact=exact),
            str(len(report.layers)),
        )
        for report in reports
    ]
    headers = ("model", "input", "params", "MACs", "activations", "layers")
    widest = [max(map(len, column)) for column in zip(headers, *lines, strict=True)]
    columns = tuple(
        Column(
            header, justify="left" if header == "model" else "right", no_wrap=True, min_width=most
        )
        for header, most in zip(headers, widest, strict=True)
    )
    natural = sum(widest) + 3 * len(columns) - 1  # padding inside, the box's dividers and edges
    frame = Frame(
        columns,
        title=(("bundled models (convcost analyze NAME)", ""),),
        pad_edge=False,
        least_width=natural if width is not None and natural > width else None,
    )
    return TableSpec(frame, lines.copy)
