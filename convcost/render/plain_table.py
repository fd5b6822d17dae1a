"""A described table (:mod:`convcost.render.table_spec`) written as rich 15 writes it on a
console that draws no styles (a pipe, a file, a CI log), byte for byte, without importing rich
(which costs more start-up than the rest of ``convcost analyze``).

What is reproduced, step by step, from rich's source:

- **widths**: ``Table._calculate_column_widths`` (each cell measured as a ``Padding`` around
  a ``Text``: its longest word and its longest line, clamped to the column's ``min_width`` and
  ``max_width``; a table too wide for the console shrinks its wrappable columns with
  ``Table._collapse_widths`` and ``rich._ratio.ratio_reduce``, then every column evenly, then
  is measured again). Only a table that does not expand and has no fixed column widths.
- **cells**: nothing in a column without room inside its padding (rich renders no line
  there); else ``Text.wrap`` (lines split at line breaks, ``rich._wrap.divide_line``,
  ``Text.rstrip_end``), ``Lines.justify`` (left, right, center; ``Text.truncate`` with fold,
  crop or ellipsis), ``Console.render_lines`` (each line cropped or padded to the column),
  the horizontal padding, and the rows aligned to the tallest cell (the header at the bottom,
  the rest at the top).
- **frame**: the title centred on the table's width (wrapped too, as ``Table.__rich_console__``
  renders it), the ``SIMPLE_HEAD`` box
  (blank edges and dividers, a rule under the header, a blank line over the footer) or none,
  and every line cropped to the console when the table cannot shrink to it.

Widths are counted in characters, so a text is written here only when each of its characters
is one terminal cell (:data:`SINGLE_CELL`); anything else (other characters, tabs, a line break
at a cell's end, a header rich would read as markup, vertical padding) is declined — :func:`plain` returns None — before anything is written, and the
caller draws the table with rich.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice, pairwise, repeat
from typing import cast

from convcost.render.table_spec import (
    CHUNK_ROWS,
    Cell,
    Column,
    Frame,
    Styled,
    TableSpec,
    cell_padding,
    measured,
)
from convcost.valueclasses import dataclass

SINGLE_CELL = frozenset(map(chr, range(0x20, 0x7F))) | frozenset("×·µ—–−…→←≤≥≈±²³")
"""Characters one terminal cell wide for rich (``rich.cells.cell_len``): printable ASCII and
the symbols convcost's tables print; none of the non-ASCII ones is white space."""

_SYMBOLS = "".join(sorted(SINGLE_CELL - frozenset(map(chr, range(0x80)))))
"""The non-ASCII characters of :data:`SINGLE_CELL`."""


def _one_cell(text: str) -> bool:
    """``SINGLE_CELL.issuperset(text)``, by string functions (a set look-up a character costs
    more than a table's every other step)."""
    if not text.isascii():
        for symbol in _SYMBOLS:
            if symbol in text:
                text = text.replace(symbol, "")
        if not text.isascii():
            return False
    return text.isprintable()  # in ASCII: U+0020 to U+007E


MIN_WIDTH = 20
"""Narrower consoles are left to rich."""

_WORD = r"\s*\S+\s*"
"""A word and the white space around it (``rich._wrap.re_word``), compiled by :mod:`re` when a
cell is first wrapped (most tables never are: 0.4 M instructions saved at import)."""


def plain(items: Iterable[TableSpec | str], width: int) -> Iterator[str] | None:
    """The tables (and texts) ``items``, one after the other, as rich prints them on a console
    ``width`` columns wide that draws no styles (``Console.print(table)`` of each); None when
    one of them holds something this module does not reproduce.

    Every table is measured (and checked) before the first piece is yielded."""
    if width < MIN_WIDTH:
        return None
    layouts: list[_Layout | str] = []
    for item in items:
        layout = (
            item
            if isinstance(item, str)
            else _layout(item, max(width, item.frame.least_width or 0))
        )
        if layout is None:
            return None
        layouts.append(layout)
    return _pieces(layouts)


def _pieces(layouts: list[_Layout | str]) -> Iterator[str]:
    for layout in layouts:
        if isinstance(layout, str):
            yield layout
        else:
            yield from layout.pieces()


# -- measuring -------------------------------------------------------------------------------


def _supported(frame: Frame) -> bool:
    top, right, bottom, left = frame.padding
    return (
        bool(frame.columns)
        and not top
        and not bottom
        and left == right
        and (frame.show_header or not frame.box)
        and all(
            not column.markup
            and column.justify in _JUSTIFY
            and column.overflow in _OVERFLOW
            and _single_cell(column.header)
            and _single_cell(column.footer)
            for column in frame.columns
        )
        and all(_single_cell(text) and "\n" not in text for text, _ in frame.title)
    )


_JUSTIFY = ("left", "right", "center")
_OVERFLOW = ("fold", "crop", "ellipsis")


def _single_cell(text: str) -> bool:
    """Whether each line of ``text`` is written here: one-cell characters, line breaks only
    between lines (not at the end)."""
    if _one_cell(text):
        return True
    return not text.endswith("\n") and _one_cell(text.replace("\n", ""))


def _measure(text: str) -> tuple[int, int]:
    """rich's measurement of a ``Text``: (longest word, longest line)."""
    if " " not in text and "\n" not in text:
        return len(text), len(text)
    lines = text.splitlines()
    longest_line = max(map(len, lines)) if lines else 0
    words = text.split()
    return (max(map(len, words)) if words else longest_line), longest_line


class _Extent:
    """What measuring learns about a column's cells. A plain class: a value class compiles
    its ``__init__`` past its first few objects, which costs a table more than its columns'."""

    __slots__ = ("cells", "high", "low")

    def __init__(self) -> None:
        self.low = 0
        """The longest word of any cell."""
        self.high = 0
        """The longest line of any cell."""
        self.cells = 0
        """How many cells (header and footer included)."""

    def add(self, texts: Iterable[str]) -> bool:
        """Count ``texts``; False when one of them is not written here."""
        distinct = set(texts)
        joined = "".join(distinct)
        if _one_cell(joined):
            if " " not in joined:  # single words on one line: both measures are the length
                longest = max(map(len, distinct), default=0)
                self.low, self.high = max(self.low, longest), max(self.high, longest)
                return True
        elif " " not in joined and _one_cell(joined.replace("\n", "")):
            # lines of one word each (wrapped paths): both measures are the longest line
            ends = "\0".join(distinct) + "\0"
            if "\n\0" in ends:  # a line break at a text's end
                return False
            longest = max(map(len, ends.replace("\0", "\n").split("\n")))
            self.low, self.high = max(self.low, longest), max(self.high, longest)
            return True
        elif not all(map(_single_cell, distinct)):
            return False
        for text in distinct:
            low, high = _measure(text)
            self.low, self.high = max(self.low, low), max(self.high, high)
        return True


def _fitted(low: int, high: int, pad: int, room: int) -> tuple[int, int]:
    """``Measurement.get`` of a ``Padding(Text)`` (``pad`` cells on its sides) measuring
    (``low``, ``high``), with ``room`` cells available."""
    if room < 1:
        return 0, 0
    if room - pad < 1:
        low, high = room, room
    else:
        low, high = _normal(low, high)
        low, high = min(low, room), min(high, room)
        if high < 1:
            low, high = 0, 0
        else:
            low, high = _normal(low, high)
        low, high = min(low + pad, room), min(high + pad, room)
    low, high = _normal(low, high)
    low, high = min(low, room), min(high, room)
    return (0, 0) if high < 1 else _normal(low, high)


def _normal(low: int, high: int) -> tuple[int, int]:
    """``Measurement.normalize``."""
    low = min(max(0, low), high)
    return max(0, low), max(0, low, high)


def _column_range(column: Column, extent: _Extent, pad: int, room: int) -> tuple[int, int]:
    """``Table._measure_column``."""
    if room < 1:
        return 0, 0
    if extent.cells:
        low, high = _fitted(extent.low, extent.high, pad, room)
    else:
        low, high = 1, room
    low, high = min(low, room), min(high, room)
    if column.min_width is not None:
        least = max(0, column.min_width + pad)
        low, high = max(low, least), max(high, least)
    if column.max_width is not None:
        most = column.max_width + pad
        low, high = min(low, most), min(high, most)
    return low, high


def _widths(frame: Frame, extents: list[_Extent], pads: list[int], room: int) -> list[int]:
    """``Table._calculate_column_widths`` for a table that does not expand."""
    columns = frame.columns
    ranges = [
        _column_range(column, extent, pad, room)
        for column, extent, pad in zip(columns, extents, pads, strict=True)
    ]
    widths = [high or 1 for _, high in ranges]
    if sum(widths) > room:
        widths = _collapse(widths, [not column.no_wrap for column in columns], room)
        if sum(widths) > room:
            widths = _ratio_reduce(sum(widths) - room, [1] * len(widths), widths, widths)
        ranges = [
            _column_range(column, extent, pad, width)
            for column, extent, pad, width in zip(columns, extents, pads, widths, strict=True)
        ]
        widths = [high or 0 for _, high in ranges]
    return widths


def _collapse(widths: list[int], wrapable: list[bool], room: int) -> list[int]:
    """``Table._collapse_widths``: shrink the widest wrappable columns first."""
    total = sum(widths)
    excess = total - room
    if any(wrapable):
        while total and excess > 0:
            widest = max(width for width, wraps in zip(widths, wrapable, strict=True) if wraps)
            second = max(
                width if wraps and width != widest else 0
                for width, wraps in zip(widths, wrapable, strict=True)
            )
            difference = widest - second
            ratios = [
                1 if width == widest and wraps else 0
                for width, wraps in zip(widths, wrapable, strict=True)
            ]
            if not any(ratios) or not difference:
                break
            widths = _ratio_reduce(excess, ratios, [min(excess, difference)] * len(widths), widths)
            total = sum(widths)
            excess = total - room
    return widths


def _ratio_reduce(
    total: int, ratios: list[int], maximums: list[int], values: list[int]
) -> list[int]:
    """``rich._ratio.ratio_reduce`` (its float division and rounding included)."""
    ratios = [ratio if most else 0 for ratio, most in zip(ratios, maximums, strict=True)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining = total
    result = []
    for ratio, most, value in zip(ratios, maximums, values, strict=True):
        if ratio and total_ratio > 0:
            distributed = min(most, round(ratio * remaining / total_ratio))
            result.append(value - distributed)
            remaining -= distributed
            total_ratio -= ratio
        else:
            result.append(value)
    return result


def _pad_widths(frame: Frame) -> list[int]:
    """Each column's padding as ``Table._get_padding_width`` counts it for measuring."""
    _, right, _, left = frame.padding
    if frame.collapse_padding:
        left = 0  # and right: abs(0 - right)
    last = len(frame.columns) - 1
    widths = []
    for index in range(last + 1):
        cell_left = 0 if index == 0 and not frame.pad_edge else left
        cell_right = 0 if index == last and not frame.pad_edge else right
        widths.append(cell_left + cell_right)
    return widths


def _pads(frame: Frame) -> list[tuple[int, int]]:
    """Each column's (left, right) padding in a body row (:func:`table_spec.cell_padding`)."""
    padding = cell_padding(
        frame.padding, len(frame.columns), collapse=frame.collapse_padding, pad_edge=frame.pad_edge
    )
    return [(left, right) for _, right, _, left in padding]


# -- drawing -----------------------------------------------------------------------------------


def _divide(text: str, width: int, *, fold: bool) -> list[int]:
    """``rich._wrap.divide_line`` for one-cell characters: where ``text`` breaks."""
    breaks: list[int] = []
    offset = 0
    for match in re.finditer(_WORD, text):
        start = match.start()
        word = match.group()
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:
            if fold:
                pieces = [word[index : index + width] for index in range(0, len(word), width)]
                for piece in pieces[:-1]:
                    if start:
                        breaks.append(start)
                    start += len(piece)
                if start:
                    breaks.append(start)
                offset = len(pieces[-1])
            else:
                if start:
                    breaks.append(start)
                offset = len(word)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    return breaks


def _truncate(line: str, width: int, overflow: str) -> str:
    """``Text.truncate`` without padding."""
    if len(line) > width:
        return line[: width - 1] + "…" if overflow == "ellipsis" else line[:width]
    return line


def _justified(line: str, width: int, justify: str, overflow: str) -> str:
    """``Lines.justify`` of one line, then ``Text.truncate`` and ``Console.render_lines``'s
    padding: the line exactly ``width`` cells wide."""
    if justify == "left":
        line = _truncate(line, width, overflow)
        return line + " " * (width - len(line))
    line = _truncate(line.rstrip(), width, overflow)
    if justify == "right":
        return " " * (width - len(line)) + line
    left = (width - len(line)) // 2
    return " " * left + line + " " * (width - len(line) - left)


def _wrapped(text: str, width: int, justify: str, overflow: str, no_wrap: bool) -> list[str]:
    """``Text.wrap`` into ``width`` cells, each line justified to exactly ``width`` cells."""
    if "\n" not in text and len(text) <= width:  # one line that fits: nothing breaks
        return [_justified(text, width, justify, overflow)]
    if justify == "left":  # lines that all fit (a wrapped path): each padded
        parts = text.split("\n")
        if max(map(len, parts)) <= width:
            return list(map(str.ljust, parts, repeat(width)))
    lines = []
    for part in text.split("\n"):
        if no_wrap or len(part) <= width:  # a line that fits does not break
            pieces = [part]
        else:
            bounds = [0, *_divide(part, width, fold=overflow == "fold"), len(part)]
            pieces = [part[start:end] for start, end in pairwise(bounds)]
            pieces = [_rstrip_end(piece, width) for piece in pieces]
        lines += [_justified(piece, width, justify, overflow) for piece in pieces]
    return lines


def _rstrip_end(line: str, width: int) -> str:
    """``Text.rstrip_end``: white space past ``width`` goes."""
    if len(line) <= width:
        return line
    trailing = len(line) - len(line.rstrip())
    return line[: len(line) - min(trailing, len(line) - width)]


@dataclass(slots=True)
class _Layout:
    spec: TableSpec
    width: int
    """The console's."""
    widths: list[int]
    """Each column's, padding included."""
    pads: list[tuple[int, int]]
    kept: list[Sequence[Cell]] | None

    @property
    def table_width(self) -> int:
        return sum(self.widths) + _extra_width(self.spec.frame)

    def pieces(self) -> Iterator[str]:
        """The table's text: title and header, then :data:`CHUNK_ROWS` rows at a time,
        then the footer."""
        frame = self.spec.frame
        crop = self.table_width > self.width
        title = "".join(piece for piece, _ in frame.title)
        head = []
        if title and self.table_width > 0:
            head = _wrapped(title, self.table_width, "center", "fold", no_wrap=False)
        edge = " " if frame.box and frame.show_edge else ""
        divider = " " if frame.box else ""
        if frame.box and frame.show_edge:
            head.append(" " * self.table_width)
        if frame.show_header:
            head += self._row([column.header for column in frame.columns], "bottom", edge, divider)
            if frame.box:
                rule = "─".join("─" * width for width in self.widths)
                head.append(f"{edge}{rule}{edge}")
        yield self._text(head, crop)
        rows = iter(self.kept if self.kept is not None else self.spec.rows())
        draw = _drawer(edge, divider, self.pads)
        rooms = [
            width - left - right
            for width, (left, right) in zip(self.widths, self.pads, strict=True)
        ]
        roomless = min(rooms, default=1) < 1
        blanks = [" " * room for room in rooms]
        while batch := list(islice(rows, CHUNK_ROWS)):
            texts = [_texts(column) for column in zip(*batch, strict=True)]
            shaped = zip(*map(self._column, range(len(texts)), texts), strict=True)
            lines: list[str] = []
            for number, cells in enumerate(shaped):
                if None not in cells:
                    lines.append(draw(cells))
                elif roomless:  # a column without room: rich's blank lines
                    texts_of_row = [column[number] for column in texts]
                    lines += self._row(texts_of_row, "top", edge, divider, cells)
                else:  # a cell wraps: its lines, the others' cells then blanks below
                    lines += self._wrapped_row(texts, number, cells, draw, blanks)
            yield self._text(lines, crop)
        tail = []
        if frame.show_footer:
            if frame.box:
                tail.append(" " * self.table_width)
            tail += self._row([column.footer for column in frame.columns], "top", edge, divider)
        if frame.box and frame.show_edge:
            tail.append(" " * self.table_width)
        if tail:
            yield self._text(tail, crop)

    def _text(self, lines: list[str], crop: bool) -> str:
        if crop:
            lines = [line[: self.width] for line in lines]
        return "\n".join(lines) + "\n" if lines else ""

    def _column(self, index: int, texts: Sequence[str]) -> list[str | None]:
        """Each of a column's body cells justified on one line, or None where it wraps."""
        left, right = self.pads[index]
        room = self.widths[index] - left - right
        column = self.spec.frame.columns[index]
        if room < 1:
            return [None] * len(texts)
        justify, overflow = column.justify, column.overflow
        if max(map(len, texts)) <= room and "\n" not in "".join(texts):  # nothing to truncate
            if justify == "left":
                return list(map(str.ljust, texts, repeat(room)))
            if justify == "right":  # Lines.justify strips the end first
                if " \0" not in "\0".join(texts) + "\0":  # (no cell ends in a space)
                    return list(map(str.rjust, texts, repeat(room)))
                return [text.rstrip().rjust(room) for text in texts]
        return [
            None if len(text) > room or "\n" in text else _justified(text, room, justify, overflow)
            for text in texts
        ]

    def _wrapped_row(
        self,
        texts: list[Sequence[str]],
        number: int,
        shaped: Sequence[str | None],
        draw: Callable[[Sequence[str]], str],
        blanks: list[str],
    ) -> list[str]:
        """:meth:`_row` of body row ``number`` (top-aligned; ``texts``: each column's cells)
        where every column has room, drawn as the body's rows (``draw``): cells that fit are
        ``shaped``, the others wrapped; a column's cell below its last line is blank."""
        columns = self.spec.frame.columns
        first = list(shaped)
        if first.count(None) == 1:  # one cell wraps (a layer path): its lines, blanks beside
            index = first.index(None)
            column = columns[index]
            blank = blanks[index]
            lines = _wrapped(
                texts[index][number], len(blank), column.justify, column.overflow, column.no_wrap
            )
            first[index] = lines[0]
            result = [draw(cast(list[str], first))]
            for below in lines[1:]:
                cells = blanks.copy()
                cells[index] = below
                result.append(draw(cells))
            return result
        wrapped: list[tuple[int, list[str]]] = []
        height = 1
        index = -1
        for _ in range(first.count(None)):  # the cells that wrap
            index = first.index(None, index + 1)
            column = columns[index]
            lines = _wrapped(
                texts[index][number],
                len(blanks[index]),
                column.justify,
                column.overflow,
                column.no_wrap,
            )
            first[index] = lines[0]
            wrapped.append((index, lines))
            height = max(height, len(lines))
        result = [draw(cast(list[str], first))]  # every None replaced
        for line in range(1, height):
            cells = blanks.copy()
            for index, lines in wrapped:
                if line < len(lines):
                    cells[index] = lines[line]
            result.append(draw(cells))
        return result

    def _row(
        self,
        texts: list[str],
        vertical: str,
        edge: str,
        divider: str,
        shaped: Sequence[str | None] | None = None,
    ) -> list[str]:
        """A row's lines; ``shaped``: cells already justified on one line (None: not)."""
        columns = self.spec.frame.columns
        cells: list[list[str]] = []
        for index, (text, column, width, (left, right)) in enumerate(
            zip(texts, columns, self.widths, self.pads, strict=True)
        ):
            room = width - left - right
            if room < 1:  # rich renders nothing in a column without room: blank lines
                cells.append([])
                continue
            line = None if shaped is None else shaped[index]
            lines = (
                _wrapped(text, room, column.justify, column.overflow, column.no_wrap)
                if line is None
                else [line]
            )
            cells.append([" " * left + line + " " * right for line in lines])
        height = max(1, *map(len, cells))
        if height > 1 or not all(cells):
            for cell, width in zip(cells, self.widths, strict=True):
                blank = [" " * width] * (height - len(cell))
                cell[:] = blank + cell if vertical == "bottom" else cell + blank
        return [edge + divider.join(parts) + edge for parts in zip(*cells, strict=True)]


def _texts(cells: Sequence[Cell]) -> Sequence[str]:
    """The text of each cell (``cells`` itself when none is styled)."""
    if _STR.issuperset(map(type, cells)):
        return cast(Sequence[str], cells)
    return [cell if type(cell) is str else cast(Styled, cell).text for cell in cells]


_STR = frozenset((str,))


def _drawer(edge: str, divider: str, pads: list[tuple[int, int]]) -> Callable[[Sequence[str]], str]:
    """A body row's line from its cells (each exactly its column's room): the cells between
    their padding, the dividers and the edges."""
    gaps = {" " * right + divider + " " * left for (_, right), (left, _) in pairwise(pads)}
    if len(gaps) > 1:  # columns padded unevenly
        template = edge + divider.join(f"{' ' * left}{{}}{' ' * right}" for left, right in pads)
        template += edge
        return lambda cells: template.format(*cells)
    gap = gaps.pop() if gaps else ""
    start, end = edge + " " * pads[0][0], " " * pads[-1][1] + edge
    return lambda cells: start + gap.join(cells) + end


def _extra_width(frame: Frame) -> int:
    """``Table._extra_width``: the box's edges and dividers."""
    if not frame.box:
        return 0
    return len(frame.columns) - 1 + (2 if frame.show_edge else 0)


def _layout(spec: TableSpec, width: int) -> _Layout | None:
    frame = spec.frame
    if not _supported(frame):
        return None
    columns = frame.columns
    extents = [_Extent() for _ in columns]
    for extent, column in zip(extents, columns, strict=True):
        shown = [
            text
            for text, show in (
                (column.header, frame.show_header),
                (column.footer, frame.show_footer),
            )
            if show
        ]
        extent.add(shown)
        extent.cells += len(shown)

    def measure(index: int, cells: tuple[Cell, ...]) -> bool:
        extent = extents[index]
        extent.cells += len(cells)
        return extent.add(_texts(cells))

    found = measured(spec.rows(), measure)
    if found is None:
        return None
    kept, _ = found
    pads = _pads(frame)
    room = max(0, width - _extra_width(frame))
    widths = _widths(frame, extents, _pad_widths(frame), room)
    return _Layout(spec, width, widths, pads, kept)
