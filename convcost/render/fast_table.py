"""A rich table laid out exactly as :class:`rich.table.Table` lays it out, in time linear in
its rows, and printed in chunks so that a huge table is never held whole as text.

rich measures and renders every cell through its generic machinery (a ``Padding`` around a
``Text``, wrapped, justified, split into lines and cropped): about 1.5 ms a row, 16 s for a
10,000-row layer table. Here the body rows are plain strings:

- **widths**: a cell's measurement (rich's ``Measurement``: its longest word, its longest
  line) is computed once per distinct text of a column, and rich's own column-width
  algorithm runs on a *proxy* of the table holding, per column, only the cell with the
  largest minimum and the cell with the largest maximum. Column widths depend on the cells
  only through those two maxima (every later step clamps them), so the widths are rich's.
- **rows**: a cell that fits its column on one line is padded and justified with string
  operations, as rich would; any other cell (too wide, several lines, surrounding spaces)
  and the header and footer go through rich itself, so folding and wrapping are rich's too.

The frame (title, columns with their headers, footers, justification and styles, box) is an
ordinary rich ``Table`` without rows, so a caller builds it as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from copy import copy
from dataclasses import dataclass
from itertools import islice

from rich.box import Box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.padding import Padding
from rich.segment import Segment, Segments
from rich.style import Style
from rich.table import Column, Table
from rich.text import Text

Cell = str | Text
"""A body cell: plain text (never read as markup), or a ``Text`` for a styled one."""

KEEP_ROWS = 100_000
"""Tables up to this many rows keep their cells between measuring and drawing (about 60 MB at
the limit); longer ones format their rows again for drawing (twice the formatting, no copy of
every cell)."""

CHUNK_ROWS = 1_000
""":meth:`FastTable.print` writes this many rows at a time."""


def _texts(cells: Iterable[Cell]) -> list[str]:
    """The text of each cell."""
    return [cell if type(cell) is str else cell.plain for cell in cells]  # type: ignore[union-attr]


def measure(text: str) -> tuple[int, int]:
    """rich's measurement of a text cell: (longest word, longest line), in terminal cells."""
    if " " not in text and text.isascii() and text.isprintable():
        return len(text), len(text)
    lines = text.splitlines()
    longest_line = max(map(cell_len, lines)) if lines else 0
    words = text.split()
    longest_word = max(map(cell_len, words)) if words else longest_line
    return min(longest_word, longest_line), longest_line


@dataclass(slots=True)
class _Column:
    """What the measuring pass learns about one column's body cells."""

    minimum: tuple[int, str] = (0, "")
    """The largest minimum width (longest word) and a cell that has it."""
    maximum: tuple[int, str] = (0, "")
    """The largest maximum width (longest line) and a cell that has it."""
    printable: bool = True
    """No cell holds a line break, tab or other non-printable character."""
    ascii: bool = True
    """Every cell is ASCII (one terminal cell per character)."""
    trailing_space: bool = False
    """Some cell ends with a space (which right-justification strips)."""

    def add(self, texts: Iterable[str]) -> None:
        distinct = set(texts)
        for text in distinct:
            low, high = measure(text)
            if low > self.minimum[0]:
                self.minimum = (low, text)
            if high > self.maximum[0]:
                self.maximum = (high, text)
        self.printable = self.printable and all(map(str.isprintable, distinct))
        self.ascii = self.ascii and all(map(str.isascii, distinct))
        self.trailing_space = self.trailing_space or any(t.endswith(" ") for t in distinct)


@dataclass(slots=True)
class _Layout:
    widths: list[int]
    """Each column's width, padding included, as rich computes it."""
    table_width: int
    box: Box | None
    options: ConsoleOptions
    """The options the table's rows render with (its width)."""
    columns: list[_Column]
    rows: int
    kept: list[Sequence[Cell]] | None
    """The body rows, when the table is short enough to keep them."""


@dataclass(slots=True)
class FastTable:
    """``frame`` (a rich Table without rows) with the body rows ``rows()`` yields.

    ``rows`` is called once to measure, and once more to draw when there are more than
    :data:`KEEP_ROWS` rows, so it must yield the same rows each time. A ``Text`` cell
    contributes its text and its style (not spans, justification or overflow).
    """

    frame: Table
    rows: Callable[[], Iterable[Sequence[Cell]]]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for chunk in self._chunks(console, self._layout(console, options)):
            yield from chunk

    def print(self, console: Console) -> None:
        """Print to ``console`` a chunk of rows at a time (a huge table is never one text)."""
        layout = self._layout(console, console.options)
        crop = layout.table_width > console.options.max_width  # rich crops what cannot shrink
        for chunk in self._chunks(console, layout):
            console.print(Segments(chunk), crop=crop)

    # -- layout ------------------------------------------------------------------------------

    def _layout(self, console: Console, options: ConsoleOptions) -> _Layout:
        frame = self.frame
        columns = [_Column() for _ in frame.columns]
        kept: list[Sequence[Cell]] | None = []
        count = 0
        rows = iter(self.rows())
        while batch := list(islice(rows, CHUNK_ROWS * 10)):
            count += len(batch)
            for column, cells in zip(columns, zip(*batch, strict=True), strict=True):
                column.add(_texts(cells))
            if kept is not None and count <= KEEP_ROWS:
                kept += batch
            else:
                kept = None
        proxy = self._proxy(columns if count else [])
        max_width = options.max_width if frame.width is None else frame.width
        extra = proxy._extra_width  # rich's own rule (borders between columns)
        widths = proxy._calculate_column_widths(  # rich's own algorithm
            console, options.update_width(max_width - extra)
        )
        table_width = sum(widths) + extra
        row_options = options.update(width=table_width, highlight=frame.highlight, height=None)
        box = None
        if frame.box:
            safe = console.safe_box if frame.safe_box is None else frame.safe_box
            box = frame.box.substitute(row_options, safe=safe)
            box = box if frame.show_header else box.get_plain_headed_box()
        return _Layout(widths, table_width, box, row_options, columns, count, kept)

    def _proxy(self, columns: list[_Column]) -> Table:
        """The frame with two rows that rich measures exactly as it would measure every row."""
        frame = self.frame
        proxy = Table(
            *(_without_cells(column) for column in frame.columns),
            box=frame.box,
            show_header=frame.show_header,
            show_footer=frame.show_footer,
            show_edge=frame.show_edge,
            pad_edge=frame.pad_edge,
            padding=frame.padding,
            collapse_padding=frame.collapse_padding,
            expand=frame.expand,
            width=frame.width,
            min_width=frame.min_width,
        )
        if columns:
            proxy.add_row(*(Text(column.minimum[1]) for column in columns))
            proxy.add_row(*(Text(column.maximum[1]) for column in columns))
        return proxy

    # -- drawing -----------------------------------------------------------------------------

    def _chunks(self, console: Console, layout: _Layout) -> Iterator[list[Segment]]:
        """The table's segments: title and header, then :data:`CHUNK_ROWS` rows at a time,
        then the footer."""
        frame = self.frame
        box = layout.box
        border = console.get_style(frame.style or "") + console.get_style(frame.border_style or "")
        newline = Segment.line()
        header, footer = self._framing(console)
        head: list[Segment] = []
        if frame.title:
            title = frame.title
            text = (
                console.render_str(
                    title, style=Style.pick_first(frame.title_style, "table.title"), highlight=False
                )
                if isinstance(title, str)
                else title
            )
            head += console.render(text, layout.options.update(justify=frame.title_justify))
        if box and frame.show_edge:
            head += [Segment(box.get_top(layout.widths), border), newline]
        if frame.show_header:
            head += self._slow_row(console, layout, header, level="head", vertical="bottom")
            if box:
                head += [Segment(box.get_row(layout.widths, "head", edge=frame.show_edge), border)]
                head.append(newline)
        yield head
        body = _Body(console, frame, layout, border)
        rows = iter(layout.kept if layout.kept is not None else self.rows())
        first = 0
        while batch := list(islice(rows, CHUNK_ROWS)):
            chunk: list[Segment] = []
            for number, (row, bodies) in enumerate(
                zip(batch, body.shape(batch), strict=True), start=first
            ):
                level = (
                    "head"
                    if number == 0 and not frame.show_header
                    else "foot"
                    if number == layout.rows - 1 and not frame.show_footer
                    else "row"
                )
                if level == "row" and None not in bodies:
                    chunk += body.line(row, bodies)  # type: ignore[arg-type]
                else:
                    chunk += self._slow_row(console, layout, body.cells(row, level), level=level)
            first += len(batch)
            yield chunk
        tail: list[Segment] = []
        if frame.show_footer:
            if box:
                tail += [Segment(box.get_row(layout.widths, "foot", edge=frame.show_edge), border)]
                tail.append(newline)
            tail += self._slow_row(console, layout, footer, level="foot", vertical="top")
        if box and frame.show_edge:
            tail += [Segment(box.get_bottom(layout.widths), border), newline]
        yield tail

    def _framing(self, console: Console) -> tuple[list[tuple[Padding, Style]], ...]:
        """The header and footer cells (padded renderable, style), built by rich."""
        header: list[tuple[Padding, Style]] = []
        footer: list[tuple[Padding, Style]] = []
        for index, column in enumerate(self.frame.columns):
            cells = list(self.frame._get_cells(console, index, column))
            if not cells:
                continue
            for cell, shown, into in (
                (cells[0], self.frame.show_header, header),
                (cells[-1], self.frame.show_footer, footer),
            ):
                if shown:
                    assert isinstance(cell.renderable, Padding)
                    into.append((cell.renderable, console.get_style(cell.style)))
        return header, footer

    def _slow_row(
        self,
        console: Console,
        layout: _Layout,
        cells: list[tuple[Padding, Style]],
        *,
        level: str,
        vertical: str | None = None,
    ) -> list[Segment]:
        """One row through rich's own cell rendering (``Table._render``'s loop without row
        styles): wrapped, folded and aligned as rich does it."""
        columns = self.frame.columns
        rendered = []
        for width, (renderable, style), column in zip(layout.widths, cells, columns, strict=True):
            options = layout.options.update(
                width=width,
                justify=column.justify,
                no_wrap=column.no_wrap,
                overflow=column.overflow,
                height=None,
                highlight=column.highlight,
            )
            rendered.append((console.render_lines(renderable, options, style=style), style))
        # as rich: cells are aligned to the tallest (0 lines when every cell is empty and has
        # no room), then shaped to at least one line of unstyled blanks
        row_height = max(len(lines) for lines, _ in rendered)
        height = max(1, row_height)
        shaped = []
        for width, (lines, style), column in zip(layout.widths, rendered, columns, strict=True):
            align = vertical or column.vertical
            if align == "top":
                aligned = Segment.align_top(lines, width, row_height, style)
            elif align == "middle":
                aligned = Segment.align_middle(lines, width, row_height, style)
            else:
                aligned = Segment.align_bottom(lines, width, row_height, style)
            shaped.append(Segment.set_shape(aligned, width, height))
        border = console.get_style(self.frame.style or "") + console.get_style(
            self.frame.border_style or ""
        )
        left, right, divider = _edges(layout.box, level, show_edge=self.frame.show_edge)
        segments: list[Segment] = []
        for line_no in range(height):
            if left:
                segments.append(Segment(left, border))
            for position, cell in enumerate(shaped):
                if position and divider:
                    segments.append(Segment(divider, border))
                segments += cell[line_no]
            if right:
                segments.append(Segment(right, border))
            segments.append(Segment.line())
        return segments


def _edges(box: Box | None, level: str, *, show_edge: bool) -> tuple[str, str, str]:
    """(left, right, divider) of a row at ``level``: the header, a body row or the footer."""
    if box is None:
        return "", "", ""
    if level == "head":
        edges = box.head_left, box.head_right, box.head_vertical
    elif level == "foot":
        edges = box.foot_left, box.foot_right, box.foot_vertical
    else:
        edges = box.mid_left, box.mid_right, box.mid_vertical
    return (edges[0], edges[1], edges[2]) if show_edge else ("", "", edges[2])


def _without_cells(column: Column) -> Column:
    duplicate = copy(column)
    duplicate._cells = []
    return duplicate


class _Body:
    """Body rows whose every cell fits its column on one line, drawn with string operations
    into the segments rich would produce: one per padding, text and divider, or one per line
    when the console writes no styles."""

    def __init__(self, console: Console, frame: Table, layout: _Layout, border: Style) -> None:
        self.console = console
        self.frame = frame
        self.layout = layout
        self.border = border
        self.plain = console.color_system is None
        self.styles = [console.get_style(column.style or "") for column in frame.columns]
        self.edges = _edges(layout.box, "row", show_edge=frame.show_edge)
        top, _, bottom, _ = frame.padding
        simple = not (top or bottom or frame.collapse_padding)
        self.pads = self._pads("row")
        self.rooms = [
            width - left - right if simple else 0
            for width, (_, right, _, left) in zip(layout.widths, self.pads, strict=True)
        ]
        left, right, divider = self.edges
        parts = [left.replace("{", "{{").replace("}", "}}")]
        for position, (_, pad_right, _, pad_left) in enumerate(self.pads):
            if position:
                parts.append(divider.replace("{", "{{").replace("}", "}}"))
            parts.append(" " * pad_left + "{}" + " " * pad_right)
        parts.append(right.replace("{", "{{").replace("}", "}}"))
        self.template = "".join(parts)
        self._padded: dict[tuple[str, int, str], str | None] = {}

    def _pads(self, level: str) -> list[tuple[int, int, int, int]]:
        """Each column's padding in a row at ``level``, as rich's ``Table._get_cells`` sets
        it."""
        frame = self.frame
        top, right, bottom, left = frame.padding
        last = len(frame.columns) - 1
        result = []
        for index in range(last + 1):
            cell_top, cell_right, cell_bottom, cell_left = top, right, bottom, left
            if frame.collapse_padding:
                if index:
                    cell_left = max(0, left - right)
                if level != "foot":
                    cell_bottom = max(0, top - bottom)
            if not frame.pad_edge:
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

    def cells(self, row: Sequence[Cell], level: str) -> list[tuple[Padding, Style]]:
        """The row's cells as rich renders them (for a row that needs wrapping)."""
        return [
            (Padding(Text(cell) if type(cell) is str else cell, pad), style)
            for cell, pad, style in zip(row, self._pads(level), self.styles, strict=True)
        ]

    def shape(self, batch: list[Sequence[Cell]]) -> Iterator[tuple[str | None, ...]]:
        """Per row, each cell's text justified to its column, or None where it does not fit
        on one line (rich must wrap it)."""
        shaped = [
            self._column(column, index, _texts(cells))
            for index, (column, cells) in enumerate(
                zip(self.layout.columns, zip(*batch, strict=True), strict=True)
            )
        ]
        return zip(*shaped, strict=True)

    def _column(self, facts: _Column, index: int, texts: list[str]) -> list[str | None]:
        room = self.rooms[index]
        justify = self.frame.columns[index].justify
        if justify not in ("left", "right") or room < 1:
            return [None] * len(texts)
        if (
            facts.printable
            and facts.ascii
            and facts.maximum[0] <= room
            and not (justify == "right" and facts.trailing_space)
        ):
            if justify == "left":
                return [text.ljust(room) for text in texts]
            return [text.rjust(room) for text in texts]
        padded = self._padded
        result: list[str | None] = []
        for text in texts:
            key = (text, room, justify)
            shown = padded.get(key, "")  # a justified text is never empty: room >= 1
            if shown == "":
                shown = _justified(text, room, justify)
                if len(padded) < 100_000:  # a cache of repeated cells (shapes, kinds)
                    padded[key] = shown
            result.append(shown)
        return result

    def line(self, row: Sequence[Cell], bodies: Sequence[str]) -> list[Segment]:
        if self.plain:
            return [Segment(self.template.format(*bodies)), Segment.line()]
        left, right, divider = self.edges
        segments = []
        if left:
            segments.append(Segment(left, self.border))
        for position, (cell, body, style, (_, pad_right, _, pad_left)) in enumerate(
            zip(row, bodies, self.styles, self.pads, strict=True)
        ):
            if position and divider:
                segments.append(Segment(divider, self.border))
            if pad_left:
                segments.append(Segment(" " * pad_left, style))
            own = None if type(cell) is str else cell.style  # type: ignore[union-attr]
            segments.append(Segment(body, style + self.console.get_style(own) if own else style))
            if pad_right:
                segments.append(Segment(" " * pad_right, style))
        if right:
            segments.append(Segment(right, self.border))
        segments.append(Segment.line())
        return segments


def _justified(text: str, room: int, justify: str) -> str | None:
    """``text`` padded to ``room`` cells as rich justifies one line that fits, or None."""
    used = cell_len(text)
    if used > room or not text.isprintable() or (justify == "right" and text.endswith(" ")):
        return None
    if justify == "left":
        return text + " " * (room - used)
    return " " * (room - used) + text
