"""``convcost analyze``'s table on narrow consoles: no number, shape or percentage is ever cut,
and every layer path stays readable.

The oracle is the report's JSON (:func:`convcost.serialize.report_to_dict`, what ``-f json``
prints, a path that shares nothing with the table's layout): each printed table is parsed back
and every cell compared with the JSON value written out here (``f"{value:,}"``, shapes joined
by ``×``), for both writers (the rich-free one and rich itself) at widths from 20 to 200.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from convcost import zoo
from convcost.engine import analyze_all
from convcost.executor.run import execute_all
from convcost.render import numbers
from convcost.render.execution import print_executed
from convcost.render.plain_report import plain_reports
from convcost.render.table import print_reports, print_zoo
from convcost.report import Report
from convcost.serialize import report_to_dict
from convcost.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
WIDTHS = (20, 33, 47, 60, 71, 88, 120, 200)


def sources() -> Iterator[str]:
    yield from zoo.names()
    yield from sorted(f"specs/{path.name}" for path in (ROOT / "specs").glob("*.yaml"))


def load(source: str) -> list[Report]:
    return analyze_all(load_spec(zoo.find(source) or ROOT / source))


def by_rich(reports: list[Report], width: int, *, exact: bool) -> str:
    buffer = io.StringIO()
    shown = Console(file=buffer, width=width, color_system=None, highlight=False)
    print_reports(shown, reports, depth=None, exact=exact)
    return buffer.getvalue()


def by_plain(reports: list[Report], width: int, *, exact: bool) -> str:
    pieces = plain_reports(reports, depth=None, exact=exact, width=width)
    assert pieces is not None
    return "".join(pieces)


# -- the oracle: a JSON layer's cells, written out independently --------------------------------


def count(value: int, *, exact: bool) -> str:
    if not value:
        return "—"
    return f"{value:,}" if exact else numbers.count(value, exact=False)


def field(entry: dict[str, Any]) -> str:
    coverage = entry["receptive_field_coverage"]
    if coverage != "local":
        return {"global": "global", "unknown": "?"}[coverage]
    sizes = entry["receptive_field"]
    text = str(sizes[0]) if len(set(sizes)) == 1 else "×".join(map(str, sizes))
    return (
        ("≤" if entry["receptive_field_varies"] else "")
        + text
        + ("+g" if entry["global_context"] else "")
    )


def expected(entry: dict[str, Any], total_macs: int, *, exact: bool) -> dict[str, str]:
    macs = entry["macs"]
    return {
        "output": "×".join(map(str, entry["output_shape"])),
        "params": count(entry["params"], exact=exact),
        "MACs": count(macs, exact=exact),
        # the percentage: tenths rounded half to even, written out from the JSON integers
        "%": numbers.share(macs, total_macs) if macs else "",
        "RF": field(entry),
    }


# -- parsing a printed table back ---------------------------------------------------------------

RIGHT = ("#", "output", "params", "MACs", "%", "RF", "time", "GFLOP/s")


def parse(text: str) -> Iterator[tuple[str, dict[str, str]]]:
    """Each layer table's rows: the path (its lines joined) and the right-aligned cells, read
    at the columns their headers end on (a cell there never spills past its header's end)."""
    lines = text.splitlines()
    for at, line in enumerate(lines):
        if not re.match(r"^\s+#\s+layer\s", line):
            continue
        heads = {match.group(): match for match in re.finditer(r"\S+", line)}
        layer = heads["layer"].start()
        right = [name for name in heads if name in RIGHT]
        path = ""
        cells: dict[str, str] = {}
        for body in lines[at + 2 :]:
            if not body.strip():
                break
            number = body[: heads["#"].end()].strip()
            if number:
                if cells:
                    yield path, cells
                path, cells = "", {}
            fragment = body[layer:].split(" ", 1)[0] if len(body) > layer else ""
            path += fragment
            start = 0
            for name in right:
                end = heads[name].end()
                cell = body[start:end].strip()
                if name == "output":  # after the path and kind: the word ending at its end
                    cell = body[:end].split()[-1] if body[end - 1 : end].strip() else ""
                if number:
                    cells[name] = cell
                else:
                    assert cell == "", (name, body)  # numbers never wrap
                start = end
        if cells:
            yield path, cells


@pytest.mark.parametrize("source", list(sources()))
def test_every_cell_is_the_reports_value_whole(source: str) -> None:
    reports = load(source)
    wanted = [
        json.loads(json.dumps(report_to_dict(report), ensure_ascii=False)) for report in reports
    ]
    for exact in (True, False):
        for width in WIDTHS:
            for writer in (by_plain, by_rich):
                text = writer(reports, width, exact=exact)
                rows = list(parse(text))
                layers = [
                    (entry, document["totals"]["macs"])
                    for document in wanted
                    for entry in document["layers"]
                ]
                assert len(rows) == len(layers), (writer.__name__, width)
                for (path, cells), (entry, total) in zip(rows, layers, strict=True):
                    where = (writer.__name__, width, exact, entry["path"])
                    assert path == entry["path"], where
                    check_row(cells, expected(entry, total, exact=exact), where)
                    assert "…" not in "".join(cells.values()), where
                assert "…" not in text, (writer.__name__, width, exact)
                summary_whole(text, wanted, exact=exact)


def check_row(cells: dict[str, str], shown: dict[str, str], where: object) -> None:
    assert {name: cell for name, cell in cells.items() if name in shown} == {
        name: shown[name] for name in cells if name in shown
    }, where
    assert "…" not in "".join(cells.values()), where


def summary_whole(text: str, documents: list[dict[str, Any]], *, exact: bool) -> None:
    """The summary's totals printed whole on their label's line."""
    for document in documents:
        totals = document["totals"]
        for label, value in (("parameters", totals["params"]), ("MACs", totals["macs"])):
            written = count(value, exact=exact)
            assert re.search(rf"^{label}\s+{re.escape(written)}(\s|$)", text, re.M), (
                label,
                written,
            )
        if exact:  # the exact MACs in the detail column too
            assert f" {totals['macs']:,}" in text


def test_columns_go_in_order_and_a_wide_table_is_printed_whole() -> None:
    """vgg16 exact: 14-character MACs; the kind column goes first, then %, then RF, and at
    20 columns the table is wider than the console rather than cut."""
    reports = load("vgg16")

    def header(width: int) -> list[str]:
        text = by_plain(reports, width, exact=True)
        line = next(line for line in text.splitlines() if re.match(r"^\s+#\s+layer", line))
        return line.split()

    # by hand: the widest cells are # 2 ("40"), kind 16 ("adaptive_avgpool"), output 11
    # ("128×112×112"), params 11 ("138,357,544"), MACs 14 ("15,470,264,320"), % 5 ("12.0%"),
    # RF 6 ("global"), the path 20 ("stage1.convs.0.conv1"); each column costs 3 more, and
    # the path keeps its 20 (kind), then 12 (% and RF)
    full = ["#", "layer", "kind", "output", "params", "MACs", "%", "RF"]
    assert header(200) == full
    assert header(109) == full  # 109 - 89 = 20
    assert header(108) == [name for name in full if name != "kind"]
    assert header(82) == [name for name in full if name != "kind"]  # 82 - 70 = 12
    assert header(81) == [name for name in full if name not in ("kind", "%")]
    assert header(74) == [name for name in full if name not in ("kind", "%")]  # 74 - 62 = 12
    assert header(73) == ["#", "layer", "output", "params", "MACs"]
    assert header(20) == ["#", "layer", "output", "params", "MACs"]
    widest = max(map(len, by_plain(reports, 20, exact=True).splitlines()))
    assert widest > 20
    assert max(map(len, by_rich(reports, 20, exact=True).splitlines())) == widest


def test_the_documented_narrow_tables_are_real() -> None:
    """docs/cli.md's narrow examples, run as written (``COLUMNS=N convcost ... | head -K``)."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    section = text[text.index("### The layer table on a narrow console") :]
    start = section.index("```text\n") + 8
    block = section[start : section.index("\n```", start) + 1]
    examples = re.split(r"^\$ ", block, flags=re.M)[1:]
    assert len(examples) == 2
    for example in examples:
        command, *shown = example.rstrip("\n").split("\n")
        found = re.fullmatch(r"COLUMNS=(\d+) convcost (.+) \| head -(\d+)", command)
        assert found, command
        done = subprocess.run(
            [sys.executable, "-m", "convcost", *shlex.split(found[2])],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": found[1]},
            capture_output=True,
            text=True,
            check=True,
        )
        printed = done.stdout.splitlines()[: int(found[3])]
        assert [line.rstrip() for line in printed] == shown, command


TIME = re.compile(r"\d+ µs|\d+\.\d\d (ms|s)")
RATE = re.compile(r"(\d+\.\d)?")


def test_execute_columns_are_whole() -> None:
    """``--execute``'s time and GFLOP/s columns beside the cost columns, at every width."""
    results = list(execute_all(load_spec(ROOT / "specs/quickstart.yaml")))
    document = report_to_dict(results[0].report)
    for width in WIDTHS:
        buffer = io.StringIO()
        shown = Console(file=buffer, width=width, color_system=None, highlight=False)
        print_executed(shown, results, depth=None, exact=True)
        text = buffer.getvalue()
        rows = list(parse(text))
        assert len(rows) == len(document["layers"]), width
        for (path, cells), entry in zip(rows, document["layers"], strict=True):
            assert path == entry["path"], width
            check_row(cells, expected(entry, document["totals"]["macs"], exact=True), width)
            assert TIME.fullmatch(cells["time"]), (width, cells)
            assert RATE.fullmatch(cells["GFLOP/s"]), (width, cells)
        assert "…" not in text, width
        summary_whole(text, [document], exact=True)
        assert re.search(r"^executed\s+(\d+ µs|\d+\.\d\d (ms|s))(\s|$)", text, re.M), width
        assert re.search(r"^achieved\s+\d+\.\d GFLOP/s(\s|$)", text, re.M), width


def test_zoo_lines_are_whole() -> None:
    """``convcost zoo --exact`` at every width: each model's line holds its totals whole."""
    reports = [report for name in zoo.names() for report in load(name)]
    documents = [report_to_dict(report) for report in reports]
    for width in WIDTHS:
        buffer = io.StringIO()
        print_zoo(Console(file=buffer, width=width, color_system=None), reports, exact=True)
        text = buffer.getvalue()
        assert "…" not in text, width
        for document in documents:
            totals = document["totals"]
            cells = (
                document["name"],
                "×".join(map(str, document["input_shape"])),
                count(totals["params"], exact=True),
                count(totals["macs"], exact=True),
                f"{totals['activation_bytes']:,} B",
                str(len(document["layers"])),
            )
            line = r"\s+".join(map(re.escape, cells))
            assert re.search(rf"^ {line}\s*$", text, re.M), (width, document["name"])


@pytest.mark.parametrize("source", ["resnet50", "densenet121", "specs/unet-dag.yaml"])
def test_collapsed_rows_are_their_layers_sums(source: str) -> None:
    """``--depth``: a collapsed row's params and MACs are the sums of the JSON layers under
    its path, written whole, and its output the last one's."""
    reports = load(source)
    document = report_to_dict(reports[0])
    layers = document["layers"]
    for depth in (1, 2):
        for width in (20, 47, 88, 200):
            for writer in ("plain", "rich"):
                if writer == "plain":
                    pieces = plain_reports(reports, depth=depth, exact=True, width=width)
                    assert pieces is not None
                    text = "".join(pieces)
                else:
                    buffer = io.StringIO()
                    shown = Console(file=buffer, width=width, color_system=None)
                    print_reports(shown, reports, depth=depth, exact=True)
                    text = buffer.getvalue()
                assert "…" not in text
                rows = list(parse(text))
                assert 0 < len(rows) <= len(layers)
                for path, cells in rows:
                    under = [
                        entry
                        for entry in layers
                        if entry["path"] == path or entry["path"].startswith(path + ".")
                    ]
                    assert under, (width, path)
                    where = (writer, depth, width, path)
                    assert cells["params"] == count(sum(e["params"] for e in under), exact=True), (
                        where
                    )
                    assert cells["MACs"] == count(sum(e["macs"] for e in under), exact=True), where
                    assert cells["output"] == "×".join(map(str, under[-1]["output_shape"])), where


PER_LAYER = ("--per-layer", "--exact")


@pytest.mark.parametrize("spec", ["conv3x3-vs-1x1", "separable-vs-standard", "mobilenet_v2_family"])
def test_compare_per_layer_numbers_are_whole(spec: str) -> None:
    """``compare --per-layer --exact``: every shared layer's exact params and MACs of both
    variants (from their JSON) printed whole at every width."""
    reports = load(f"specs/{spec}.yaml")
    documents = [report_to_dict(report) for report in reports]
    for width in (20, 47, 88, 200):
        done = subprocess.run(
            [sys.executable, "-m", "convcost", "compare", f"specs/{spec}.yaml", *PER_LAYER],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": str(width)},
            capture_output=True,
            text=True,
            check=True,
        )
        assert "…" not in done.stdout, width
        words = set(done.stdout.split())
        for document in documents:
            for entry in document["layers"]:
                for value in (entry["params"], entry["macs"]):
                    assert count(value, exact=True) in words, (width, entry["path"], value)
