"""``--execute``: every bundled spec runs and confirms its shapes; mismatches and memory limits
are loud errors with their own exit codes; merges never overwrite a shared block input."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

import convcost
from convcost.build import build
from convcost.cli import app
from convcost.errors import ExitStatus, ResourceLimitError, ShapeError
from convcost.executor import estimate_bytes, execute, execute_all, prepare
from convcost.executor.blas import blas_threads
from convcost.executor.memory import RUN_OVERHEAD_BYTES, estimate_growth
from convcost.executor.ops.activation import ACTIVATIONS
from convcost.executor.process import current_rss_bytes
from convcost.layers import Conv, Function
from convcost.render.execution import execution_json, progress_bar
from convcost.spec import Spec, load_spec

ROOT = Path(__file__).parent.parent
BUNDLED = sorted((ROOT / "specs").glob("*.yaml")) + sorted(
    (ROOT / "convcost" / "zoo").glob("*.yaml")
)
QUICKSTART = str(ROOT / "specs" / "quickstart.yaml")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"NO_COLOR": "1", "COLUMNS": "120"})


def _small(spec: Spec, variant: convcost.Variant) -> convcost.Network:
    """The variant at a 64-pixel input where its layers allow it (zoo models are 224²)."""
    shape = variant.input_shape
    if len(shape) > 1 and max(shape[1:]) > 64:
        try:
            return build(spec, variant, input_shape=(shape[0], *(64 for _ in shape[1:])))
        except ShapeError:
            pass
    return build(spec, variant)


LARGE_WEIGHTS = {
    "alexnet",
    "vgg16",
    "resnet50",
    "resnet50_v1",
    "convnext_tiny",
    "unet",
    "deeplabv3_resnet50",
}
"""Models with 25M+ parameters: drawing their weights dominates a run, so batch 2 (which
changes no weight) runs on the others only."""


@pytest.mark.parametrize(
    ("path", "batch"),
    [(path, 1) for path in BUNDLED]
    + [(path, 2) for path in BUNDLED if path.stem not in LARGE_WEIGHTS],
    ids=lambda value: value.stem if isinstance(value, Path) else str(value),
)
def test_every_bundled_spec_confirms_its_shapes(path: Path, batch: int) -> None:
    spec = load_spec(path)
    for variant in spec.variants:
        network = _small(spec, variant)
        report = convcost.analyze_network(network, batch=batch)
        run = execute(network, batch=batch, seed=1)
        # every leaf layer and merge step ran, in the report's order, with the predicted shape
        assert [(r.path, r.shape) for r in run.layers] == [
            (layer.path, layer.output_shape) for layer in report.layers
        ]
        # the weights the executor allocated are exactly the parameters the engine counts, and
        # the MACs the kernels counted from their operands' shapes the engine's formulas
        assert [r.params for r in run.layers] == [layer.cost.params for layer in report.layers]
        assert [r.macs for r in run.layers] == [layer.cost.macs for layer in report.layers]
        assert all(r.seconds >= 0 for r in run.layers)


def test_float64_runs_and_outputs_are_seeded() -> None:
    spec = load_spec(QUICKSTART)
    network = build(spec, spec.variants[0])
    x = np.random.default_rng(5).standard_normal((2, 3, 32, 32))
    first = prepare(network, dtype="float64", seed=3).output(x)
    again = prepare(network, dtype="float64", seed=3).output(x)
    other = prepare(network, dtype="float64", seed=4).output(x)
    assert first.dtype == np.float64
    assert first.shape == (2, 10)
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def _network(text: str) -> convcost.Network:
    spec = convcost.parse_spec(text)
    return build(spec, spec.variants[0])


def test_branches_do_not_overwrite_the_shared_input() -> None:
    """relu runs in place on arrays the runner owns; a branch's input is shared, so it must not."""
    network = _network(
        "input: [3, 5, 4]\nlayers:\n"
        "  - add: {a: [{relu: {}}], b: []}\n"
        "  - concat: {a: [{sigmoid: {}}], b: []}\n"
        "  - multiply: {a: [{tanh: {}}], b: []}\n"
    )
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 4))
    added = np.maximum(x, 0) + x
    joined = np.concatenate([1 / (1 + np.exp(-added)), added], axis=1)
    expected = np.tanh(joined) * joined
    np.testing.assert_allclose(prepare(network, dtype="float64").output(x), expected, rtol=1e-12)


def test_multiply_broadcasts_a_gate() -> None:
    """Squeeze-and-excitation: a [C, 1, 1] gate times the [C, H, W] input."""
    network = _network(
        "input: [4, 6, 6]\nlayers:\n"
        "  - multiply: {x: [], gate: [{global_avgpool: {}}, {sigmoid: {}}]}\n"
    )
    x = np.random.default_rng(1).standard_normal((1, 4, 6, 6))
    gate = 1 / (1 + np.exp(-x.mean(axis=(2, 3), keepdims=True)))
    np.testing.assert_allclose(prepare(network, dtype="float64").output(x), x * gate, rtol=1e-12)


def test_every_activation_function_has_a_kernel() -> None:
    assert set(ACTIVATIONS) == set(Function)


def test_memory_estimate_counts_weights_and_the_largest_layer() -> None:
    """A single 1×1 conv, batch 2: the weights, the input and the output (no workspace), the
    BLAS buffers of its one product and the fixed overhead, on top of the process."""
    network = _network("input: [8, 10, 10]\nlayers:\n  - conv: {out: 16, kernel: 1}\n")
    weights = 16 * 8 + 16
    activations = 2 * (8 * 100 + 16 * 100)  # batch 2: input and output
    # the product (200 × 8)·(8 × 16), with one OpenBLAS thread per calling thread: the caller
    # packs an 8 × 16 block and 8 × 200 of a 256-row panel, and so may each pool worker (one
    # fewer than the threads)
    blas = blas_threads() * (8 * 16 + 8 * 200)
    for dtype, width in (("float32", 4), ("float64", 8)):
        expected = RUN_OVERHEAD_BYTES + width * (weights + activations + blas)
        assert estimate_growth(network, batch=2, width=width) == expected
        # the total starts from the process's resident size at the time (which may move by a
        # few pages between two readings)
        process = estimate_bytes(network, batch=2, dtype=dtype) - expected
        assert abs(process - current_rss_bytes()) < 4 * 2**20


def test_resource_limit_refuses_before_allocating() -> None:
    network = _network("input: [3, 64, 64]\nlayers:\n  - conv: {out: 8, kernel: 3}\n")
    with pytest.raises(
        ResourceLimitError, match=r"would need about [\d.,]+ MiB .* above the limit of 0\.0 MiB"
    ):
        execute(network, max_memory=1000)


def test_max_memory_takes_the_budget_units(runner: CliRunner) -> None:
    # the same parser as budgets (convcost.units): "10M" is ambiguous for bytes and refused
    result = runner.invoke(app, ["analyze", QUICKSTART, "--execute", "--max-memory", "10M"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert "write MiB for powers of 1024 or MB for powers of 1000" in result.stderr


# --- the command line -------------------------------------------------------------------------


def test_cli_execute_json_has_an_execution_object(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["analyze", QUICKSTART, "--execute", "-f", "json", "--seed", "7", "--batch", "2"]
    )
    assert result.exit_code == ExitStatus.OK, result.stderr
    data = json.loads(result.stdout)
    run = data["execution"]
    assert (run["seed"], run["dtype"], run["batch"]) == (7, "float32", 2)
    assert run["params"] == data["totals"]["params"]
    assert [layer["path"] for layer in run["layers"]] == [layer["path"] for layer in data["layers"]]
    assert [layer["output_shape"] for layer in run["layers"]] == [
        layer["output_shape"] for layer in data["layers"]
    ]
    # layer times are disjoint intervals inside the forward pass's
    assert all(layer["seconds"] >= 0 for layer in run["layers"])
    assert sum(layer["seconds"] for layer in run["layers"]) <= run["seconds"]
    assert run["estimated_bytes"] > 0
    assert run["peak_rss_bytes"] > 0
    assert math.isclose(run["gflops_per_second"], 2 * data["totals"]["macs"] / run["seconds"] / 1e9)


def test_cli_execute_table_has_time_and_gflops(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", QUICKSTART, "--execute", "--dtype", "float64"])
    assert result.exit_code == ExitStatus.OK, result.stderr
    header = next(line for line in result.stdout.splitlines() if "layer" in line and "MACs" in line)
    assert header.split()[-2:] == ["time", "GFLOP/s"]
    assert "every shape confirmed (13 steps)" in result.stdout
    assert "float64, seed 0" in result.stdout


def test_cli_wrong_prediction_is_exit_3(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """A deliberately wrong engine: the conv predicts one channel too many."""
    real = Conv.output_shape

    def wrong(self: Conv, shape: tuple[int, ...]) -> tuple[int, ...]:
        out = real(self, shape)
        return (out[0] + 1, *out[1:])

    monkeypatch.setattr(Conv, "output_shape", wrong)
    result = runner.invoke(app, ["analyze", QUICKSTART, "--execute"])
    assert result.exit_code == ExitStatus.SHAPE_MISMATCH
    # the stem is on line 7 of quickstart.yaml (`  - conv: ...`), its kind at column 5
    assert result.stderr == (
        f"error: {QUICKSTART}:7:5: layer stem: the real output shape [32, 32, 32] "
        "differs from the predicted [33, 32, 32]\n"
    )


def test_cli_too_little_memory_is_exit_4(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", QUICKSTART, "--execute", "--max-memory", "1KiB"])
    assert result.exit_code == ExitStatus.RESOURCE_LIMIT
    assert result.stderr.startswith("error: --execute would need about ")
    assert "MiB of resident memory at its peak" in result.stderr
    assert "above the limit of 0.0 MiB" in result.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--dtype", "int8"], "--execute runs in float32 or float64 only, got 'int8'"),
        (["--max-memory", "lots"], "must be a number of bytes, or a number with B, KiB"),
    ],
)
def test_cli_execute_usage_errors(runner: CliRunner, options: list[str], message: str) -> None:
    result = runner.invoke(app, ["analyze", QUICKSTART, "--execute", *options])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert message in result.stderr


def test_execute_all_runs_every_variant() -> None:
    results = execute_all(load_spec(ROOT / "specs" / "googlenet-5x5-branch.yaml"))
    assert [r.report.name for r in results] == ["direct", "bottleneck"]
    assert all(r.execution.layers for r in results)


def test_repeat_reports_medians_and_progress_counts_every_pass() -> None:
    spec = load_spec(QUICKSTART)
    network = build(spec, spec.variants[0])
    calls: list[tuple[int, int]] = []
    run = execute(network, repeat=3, progress=lambda path, done, total: calls.append((done, total)))
    steps = len(run.layers)
    assert run.repeat == 3
    assert run.warm_up
    # the untimed warm-up pass counts: four passes in all
    assert calls == [(done, 4 * steps) for done in range(1, 4 * steps + 1)]


def test_warm_up_can_be_turned_off_and_json_says_which() -> None:
    spec = load_spec(QUICKSTART)
    network = build(spec, spec.variants[0])
    calls: list[tuple[int, int]] = []
    cold = execute(
        network, warm_up=False, progress=lambda p, done, total: calls.append((done, total))
    )
    steps = len(cold.layers)
    # one pass only: the timed one
    assert calls == [(done, steps) for done in range(1, steps + 1)]
    assert execution_json(cold)["warm_up"] is False
    assert execution_json(execute(network))["warm_up"] is True


def test_progress_bar_only_on_a_terminal() -> None:
    with progress_bar(Console(file=io.StringIO())) as callback:
        assert callback is None
    screen = io.StringIO()
    with progress_bar(Console(file=screen, force_terminal=True, width=80), delay=0) as callback:
        assert callback is not None
        callback("layer1.conv", 3, 4)
    assert "executing" in screen.getvalue()


# --- memory: limits from ulimit -v, allocation failures, each variant's own peak ---------------

LARGE_CONV = "input: [64, 1024, 1024]\nlayers:\n  - conv: {out: 64, kernel: 3, padding: 1}\n"
"""About 780 MiB at its peak: 256 MiB in, its 257 MiB padded copy, 256 MiB out and a 4 MiB band
of im2col columns."""


def _limited_run(path: Path, *options: str, address_space: int) -> subprocess.CompletedProcess[str]:
    def limit() -> None:  # in the child, before exec: the CLI starts under `ulimit -v`
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    return subprocess.run(
        [sys.executable, "-m", "convcost", "analyze", str(path), "--execute", *options],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        preexec_fn=limit,
        env={**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1"},
    )


def test_default_limit_respects_the_address_space_limit(tmp_path: Path) -> None:
    """Under `ulimit -v` 600 MiB (the CLI needs ~160 MiB of address space), half the RAM is
    not what counts: the run is refused before it starts, naming the address-space limit."""
    spec = tmp_path / "large.yaml"
    spec.write_text(LARGE_CONV)
    result = _limited_run(spec, address_space=600 * 2**20)
    assert result.returncode == ExitStatus.RESOURCE_LIMIT, result.stderr
    assert re.fullmatch(
        r"error: --execute would need about [\d,.]+ MiB of resident memory at its peak \(this "
        r"process, BLAS buffers, weights, live activations and workspace at batch 1, float32\), "
        r"above what the address-space limit \(ulimit -v\) leaves of [\d,.]+ MiB: lower --batch "
        r"or the input size, or raise --max-memory\n",
        result.stderr,
    )


def test_allocation_failure_is_exit_4(tmp_path: Path) -> None:
    """An explicit --max-memory above what `ulimit -v` allows: the run starts, an allocation
    fails, and that is one line and exit 4, not a MemoryError traceback."""
    spec = tmp_path / "large.yaml"
    spec.write_text(LARGE_CONV)
    result = _limited_run(spec, "--max-memory", "100GiB", address_space=600 * 2**20)
    assert result.returncode == ExitStatus.RESOURCE_LIMIT, result.stderr
    assert re.fullmatch(
        r"error: --execute ran out of memory \(estimated [\d,.]+ MiB at its peak, batch 1, "
        r"float32\): lower --batch or the input size, or raise the process's memory limit "
        r"\(ulimit -v\)\n",
        result.stderr,
    )


_PEAKS = """
import json, convcost
from convcost.executor import execute_all
spec = convcost.parse_spec(
    "input: [8, 256, 256]\\nvariants:\\n"
    "  big:\\n    - conv: {out: 160, kernel: 3, padding: 1}\\n"
    "  small:\\n    - maxpool: {kernel: 64}\\n"
)
runs = [result.execution for result in execute_all(spec)]
print(json.dumps([[run.peak_rss_bytes, run.baseline_rss_bytes] for run in runs]))
"""
"""Runs in a fresh process: what the small variant's peak can be compared with depends on how
much of the big one's freed heap the allocator keeps, which the tests before this one change."""


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="Linux's VmHWM reset")
def test_each_variant_reports_its_own_peak() -> None:
    """A 3×3 conv from 8×256×256 to 160×256×256 (a 40 MiB output) then a tiny variant: the
    second reports its own growth (under 16 MiB), not the first one's high-water mark."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(
        [sys.executable, "-c", _PEAKS], capture_output=True, text=True, env=env, check=True
    )
    (big_peak, big_base), (small_peak, small_base) = json.loads(done.stdout)
    # the big one's output alone is 160·256·256·4 B = 40 MiB, above glibc's 32 MiB mmap
    # ceiling, so it is fresh pages whatever the heap holds
    assert big_peak - big_base > 38 * 2**20
    # the small variant holds its 2 MiB input and an 8 KiB output
    assert small_peak - small_base < 16 * 2**20
    assert small_peak < big_peak - 30 * 2**20


def test_cli_execute_csv_has_the_measured_columns(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", QUICKSTART, "--execute", "-f", "csv"])
    assert result.exit_code == ExitStatus.OK, result.stderr
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(table) == 13
    for row in table:
        assert row["confirmed_output_shape"] == row["output_shape"]
        elapsed = float(row["seconds"])
        assert elapsed >= 0
        # GFLOP/s from the row's own MACs (the engine's, equal to those the kernels counted)
        macs = int(row["macs"])
        expected = f"{2 * macs / elapsed / 1e9:.1f}" if macs and elapsed > 0 else ""
        assert row["gflops_per_second"] == expected
    # --depth 1 collapses the block into one row: its time sums its layers and the merge, its
    # confirmed shape is the merge's
    block = tmp_path / "block.yaml"
    block.write_text(
        "input: [4, 8, 8]\nlayers:\n"
        "  - add: {body: [{conv: {out: 4, kernel: 3, padding: 1}}, {relu: {}}], shortcut: []}\n"
        "    name: block\n"
        "  - maxpool: {kernel: 2}\n"
    )
    collapsed = runner.invoke(
        app, ["analyze", str(block), "--execute", "-f", "csv", "--depth", "1"]
    )
    assert collapsed.exit_code == ExitStatus.OK, collapsed.stderr
    block_row, pool_row = csv.DictReader(io.StringIO(collapsed.stdout))
    assert (block_row["path"], block_row["confirmed_output_shape"]) == ("block", "4x8x8")
    assert (pool_row["path"], pool_row["confirmed_output_shape"]) == ("maxpool1", "4x4x4")
    assert block_row["gflops_per_second"] != ""  # the conv's MACs


def test_cli_execute_markdown_has_the_measured_columns(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", QUICKSTART, "--execute", "-f", "markdown"])
    assert result.exit_code == ExitStatus.OK, result.stderr
    lines = result.stdout.splitlines()
    table = [line for line in lines if line.startswith("|")]
    assert table[0].endswith("| RF | traffic | FLOP/B | time | GFLOP/s | confirmed |")
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in table[2:-1]]
    assert len(cells) == 13
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    for row in cells:
        assert row[header.index("confirmed")] == row[header.index("output")]
        assert re.fullmatch(r"[\d.]+ (µs|ms|s)", row[header.index("time")])
    assert re.fullmatch(
        r"\| \| \*\*total\*\* .*\| \*\*[\d.]+ (µs|ms|s)\*\* \| [\d.]+ \| \|", table[-1]
    )
    assert any(
        line.startswith(
            "Executed: one warm forward pass, batch 1, float32, seed 0; every shape confirmed (13 steps)"
        )
        for line in lines
    )
