"""The rendered table, markdown and CSV parsed back: every column adds up to the printed total.

The engine's totals are computed as the sum of its layers, so comparing them with that sum
cannot fail. These tests read what a user reads instead, at every ``--depth``: the params and
MACs cells of the table (``--exact``) and of the markdown add up to the total printed under
them and in the summary; the ``%`` column adds up to 100; the CSV's integer columns add up to the
table's printed totals. For the zoo the printed totals are also torchvision's
(tests/test_zoo.py's ``TOTALS``).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from rich.console import Console

import convcost
from convcost import zoo
from convcost.render.formats import to_csv, to_markdown
from convcost.render.table import render_report
from tests.test_zoo import TOTALS

ROOT = Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").glob("*.yaml"))
DEPTHS = [None, 1, 2, 3]
ZOO = ["resnet18", "googlenet", "densenet121"]  # blocks, branches, and 427 layers


def number(cell: str) -> int:
    """An exact count as printed: ``1,234``, or ``—`` / ``0`` for nothing."""
    return 0 if cell in ("—", "") else int(cell.replace(",", "").strip("*"))


LEFT = {"layer", "kind"}
"""The table's left-justified columns; the others are right-justified."""


def parse_table(text: str) -> tuple[dict[str, list[str]], dict[str, str], dict[str, str]]:
    """The rows (cells per column), the footer (total) and the summary of one rendered report."""
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:2] == ["#", "layer"])
    # numbers are right-justified (found by where their header ends), names left-justified
    spans = {m.group(): m.span() for m in re.finditer(r"\S+", lines[head])}
    assert set(lines[head + 1].strip()) == {"─"}
    stop = next(i for i in range(head, len(lines)) if not lines[i].strip())
    body = lines[head + 2 : stop]
    footer_line = next(line for line in lines[stop:] if line.split()[:1] == ["total"])

    def cells(line: str) -> dict[str, str]:
        found = {m.span(): m.group() for m in re.finditer(r"\S+", line)}
        by_start = {start: text for (start, _), text in found.items()}
        by_end = {end: text for (_, end), text in found.items()}
        return {
            name: (by_start if name in LEFT else by_end).get(start if name in LEFT else end, "")
            for name, (start, end) in spans.items()
        }

    rows = [cells(line) for line in body]
    columns = {name: [row[name] for row in rows] for name in spans}
    footer = cells(footer_line)
    summary = {
        match.group(1): match.group(2)
        for line in lines
        if (match := re.match(r"(parameters|MACs) +([\d,]+)  ", line))
    }
    return columns, footer, summary


def parse_markdown(text: str) -> tuple[list[dict[str, str]], dict[str, str]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    cells = [
        dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True))
        for line in lines[2:]
    ]
    (footer,) = [row for row in cells if row["layer"] == "**total**"]
    return [row for row in cells if row is not footer], footer


def cases() -> list[tuple[str, Path]]:
    specs = [(path.stem, path) for path in SPECS]
    models = [(name, zoo.find(name)) for name in ZOO]
    return [*specs, *((name, path) for name, path in models if path is not None)]


@pytest.mark.parametrize(("name", "path"), cases(), ids=[name for name, _ in cases()])
def test_rendered_columns_add_up_to_the_printed_totals(name: str, path: Path) -> None:
    for report in convcost.analyze_all(convcost.load_spec(path)):
        printed: dict[str, int] = {}
        for depth in DEPTHS:
            buffer = io.StringIO()
            console = Console(file=buffer, width=250, color_system=None)
            console.print(render_report(report, depth=depth, exact=True, width=250))
            columns, footer, summary = parse_table(buffer.getvalue())
            where = f"{report.name} at depth {depth}"
            for column, label in (("params", "parameters"), ("MACs", "MACs")):
                total = number(footer[column])
                assert sum(map(number, columns[column])) == total, (where, column)
                assert number(summary[label]) == total, (where, column)
                assert printed.setdefault(column, total) == total, (where, column)
            if printed["MACs"]:
                shares = [float(cell.rstrip("%")) for cell in columns["%"] if cell]
                # each share is rounded to 0.1%: the sum is 100 within half a step per row
                assert sum(shares) == pytest.approx(100, abs=0.05 * len(shares) + 1e-9), where

            rows, md_footer = parse_markdown(to_markdown([report], depth=depth, exact=True))
            assert len(rows) == len(columns["params"]), where
            for column in ("params", "MACs"):
                assert number(md_footer[column]) == printed[column], (where, column)
                assert sum(number(row[column]) for row in rows) == printed[column], where

            lines = list(csv.DictReader(io.StringIO(to_csv([report], depth=depth))))
            assert len(lines) == len(rows), where
            for column, key in (("params", "params"), ("MACs", "macs")):
                assert sum(int(line[key]) for line in lines) == printed[column], (where, key)
            for line in lines:
                assert int(line["weights"]) + int(line["biases"]) == int(line["params"]), where
        if name in TOTALS:
            assert (printed["params"], printed["MACs"]) == TOTALS[name]


def test_the_parser_reads_a_known_table() -> None:
    # googlenet-5x5-branch's bottleneck, whose figures tests/test_examples.py derives by hand:
    # reduce 192·16 + 16 = 3,088 params, 784·16·192 = 2,408,448 MACs; conv1 5·5·16·32 + 32 =
    # 12,832 params, 784·32·16·25 = 10,035,200 MACs
    reports = convcost.analyze_all(convcost.load_spec(ROOT / "specs" / "googlenet-5x5-branch.yaml"))
    bottleneck = next(report for report in reports if report.name == "bottleneck")
    buffer = io.StringIO()
    Console(file=buffer, width=250, color_system=None).print(
        render_report(bottleneck, exact=True, width=250)
    )
    columns, footer, summary = parse_table(buffer.getvalue())
    assert columns["layer"] == ["reduce", "conv1"]
    assert columns["params"] == ["3,088", "12,832"]
    assert columns["MACs"] == ["2,408,448", "10,035,200"]
    assert columns["%"] == ["19.4%", "80.6%"]
    assert (footer["params"], footer["MACs"]) == ("15,920", "12,443,648")
    assert summary == {"parameters": "15,920", "MACs": "12,443,648"}
