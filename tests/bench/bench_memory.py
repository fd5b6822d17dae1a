"""Benchmark: ``--execute``'s memory estimate against the measured growth in resident memory.

    PYTHONPATH=. python tests/bench/bench_memory.py [--zoo] [--kinds] [--scale 4]

For every layer kind (a one-layer spec sized so that its tensors dwarf the interpreter) and,
with ``--zoo``, every bundled zoo model at batch 1, in a fresh subprocess each:

1. build the network and compute the estimate (``convcost.executor.memory.estimate_growth``:
   the growth the run should add to the process, weights, BLAS buffers and tensors);
2. reset the kernel's high-water mark (``/proc/self/clear_refs`` ← 5) and read the resident
   size (the baseline);
3. run ``convcost.executor.execute`` once;
4. read VmHWM from ``/proc/self/status``: measured growth = VmHWM − baseline.

It prints one row per case: measured MiB, estimated MiB, and measured / estimated, which must
be ≤ 1.0 (an upper bound) and should be ≥ 0.7 (not absurdly loose).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# (name, spec): one layer (or one block) on an input large enough to dominate the process
KINDS: dict[str, str] = {
    "conv 3×3": "input: [32, 128, 128]\nlayers:\n  - conv: {out: 64, kernel: 3, padding: 1}\n",
    "conv 1×1": "input: [64, 128, 128]\nlayers:\n  - conv: {out: 128, kernel: 1}\n",
    "conv 1×1 stride 2": "input: [64, 192, 192]\nlayers:\n  - conv: {out: 64, kernel: 1, stride: 2}\n",
    "conv grouped": "input: [64, 96, 96]\nlayers:\n  - conv: {out: 64, kernel: 3, padding: 1, groups: 4}\n",
    "depthwise": "input: [64, 128, 128]\nlayers:\n  - depthwise: {kernel: 3, padding: 1}\n",
    "conv 3-D": "input: [8, 16, 64, 64]\nlayers:\n  - conv: {out: 16, kernel: 3, padding: 1}\n",
    "conv_transpose": "input: [64, 64, 64]\nlayers:\n  - conv_transpose: {out: 32, kernel: 2, stride: 2}\n",
    "conv_transpose padded": "input: [64, 64, 64]\nlayers:\n  - conv_transpose: {out: 32, kernel: 4, stride: 2, padding: 1}\n",
    "conv_transpose grouped": "input: [64, 64, 64]\nlayers:\n  - conv_transpose: {out: 32, kernel: 2, stride: 2, groups: 4}\n",
    "linear": "input: [1024, 2, 2]\nlayers:\n  - flatten: {}\n  - linear: {out: 4096}\n",
    "maxpool": "input: [64, 256, 256]\nlayers:\n  - maxpool: {kernel: 3, stride: 2, padding: 1}\n",
    "maxpool ceil": "input: [64, 255, 255]\nlayers:\n  - maxpool: {kernel: 2, ceil_mode: true}\n",
    "avgpool": "input: [64, 256, 256]\nlayers:\n  - avgpool: {kernel: 3, stride: 2, padding: 1}\n",
    "global_avgpool": "input: [64, 256, 256]\nlayers:\n  - global_avgpool: {}\n",
    "global_maxpool": "input: [64, 256, 256]\nlayers:\n  - global_maxpool: {}\n",
    "adaptive_avgpool down": "input: [64, 256, 256]\nlayers:\n  - adaptive_avgpool: {size: [7, 7]}\n",
    "adaptive_avgpool up": "input: [64, 64, 64]\nlayers:\n  - adaptive_avgpool: {size: [128, 128]}\n",
    "adaptive_maxpool up": "input: [64, 64, 64]\nlayers:\n  - adaptive_maxpool: {size: [128, 128]}\n",
    "batchnorm": "input: [64, 256, 256]\nlayers:\n  - batchnorm: {}\n",
    **{
        function: f"input: [64, 256, 256]\nlayers:\n  - {function}: {{}}\n"
        for function in (
            "relu",
            "relu6",
            "sigmoid",
            "silu",
            "gelu",
            "tanh",
            "hardswish",
            "hardsigmoid",
        )
    },
    "flatten": "input: [64, 256, 256]\nlayers:\n  - flatten: {}\n",
    "dropout": "input: [64, 256, 256]\nlayers:\n  - dropout: {}\n",
    "channel_shuffle": "input: [64, 256, 256]\nlayers:\n  - channel_shuffle: {groups: 4}\n",
    "split": "input: [64, 256, 256]\nlayers:\n  - split: {parts: 2, index: 1}\n  - relu: {}\n",
    "concat": "input: [32, 256, 256]\nlayers:\n  - concat: {a: [{relu: {}}], b: []}\n",
    "add (residual)": "input: [32, 256, 256]\nlayers:\n  - add: {body: [{relu: {}}], shortcut: []}\n",
    "multiply (gate)": "input: [32, 256, 256]\nlayers:\n  - multiply: {x: [], gate: [{global_avgpool: {}}, {sigmoid: {}}]}\n",
    "multiply (growing)": (
        "input: [32, 256, 256]\nlayers:\n  - multiply:\n"
        "      a: [{adaptive_avgpool: {size: [1, 256]}}]\n"
        "      b: [{adaptive_avgpool: {size: [256, 1]}}]\n"
    ),
}

PROBE = r"""
import json, sys
from convcost import build, load_spec, parse_spec
from convcost.executor import execute
from convcost.executor.memory import check_dtype, estimate_growth
source, text, batch, dtype = json.loads(sys.argv[1])
spec = parse_spec(text) if text else load_spec(source)
network = build(spec, spec.variants[0])
estimate = estimate_growth(network, batch=batch, width=check_dtype(dtype))
run = execute(network, batch=batch, dtype=dtype, max_memory=2**62)
print(json.dumps({"estimate": estimate, "measured": run.peak_rss_bytes - run.baseline_rss_bytes}))
"""


def measure(source: str, text: str, batch: int = 1, dtype: str = "float32") -> tuple[int, int]:
    """(measured growth, estimated growth) in bytes, in a fresh process."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps([source, text, batch, dtype])],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=600,
    )
    data = json.loads(result.stdout)
    return int(data["measured"]), int(data["estimate"])


def row(name: str, measured: int, estimate: int) -> str:
    ratio = measured / estimate
    flag = "" if 0.7 <= ratio <= 1.0 else ("  OVER" if ratio > 1.0 else "  loose")
    return f"| {name} | {measured / 2**20:,.1f} | {estimate / 2**20:,.1f} | {ratio:.2f}{flag} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kinds", action="store_true", help="only the layer kinds")
    parser.add_argument("--zoo", action="store_true", help="only the zoo models")
    arguments = parser.parse_args()
    both = not (arguments.kinds or arguments.zoo)
    print("| case | measured MiB | estimated MiB | measured / estimated |")
    print("|---|---:|---:|---:|")
    if arguments.kinds or both:
        for name, text in KINDS.items():
            print(row(name, *measure("", text)), flush=True)
    if arguments.zoo or both:
        sys.path.insert(0, str(ROOT))
        from convcost import zoo

        for name in zoo.names():
            path = zoo.find(name)
            assert path is not None
            print(row(name, *measure(str(path), "")), flush=True)


if __name__ == "__main__":
    main()
