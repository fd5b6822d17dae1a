"""Benchmark: ``attention`` under ``--execute`` against the same layer in PyTorch eager.

    PYTHONPATH=. python tests/bench/bench_attention.py [--blocks 5] [--runs 3] [--threads 1]

Both run float32 on ``--threads`` threads (1 by default; OPENBLAS_NUM_THREADS, OMP_NUM_THREADS
and MKL_NUM_THREADS set before numpy is imported, ``torch.set_num_threads``), with the same
weights: convcost's prepared arrays loaded into the plain-torch MHSA of tests/test_attention.py
(linear q, k, v; q·kᵀ; BoTNet's relative logits by ``rel_to_abs``; softmax; ·v; projection).
Blocks of convcost passes and of torch passes alternate; the ratio is of the best pass of each
(the machine is shared: the best is the least disturbed). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

THREADS = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 1
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = str(THREADS)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import convcost  # noqa: E402
from convcost.build import build  # noqa: E402
from convcost.executor import prepare  # noqa: E402
from tests.test_attention import Reference, load  # noqa: E402

CASES = [
    # (label, [C, H, W], heads, relative, batch)
    ("BoTNet c5: 512×14×14, 4 heads, relative", (512, 14, 14), 4, True, 8),
    ("the same without relative positions", (512, 14, 14), 4, False, 8),
    ("MobileViT-like: 96×32×32, 4 heads", (96, 32, 32), 4, False, 2),
]


def best(function: Callable[[Any], object], argument: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function(argument)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    options = parser.parse_args()
    torch.set_num_threads(THREADS)
    print(f"threads {THREADS}, float32, best of {options.blocks}×{options.runs} passes each\n")
    print("| layer | batch | convcost | torch | ratio |")
    print("|---|---:|---:|---:|---:|")
    for label, shape, heads, relative, batch in CASES:
        flag = "true" if relative else "false"
        text = f"input: {list(shape)}\nlayers:\n  - attention: {{heads: {heads}, relative_position: {flag}}}\n"
        spec = convcost.parse_spec(text)
        prepared = prepare(build(spec, spec.variants[0]), dtype="float32")
        channels = shape[0]
        case = {"shape": shape, "heads": heads, "key_dim": channels // heads, "out": channels}
        case |= {"value_dim": channels // heads, "bias": True, "relative": relative}
        module = Reference(
            channels, heads, channels // heads, channels // heads, channels, True,
            shape[1:] if relative else None,
        ).float().eval()  # fmt: skip
        load(module, prepared.steps["attention1"].arrays, case)
        x = np.random.default_rng(0).standard_normal((batch, *shape)).astype(np.float32)
        tensor = torch.from_numpy(x)
        ours, theirs = [], []
        with torch.no_grad():
            for _ in range(options.blocks):
                ours.append(best(prepared.output, x, options.runs))
                theirs.append(best(module, tensor, options.runs))
        mine, torch_time = min(ours), min(theirs)
        print(
            f"| {label} | {batch} | {mine * 1e3:.1f} ms | {torch_time * 1e3:.1f} ms "
            f"| {mine / torch_time:.2f} |"
        )


if __name__ == "__main__":
    main()
