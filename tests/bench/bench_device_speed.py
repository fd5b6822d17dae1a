"""Benchmark: ``analyze MODEL --device X`` against plain ``analyze MODEL`` (not a test).

    PYTHONPATH=. python tests/bench/bench_device_speed.py [--runs 15] [--model resnet50]

Each run is a fresh ``python -m convcost`` process writing the table to a pipe (as a user sees
it, start-up included); the two commands alternate, and the ratio is of the medians.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "convcost", *args], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--device", default="desktop-cpu")
    options = parser.parse_args()
    plain_args = ["analyze", options.model]
    device_args = [*plain_args, "--device", options.device]
    timed(plain_args)  # warm the file cache
    plain, device = [], []
    for _ in range(options.runs):
        plain.append(timed(plain_args))
        device.append(timed(device_args))
    a, b = statistics.median(plain), statistics.median(device)
    print(f"| command | median of {options.runs} |")
    print("|---|--:|")
    print(f"| `convcost {' '.join(plain_args)}` | {a * 1e3:.0f} ms |")
    print(f"| `convcost {' '.join(device_args)}` | {b * 1e3:.0f} ms ({b / a:.2f}×) |")


if __name__ == "__main__":
    main()
