"""Benchmark: `convcost check specs/` wall time (not a test; run it by hand).

    PYTHONPATH=. python tests/bench/bench_check.py

Prints the figures recorded in docs/benchmarks.md. Target (issue #5): `convcost check specs/`
over every bundled spec under 1 s, as a whole process.
"""

from __future__ import annotations

import subprocess
import sys

from convcost import check
from convcost.spec import load_spec
from tests.bench.bench_engine import ROOT, best


def cli(*args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "convcost", "check", *args],
        check=False,
        capture_output=True,
        cwd=ROOT,
    )
    assert result.returncode in (0, 1), result.stderr


def main() -> None:
    specs = sorted((ROOT / "specs").glob("*.yaml"))
    cli("specs/")
    wall = best(lambda: cli("specs/"), repeat=7)
    print(f"cli: check specs/ ({len(specs)} specs): {wall * 1000:.0f} ms (target 1000 ms)")
    flags = ("specs/", "--max-peak-memory", "4MiB", "--format", "junit")
    wall_all = best(lambda: cli(*flags), repeat=7)
    print(
        f"cli: check specs/ --max-peak-memory 4MiB -f junit (every spec): {wall_all * 1000:.0f} ms"
    )
    targets = check.expand([str(ROOT / "specs")])
    options = check.Options()
    library = best(lambda: check.check(targets, load_spec, options), repeat=7)
    print(f"library: check.check over specs/: {library * 1000:.1f} ms")
    start = best(
        lambda: subprocess.run(
            [sys.executable, "-m", "convcost", "--version"], check=True, capture_output=True
        ),
        repeat=7,
    )
    print(f"     (convcost --version start-up: {start * 1000:.0f} ms)")
    print(f"python {sys.version.split()[0]}; every figure is the best of 7 runs")


if __name__ == "__main__":
    main()
