"""JSON layout: compact by default, ``--indent N`` on request, the same data either way.

The oracle for indented text is the standard library: ``json.dumps(data, indent=N,
ensure_ascii=True)``, which convcost's faster :func:`convcost.jsontext.indented` must match
character for character. The compact text is checked by parsing it back and by its shape (one
line, no whitespace outside strings, ASCII).
"""

from __future__ import annotations

import json
import math
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from convcost import jsontext
from convcost.cli import app
from convcost.cli.common import resolve_spec
from convcost.engine import analyze_all
from convcost.errors import ExitStatus
from convcost.jsontext import dumps, indented
from convcost.render import formats
from convcost.serialize import report_to_dict

ROOT = Path(__file__).parent.parent
QUICKSTART = str(ROOT / "specs" / "quickstart.yaml")
CLI_DOC = ROOT / "docs" / "cli.md"
DILATED = str(ROOT / "specs" / "dilated-stack.yaml")  # variants: an array of reports

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=8)
)
JSON_DATA = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(data=JSON_DATA, indent=st.integers(min_value=0, max_value=4))
def test_indented_is_the_standard_librarys_text(data: Any, indent: int) -> None:
    expected = json.dumps(data, indent=indent, ensure_ascii=True)
    assert indented(data, indent) == expected
    assert dumps(data, indent=indent) == expected + "\n"


@settings(max_examples=200, deadline=None)
@given(data=JSON_DATA)
def test_compact_is_one_ascii_line_of_the_same_data(data: Any) -> None:
    text = dumps(data)
    assert text.endswith("\n")
    assert text.isascii()
    assert "\n" not in text[:-1]
    outside_strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text[:-1])
    assert " " not in outside_strings
    assert _same(json.loads(text), data)


def _same(parsed: Any, data: Any) -> bool:
    """Equal as JSON data: tuples read back as lists, NaN equal to NaN."""
    if isinstance(data, float) and math.isnan(data):
        return isinstance(parsed, float) and math.isnan(parsed)
    if isinstance(data, list | tuple):
        return (
            isinstance(parsed, list)
            and len(parsed) == len(data)
            and all(_same(p, d) for p, d in zip(parsed, data, strict=True))
        )
    if isinstance(data, dict):
        return parsed.keys() == data.keys() and all(_same(parsed[k], data[k]) for k in data)
    return bool(parsed == data) and type(parsed) is type(data)


def test_integers_past_the_4300_digit_limit_stay_exact() -> None:
    huge = 7**6000  # 5,071 digits: str() refuses it under Python's default limit
    previous = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    digits = str(huge)
    sys.set_int_max_str_digits(previous)  # dumps lifts the limit itself
    assert dumps({"macs": [huge, 1]}) == f'{{"macs":[{digits},1]}}\n'
    assert dumps({"macs": [huge, 1]}, indent=1) == f'{{\n "macs": [\n  {digits},\n  1\n ]\n}}\n'


def test_an_int_subclass_is_written_as_the_standard_library_writes_it() -> None:
    data = {"status": ExitStatus.INVALID_INPUT, "ok": [True, None]}
    assert dumps(data, indent=2) == json.dumps(data, indent=2) + "\n"
    assert json.loads(dumps(data)) == {"status": 2, "ok": [True, None]}


@pytest.mark.parametrize("indent", [None, 0, 2])
@pytest.mark.parametrize(("spec", "depth"), [("resnet18", None), ("resnet18", 2), (DILATED, 1)])
def test_streamed_reports_are_the_standard_librarys_text(
    spec: str, depth: int | None, indent: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # batches of 7 elements: every array of layers, blocks and rows spans several
    monkeypatch.setattr(jsontext, "BATCH", 7)
    reports = analyze_all(resolve_spec(spec))
    data = [report_to_dict(report) | formats.depth_json(report, depth) for report in reports]
    whole = data[0] if len(data) == 1 else data
    if indent is None:
        expected = json.dumps(whole, ensure_ascii=True, separators=(",", ":"))
    else:
        expected = json.dumps(whole, ensure_ascii=True, indent=indent)
    pieces = list(formats.json_chunks(reports, depth=depth, indent=indent))
    assert len(pieces) > 10
    assert "".join(pieces) == expected + "\n"
    assert formats.to_json(reports, depth=depth, indent=indent) == expected + "\n"


FRACTIONS = """input: [3, 16, 16]
layers:
  - conv_transpose: {out: 4, kernel: 2, stride: 2}
  - conv: {out: 4, kernel: 3, padding: 1}
  - conv: {out: 4, kernel: 3, padding: 1}
  - relu: {}
  - flatten: {}
  - linear: {out: 10}
  - linear: {out: 10}
  - relu: {}
"""
"""Jumps of 1/2 after the transposed conv (floats in the JSON), a view that moves nothing (a
null intensity), a global field after the linear, and repeated layers that share a cost."""


def test_streamed_layer_texts_are_the_standard_librarys_text(tmp_path: Path) -> None:
    # the compact path writes each layer from pieces encoded once (serialize._entry_texts);
    # the stdlib's encoding of the whole dict is the oracle
    spec = tmp_path / "net.yaml"
    spec.write_text(FRACTIONS, encoding="utf-8")
    reports = analyze_all(resolve_spec(str(spec)))
    data = report_to_dict(reports[0])
    jumps = {value for layer in data["layers"] for value in layer["jump"] or ()}
    assert jumps == {0.5}  # a stride-2 transposed conv halves the jump: 1 / 2
    assert [layer["intensity"] for layer in data["layers"]].count(None) == 1  # the flatten
    assert data["layers"][-1]["receptive_field_coverage"] == "global"
    expected = json.dumps(data, ensure_ascii=True, separators=(",", ":")) + "\n"
    assert "".join(formats.json_chunks(list(reports))) == expected


COMMANDS = [
    ["analyze", QUICKSTART],
    ["analyze", QUICKSTART, "--depth", "1"],
    ["zoo"],
    ["compare", str(ROOT / "specs" / "googlenet-5x5-branch.yaml"), "--per-layer"],
    ["explain", QUICKSTART, "--layer", "stem"],
    ["check", QUICKSTART],
]


def run(*args: str) -> str:
    result = CliRunner(env={"NO_COLOR": "1"}).invoke(app, list(args))
    assert result.exit_code in (ExitStatus.OK, ExitStatus.BUDGET_EXCEEDED), result.stderr
    return result.stdout


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: " ".join(args[:1] + args[2:]))
def test_every_json_command_is_compact_unless_indented(args: list[str]) -> None:
    compact = run(*args, "-f", "json")
    assert compact.endswith("\n")
    assert compact.count("\n") == 1
    assert compact.isascii()
    data = json.loads(compact)
    for indent in (0, 2, 4):
        expected = json.dumps(data, indent=indent, ensure_ascii=True) + "\n"
        assert run(*args, "-f", "json", "--indent", str(indent)) == expected


def test_json_is_byte_stable_across_processes() -> None:
    # two processes (two hash seeds): the same bytes
    def once(seed: str) -> bytes:
        return subprocess.run(
            [sys.executable, "-m", "convcost", "analyze", "resnet18", "-f", "json"],
            capture_output=True,
            check=True,
            cwd=ROOT,
            env={"PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
        ).stdout

    assert once("1") == once("2")


def test_indent_out_of_range_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["analyze", QUICKSTART, "-f", "json", "--indent", "17"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    # typer words the range its own way (which changes with its version): the option and bound
    assert re.search(r"Invalid value for '--indent': .*\b16\b", result.stderr), result.stderr


def layout_examples() -> list[tuple[str, str]]:
    """(command, shown output) from the JSON layout section of docs/cli.md."""
    text = CLI_DOC.read_text(encoding="utf-8")
    block = text.split("### JSON layout", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    examples = re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]
    return [tuple(example.split("\n", 1)) for example in examples]  # type: ignore[misc]


@pytest.mark.parametrize(("command", "shown"), layout_examples())
def test_the_documented_layout_is_real(command: str, shown: str) -> None:
    convcost_part, head = (part.strip() for part in command.split("|"))
    args = shlex.split(convcost_part)[1:]
    output = run(*[str(ROOT / arg) if arg.startswith("specs/") else arg for arg in args])
    unit, count = shlex.split(head)[1:]
    if unit == "-c":
        assert output[: int(count)] + "\n" == shown
    else:
        assert "".join(output.splitlines(keepends=True)[: int(count)]) == shown
