"""Benchmark: ``--execute`` on ResNet-50 against PyTorch (not a test; run it by hand).

    python tests/bench/bench_execute.py [--rounds 10]

In one process, with the same thread count for NumPy's BLAS and PyTorch, it measures:
- NumPy's float32 matrix-multiply peak (2048² and 4096² sgemm, best of several);
- convcost's forward pass on ResNet-50 at 1×3×224×224 (weights built once by ``prepare``,
  outside the timing, and the input drawn before the clock starts), median over rounds;
- PyTorch CPU eager forward of a plain-torch ResNet-50 (torchvision layout, ``torch.no_grad``,
  ``eval``), median over the same number of rounds; two blocks of each, alternating, so that
  both see the same load;
- the achieved GFLOP/s of convcost's conv layers and its ratio to the sgemm peak;
- in a fresh process without torch (``python -m convcost analyze … --execute -f json``), the
  peak resident memory against the pre-run estimate;
- GELU (exact, erf form) against ReLU on the same 1×1024×56×56 float32 tensor, both in place as
  the runner calls them, median over rounds (``--activations`` measures only this).
Targets (issue #6): time ≤ 2× PyTorch, conv GFLOP/s ≥ 50% of the peak, RSS ≤ 1.5× estimate;
(issue #16) GELU ≤ 3× ReLU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # this checkout's convcost and tests.torch_models

THREADS = os.cpu_count() or 1
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, str(THREADS))

import numpy as np  # noqa: E402  (after the thread count is fixed)
import torch  # noqa: E402
from torch import nn  # noqa: E402

from convcost import zoo  # noqa: E402
from convcost.build import build  # noqa: E402
from convcost.executor import Execution, Prepared, kernels, prepare  # noqa: E402
from convcost.executor.memory import leaves  # noqa: E402
from convcost.layers import Conv  # noqa: E402
from convcost.spec import load_spec  # noqa: E402
from tests.torch_models import resnet50  # noqa: E402

WARM_UP = 4
"""Untimed runs at the start of each block (first-touch page faults, BLAS thread start-up)."""


def resnet50_spec() -> Path:
    bundled = zoo.find("resnet50")
    assert bundled is not None
    return bundled


def sgemm_peak(
    sizes: tuple[tuple[int, int], ...] = ((2048, 10), (4096, 3)),
) -> tuple[float, dict[int, float]]:
    """Best-of-``repeat`` float32 matrix products of each ``size``², in GFLOP/s."""
    rates = {}
    for size, repeat in sizes:
        a = np.random.default_rng(0).standard_normal((size, size), dtype=np.float32)
        b = np.random.default_rng(1).standard_normal((size, size), dtype=np.float32)
        c = np.empty_like(a)
        np.matmul(a, b, out=c)
        best = min(_timed(lambda a=a, b=b, c=c: np.matmul(a, b, out=c)) for _ in range(repeat))
        rates[size] = 2 * size**3 / best / 1e9
    return max(rates.values()), rates


def _timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1e3:.1f} ms (min {min(values) * 1e3:.1f}, max {max(values) * 1e3:.1f})"


def time_blocks(
    prepared: Prepared, model: nn.Module, x: torch.Tensor, conv_paths: set[str], rounds: int
) -> tuple[list[float], list[float], list[float], Execution]:
    """Two blocks of convcost runs then torch runs: (convcost totals, their conv layers, torch
    totals, the last convcost run)."""
    ours: list[float] = []
    conv_seconds: list[float] = []
    theirs: list[float] = []
    with torch.no_grad():
        # blocks, not alternate runs: a BLAS's worker threads spin for a while after a call and
        # would steal the cores from the other library's threads (torch alternated with numpy
        # ran 2× slower than torch alone)
        for _ in range(2):
            time.sleep(1)
            for index in range(rounds + WARM_UP):
                run = prepared.forward(batch=1)
                if index >= WARM_UP:
                    ours.append(run.seconds)
                    conv_seconds.append(sum(r.seconds for r in run.layers if r.path in conv_paths))
            # the peak again, right after: the machine's speed drifts (shared host)
            block_peak, _ = sgemm_peak(((2048, 5),))
            block_conv = 2 * sum(r.macs for r in run.layers if r.path in conv_paths)
            block_rate = block_conv / statistics.median(conv_seconds[-rounds:]) / 1e9
            print(
                f"  block: convcost {spread(ours[-rounds:])}; conv {block_rate:.1f} GFLOP/s, "
                f"sgemm 2048² now {block_peak:.1f} GFLOP/s: {block_rate / block_peak:.0%}"
            )
            time.sleep(1)
            for index in range(rounds + WARM_UP):
                elapsed = _timed(lambda: model(x))
                if index >= WARM_UP:
                    theirs.append(elapsed)
            print(f"  block: torch    {spread(theirs[-rounds:])}")
    return ours, conv_seconds, theirs, run


def activation_times(rounds: int) -> tuple[float, float]:
    """Median seconds of kernels.gelu and kernels.relu, in place, on a fresh copy of the same
    1×56×56×1024 (channels last) standard normal float32 tensor each round (the copy untimed)."""
    x = np.random.default_rng(0).standard_normal((1, 56, 56, 1024), dtype=np.float32)
    times: dict[str, list[float]] = {"gelu": [], "relu": []}
    for _ in range(rounds + 1):
        for name, function in (("gelu", kernels.gelu), ("relu", kernels.relu)):
            y = x.copy()
            times[name].append(_timed(lambda y=y, f=function: f(y, inplace=True)))
    # the first round warms the pages and the code paths
    return statistics.median(times["gelu"][1:]), statistics.median(times["relu"][1:])


def print_activations(rounds: int) -> None:
    gelu, relu = activation_times(rounds)
    print(
        f"GELU (exact) {gelu * 1e3:.2f} ms, ReLU {relu * 1e3:.2f} ms on 1×1024×56×56 float32, "
        f"in place, median of {rounds}: ratio {gelu / relu:.1f}× (target ≤ 3×)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10, help="timed runs per block (2 blocks)")
    parser.add_argument("--activations", action="store_true", help="only GELU against ReLU")
    arguments = parser.parse_args()
    rounds = arguments.rounds
    if arguments.activations:
        print_activations(max(rounds, 20))
        return
    torch.set_num_threads(THREADS)
    print(
        f"threads: {THREADS} (torch {torch.get_num_threads()}, OPENBLAS_NUM_THREADS {os.environ['OPENBLAS_NUM_THREADS']})"
    )
    print(f"numpy {np.__version__}, torch {torch.__version__}")

    peak, rates = sgemm_peak()
    print(
        "sgemm: "
        + ", ".join(f"{n}² {r:.1f} GFLOP/s" for n, r in rates.items())
        + f"; peak {peak:.1f}"
    )

    path = resnet50_spec()
    spec = load_spec(path)
    network = build(spec, spec.variants[0])
    conv_paths = {node.path for node in leaves(network.nodes) if isinstance(node.layer, Conv)}
    start = time.perf_counter()
    prepared = prepare(network, dtype="float32", seed=0)
    print(
        f"convcost prepare (weights, untimed below): {(time.perf_counter() - start) * 1e3:.0f} ms"
    )

    model = resnet50().eval()
    params = sum(p.numel() for p in model.parameters())
    x = torch.randn(1, 3, 224, 224)
    ours, conv_seconds, theirs, run = time_blocks(prepared, model, x, conv_paths, rounds)
    conv_macs = sum(r.macs for r in run.layers if r.path in conv_paths)
    ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
    conv_rate = 2 * conv_macs / statistics.median(conv_seconds) / 1e9
    print(f"spec {path.relative_to(ROOT)}: {run.macs:,} MACs; torch model {params:,} parameters")
    print(f"convcost --execute forward: {spread(ours)}")
    print(f"torch eager forward:        {spread(theirs)}")
    print(f"ratio convcost / torch: {ours_median / theirs_median:.2f}× (target ≤ 2×)")
    print(f"whole network: {2 * run.macs / ours_median / 1e9:.1f} GFLOP/s")
    print(
        f"conv layers: {2 * conv_macs / 1e9:.2f} GFLOP in median {statistics.median(conv_seconds) * 1e3:.1f} ms = "
        f"{conv_rate:.1f} GFLOP/s = {conv_rate / peak:.0%} of the sgemm peak (target ≥ 50%)"
    )
    print(
        f"other layers (bn, relu, add, pools, fc): {(ours_median - statistics.median(conv_seconds)) * 1e3:.1f} ms"
    )

    command = [sys.executable, "-m", "convcost", "analyze", str(path), "--execute", "-f", "json"]
    result = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    execution = json.loads(result.stdout)["execution"]
    estimate, peak_rss = execution["estimated_bytes"], execution["peak_rss_bytes"]
    print(
        f"memory (fresh process, {' '.join(command[1:4])} … --execute): peak RSS {peak_rss / 2**20:.1f} MiB, "
        f"estimate {estimate / 2**20:.1f} MiB, ratio {peak_rss / estimate:.2f} (target ≤ 1.5); "
        f"one cold forward {execution['seconds'] * 1e3:.1f} ms"
    )
    print_activations(max(rounds, 20))


if __name__ == "__main__":
    main()
