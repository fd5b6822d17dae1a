"""Benchmark: a 1,000-point ``convcost sweep`` of the MobileNetV2 family, against the floor of
analyzing one point in the same run.

    PYTHONPATH=. python tests/bench/bench_sweep.py [--runs 3] [--jobs N]

The sweep is the command line as a user runs it (a fresh process, spawn workers, JSON to a
file): 10 widths × 5 depths × 20 resolutions of specs/mobilenet_v2_family.yaml. The
floor is one point's ``parse_spec(text, params=…)`` + ``analyze`` in this process (best of
50, after a warm-up), times 1,000 points, divided by the jobs: what the sweep would take with
no start-up, no transport and perfect sharing. The machine is shared, so each figure is the
best of ``--runs``, and the load average is printed next to it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import convcost
from convcost.spec import parse_spec

ROOT = Path(__file__).parent.parent.parent
FAMILY = "specs/mobilenet_v2_family.yaml"
WIDTHS = "0.35,0.5,0.6,0.75,0.85,1.0,1.1,1.25,1.3,1.4"
DEPTHS = "1,1.1,1.2,1.3,1.5"
RESOLUTIONS = ",".join(str(r) for r in range(96, 256, 8))  # 20 sizes


def floor_seconds(samples: int = 50) -> tuple[float, float]:
    """One point (width 0.75, depth 1.2, resolution 192) loaded and analyzed: the best wall
    time and the best CPU time."""
    text = (ROOT / FAMILY).read_text()
    params: dict[str, str | int | float] = {"width": 0.75, "depth": 1.2, "resolution": 192}
    for _ in range(5):
        convcost.analyze(parse_spec(text, source=FAMILY, params=params))
    walls, cpus = [], []
    for _ in range(samples):
        start, start_cpu = time.perf_counter(), time.process_time()
        convcost.analyze(parse_spec(text, source=FAMILY, params=params))
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - start_cpu)
    return min(walls), min(cpus)


def sweep_once(jobs: int) -> tuple[float, float, int]:
    """Wall and CPU seconds (the command and its workers) of one sweep; its point count."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "sweep.json"
        command = [sys.executable, "-m", "convcost", "sweep", FAMILY, "-q", "-f", "json"]
        command += ["--grid", f"width={WIDTHS}", "--grid", f"depth={DEPTHS}"]
        command += ["--grid", f"resolution={RESOLUTIONS}", "--jobs", str(jobs), "-o", str(out)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        points = json.loads(out.read_text())["points"]
    return wall, cpu, points


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    options = parser.parse_args()
    print(f"cores {os.cpu_count()}, jobs {options.jobs}, load average {os.getloadavg()[0]:.1f}")
    floor, floor_cpu = floor_seconds()
    print(
        f"one point: {floor * 1000:.1f} ms wall, {floor_cpu * 1000:.1f} ms CPU; floor for 1,000 "
        f"points on {options.jobs} jobs: {floor * 1000 / options.jobs:.2f} s wall, "
        f"{floor_cpu * 1000:.2f} s CPU\n"
    )
    print("| run | points | wall | CPU | wall / floor | CPU / CPU floor | load average |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    best = None
    for run in range(1, options.runs + 1):
        wall, cpu, points = sweep_once(options.jobs)
        ratio = wall / (floor * points / options.jobs)
        cpu_ratio = cpu / (floor_cpu * points)
        print(
            f"| {run} | {points:,} | {wall:.2f} s | {cpu:.2f} s | {ratio:.2f} | {cpu_ratio:.2f} "
            f"| {os.getloadavg()[0]:.1f} |"
        )
        best = wall if best is None else min(best, wall)
    assert best is not None
    print(f"\nbest wall {best:.2f} s ({'under' if best < 10 else 'OVER'} 10 s)")


if __name__ == "__main__":
    main()
