"""Benchmark: `convcost export densenet121` against `convcost analyze densenet121` in the same
run (not a test; run it by hand).

    PYTHONPATH=. python tests/bench/bench_export.py

The floor is analyze of the same model: it loads the spec, builds the network (the export
builds it too) and counts every layer. Two measurements, alternating so both meet the same
load on the shared machine, best and median of N:

- library: ``pytorch_source(load_spec(path))`` against ``analyze(load_spec(path))`` in this
  process (CPU time of the call);
- command: ``python -m convcost export densenet121 --to pytorch -o FILE`` against
  ``python -m convcost analyze densenet121 -f json -o FILE``, each a fresh process (wall and
  CPU time of the child, start-up included, as a user runs it).

Each target is one entry of :data:`EXPORTS` (the ONNX exporter adds its own).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from convcost import zoo
from convcost.engine import analyze
from convcost.export.pytorch import pytorch_source
from convcost.spec import Spec, load_spec

ROOT = Path(__file__).resolve().parents[2]
MODEL = "densenet121"
RUNS = 15
PROCESS_RUNS = 7

EXPORTS: dict[str, tuple[Callable[[Spec], object], list[str]]] = {
    "pytorch": (pytorch_source, ["--to", "pytorch", "-o", "out.py"]),
}
"""Target → (library call, the command's arguments after ``export MODEL``)."""


def cpu_time(call: Callable[[], object]) -> float:
    start = time.process_time()
    call()
    return time.process_time() - start


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one run of ``command``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    assert os.waitstatus_to_exitcode(status) == 0, command
    return wall, usage.ru_utime + usage.ru_stime


def summary(values: list[float]) -> str:
    return f"best {min(values) * 1000:7.1f} ms, median {statistics.median(values) * 1000:7.1f} ms"


def main() -> None:
    path = zoo.find(MODEL)
    assert path is not None
    text = pytorch_source(load_spec(path))
    print(f"{MODEL}: the PyTorch file has {len(text.splitlines())} lines, {len(text):,} bytes")
    for target, (export, arguments) in EXPORTS.items():
        floor: list[float] = []
        spent: list[float] = []
        for _ in range(RUNS):
            floor.append(cpu_time(lambda: analyze(load_spec(path))))
            spent.append(cpu_time(lambda call=export: call(load_spec(path))))
        print(f"library  analyze (floor): {summary(floor)}")
        print(f"library  export {target}: {summary(spent)}")
        print(f"library  ratio export / analyze (best): {min(spent) / min(floor):.2f}×")
        with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
            cwd = Path(folder)
            python = [sys.executable, "-m", "convcost"]
            analyze_command = [*python, "analyze", MODEL, "-f", "json", "-o", "out.json"]
            export_command = [*python, "export", MODEL, *arguments]
            timed(analyze_command, cwd)  # warm the bytecode and file caches
            timed(export_command, cwd)
            runs: dict[str, list[tuple[float, float]]] = {"analyze": [], "export": []}
            for _ in range(PROCESS_RUNS):
                runs["analyze"].append(timed(analyze_command, cwd))
                runs["export"].append(timed(export_command, cwd))
        for name, measured in runs.items():
            walls = [wall for wall, _ in measured]
            cpus = [cpu for _, cpu in measured]
            print(f"command  {name:8} wall {summary(walls)}; CPU {summary(cpus)}")
        best = {name: min(cpu for _, cpu in measured) for name, measured in runs.items()}
        print(
            f"command  ratio export / analyze (CPU, best): {best['export'] / best['analyze']:.2f}×"
        )


if __name__ == "__main__":
    main()
