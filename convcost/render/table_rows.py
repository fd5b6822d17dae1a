"""The body rows of a :class:`convcost.render.fast_table.FastTable`: how its cells measure
(as rich measures them) and how a row is drawn with string operations into the segments rich
would draw: a row whose cells all fit on one line, and, on a console that writes no styles, a
row whose plain cells wrap (rich's own line breaking, ``rich._wrap.divide_line``, then its
justification and cropping, done on strings)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import pairwise

from rich._wrap import divide_line
from rich.box import Box
from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

from convcost.render.table_spec import cell_padding
from convcost.valueclasses import dataclass

Cell = str | Text
"""A body cell: plain text (never read as markup), or a ``Text`` for a styled one."""


def texts(cells: Iterable[Cell]) -> list[str]:
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
class ColumnCells:
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
        if not distinct:
            return
        joined = "".join(distinct)
        if joined.isascii() and joined.isprintable() and " " not in joined:
            # each cell is one word on one line: both its measures are its length
            longest = max(distinct, key=len)
            if len(longest) > self.minimum[0]:
                self.minimum = (len(longest), longest)
            if len(longest) > self.maximum[0]:
                self.maximum = (len(longest), longest)
            return
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
class Layout:
    widths: list[int]
    """Each column's width, padding included, as rich computes it."""
    table_width: int
    box: Box | None
    options: ConsoleOptions
    """The options the table's rows render with (its width)."""
    columns: list[ColumnCells]
    rows: int
    kept: list[Sequence[Cell]] | None
    """The body rows, when the table is short enough to keep them."""


def edges(box: Box | None, level: str, *, show_edge: bool) -> tuple[str, str, str]:
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


class BodyRows:
    """Body rows whose every cell fits its column on one line, drawn with string operations
    into the segments rich would produce: one per padding, text and divider, or one per line
    when the console writes no styles."""

    def __init__(self, console: Console, frame: Table, layout: Layout, border: Style) -> None:
        self.console = console
        self.frame = frame
        self.layout = layout
        self.border = border
        self.plain = console.color_system is None
        self.styles = [console.get_style(column.style or "") for column in frame.columns]
        self.edges = edges(layout.box, "row", show_edge=frame.show_edge)
        top, _, bottom, _ = frame.padding
        simple = not (top or bottom)  # collapsed padding is then horizontal only: in self.pads
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
        """Each column's padding in a row at ``level`` (:func:`table_spec.cell_padding`)."""
        frame = self.frame
        return cell_padding(
            frame.padding,
            len(frame.columns),
            collapse=frame.collapse_padding,
            pad_edge=frame.pad_edge,
            level=level,
        )

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
            self._column(column, index, texts(cells))
            for index, (column, cells) in enumerate(
                zip(self.layout.columns, zip(*batch, strict=True), strict=True)
            )
        ]
        return zip(*shaped, strict=True)

    def _column(self, facts: ColumnCells, index: int, texts: list[str]) -> list[str | None]:
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
                shown = justified(text, room, justify)
                if len(padded) < 100_000:  # a cache of repeated cells (shapes, kinds)
                    padded[key] = shown
            result.append(shown)
        return result

    def wrapped_row(
        self, row: Sequence[Cell], bodies: Sequence[str | None]
    ) -> list[Segment] | None:
        """A body row some of whose cells wrap, drawn as rich draws it on a console without
        styles; None where rich's own rendering is needed (styles, a cell's own justification
        or overflow, ``no_wrap``, vertical padding, a text that is not printable)."""
        if not self.plain:
            return None
        columns = self.frame.columns
        cells: list[list[str]] = []
        for cell, body, room, column in zip(row, bodies, self.rooms, columns, strict=True):
            if body is not None:
                cells.append([body])
                continue
            if type(cell) is not str and (
                cell.justify or cell.overflow or cell.no_wrap is not None  # type: ignore[union-attr]
            ):
                return None
            text = cell if type(cell) is str else cell.plain  # type: ignore[union-attr]
            lines = None if column.no_wrap else wrapped(text, room, column.justify, column.overflow)
            if lines is None:
                return None
            cells.append(lines)
        height = max(map(len, cells))
        aligned = [
            aligned_lines(lines, height, room, column.vertical)
            for lines, room, column in zip(cells, self.rooms, columns, strict=True)
        ]
        segments: list[Segment] = []
        for parts in zip(*aligned, strict=True):
            segments += (Segment(self.template.format(*parts)), Segment.line())
        return segments

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


def justified(text: str, room: int, justify: str) -> str | None:
    """``text`` padded to ``room`` cells as rich justifies one line that fits, or None."""
    used = cell_len(text)
    if used > room or not text.isprintable() or (justify == "right" and text.endswith(" ")):
        return None
    if justify == "left":
        return text + " " * (room - used)
    return " " * (room - used) + text


def wrapped(text: str, room: int, justify: str, overflow: str) -> list[str] | None:
    """The lines of a plain ``text`` that rich wraps into ``room`` cells, each justified and
    exactly ``room`` cells wide, or None where this does not follow rich.

    Step by step what ``Text.wrap`` (``split`` at line breaks, ``divide_line``,
    ``rstrip_end``), ``Lines.justify`` (``truncate``, ``pad_left``) and
    ``Console.render_lines`` (``pad=True``) do to a text without tabs.
    """
    if room < 1 or justify not in ("left", "right") or overflow not in _FOLDS:
        return None
    parts = text.split("\n")
    if len(parts) > 1 and not parts[-1]:
        return None  # a text ending in a line break: rich's rendering adds its own
    lines: list[str] = []
    for part in parts:
        if not part.isprintable():
            return None  # tabs and other controls: rich expands or strips them first
        lines += _wrapped_line(part, room, justify, overflow)
    return lines


def _wrapped_line(text: str, room: int, justify: str, overflow: str) -> list[str]:
    offsets = divide_line(text, room, fold=overflow == "fold")
    bounds = [0, *offsets, len(text)]
    lines = []
    for start, end in pairwise(bounds):
        line = text[start:end]
        if len(line) > room:  # Text.rstrip_end: trailing spaces past the room go
            trailing = len(line) - len(line.rstrip(" "))
            line = line[: len(line) - min(trailing, len(line) - room)]
        if justify == "right":
            line = line.rstrip()
        used = cell_len(line)
        if used > room:
            line = (
                set_cell_size(line, room - 1) + "\u2026"
                if overflow == "ellipsis"
                else set_cell_size(line, room)
            )
        if justify == "right":
            line = " " * (room - cell_len(line)) + line
        lines.append(set_cell_size(line, room))
    return lines


_FOLDS = ("fold", "crop", "ellipsis")
"""The overflow methods :func:`wrapped` follows (``ignore`` lets a line run past its room)."""


def aligned_lines(lines: list[str], height: int, room: int, vertical: str) -> list[str]:
    """``lines`` placed in a cell ``height`` lines tall as ``Segment.align_top``,
    ``align_middle`` and ``align_bottom`` place them (blank lines of ``room`` spaces)."""
    extra = height - len(lines)
    blank = " " * room
    if vertical == "top":
        return lines + [blank] * extra
    if vertical == "middle":
        top = extra // 2
        return [blank] * top + lines + [blank] * (extra - top)
    return [blank] * extra + lines
