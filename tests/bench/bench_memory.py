"""Benchmark: ``--execute``'s memory estimate against the measured growth in resident memory.

    PYTHONPATH=. python tests/bench/bench_memory.py [--zoo] [--kinds] [--batch 8] [--models resnet50 vgg16]

For every layer kind (the one-layer specs of tests/test_memory_bound.py, sized so that their
tensors dwarf the interpreter: 15 to 70 MiB) and every bundled zoo model at batch 1 (``--kinds``
or ``--zoo`` for one half; ``--batch N`` runs the zoo models at batch N, ``--models`` only
those), in a fresh subprocess each:

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
sys.path.insert(0, str(ROOT))  # this checkout's convcost and tests

from convcost import zoo  # noqa: E402
from tests.test_memory_bound import KINDS, PROBE  # noqa: E402


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
    parser.add_argument("--batch", type=int, default=1, help="the zoo models' batch")
    parser.add_argument("--models", nargs="+", help="only these zoo models")
    arguments = parser.parse_args()
    both = not (arguments.kinds or arguments.zoo)
    print("| case | measured MiB | estimated MiB | measured / estimated |")
    print("|---|---:|---:|---:|")
    if arguments.kinds or both:
        for name, text in KINDS.items():
            print(row(name, *measure("", text)), flush=True)
    if arguments.zoo or both:
        for name in arguments.models or zoo.names():
            path = zoo.find(name)
            assert path is not None
            label = name if arguments.batch == 1 else f"{name} batch {arguments.batch}"
            print(row(label, *measure(str(path), "", arguments.batch)), flush=True)


if __name__ == "__main__":
    main()
