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
  operations, as rich would; on a console without styles, a plain cell that wraps is broken
  by rich's own ``divide_line`` and justified with string operations too; any other row (styled
  and wrapping, several lines, tabs) and the header and footer go through rich itself.

The frame (title, columns with their headers, footers, justification and styles, box) is an
ordinary rich ``Table`` without rows, so a caller builds it as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from copy import copy
from itertools import islice

from rich.console import Console, ConsoleOptions, RenderResult
from rich.padding import Padding
from rich.segment import Segment, Segments
from rich.style import Style
from rich.table import Column, Table
from rich.text import Text

from convcost.render.table_rows import BodyRows, Cell, ColumnCells, Layout, edges, texts
from convcost.render.table_spec import CHUNK_ROWS, KEEP_ROWS, measured
from convcost.valueclasses import dataclass

__all__ = ["CHUNK_ROWS", "KEEP_ROWS", "FastTable"]


@dataclass(slots=True)
class FastTable:
    """``frame`` (a rich Table without rows) with the body rows ``rows()`` yields.

    ``rows`` is called once to measure, and once more to draw when there are more than
    :data:`KEEP_ROWS` rows, so it must yield the same rows each time. A ``Text`` cell
    contributes its text and its style (not spans, justification or overflow).
    """

    frame: Table
    rows: Callable[[], Iterable[Sequence[Cell]]]
    least_width: int | None = None
    """Laid out as on a console at least this wide, and printed whole (never cropped to a
    narrower console): :attr:`convcost.render.table_spec.Frame.least_width`."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for chunk in self._chunks(console, self._layout(console, options)):
            yield from chunk

    def print(self, console: Console) -> None:
        """Print to ``console`` a chunk of rows at a time (a huge table is never one text)."""
        layout = self._layout(console, console.options)
        # rich crops what cannot shrink; a table wider by design is printed whole
        crop = layout.table_width > max(console.options.max_width, self.least_width or 0)
        for chunk in self._chunks(console, layout):
            console.print(Segments(chunk), crop=crop)

    # -- layout ------------------------------------------------------------------------------

    def _layout(self, console: Console, options: ConsoleOptions) -> Layout:
        frame = self.frame
        columns = [ColumnCells() for _ in frame.columns]

        def measure(index: int, cells: tuple[Cell, ...]) -> bool:
            columns[index].add(texts(cells))
            return True

        found = measured(self.rows(), measure)
        assert found is not None  # measure refuses nothing
        kept, count = found
        proxy = self._proxy(columns if count else [])
        max_width = options.max_width if frame.width is None else frame.width
        max_width = max(max_width, self.least_width or 0)
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
        return Layout(widths, table_width, box, row_options, columns, count, kept)

    def _proxy(self, columns: list[ColumnCells]) -> Table:
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

    def _chunks(self, console: Console, layout: Layout) -> Iterator[list[Segment]]:
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
        body = BodyRows(console, frame, layout, border)
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
                    continue
                fast = body.wrapped_row(row, bodies) if level == "row" else None
                if fast is None:
                    fast = self._slow_row(console, layout, body.cells(row, level), level=level)
                chunk += fast
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
        layout: Layout,
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
        left, right, divider = edges(layout.box, level, show_edge=self.frame.show_edge)
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


def _without_cells(column: Column) -> Column:
    duplicate = copy(column)
    duplicate._cells = []
    return duplicate
