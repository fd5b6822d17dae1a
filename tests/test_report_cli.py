"""``convcost report``, ``compare --format html`` (the scatter and its Pareto front) and
``analyze --format markdown --mermaid`` through the command line."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.cli import app
from convcost.errors import ExitStatus
from convcost.html.scatter import pareto_front
from tests.conftest import require
from tests.html_check import parse

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = str(ROOT / "specs" / "quickstart.yaml")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"})


def test_report_writes_one_page(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", "resnet18", "-o", str(out)])
    assert result.exit_code == ExitStatus.OK, result.stderr
    assert result.stdout == ""
    root = parse(out.read_text(encoding="utf-8"))
    assert len(root.find_all("section", "network")) == 1


def test_report_to_standard_output_and_variants(runner: CliRunner) -> None:
    result = runner.invoke(app, ["report", str(ROOT / "specs" / "one5x5-vs-two3x3.yaml")])
    assert result.exit_code == ExitStatus.OK, result.stderr
    root = parse(result.stdout)
    names = [s.attrs["data-name"] for s in root.find_all("section", "network")]
    assert names == ["one5x5", "two3x3"]  # the spec's variants, in file order
    assert len(root.find_all("nav")) == 1


def test_report_of_a_bad_spec_is_one_line_and_no_file(runner: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("name: bad\ninput: [3, 8, 8]\nlayers:\n  - conv: {out: 0, kernel: 3}\n")
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(spec), "-o", str(out)])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {spec}:4:"), line
    assert "out" in line, line
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [spec]


def test_report_refuses_to_overwrite_its_spec(runner: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(Path(QUICKSTART).read_text())
    result = runner.invoke(app, ["report", str(spec), "-o", str(spec)])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert "is the spec" in result.stderr
    assert spec.read_text() == Path(QUICKSTART).read_text()


def test_makefile_sample_report_command_runs(runner: CliRunner, tmp_path: Path) -> None:
    """The README's sample report comes from `make sample-report`: its convcost command runs
    (writing into tmp_path instead of build/)."""
    recipe = (ROOT / "Makefile").read_text().split("\nsample-report:", 1)[1]
    (command,) = re.findall(r"-m convcost (report [^\n]+)", recipe)
    args = command.split()
    args[args.index("-o") + 1] = str(tmp_path / "sample.html")
    result = runner.invoke(app, args)
    assert result.exit_code == ExitStatus.OK, result.stderr
    parse((tmp_path / "sample.html").read_text(encoding="utf-8"))


# -- compare --format html ---------------------------------------------------------------------

MODELS = ["resnet18", "resnet50", "mobilenet_v2", "squeezenet1_0", "alexnet"]


def _brute_front(points: list[tuple[int, int]]) -> set[int]:
    """Points that no other point dominates (no worse on both, better on one)."""
    return {
        i
        for i, (x, y) in enumerate(points)
        if not any(
            (a <= x and b <= y) and (a < x or b < y) for j, (a, b) in enumerate(points) if j != i
        )
    }


@pytest.mark.parametrize(
    ("flags", "axes"),
    [
        ([], ("macs", "params")),
        (
            ["--scatter-x", "params", "--scatter-y", "activation_bytes"],
            ("params", "activation_bytes"),
        ),
    ],
)
def test_compare_html_scatter(runner: CliRunner, flags: list[str], axes: tuple[str, str]) -> None:
    html = runner.invoke(app, ["compare", *MODELS, "--format", "html", *flags])
    assert html.exit_code == ExitStatus.OK, html.stderr
    data = json.loads(runner.invoke(app, ["compare", *MODELS, "--format", "json"]).stdout)
    root = parse(html.stdout)
    (svg,) = root.find_all("svg")
    points = svg.find_all("circle", "point")
    assert [p.attrs["data-name"] for p in points] == data["names"]
    values = [
        (variant["totals"][axes[0]], variant["totals"][axes[1]]) for variant in data["variants"]
    ]
    assert [(int(p.attrs["data-x"]), int(p.attrs["data-y"])) for p in points] == values
    on_front = {i for i, p in enumerate(points) if "on-front" in p.classes}
    assert on_front == _brute_front(values)
    assert svg.find_all("polyline", "front")
    # the table: one column per entry, the lowest of each cost row in bold
    (table,) = root.find_all("table")
    macs_row = next(tr for tr in table.find_all("tr") if tr.attrs.get("data-metric") == "macs")
    best = [td for td in macs_row.find_all("td") if "best" in td.classes]
    assert [int(td.attrs["data-value"]) for td in best] == [
        min(v["totals"]["macs"] for v in data["variants"])
    ]


def test_pareto_front_against_brute_force() -> None:
    hypothesis = require("hypothesis")
    st = require("hypothesis.strategies")

    @hypothesis.given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=12))
    @hypothesis.settings(max_examples=120, deadline=None)
    def check(points: list[tuple[int, int]]) -> None:
        front = pareto_front(points)
        assert set(front) == _brute_front(points)
        assert len(front) == len(set(front))
        assert [points[i][0] for i in front] == sorted(points[i][0] for i in front)

    check()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--scatter-x", "bogus"],
            "'bogus' is not one of params, macs, flops, ops, activation_bytes, time_ns",
        ),
        (["--scatter-y", "time_ns"], "time_ns is measured by --execute: add it"),
    ],
)
def test_compare_scatter_usage_errors(runner: CliRunner, flags: list[str], message: str) -> None:
    result = runner.invoke(app, ["compare", "resnet18", "alexnet", "--format", "html", *flags])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert message in result.stderr


# -- analyze --mermaid ----------------------------------------------------------------------------

MERGES = """
name: merges
input: [3, 8, 8]
blocks:
  pair:
    layers:
      - conv: {out: 4, kernel: 3, padding: 1}
      - relu: {}
layers:
  - conv: {out: 4, kernel: 3, padding: 1}
    name: "stem\\"`<b>#"
  - add:
      body: [{conv: {out: 4, kernel: 3, padding: 1}}, {relu: {}}]
      skip: []
  - concat:
      a: [{conv: {out: 2, kernel: 1}}]
      b: [{pair: {}}]
  - pair: {}
"""


def _mermaid(markdown: str) -> list[str]:
    (block,) = re.findall(r"```mermaid\n(.*?)\n```", markdown, re.DOTALL)
    return block.splitlines()


def test_mermaid_flowchart_of_the_top_level(runner: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "merges.yaml"
    spec.write_text(MERGES)
    result = runner.invoke(app, ["analyze", str(spec), "--format", "markdown", "--mermaid"])
    assert result.exit_code == ExitStatus.OK, result.stderr
    lines = _mermaid(result.stdout)
    assert lines[0] == "flowchart TD"
    boxes = dict(re.findall(r"^  (\w+)[\[{]+(\".*\")[\]}]+$", "\n".join(lines), re.MULTILINE))
    edges = re.findall(r"^  (\w+) --> (\w+)$", "\n".join(lines), re.MULTILINE)
    # input, stem, add (its body branch; the skip goes straight to the add), concat (a, b), pair
    assert len(boxes) == 1 + 1 + 2 + 3 + 1
    assert len(lines) == 1 + len(boxes) + len(edges)
    assert {a for a, _ in edges} | {b for _, b in edges} == set(boxes)
    # the add node has two inputs (the body and the skip from the stem), the concat two
    targets = [b for _, b in edges]
    assert sorted(targets.count(node) for node in set(targets)) == [1, 1, 1, 1, 1, 2, 2]
    # the hostile name: no quote, backtick or tag inside a label, entity codes instead
    stem = next(label for label in boxes.values() if "stem" in label)
    inner = stem[1:-1].replace("<br/>", "")
    assert not set(inner) & set('"`<>[]{}'), stem
    assert "stem#34;#96;#60;b#62;#35;" in stem


def test_mermaid_needs_markdown(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", QUICKSTART, "--mermaid"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert "a flowchart goes with --format markdown" in result.stderr


def _doc_commands() -> list[str]:
    text = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.startswith("convcost ")]


def test_report_doc_commands_run(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every `convcost …` line of docs/report.md's examples, in a folder holding a copy of
    specs/ (the pages land there)."""
    commands = _doc_commands()
    assert len(commands) >= 4
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    monkeypatch.chdir(tmp_path)
    for line in commands:
        args = shlex.split(line)[1:]
        result = runner.invoke(app, args)
        assert result.exit_code == ExitStatus.OK, f"{line}: {result.stderr}"
        parse((tmp_path / args[args.index("-o") + 1]).read_text(encoding="utf-8"))


def test_report_with_a_device_shows_each_layers_estimated_time(
    runner: CliRunner, tmp_path: Path
) -> None:
    """`report --device` adds a bar per layer of estimated time. By hand, on a device of
    1 GFLOP/s and 1 GB/s with no overhead: a 3×3 conv 3→8 with bias on 3×8×8 (padding 1) does
    8·8·8·27 = 13,824 MACs = 27,648 FLOPs plus 512 bias adds = 28,160 operations, 28,160 ns of
    compute; it moves (192 input + 224 parameters + 512 output) · 4 B = 3,712 B, 3,712 ns: it
    is compute-bound at 28,160 ns. The ReLU after it does 512 ops (512 ns) and moves
    (512 + 512) · 4 B = 4,096 B (4,096 ns): memory-bound at 4,096 ns."""
    spec = tmp_path / "net.yaml"
    spec.write_text(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 8, kernel: 3, padding: 1}\n  - relu: {}\n",
        encoding="utf-8",
    )
    device = tmp_path / "device.yaml"
    device.write_text(
        'device: "hand"\ncalibrated: false\nbackend: null\nthreads: 1\n'
        "peak_flops:\n  float32: 1G\nmemory_bandwidth: 1G\noverhead: 0\n",
        encoding="utf-8",
    )
    out = tmp_path / "net.html"
    result = runner.invoke(app, ["report", str(spec), "--device", str(device), "-o", str(out)])
    assert result.exit_code == ExitStatus.OK, result.output
    page = out.read_text(encoding="utf-8")
    chart = page[page.index("Estimated time per layer</h3>") :]
    chart = chart[: chart.index("</svg>")]
    assert [int(v) for v in re.findall(r'data-value="(\d+)"', chart)] == [28_160, 4_096]
    assert "32.3 µs in all" in chart  # 28,160 + 4,096 ns
    refused = runner.invoke(app, ["report", str(spec), "--device", "no-such-device"])
    assert refused.exit_code == ExitStatus.INVALID_INPUT
