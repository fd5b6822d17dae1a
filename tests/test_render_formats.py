"""Numbers of any size in every format, ``--depth`` in JSON, and docs/json-format.md.

Every expected string here is written out by hand from the definition of the format
(``%.1e``-style scientific notation, SI and binary suffixes, thousands separators), never
computed with the code under test.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

import convcost
from convcost import integers
from convcost.cli import app
from convcost.compare import Entry, compare
from convcost.errors import ExitStatus
from convcost.render import comparison, comparison_formats, formats, numbers
from convcost.render.table import render_report
from convcost.report import Cost, Report

ROOT = Path(__file__).parent.parent


@pytest.fixture
def unlimited_digits() -> Iterator[None]:
    """Let the test itself parse integers above 4,300 digits (json.loads, int())."""
    previous = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    yield
    sys.set_int_max_str_digits(previous)


# ---------------------------------------------------------------------------------------------
# Formatters, hand-picked values


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (999, "999"),
        (1_000, "1.0 K"),
        (1_250, "1.2 K"),  # 1.25: a tie, to even
        (1_350, "1.4 K"),  # 1.35: a tie, to even
        (999_949, "999.9 K"),
        (999_950, "1.0 M"),  # 999.95 K rounds to 1000.0 K: the next suffix
        (120_422_400, "120.4 M"),
        (999_949_999_999_999, "999.9 T"),
        (999_950_000_000_000, "1.0e+15"),  # past T: scientific
        (10**60, "1.0e+60"),
        (12 * 10**59, "1.2e+60"),
        (125 * 10**58, "1.2e+60"),  # tie to even
        (135 * 10**58, "1.4e+60"),
        (996 * 10**57, "1.0e+60"),  # 9.96e+59 rounds up into the next power
        (10**320, "1.0e+320"),  # float(10**320) overflows
        pytest.param(10**5000, "1.0e+5000", id="10^5000"),  # str() refuses: > 4,300 digits
        (-5_000, "-5.0 K"),
    ],
)
def test_count(value: int, text: str) -> None:
    assert numbers.count(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1_023, "1,023 B"),
        (1_024, "1.0 KiB"),
        (1_572_864, "1.5 MiB"),  # 1.5 · 2^20
        (1_048_525, "1.0 MiB"),  # 1023.9502 KiB rounds to 1024.0: the next suffix
        (1_048_524, "1023.9 KiB"),  # 1023.9492 KiB
        (1023 * 2**40, "1023.0 TiB"),
        (2**50, "1.1e+15 B"),  # 1,125,899,906,842,624 B: past TiB
        (8 * 10**60, "8.0e+60 B"),
        pytest.param(10**5000, "1.0e+5000 B", id="10^5000"),
    ],
)
def test_size(value: int, text: str) -> None:
    assert numbers.size(value) == text


def test_exact_counts_of_any_size() -> None:
    assert numbers.count(120_422_400, exact=True) == "120,422,400"
    assert numbers.count(-1_000, exact=True) == "-1,000"
    # 10^5000 has 5,001 digits: "100" then 1,666 groups of "000"
    assert numbers.count(10**5000, exact=True) == "100" + ",000" * 1666
    assert numbers.size(10**5000, exact=True) == "100" + ",000" * 1666 + " B"
    assert integers.digits(10**5000 + 7) == "1" + "0" * 4999 + "7"
    assert integers.digits(-(10**6000)) == "-1" + "0" * 6000


@pytest.mark.parametrize(
    ("value", "exponent"),
    [
        (1, 0),
        (9, 0),
        (10, 1),
        (10**100 - 1, 99),
        (10**100, 100),
        pytest.param(2**20000, 6020, id="2^20000"),
    ],
)
def test_exponent(value: int, exponent: int) -> None:
    # 2^20000 = 10^(20000·log10 2) = 10^6020.6
    assert integers.exponent(value) == exponent


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-(10**9000), max_value=10**9000))
def test_digits_and_grouped_equal_python_without_the_limit(value: int) -> None:
    # oracle: Python's own int formatting, with the digit limit lifted for the comparison
    previous = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        expected, expected_grouped = str(value), f"{value:,}"
    finally:
        sys.set_int_max_str_digits(previous)
    assert integers.digits(value) == expected
    assert integers.grouped(value) == expected_grouped


@settings(max_examples=500, deadline=None)
@given(st.integers(min_value=-(10**60), max_value=10**60), st.sampled_from([0, 1, 4]))
@example(0, 1)
def test_scientific_equals_decimal(value: int, decimals: int) -> None:
    # oracle: the decimal module's exact half-even formatting, exponent padded to two digits;
    # for zero, float formatting (Decimal writes 0 as "0.0e+1", keeping its exponent quirk)
    if value == 0:
        assert integers.scientific(0, decimals=decimals) == f"{0.0:.{decimals}e}"
        return
    mantissa, exponent = format(Decimal(value), f".{decimals}e").split("e")
    assert integers.scientific(value, decimals=decimals) == f"{mantissa}e{int(exponent):+03d}"


def test_share_and_ratios_of_huge_values() -> None:
    assert numbers.share(10**400, 3 * 10**400) == "33.3%"
    assert comparison_formats.ratio_text(comparison_formats.Fraction(10**400, 3)) == "3.3e+399×"
    assert comparison_formats.ratio_float(comparison_formats.Fraction(10**400, 3)) is None


# ---------------------------------------------------------------------------------------------
# Every format, with costs a spec cannot reach (so the renderers do not rely on spec limits)

HUGE = 10**5000 + 1
SPEC = "name: huge\ninput: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3}\n  - relu: {}\n"


def huge_report() -> Report:
    report = convcost.analyze(convcost.parse_spec(SPEC))
    cost = Cost(weights=10**60, biases=10**320, macs=HUGE, ops=12 * 10**59, activation_elements=7)
    layers = (dataclasses.replace(report.layers[0], cost=cost), *report.layers[1:])
    return dataclasses.replace(
        report, layers=layers, totals=cost + report.layers[1].cost, peak_activation_elements=HUGE
    )


def rendered_table(report: Report, depth: int | None = None) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=100, color_system=None).print(
        render_report(report, depth=depth, width=100)
    )
    return buffer.getvalue()


def test_table_with_huge_numbers() -> None:
    lines = rendered_table(huge_report()).splitlines()
    conv = next(line for line in lines if " conv1 " in line)
    # params 10^60 + 10^320 ≈ 1.0e+320; MACs 10^5000 + 1 ≈ 1.0e+5000
    assert conv.split()[-4:-1] == ["1.0e+320", "1.0e+5000", "100.0%"]
    total = next(line for line in lines if line.strip().startswith("total"))
    assert total.split()[-3:-1] == ["1.0e+320", "1.0e+5000"]
    summary = "\n".join(lines)
    assert re.search(r"other ops\s+1\.2e\+60\b", summary)
    # activations: 7 + 4·6·6 (the relu's) = 151 elements × 4 B = 604 B
    assert re.search(r"activations\s+604 B\b", summary)


def test_exact_table_with_huge_numbers(unlimited_digits: None) -> None:
    # Python's own formatting, with the digit limit lifted, is the oracle for the exact text
    buffer = io.StringIO()
    Console(file=buffer, width=100, color_system=None).print(
        render_report(huge_report(), exact=True, width=100)
    )
    folded = re.sub(r"\s+", "", buffer.getvalue())  # long values fold across lines
    assert f"{10**60:,}weights+{10**320:,}biases" in folded
    assert f"MACs1.0e+5000{HUGE:,}" not in folded  # the exact column is not cut short…
    assert f"{HUGE:,}" in folded  # …the detail column holds every digit


def test_json_keeps_exact_integers(unlimited_digits: None) -> None:
    text = formats.to_json([huge_report()], depth=1)
    assert text.isascii()
    data = json.loads(text)
    assert data["layers"][0]["macs"] == HUGE
    assert data["layers"][0]["params"] == 10**60 + 10**320
    assert data["totals"]["peak_activation_bytes"] == 4 * HUGE
    assert data["rows"][0]["macs"] == HUGE


def test_csv_keeps_exact_integers(unlimited_digits: None) -> None:
    rows = list(csv.DictReader(io.StringIO(formats.to_csv([huge_report()]))))
    assert int(rows[0]["macs"]) == HUGE
    assert int(rows[0]["flops"]) == 2 * HUGE
    totals = list(csv.DictReader(io.StringIO(formats.totals_csv([huge_report()]))))
    assert int(totals[0]["params"]) == 10**60 + 10**320


def test_markdown_with_huge_numbers(unlimited_digits: None) -> None:
    text = formats.to_markdown([huge_report()])
    assert "| 1 | `conv1` | conv | 4×6×6 | 1.0e+320 | 1.0e+5000 | 3 |" in text
    assert f"Parameters {10**60 + 10**320:,} · MACs {HUGE:,} · FLOPs {2 * HUGE:,}" in text


def test_comparison_with_huge_numbers(unlimited_digits: None) -> None:
    small = convcost.analyze(convcost.parse_spec(SPEC))
    found = compare([Entry(name="small", report=small), Entry(name="huge", report=huge_report())])
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system=None)
    comparison.print_comparison(console, found, per_layer=True)
    text = buffer.getvalue()
    # MACs of the small spec: 6·6·4·(3·3·3) = 3,888; huge / small = (10^5000 + 1) / 3888
    assert "3.9 K" in text
    assert "1.0e+5000 (2.6e+4996×)" in text
    data = json.loads(comparison_formats.comparison_json(found, per_layer=True))
    assert data["ratios"]["huge"]["macs"] is None  # beyond a float
    assert data["exact_ratios"]["huge"]["macs"] == f"{HUGE}/3888"
    rows = list(csv.DictReader(io.StringIO(comparison_formats.comparison_csv(found))))
    assert int(rows[1]["macs"]) == HUGE
    assert rows[1]["macs_ratio"] == ""
    assert "1.0e+5000 (2.6e+4996×)" in comparison_formats.comparison_markdown(found)


# Through the CLI: a spec with shapes of 10^15 per axis (within int64) gives MACs of 10^75.
HUGE_SPEC = """name: huge
input: [1000000000000000, 1000000000000000, 1000000000000000, 1000000000000000]
layers:
  - conv: {out: 1000000000000000, kernel: 1}
"""
# Hand-computed: weights 10^15·10^15 = 10^30, biases 10^15; output elements (10^15)^4 = 10^60;
# MACs = output elements × C_in × 1 = 10^75.


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_cli_huge_spec(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(HUGE_SPEC, encoding="utf-8")
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"})
    result = runner.invoke(app, ["analyze", str(path), "-f", fmt])
    assert result.exit_code == ExitStatus.OK, result.output
    out = result.stdout
    if fmt == "json":
        data = json.loads(out)
        assert data["totals"]["macs"] == 10**75
        assert data["totals"]["params"] == 10**30 + 10**15
        assert data["totals"]["activation_bytes"] == 4 * 10**60
    elif fmt == "csv":
        row = next(csv.DictReader(io.StringIO(out)))
        assert row["macs"] == "1" + "0" * 75
    else:
        assert "1.0e+75" in out
        assert "1.0e+30" in out
        assert "1000000000000000.0" not in out  # the garbled form of old


# ---------------------------------------------------------------------------------------------
# --depth in JSON

DEPTH_SPEC = """
name: nested
input: [3, 8, 8]
blocks:
  unit:
    layers:
      - conv: {out: 4, kernel: 3, padding: 1, bias: false}
      - relu: {}
layers:
  - conv: {out: 4, kernel: 3, padding: 1}
  - add:
      a: [{unit: {}}]
      b: []
  - unit: {}
    repeat: 2
"""
# Hand-computed totals, from the cost model (docs/cost-model.md), 8×8 maps throughout:
#   conv1   3→4, 3×3, bias: weights 3·3·3·4 = 108, biases 4, MACs 64·4·27 = 6,912,
#           ops 256 (a bias add per output), activations 4·64 = 256
#   unit    conv 4→4, 3×3, no bias: weights 144, MACs 64·4·36 = 9,216, activations 256;
#           relu: ops 256, activations 256            — used 3 times (once in a branch, twice)
#   add1    2 branches: ops (2−1)·256 = 256, activations 256
DEPTH_TOTALS = {
    "weights": 108 + 3 * 144,
    "biases": 4,
    "params": 112 + 3 * 144,
    "macs": 6_912 + 3 * 9_216,
    "ops": 256 + 3 * 256 + 256,
    "activation_elements": 256 + 3 * 512 + 256,
}
SUMMED = list(DEPTH_TOTALS)


def depth_json(tmp_path: Path, *options: str) -> dict[str, Any]:
    path = tmp_path / "nested.yaml"
    path.write_text(DEPTH_SPEC, encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", str(path), "-f", "json", *options])
    assert result.exit_code == ExitStatus.OK, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_json_totals_match_the_hand_computed_ones(tmp_path: Path) -> None:
    data = depth_json(tmp_path)
    assert {key: data["totals"][key] for key in SUMMED} == DEPTH_TOTALS
    assert "rows" not in data  # without --depth the report is as before


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5])
def test_json_rows_at_each_depth_sum_to_the_hand_computed_totals(
    tmp_path: Path, depth: int
) -> None:
    data = depth_json(tmp_path, "--depth", str(depth))
    assert data["depth"] == depth
    sums = {key: sum(row[key] for row in data["rows"]) for key in SUMMED}
    assert sums == DEPTH_TOTALS
    assert all(len(row["path"].split(".")) <= depth for row in data["rows"])


def test_json_rows_are_the_table_rows(tmp_path: Path) -> None:
    # the CSV and the JSON list the same rows at a depth (paths written out by hand)
    data = depth_json(tmp_path, "--depth", "2")
    assert [(row["path"], row["kind"], row["collapsed"]) for row in data["rows"]] == [
        ("conv1", "conv", False),
        ("add1.a", "branch", True),
        ("add1", "add", False),
        ("unit1.0", "unit", True),  # repeat children are numbered from 0
        ("unit1.1", "unit", True),
    ]
    path = tmp_path / "nested.yaml"
    result = CliRunner().invoke(app, ["analyze", str(path), "-f", "csv", "--depth", "2"])
    paths = [row["path"] for row in csv.DictReader(io.StringIO(result.stdout))]
    assert paths == [row["path"] for row in data["rows"]]


# ---------------------------------------------------------------------------------------------
# docs/json-format.md: every example is the real output of the command above it

JSON_DOC = ROOT / "docs" / "json-format.md"
EXAMPLE = re.compile(
    r"<!-- output of: (?P<command>convcost [^>]*?) -->\n```json\n(?P<body>.*?)\n```", re.S
)
ANY = "…"
"""A value the doc elides: it matches any value."""


def matches(documented: object, real: object, where: str = "") -> None:
    if documented == ANY:
        return
    if isinstance(documented, dict):
        assert isinstance(real, dict), where
        assert list(documented) == list(real), where
        for key, value in documented.items():
            if key != "convcost_version":
                matches(value, real[key], f"{where}.{key}")
        return
    if isinstance(documented, list):
        assert isinstance(real, list), where
        assert len(documented) == len(real), where
        for index, (value, other) in enumerate(zip(documented, real, strict=True)):
            matches(value, other, f"{where}[{index}]")
        return
    assert documented == real, where


def doc_examples() -> list[Any]:
    text = JSON_DOC.read_text(encoding="utf-8")
    return [
        pytest.param(match["command"], match["body"], id=match["command"])
        for match in EXAMPLE.finditer(text)
    ]


def test_the_doc_has_examples() -> None:
    commands = [param.values[0] for param in doc_examples()]
    assert [command.split()[1] for command in commands] == ["analyze", "compare", "explain"]


@pytest.mark.parametrize(("command", "body"), doc_examples())
def test_doc_example_is_real_output(
    command: str, body: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, command.split()[1:])
    assert result.exit_code == ExitStatus.OK, result.output
    matches(json.loads(body), json.loads(result.stdout))


def documented_fields() -> set[str]:
    """The field names in the first column of the doc's field tables."""
    fields: set[str] = set()
    for line in JSON_DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            fields.update(re.findall(r"`([a-z_]+)`", line.split(" | ")[0]))
    return fields


FIELDS_SPEC = """
name: fields
input: [3, 7, 7]
variants:
  a:
    - conv: {out: 4, kernel: 2, stride: 2}
    - add:
        x: [{relu: {}}]
        y: []
  b:
    - conv: {out: 4, kernel: 7}
    - custom: {label: Sin, unknown: true}
"""
"""Has every optional part: a warning (the stride-2 conv leaves a pixel of 7 unread), blocks,
an oversized entry (a 7×7 field on a 7×7 input), shared layer paths and a placeholder of
unknown cost (its report's notes)."""


def all_keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value).union(*(all_keys(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(all_keys(item) for item in value))
    return set()


def test_every_documented_field_is_real_and_every_real_field_documented(tmp_path: Path) -> None:
    path = tmp_path / "fields.yaml"
    path.write_text(FIELDS_SPEC, encoding="utf-8")
    runner = CliRunner()
    real: set[str] = set()
    for args in (
        ["analyze", str(path), "-f", "json", "--depth", "1"],
        ["compare", str(path), "-f", "json", "--per-layer"],
        ["explain", str(path), "-f", "json"],
        ["analyze", str(path), "-f", "json", "--device", "desktop-cpu", "--execute"],
        ["compare", str(path), "-f", "json", "--device", "desktop-cpu"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == ExitStatus.OK, result.output
        data = json.loads(result.stdout)
        real |= all_keys(data)
        if args[0] == "analyze":
            assert data[0]["warnings"]
            assert data[0]["blocks"]
        if args[0] == "compare":
            assert data["oversized"]
    assert documented_fields() - real == set(), "documented but never written"
    names = {"a", "b"}  # the entries' names: keys of ratios and exact_ratios, not fields
    assert real - names - documented_fields() == set(), "written but not documented"
