"""User text reaches every renderer as text: never as rich markup, a terminal control
sequence, a spreadsheet formula or markdown table syntax.

Through the CLI with names a spec may hold (any printable character; layer and branch names
without dots or spaces): each must appear literally where the format shows text as it is.
Control characters, which the spec loader refuses in names but which file paths and other
text can still carry, are put into reports directly and sent through each renderer.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import convcost
from convcost.cli import app
from convcost.compare import Comparison, Entry, compare
from convcost.errors import ExitStatus
from convcost.explain import explain
from convcost.render import comparison, comparison_formats, escape, formats
from convcost.render import explain as explain_render
from convcost.render.table import render_report
from convcost.report import Report

SPEC_NAME = "resnet[v2] [/] [link=https://example.com]click[/link]"
"""Rich would crash on ``[/]``, drop ``[v2]`` and turn the last part into a hyperlink."""
FORMULA = "=HYPERLINK(x)|[b]"
"""A layer name: a spreadsheet formula with a markdown pipe and a rich tag."""
PLUS, AT, MINUS = "+plus", "@at", "-minus"
BRANCH = "br|[i]"
BLOCK = "[red]blk|"

SPEC = f"""
name: "{SPEC_NAME}"
input: [3, 8, 8]
blocks:
  "{BLOCK}":
    layers:
      - conv: {{out: 4, kernel: 3, padding: 1}}
layers:
  - conv: {{out: 4, kernel: 3}}
    name: "{FORMULA}"
  - relu: {{}}
    name: "{PLUS}"
  - add:
      "{BRANCH}": [{{relu: {{}}, name: "{AT}"}}]
      skip: []
  - "{BLOCK}": {{}}
    name: "{MINUS}"
"""

VARIANT_A = "[link=https://example.com]a[/link]"
VARIANT_B = "=cmd|[b]"
VARIANTS = f"""
name: "{SPEC_NAME}"
input: [3, 8, 8]
variants:
  "{VARIANT_A}":
    - conv: {{out: 4, kernel: 3}}
      name: "{FORMULA}"
  "{VARIANT_B}":
    - conv: {{out: 8, kernel: 3}}
      name: "{FORMULA}"
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"})


@pytest.fixture
def spec_file(tmp_path: Path) -> str:
    path = tmp_path / "hostile.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return str(path)


@pytest.fixture
def variants_file(tmp_path: Path) -> str:
    path = tmp_path / "variants.yaml"
    path.write_text(VARIANTS, encoding="utf-8")
    return str(path)


def invoke(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == ExitStatus.OK, result.output
    assert "\x1b" not in result.stdout
    return result.stdout


# the paths the spec's layers have (engine order), written out by hand from SPEC
PATHS = [FORMULA, PLUS, f"add1.{BRANCH}.{AT}", "add1", f"{MINUS}.conv1"]

# ---------------------------------------------------------------------------------------------
# analyze


def test_analyze_table_shows_every_name_literally(runner: CliRunner, spec_file: str) -> None:
    out = invoke(runner, "analyze", spec_file)
    assert f"{SPEC_NAME}  input 3×8×8" in out
    for path in PATHS:
        assert path in out, path


def test_analyze_table_depth_shows_block_kind(runner: CliRunner, spec_file: str) -> None:
    out = invoke(runner, "analyze", spec_file, "--depth", "1")
    assert re.search(rf"\s{re.escape(MINUS)}\s+{re.escape(BLOCK)}\s", out), out


def test_analyze_json_keeps_names_exact_and_ascii(runner: CliRunner, spec_file: str) -> None:
    out = invoke(runner, "analyze", spec_file, "-f", "json")
    assert out.isascii()
    data = json.loads(out)
    assert data["name"] == SPEC_NAME
    assert [layer["path"] for layer in data["layers"]] == PATHS


def test_analyze_csv_has_no_formula_cells(runner: CliRunner, spec_file: str) -> None:
    out = invoke(runner, "analyze", spec_file, "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["path"] for row in rows] == [
        "'" + FORMULA,
        "'" + PLUS,
        f"add1.{BRANCH}.{AT}",
        "add1",
        "'" + MINUS + ".conv1",
    ]
    assert {row["spec"] for row in rows} == {SPEC_NAME}
    # numbers stay numbers: conv 3→4, 3×3, bias: 3·3·3·4 + 4 = 112 parameters
    assert rows[0]["params"] == "112"


def markdown_cells(line: str) -> list[str]:
    """The cells of a markdown table row, split on pipes that are not backslash-escaped."""
    assert line.startswith("|"), line
    assert line.endswith("|"), line
    return re.split(r"(?<!\\)\|", line[1:-1])


def markdown_tables(text: str) -> list[list[str]]:
    """Runs of consecutive lines that start with a pipe."""
    tables: list[list[str]] = []
    previous = False
    for line in text.splitlines():
        row = line.startswith("|")
        if row and not previous:
            tables.append([])
        if row:
            tables[-1].append(line)
        previous = row
    return tables


def assert_well_formed_tables(text: str) -> None:
    """Every row of each markdown table has as many cells as its header."""
    tables = markdown_tables(text)
    assert tables
    for table in tables:
        width = len(markdown_cells(table[0]))
        assert [len(markdown_cells(line)) for line in table] == [width] * len(table), table


def test_analyze_markdown(runner: CliRunner, spec_file: str) -> None:
    out = invoke(runner, "analyze", spec_file, "-f", "markdown")
    assert_well_formed_tables(out)
    # the heading escapes brackets (no link) and keeps the text
    assert "### resnet\\[v2\\] \\[/\\] \\[link=https://example.com\\]click\\[/link\\]" in out
    # paths are code spans, where only the pipe needs its table escape
    assert "| 1 | `=HYPERLINK(x)\\|[b]` | conv |" in out
    assert "| 3 | `add1.br\\|[i].@at` | relu |" in out


# ---------------------------------------------------------------------------------------------
# compare


def test_compare_table_per_layer(runner: CliRunner, variants_file: str) -> None:
    out = invoke(runner, "compare", variants_file, "--per-layer")
    for text in (SPEC_NAME, VARIANT_A, VARIANT_B, FORMULA):
        assert text in out, text
    assert f"per-layer: {VARIANT_B} against {VARIANT_A}" in out


def test_compare_table_many_entries(runner: CliRunner, variants_file: str) -> None:
    # five entries switch to one row per entry (names in the first column)
    args = ["compare", variants_file, *(f"--input=3x{n}x{n}" for n in (8, 9, 10))]
    out = invoke(runner, *args)
    for variant in (VARIANT_A, VARIANT_B):
        for n in (8, 9):  # at 100 columns the longest name (…@3x10x10) is cut with an ellipsis
            assert f"{variant}@3x{n}x{n}" in out, (variant, n)


def test_compare_json(runner: CliRunner, variants_file: str) -> None:
    out = invoke(runner, "compare", variants_file, "-f", "json", "--per-layer")
    assert out.isascii()
    data = json.loads(out)
    assert data["names"] == [VARIANT_A, VARIANT_B]
    assert data["layer_deltas"][0]["layers"][0]["path"] == FORMULA


def test_compare_csv(runner: CliRunner, variants_file: str) -> None:
    rows = list(csv.DictReader(io.StringIO(invoke(runner, "compare", variants_file, "-f", "csv"))))
    assert [row["name"] for row in rows] == [VARIANT_A, "'" + VARIANT_B]
    # params: 3·3·3·4 + 4 = 112 and 3·3·3·8 + 8 = 224, ratio 2
    assert [row["params"] for row in rows] == ["112", "224"]
    assert rows[1]["params_ratio"] == "2.0"


def test_compare_csv_per_layer(runner: CliRunner, variants_file: str) -> None:
    out = invoke(runner, "compare", variants_file, "-f", "csv", "--per-layer")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(row["spec"], row["path"]) for row in rows] == [
        (VARIANT_A, "'" + FORMULA),
        ("'" + VARIANT_B, "'" + FORMULA),
    ]


def test_compare_markdown(runner: CliRunner, variants_file: str) -> None:
    out = invoke(runner, "compare", variants_file, "-f", "markdown", "--per-layer")
    assert_well_formed_tables(out)
    assert out.splitlines()[0] == "### \\[link=https://example.com\\]a\\[/link\\]"
    assert "| | \\[link=https://example.com\\]a\\[/link\\] (baseline) | =cmd\\|\\[b\\] |" in out


# ---------------------------------------------------------------------------------------------
# explain


def test_explain_table(runner: CliRunner, spec_file: str) -> None:
    out = invoke(runner, "explain", spec_file)
    assert f"{SPEC_NAME}  input 3×8×8" in out
    for path in PATHS:
        assert f"\n{path}  " in out, path
    assert f"branches {BRANCH}, skip" in out


def test_explain_json(runner: CliRunner, spec_file: str) -> None:
    out = invoke(runner, "explain", spec_file, "-f", "json")
    assert out.isascii()
    data = json.loads(out)
    assert data["variants"][0]["name"] == SPEC_NAME
    assert [layer["path"] for layer in data["variants"][0]["layers"]] == PATHS


def test_explain_markdown(runner: CliRunner, spec_file: str) -> None:
    out = invoke(runner, "explain", spec_file, "-f", "markdown")
    assert_well_formed_tables(out)
    assert "`=HYPERLINK(x)\\|[b]` conv, 3×8×8 → 4×6×6" in out


# ---------------------------------------------------------------------------------------------
# Control characters, put into reports directly (the spec loader refuses them in names)

HOSTILE = "a\x1b[31mred\x07\x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\\x9b2J\u202e\n::warning::x"
"""An ANSI colour, a bell, an OSC 8 hyperlink, a C1 CSI, a bidi override, a newline."""


def hostile_report() -> Report:
    report = convcost.analyze(convcost.parse_spec(SPEC))
    layers = tuple(
        dataclasses.replace(layer, path=f"{HOSTILE}.{layer.path}", kind=HOSTILE)
        for layer in report.layers
    )
    return dataclasses.replace(report, name=HOSTILE, source=HOSTILE, layers=layers)


def hostile_comparison() -> Comparison:
    report = hostile_report()
    return compare([Entry(name=HOSTILE, report=report), Entry(name=HOSTILE + "2", report=report)])


def assert_no_control(text: str) -> None:
    found = re.findall(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]", text)
    assert not found, found
    assert "\n::warning::" not in text


def rich_text(paint: object) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, color_system=None, force_terminal=True)
    console.print(paint)
    return buffer.getvalue()


def test_table_escapes_control_characters() -> None:
    text = rich_text(render_report(hostile_report(), width=100))
    # with color_system=None rich writes no sequences of its own: any ESC would be the name's
    assert_no_control(text)
    assert "\\x1b[31mred\\x07" in text


def test_table_depth_escapes_control_characters() -> None:
    assert_no_control(rich_text(render_report(hostile_report(), depth=1, width=100)))


def test_machine_formats_escape_control_characters() -> None:
    report = hostile_report()
    assert_no_control(formats.to_markdown([report]))
    assert_no_control(formats.to_csv([report]).replace("\n", ""))
    assert_no_control(formats.totals_markdown([report]))
    assert_no_control(formats.totals_csv([report]).replace("\n", ""))
    text = formats.to_json([report], depth=1)
    assert text.isascii()
    assert json.loads(text)["name"] == HOSTILE


def test_comparison_escapes_control_characters() -> None:
    found = hostile_comparison()
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, color_system=None, force_terminal=True)
    comparison.print_comparison(console, found, per_layer=True, name=HOSTILE)
    assert_no_control(buffer.getvalue())
    assert_no_control(comparison_formats.comparison_markdown(found))
    assert_no_control(comparison_formats.comparison_csv(found).replace("\n", ""))
    assert comparison_formats.comparison_json(found, per_layer=True).isascii()


def test_explain_escapes_control_characters() -> None:
    explanations = explain(convcost.parse_spec(SPEC))
    hostile = tuple(
        dataclasses.replace(
            e,
            name=HOSTILE,
            layers=tuple(
                dataclasses.replace(item, path=HOSTILE, kind=HOSTILE, settings=HOSTILE)
                for item in e.layers
            ),
        )
        for e in explanations
    )
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, color_system=None, force_terminal=True)
    explain_render.print_explanations(console, hostile)
    assert_no_control(buffer.getvalue())
    assert_no_control(explain_render.explanations_markdown(hostile))
    assert explain_render.explanations_json(hostile, source=HOSTILE).isascii()


def test_no_hyperlink_on_a_colour_terminal(spec_file: str) -> None:
    # on a real terminal rich writes OSC 8 for [link=…]; a name must never produce one
    report = convcost.analyze(convcost.load_spec(spec_file))
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system="truecolor", force_terminal=True)
    console.print(render_report(report, width=200))
    assert "\x1b]8;" not in buffer.getvalue()
    assert "[link=https://example.com]click[/link]" in buffer.getvalue()


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-12", "-12"),  # a number keeps its sign
        ("plain", "plain"),
    ],
)
def test_csv_cell(text: str, cell: str) -> None:
    assert escape.csv_cell(text) == cell


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("conv1", "`conv1`"),
        ("a|b", "`a\\|b`"),
        ("a`b", "``a`b``"),
        ("`a", "`` `a ``"),
    ],
)
def test_markdown_code(text: str, span: str) -> None:
    assert escape.markdown_code(text) == span


@pytest.mark.parametrize("name", ["x\\\\", "a\\[b]", "\\", "[b]\\", "[/bold]", "[@click]x"])
def test_backslashes_and_brackets_in_titles(runner: CliRunner, tmp_path: Path, name: str) -> None:
    # rich's own escaping loses one of two trailing backslashes; titles are never markup
    path = tmp_path / "n.yaml"
    quoted = name.replace("'", "''")
    path.write_text(
        f"name: '{quoted}'\ninput: [3, 8, 8]\nvariants:\n  a: [{{relu: {{}}}}]\n  b: [{{relu: {{}}}}]\n",
        encoding="utf-8",
    )
    spec = convcost.load_spec(path)
    assert spec.name == name
    lines = [line.strip() for line in invoke(runner, "compare", str(path)).splitlines()]
    assert f"{name}  ratios to a" in lines
    single = tmp_path / "s.yaml"
    single.write_text(f"name: '{quoted}'\ninput: [3, 8, 8]\nlayers: [{{relu: {{}}}}]\n", "utf-8")
    lines = [line.strip() for line in invoke(runner, "analyze", str(single)).splitlines()]
    assert f"{name}  input 3×8×8" in lines


@pytest.mark.parametrize("name", ["x\\\\", "a\\[b]", "\\", "[b]\\", "[/bold]", "x\\\\\\[i]\\\\"])
def test_markup_round_trips_through_rich(name: str) -> None:
    buffer = io.StringIO()
    Console(file=buffer, color_system=None, width=100).print(f"[bold]{escape.markup(name)}[/]!")
    assert buffer.getvalue() == f"{name}!\n"
