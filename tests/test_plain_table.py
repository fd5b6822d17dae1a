"""convcost.render.plain_table writes what rich writes on a console without styles, byte for
byte, or declines; and the plain path of ``convcost analyze`` never loads rich.

The oracle is rich 15 itself: the same description built into an ordinary ``rich.table.Table``
with every row added (``convcost.render.table.rich_table``) and printed by a ``Console`` with
``color_system=None``, and ``print_reports`` (what ``analyze`` printed before the plain path).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from convcost import zoo
from convcost.engine import analyze_all
from convcost.render import numbers, plain_table, table_spec
from convcost.render.plain_console import plain_width
from convcost.render.plain_report import plain_reports
from convcost.render.plain_table import SINGLE_CELL, plain
from convcost.render.table import print_reports, rich_table
from convcost.render.table_spec import (
    Column,
    Frame,
    Styled,
    TableSpec,
    grid,
    layer_spec,
    summary_spec,
)
from convcost.report import Report
from convcost.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
WIDTHS = (20, 40, 60, 80, 100, 132, 200)


def console(width: int) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=width, color_system=None, highlight=False), buffer


def by_rich(reports: list[Report], width: int, *, depth: int | None, exact: bool) -> str:
    shown, buffer = console(width)
    print_reports(shown, reports, depth=depth, exact=exact)
    return buffer.getvalue()


def sources() -> Iterator[str]:
    yield from zoo.names()
    yield from sorted(f"specs/{path.name}" for path in (ROOT / "specs").glob("*.yaml"))


def load(source: str) -> list[Report]:
    path = zoo.find(source) or ROOT / source
    return analyze_all(load_spec(path))


@pytest.mark.parametrize("source", list(sources()))
def test_every_model_and_spec_as_rich_writes_it(source: str) -> None:
    reports = load(source)
    for width in WIDTHS:
        for depth, exact in ((None, False), (1, True), (2, False)):
            pieces = plain_reports(reports, depth=depth, exact=exact, width=width)
            assert pieces is not None, (width, depth, exact)
            assert "".join(pieces) == by_rich(reports, width, depth=depth, exact=exact), (
                width,
                depth,
                exact,
            )


def test_several_reports_one_after_the_other() -> None:
    reports = [*load("resnet18"), *load("specs/quickstart.yaml"), *load("unet")]
    for width in (60, 100):
        pieces = plain_reports(reports, depth=2, exact=False, width=width)
        assert pieces is not None
        assert "".join(pieces) == by_rich(reports, width, depth=2, exact=False)


def test_rows_past_the_kept_limit_are_formatted_again(monkeypatch: pytest.MonkeyPatch) -> None:
    reports = load("resnet18")
    expected = by_rich(reports, 80, depth=None, exact=False)
    monkeypatch.setattr(table_spec, "KEEP_ROWS", 5)  # measuring (table_spec.measured)
    monkeypatch.setattr(table_spec, "CHUNK_ROWS", 3)
    monkeypatch.setattr(plain_table, "CHUNK_ROWS", 3)  # drawing
    pieces = plain_reports(reports, depth=None, exact=False, width=80)
    assert pieces is not None
    assert "".join(pieces) == expected


def by_ordinary_rich(spec: TableSpec, width: int) -> str:
    """rich's own ``Table`` with every row added, printed on a console ``width`` wide, or as
    wide as the description lays the table out."""
    shown, buffer = console(max(width, spec.frame.least_width or 0))
    shown.print(rich_table(spec))
    return buffer.getvalue()


@pytest.mark.parametrize(("source", "exact"), [("resnet50", False), ("vgg16", True)])
def test_an_ordinary_rich_table_draws_it(source: str, exact: bool) -> None:
    """Against rich's own ``Table`` with every row added (not FastTable), narrow consoles
    (columns dropped, paths broken, tables wider than the console) included."""
    report = load(source)[0]
    for width in (20, 40, 60, 80, 132):
        expected = (
            by_ordinary_rich(layer_spec(report, exact=exact, width=width), width)
            + by_ordinary_rich(summary_spec(report, exact=exact, width=width), width)
            + "\n"
        )
        pieces = plain_reports([report], depth=None, exact=exact, width=width)
        assert pieces is not None
        assert "".join(pieces) == expected, width


def test_the_symbols_are_one_cell_for_rich() -> None:
    assert [char for char in SINGLE_CELL if cell_len(char) != 1] == []


@settings(max_examples=300, deadline=None)
@given(
    flops=st.one_of(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0)),
    moved=st.integers(min_value=1, max_value=10**6),
)
def test_intensity_without_fractions_is_the_fractions_text(flops: int, moved: int) -> None:
    assert numbers.intensity_of((flops, moved)) == numbers.intensity(Fraction(flops, moved))
    assert numbers.intensity_of(None) == numbers.intensity(None)


# -- random tables ------------------------------------------------------------------------------

TEXT = st.text(alphabet="ab.×—…_ 12", max_size=24)
DOTTED = st.lists(st.sampled_from(["layer1", "0", "add1", "body", "conv_2"]), max_size=6).map(
    ".".join
)
CELL = st.one_of(
    TEXT,
    DOTTED,
    st.integers(min_value=0, max_value=10**12).map(str),
    st.just(""),
    st.lists(DOTTED.filter(bool), min_size=1, max_size=3).map("\n".join),
)
HOSTILE = st.text(alphabet="ab\t中\n ", max_size=6)
"""Tabs, wide characters, line breaks at the ends: mostly declined."""
COLUMN = st.builds(
    Column,
    header=TEXT,
    footer=TEXT,
    justify=st.sampled_from(["left", "right", "center"]),
    style=st.sampled_from(["", "dim"]),
    no_wrap=st.booleans(),
    overflow=st.sampled_from(["fold", "crop", "ellipsis"]),
    min_width=st.one_of(st.none(), st.integers(min_value=1, max_value=12)),
    max_width=st.one_of(st.none(), st.integers(min_value=3, max_value=30)),
)


@st.composite
def tables(draw: st.DrawFn, cell: st.SearchStrategy[str] = CELL) -> TableSpec:
    columns = tuple(draw(st.lists(COLUMN, min_size=1, max_size=7)))
    if draw(st.booleans()):
        frame = grid(*columns, padding=draw(st.integers(min_value=0, max_value=2)))
    else:
        title = draw(st.lists(st.tuples(TEXT, st.sampled_from(["", "bold"])), max_size=3))
        frame = Frame(
            columns,
            title=tuple(title),
            show_footer=draw(st.booleans()),
            show_edge=draw(st.booleans()),
            pad_edge=draw(st.booleans()),
        )
    rows = draw(
        st.lists(
            st.lists(
                st.one_of(cell, cell.map(lambda text: Styled(text, "bold"))),
                min_size=len(columns),
                max_size=len(columns),
            ),
            max_size=8,
        )
    )
    return TableSpec(frame, rows.copy)


DECLINED = []


@settings(max_examples=400, deadline=None)
@given(spec=tables(), width=st.integers(min_value=20, max_value=250))
def test_random_tables_as_rich_writes_them(spec: TableSpec, width: int) -> None:
    pieces = plain([spec], width)
    if pieces is None:
        DECLINED.append(spec)
        return
    shown, buffer = console(width)
    shown.print(rich_table(spec))
    assert "".join(pieces) == buffer.getvalue()


def test_few_random_tables_are_declined() -> None:
    """Declining is for what rich draws otherwise (tabs, wide characters): none of the
    tables above (the property ran first)."""
    assert DECLINED == []


@settings(max_examples=100, deadline=None)
@given(spec=tables(st.one_of(CELL, HOSTILE)), width=st.integers(min_value=20, max_value=250))
def test_hostile_tables_as_rich_writes_them_or_declined(spec: TableSpec, width: int) -> None:
    pieces = plain([spec], width)
    if pieces is not None:
        shown, buffer = console(width)
        shown.print(rich_table(spec))
        assert "".join(pieces) == buffer.getvalue()


def test_nothing_is_written_before_a_decline() -> None:
    columns = (Column("a"), Column("b"))
    good = TableSpec(Frame(columns), lambda: [["x", "y"]])
    bad = TableSpec(Frame(columns), lambda: [["x", "中"]])  # a wide character
    assert plain([good, "\n", bad], 80) is None
    assert plain([good, "\n"], 80) is not None
    assert plain([good], plain_table.MIN_WIDTH - 1) is None


# -- the console ----------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


ENVIRONMENTS = [
    {},
    {"COLUMNS": "57"},
    {"COLUMNS": "abc"},
    {"NO_COLOR": "1"},
    {"FORCE_COLOR": "1"},
    {"FORCE_COLOR": ""},
    {"TTY_COMPATIBLE": "0"},
    {"TTY_COMPATIBLE": "1", "COLUMNS": "99"},
    {"TERM": "dumb"},
]


@pytest.mark.parametrize("environ", ENVIRONMENTS)
@pytest.mark.parametrize("tty", [False, True])
@pytest.mark.parametrize(("width", "styles"), [(None, True), (120, True), (120, False)])
def test_plain_width_is_richs(
    monkeypatch: pytest.MonkeyPatch,
    environ: dict[str, str],
    tty: bool,
    width: int | None,
    styles: bool,
) -> None:
    for name in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    stream = Terminal() if tty else io.StringIO()
    rich = Console(
        file=stream, width=width, highlight=False, **({} if styles else {"color_system": None})
    )
    shown = plain_width(stream, width=width, styles=styles)
    if shown is not None:
        assert rich.color_system is None
        assert shown == rich.width
    else:  # rich draws styles, or a dumb terminal (declined)
        assert rich.color_system is not None or environ.get("TERM") == "dumb"


# -- the command ----------------------------------------------------------------------------------


def run(*args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **environ}
    env.pop("FORCE_COLOR", None)
    env.pop("TTY_COMPATIBLE", None)
    return subprocess.run(
        [sys.executable, "-c", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )


CLI = (
    "import json, sys\n"
    "from convcost.__main__ import main\n"
    "sys.argv[0] = 'convcost'\n"
    "try:\n"
    "    main()\n"
    "except SystemExit:\n"
    "    pass\n"
    "sys.stderr.write(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'rich')))\n"
)
"""``convcost ARGS`` (as the console script runs it), then the rich modules it loaded."""


def test_analyze_into_a_pipe_writes_richs_text_without_rich() -> None:
    done = run(CLI, "analyze", "resnet50", "--depth", "2", COLUMNS="100")
    assert json.loads(done.stderr) == []
    assert done.stdout == by_rich(load("resnet50"), 100, depth=2, exact=False)


def test_analyze_declined_draws_with_rich(tmp_path: Path) -> None:
    """A name of wide characters (two terminal cells each): rich draws."""
    spec = tmp_path / "wide.yaml"
    quickstart = (ROOT / "specs/quickstart.yaml").read_text(encoding="utf-8")
    spec.write_text(quickstart.replace("name: quickstart", "name: 网络"), encoding="utf-8")
    done = run(CLI, "analyze", str(spec), COLUMNS="60")
    assert "rich.table" in json.loads(done.stderr)
    assert done.stdout == by_rich(analyze_all(load_spec(spec)), 60, depth=None, exact=False)
    assert "网络" in done.stdout


def test_analyze_to_a_file_writes_richs_text(tmp_path: Path) -> None:
    target = tmp_path / "table.txt"
    done = run(CLI, "analyze", "specs/quickstart.yaml", "-o", str(target))
    assert json.loads(done.stderr) == []
    shown = Console(file=io.StringIO(), width=120, color_system=None)
    print_reports(shown, load("specs/quickstart.yaml"), depth=None, exact=False)
    assert target.read_text(encoding="utf-8") == shown.file.getvalue()  # type: ignore[attr-defined]


def test_one_cell_text_is_told_by_string_functions_as_by_the_set() -> None:
    from convcost.render.plain_table import SINGLE_CELL, _one_cell  # noqa: PLC0415

    # every code point alone, and after each of the non-ASCII one-cell symbols (which the
    # function removes before it looks at the rest)
    assert {code for code in range(0x110000) if _one_cell(chr(code))} == set(map(ord, SINGLE_CELL))
    for symbol in "×—≤²":
        for text in (f"{symbol}a", f"a{symbol}\n", f"{symbol}\x7f", f"1{symbol}é", f"{symbol} 2"):
            assert _one_cell(text) is SINGLE_CELL.issuperset(text), text
