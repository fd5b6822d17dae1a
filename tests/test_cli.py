"""The command line: formats, files, exit codes and messages (typer's CliRunner)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.cli import app
from convcost.errors import ExitStatus
from convcost.render.table import wrap_path
from convcost.version import __version__

SPECS = Path(__file__).parent.parent / "specs"
QUICKSTART = str(SPECS / "quickstart.yaml")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"})


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == ExitStatus.OK
    assert result.stdout == f"convcost {__version__}\n"


def test_analyze_table(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", QUICKSTART])
    assert result.exit_code == ExitStatus.OK, result.stderr
    assert "stem" in result.stdout
    assert "57.1 K" in result.stdout  # 57,130 parameters (tests/test_examples.py::test_quickstart)
    assert "\x1b[" not in result.stdout  # no colour codes when NO_COLOR is set / not a TTY


def test_analyze_exact(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", QUICKSTART, "--exact"])
    assert "57,130" in result.stdout


def test_table_fits_80_columns() -> None:
    narrow = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "80"})
    result = narrow.invoke(app, ["analyze", str(SPECS / "separable-vs-standard.yaml")])
    assert result.exit_code == ExitStatus.OK
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_deep_paths_break_after_dots_at_80_columns() -> None:
    narrow = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "80"})
    result = narrow.invoke(app, ["analyze", "resnet50"])
    assert result.exit_code == ExitStatus.OK
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    # the kind column gives way to the paths, which wrap after a dot, never inside a name
    header = next(line for line in lines if "layer" in line and "MACs" in line)
    assert "kind" not in header
    first = next(i for i, line in enumerate(lines) if " layer1.0.add1.body. " in line)
    assert lines[first + 1].split() == ["body1.conv1"]
    wide = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "140"}).invoke(app, ["analyze", "resnet50"])
    assert "layer1.0.add1.body.body1.conv1" in wide.stdout
    assert "kind" in wide.stdout


def test_wrap_path() -> None:
    assert wrap_path("conv1", 8) == "conv1"
    assert wrap_path("layer1.0.add1.body.body1.conv1", 20) == "layer1.0.add1.body.\nbody1.conv1"
    # a single name longer than the limit stays whole (rich folds it)
    assert wrap_path("a.verylongname", 5) == "a.\nverylongname"


def test_analyze_json_contract(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", QUICKSTART, "--format", "json"])
    assert result.exit_code == ExitStatus.OK
    data = json.loads(result.stdout)
    assert data["convcost_version"] == __version__
    assert data["convention"]["flops"] == "2 × macs"
    assert data["input_shape"] == [3, 32, 32]
    assert data["output_shape"] == [10]
    assert (data["batch"], data["dtype"]) == (1, "float32")
    totals = data["totals"]
    assert totals["params"] == 57_130
    assert totals["flops"] == 2 * totals["macs"]
    assert totals["receptive_field"] is None  # global after the global pool
    assert totals["jump"] is None
    for key in (
        "path",
        "kind",
        "input_shape",
        "output_shape",
        "params",
        "macs",
        "flops",
        "receptive_field",
        "jump",
    ):
        assert key in data["layers"][0]
    assert sum(layer["macs"] for layer in data["layers"]) == totals["macs"]
    assert data["layers"][0]["receptive_field"] == [3, 3]


def test_variants_file_gives_a_json_array(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", str(SPECS / "googlenet-5x5-branch.yaml"), "-f", "json"])
    data = json.loads(result.stdout)
    assert [(d["name"], d["totals"]["macs"]) for d in data] == [
        ("direct", 120_422_400),
        ("bottleneck", 12_443_648),
    ]


def test_csv(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", str(SPECS / "grouped-conv.yaml"), "-f", "csv"])
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(row["spec"], row["macs"], row["output_shape"]) for row in table] == [
        ("groups1", "447897600", "256x27x27"),
        ("groups2", "223948800", "256x27x27"),
    ]


def test_markdown(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", QUICKSTART, "-f", "markdown"])
    assert "| # | layer | kind | output | params | MACs | RF |" in result.stdout
    assert "| 1 | `stem` | conv | 32×32×32 | 864 | 884.7 K | 3 |" in result.stdout


def test_output_file(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    result = runner.invoke(app, ["analyze", QUICKSTART, "-f", "json", "-o", str(target)])
    assert result.exit_code == ExitStatus.OK
    assert result.stdout == ""
    assert json.loads(target.read_text())["totals"]["params"] == 57_130


def test_batch_and_dtype(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["analyze", QUICKSTART, "-f", "json", "--batch", "8", "--dtype", "float16"]
    )
    data = json.loads(result.stdout)
    assert (data["batch"], data["dtype"]) == (8, "float16")
    assert data["totals"]["activation_bytes"] == 2 * data["totals"]["activation_elements"]


def test_missing_file_is_exit_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", "nope.yaml"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr == "error: no such spec file: nope.yaml\n"


def test_bad_dtype_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", QUICKSTART, "--dtype", "float8"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert "float8" in result.stderr


def test_warnings_go_to_stderr(runner: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "lossy.yaml"
    spec.write_text("input: [1, 8, 8]\nlayers:\n  - conv: {out: 1, kernel: 3, stride: 2}\n")
    result = runner.invoke(app, ["analyze", str(spec), "-f", "json"])
    assert result.exit_code == ExitStatus.OK
    json.loads(result.stdout)  # stdout stays machine-readable
    assert result.stderr.startswith(
        f"warning: {spec}:3:5: layer conv1: floor division leaves input pixels unread"
    )


def test_python_dash_m(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "convcost", "analyze", QUICKSTART, "-f", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["name"] == "quickstart"


def test_analyze_does_not_import_numpy_at_start_up() -> None:
    code = (
        "import sys; from typer.testing import CliRunner; from convcost.cli import app; "
        f"CliRunner().invoke(app, ['analyze', {QUICKSTART!r}]); print('numpy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
