"""``compare --execute``: every entry runs on NumPy, shapes confirmed, time compared."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction
from pathlib import Path

import pytest
from typer.testing import CliRunner

import convcost
from convcost.cli import app
from convcost.compare import Metric, collect, compare
from convcost.errors import ExitStatus
from convcost.execution import Execution
from convcost.network import Network

SPECS = Path(__file__).parent.parent / "specs"
WITH_VARIANTS = sorted(
    path for path in SPECS.glob("*.yaml") if convcost.load_spec(path).has_variants
)


@pytest.mark.parametrize("spec", WITH_VARIANTS, ids=lambda path: path.stem)
def test_every_variants_spec_runs_and_confirms(spec: Path) -> None:
    result = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "120"}).invoke(
        app, ["compare", str(spec), "--execute"]
    )
    assert result.exit_code == ExitStatus.OK, result.stderr
    assert "time (measured)" in result.stdout
    assert "GFLOP/s (measured)" in result.stdout


def test_json_has_each_variants_execution_and_time_ratios() -> None:
    runner = CliRunner(env={"NO_COLOR": "1"})
    spec = str(SPECS / "googlenet-5x5-branch.yaml")
    result = runner.invoke(app, ["compare", spec, "--execute", "-f", "json", "--seed", "3"])
    assert result.exit_code == ExitStatus.OK, result.stderr
    data = json.loads(result.stdout)
    for variant in data["variants"]:
        execution = variant["execution"]
        assert execution["seed"] == 3
        assert [layer["path"] for layer in execution["layers"]] == [
            layer["path"] for layer in variant["layers"]
        ]
    # the time row against each variant's own measured forward pass
    seconds = {v["name"]: v["execution"]["seconds"] for v in data["variants"]}
    assert data["ratios"]["direct"]["time_ns"] == 1.0
    # time_ns is whole nanoseconds: the ratio of the rounded times
    expected = round(seconds["bottleneck"] * 1e9) / round(seconds["direct"] * 1e9)
    assert data["ratios"]["bottleneck"]["time_ns"] == pytest.approx(expected, rel=1e-9)
    assert data["best"]["time_ns"] == [min(seconds, key=lambda name: seconds[name])]


def test_without_execute_there_is_no_time() -> None:
    runner = CliRunner(env={"NO_COLOR": "1"})
    spec = str(SPECS / "googlenet-5x5-branch.yaml")
    table = runner.invoke(app, ["compare", spec])
    assert "time" not in table.stdout
    rows = list(csv.reader(io.StringIO(runner.invoke(app, ["compare", spec, "-f", "csv"]).stdout)))
    assert "time_ns" not in rows[0]
    executed = runner.invoke(app, ["compare", spec, "-f", "csv", "--execute"]).stdout
    header = next(csv.reader(io.StringIO(executed)))
    assert "time_ns" in header
    assert "time_ns_ratio" in header


def test_memory_limit_and_dtype_are_checked() -> None:
    runner = CliRunner(env={"NO_COLOR": "1"})
    spec = str(SPECS / "googlenet-5x5-branch.yaml")
    tiny = runner.invoke(app, ["compare", spec, "--execute", "--max-memory", "1KiB"])
    assert tiny.exit_code == ExitStatus.RESOURCE_LIMIT
    assert "above the limit of" in tiny.stderr
    half = runner.invoke(app, ["compare", spec, "--execute", "--dtype", "float16"])
    assert half.exit_code == ExitStatus.INVALID_INPUT
    assert "--execute runs in float32 or float64 only, got 'float16'" in half.stderr


def test_time_row_uses_each_entrys_run() -> None:
    # a stand-in runner: 2 ms for the first network, 1 ms for the second
    times = iter((0.002, 0.001))

    def run(network: Network) -> Execution:
        return Execution(
            layers=(),
            seconds=next(times),
            batch=1,
            dtype="float32",
            seed=0,
            estimated_bytes=0,
            peak_rss_bytes=0,
        )

    spec = convcost.load_spec(SPECS / "googlenet-5x5-branch.yaml")
    result = compare(collect([spec], run=run))
    row = result.row(Metric.TIME)
    assert row.values == (2_000_000, 1_000_000)
    assert row.ratios == (Fraction(1), Fraction(1, 2))
    assert row.best == (1,)
    # without runs there is no time row at all
    assert Metric.TIME not in {row.metric for row in compare(collect([spec])).rows}
