"""Benchmark: the normalisations' ``--execute`` forward against PyTorch (not a test; run by hand).

    PYTHONPATH=. python tests/bench/bench_norms.py [--blocks 5] [--runs 5] [--batch 1]

Each kind is one layer on ConvNeXt-Tiny's first stage map (96×56×56, float32), run as the
runner runs it (``prepare`` of a one-layer spec, then the layer's forward on a borrowed
channels-last input: it allocates its output, as torch does) against the same module in
PyTorch eager (channels first; ConvNeXt's LayerNorm2d permutes to channels last and back), both
on one thread (``--threads N``). Blocks of ``--runs`` timed passes of each library alternate
``--blocks`` times; the figures are medians over every timed pass and the ratio is
convcost / torch. batchnorm (convcost's, no statistics to compute) is timed the same way as a
floor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

THREADS = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 1
"""1 by default (NumPy's ufuncs use one core; torch's elementwise kernels would use more);
``--threads N`` (read here, before numpy and torch are imported) for both libraries."""
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = str(THREADS)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

import convcost  # noqa: E402
from convcost.build import build  # noqa: E402
from convcost.executor import kernels, prepare  # noqa: E402

SHAPE = (96, 56, 56)
F = torch.nn.functional

CASES: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "layernorm (channels)": (
        "layernorm: {eps: 1.0e-6}",
        lambda t: F.layer_norm(t.permute(0, 2, 3, 1), (96,), eps=1e-6).permute(0, 3, 1, 2),
    ),
    "layernorm (all)": ("layernorm: {over: all}", lambda t: F.layer_norm(t, SHAPE)),
    "groupnorm (32 groups)": ("groupnorm: {groups: 32}", lambda t: F.group_norm(t, 32)),
    "instancenorm": ("instancenorm: {}", F.instance_norm),
    "layer_scale": ("layer_scale: {}", lambda t: t * 1e-6),
    "batchnorm (floor)": (
        "batchnorm: {}",
        lambda t: F.batch_norm(t, torch.zeros(96), torch.ones(96), training=False),
    ),
}


def forward(layer: str) -> Callable[[Any], Any]:
    spec = convcost.parse_spec(f"input: {list(SHAPE)}\nlayers:\n  - {layer}\n    name: norm\n")
    step = prepare(build(spec, spec.variants[0]), dtype="float32").steps["norm"]
    return lambda x: step.forward(x, False)[0]


def timed(function: Callable[[Any], Any], x: Any, runs: int) -> list[float]:
    function(x)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function(x)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=THREADS)
    options = parser.parse_args()
    torch.set_num_threads(THREADS)
    x = np.random.default_rng(0).standard_normal((options.batch, *SHAPE)).astype(np.float32)
    last = np.ascontiguousarray(kernels.to_channels_last(x))
    t = torch.from_numpy(x)
    print(
        f"{options.batch}×{'×'.join(map(str, SHAPE))} float32, {THREADS} thread(s), medians of "
        f"{options.blocks}×{options.runs} passes\n"
    )
    print("| kind | convcost | torch | convcost / torch |")
    print("|---|---:|---:|---:|")
    for name, (layer, reference) in CASES.items():
        ours, theirs = [], []
        run = forward(layer)
        with torch.no_grad():
            for _ in range(options.blocks):
                ours += timed(run, last, options.runs)
                theirs += timed(reference, t, options.runs)
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"| {name} | {a * 1e3:.2f} ms | {b * 1e3:.2f} ms | {a / b:.1f}× |")


if __name__ == "__main__":
    main()
