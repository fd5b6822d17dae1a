"""convcost.render.fast_table draws what rich's own Table draws, character for character.

The oracle is rich: the same frame with the same rows added through ``Table.add_row`` and
rendered by rich's layout and cell rendering, against :class:`FastTable`'s proxy measurement
and string-built rows. Tables are random (widths, justification, wide characters, spaces,
cells too long for their column, styles), on plain and on colour consoles.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from copy import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

import convcost
from convcost import zoo
from convcost.render import fast_table, table_rows, table_spec
from convcost.render.fast_table import FastTable
from convcost.render.table import layer_table
from convcost.render.table_rows import Cell


def rich_table(table: FastTable) -> Table:
    """The frame with every row added the ordinary way: what rich alone would draw."""
    oracle = copy(table.frame)
    oracle.columns = [copy(column) for column in table.frame.columns]
    oracle.rows = []
    for column in oracle.columns:
        column._cells = []
    for row in table.rows():
        oracle.add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in row))
    return oracle


def drawn(renderable: object, *, width: int, color: bool, stream: bool = False) -> str:
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        legacy_windows=False,
    )
    if stream:
        assert isinstance(renderable, FastTable)
        renderable.print(console)
    else:
        console.print(renderable)
    return buffer.getvalue()


def frame(
    justify: Sequence[str],
    *,
    title: str,
    footer: bool,
    header: bool,
    style: str,
    kind: box.Box,
    overflow: Sequence[str] = (),
    vertical: Sequence[str] = (),
) -> Table:
    table = Table(
        title=Text(title, style="bold"),
        box=kind,
        show_footer=footer,
        show_header=header,
        pad_edge=False,
    )
    for index, how in enumerate(justify):
        table.add_column(
            f"c{index}",
            footer=f"f{index}",
            justify=how,  # type: ignore[arg-type]
            style=style if index == 0 else None,
            overflow=overflow[index] if overflow else "fold",  # type: ignore[arg-type]
            vertical=vertical[index] if vertical else "top",  # type: ignore[arg-type]
            no_wrap=index == 2,
            max_width=12 if index == 1 else None,
        )
    return table


RESNET50 = zoo.find("resnet50")
assert RESNET50 is not None

WORDS = st.text(alphabet="ab.×中—_ 12\n", max_size=30)
CELLS = st.one_of(WORDS, WORDS.map(lambda text: Text(text, style="bold")))


@settings(max_examples=150, deadline=None)
@given(
    justify=st.lists(st.sampled_from(["left", "right", "center"]), min_size=1, max_size=5),
    data=st.data(),
    width=st.integers(min_value=10, max_value=120),
    color=st.booleans(),
    footer=st.booleans(),
    header=st.booleans(),
    kind=st.sampled_from([box.SIMPLE_HEAD, box.ASCII, box.ROUNDED]),
    overflow=st.lists(st.sampled_from(["fold", "crop", "ellipsis"]), min_size=5, max_size=5),
    vertical=st.lists(st.sampled_from(["top", "middle", "bottom"]), min_size=5, max_size=5),
)
def test_same_text_as_rich(
    justify: list[str],
    data: st.DataObject,
    width: int,
    color: bool,
    footer: bool,
    header: bool,
    kind: box.Box,
    overflow: list[str],
    vertical: list[str],
) -> None:
    # the columns' overflow and vertical alignment vary too: rows that wrap are drawn by
    # table_rows.wrapped on a console without colour, which follows each of them
    rows: list[list[Cell]] = data.draw(
        st.lists(st.lists(CELLS, min_size=len(justify), max_size=len(justify)), max_size=12)
    )
    table = FastTable(
        frame(
            justify,
            title="t",
            footer=footer,
            header=header,
            style="dim",
            kind=kind,
            overflow=overflow,
            vertical=vertical,
        ),
        lambda: rows,
    )
    expected = drawn(rich_table(table), width=width, color=color)
    assert drawn(table, width=width, color=color) == expected
    assert drawn(table, width=width, color=color, stream=True) == expected


def test_rows_past_the_kept_limit_are_formatted_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table_spec, "KEEP_ROWS", 5)  # measuring (table_spec.measured)
    monkeypatch.setattr(table_spec, "CHUNK_ROWS", 3)
    monkeypatch.setattr(fast_table, "CHUNK_ROWS", 3)  # drawing
    calls = []

    def rows() -> list[list[Cell]]:
        calls.append(1)
        return [[str(i), "x" * (i % 7), Text(f"r{i}", style="bold")] for i in range(40)]

    table = FastTable(
        frame(
            ["right", "left", "left"],
            title="t",
            footer=True,
            header=True,
            style="dim",
            kind=box.SIMPLE_HEAD,
        ),
        rows,
    )
    expected = drawn(rich_table(table), width=60, color=False)
    calls.clear()
    assert drawn(table, width=60, color=False, stream=True) == expected
    assert len(calls) == 2  # measured, then formatted again to draw


@pytest.mark.parametrize("width", [40, 70, 100, 250])
@pytest.mark.parametrize("depth", [None, 1, 2])
def test_layer_table_as_rich_draws_it(width: int, depth: int | None) -> None:
    # resnet50 at depth 1 and 2 has collapsed (bold) rows, long paths that break after dots
    # at narrow widths, and a dropped kind column below 24 characters for the path
    report = convcost.analyze_all(convcost.load_spec(RESNET50))[0]
    table = layer_table(report, depth=depth, width=width)
    for color in (False, True):
        # a table wider than the console by design is drawn as rich draws it on one that wide
        wide = max(width, table.least_width or 0)
        expected = drawn(rich_table(table), width=wide, color=color)
        assert drawn(table, width=width, color=color, stream=True) == expected


WRAPPING_ROWS: list[list[Cell]] = [
    ["layer1.0.downsample.0", "a long cell of words", "x"],
    ["stage4.rest.2.conv3.weight", "b", "wide—中 ×2 text"],
    ["s", "abcdefghijklmnopqrstuvwxyz0123 end  ", "y "],
    ["", "  padded  ", "z"],
    ["layer1.0.add1.body.\nbody1.conv1", "two\nlines and more words", "w"],
]


@pytest.mark.parametrize("overflow", ["fold", "crop", "ellipsis"])
@pytest.mark.parametrize("vertical", ["top", "middle", "bottom"])
@pytest.mark.parametrize("justify", [("left", "right", "left"), ("right", "left", "right")])
@pytest.mark.parametrize("width", [24, 40, 60])
def test_wrapped_rows_as_rich_draws_them(
    overflow: str,
    vertical: str,
    justify: tuple[str, ...],
    width: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # rows whose cells wrap, on a console without colour: drawn by table_rows.wrapped (counted,
    # so the comparison is known to cover it) and compared with rich's own Table
    drawn_fast = []
    original = table_rows.wrapped

    def counted(*args: Any) -> list[str] | None:
        lines = original(*args)
        drawn_fast.append(lines is not None)
        return lines

    monkeypatch.setattr(table_rows, "wrapped", counted)
    table = FastTable(
        frame(
            justify,
            title="t",
            footer=True,
            header=True,
            style="dim",
            kind=box.ASCII,
            overflow=[overflow] * 3,
            vertical=[vertical] * 3,
        ),
        lambda: WRAPPING_ROWS,
    )
    expected = drawn(rich_table(table), width=width, color=False)
    assert drawn(table, width=width, color=False) == expected
    assert any(drawn_fast)
