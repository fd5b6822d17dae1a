"""Benchmark: `convcost compare` on a spec with 50 variants (not a test; run it by hand).

    python tests/bench/bench_compare.py

Prints the figures recorded in docs/benchmarks.md. Target (issue #4): comparing 50 variants
of one file takes under 0.5 s of wall time for the whole CLI process.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # this checkout's convcost, not an installed one

import convcost  # noqa: E402
from convcost.compare import collect, compare  # noqa: E402

VARIANTS = 50


def best(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def fifty_variants() -> str:
    """50 small stems on 3×224×224: widths 16-64, kernels 3/5/7, one to three conv/bn/relu
    stages, some with a concat branch, so every variant has its own shapes and costs."""
    lines = ["name: fifty-stems", "input: [3, 224, 224]", "variants:"]
    for index in range(VARIANTS):
        width = 16 + 16 * (index % 4)
        kernel = (3, 5, 7)[index % 3]
        lines.append(f"  v{index:02d}:")
        for stage in range(1 + index % 3):
            stride = 2 if stage == 0 else 1
            lines += [
                f"    - conv: {{out: {width}, kernel: {kernel}, stride: {stride}, padding: same}}"
                if stride == 1
                else f"    - conv: {{out: {width}, kernel: {kernel}, stride: 2, padding: {kernel // 2}}}",
                "    - batchnorm: {}",
                "    - relu: {}",
            ]
        if index % 5 == 0:
            lines += [
                "    - concat:",
                f"        a: [{{conv: {{out: {width}, kernel: 1}}}}]",
                "        b: [{maxpool: {kernel: 3, stride: 1, padding: 1}}]",
            ]
    return "\n".join(lines) + "\n"


def cli_wall(spec: Path, *options: str) -> float:
    def once() -> None:
        subprocess.run(
            [sys.executable, "-m", "convcost", "compare", str(spec), *options],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )

    once()
    return best(once, repeat=7)


def main() -> None:
    text = fifty_variants()
    with tempfile.TemporaryDirectory() as folder:
        spec_path = Path(folder) / "fifty.yaml"
        spec_path.write_text(text)
        spec = convcost.load_spec(spec_path)
        layers = sum(len(r.layers) for r in convcost.analyze_all(spec))
        library = best(lambda: compare(collect([convcost.load_spec(spec_path)])))
        print(
            f"library: load + analyze + compare, {VARIANTS} variants ({layers} layers): "
            f"{library * 1000:.1f} ms"
        )
        for options in (("--format", "json"), ("--format", "table"), ("--per-layer",)):
            wall = cli_wall(spec_path, *options)
            print(
                f"cli: compare {' '.join(options):<15} {VARIANTS} variants: {wall * 1000:.0f} ms "
                "(target 500 ms)"
            )
    start = best(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), repeat=7)
    print(f"     (bare python start-up on this machine: {start * 1000:.0f} ms)")
    print(f"python {sys.version.split()[0]}; every figure is the best of 5 to 7 runs")


if __name__ == "__main__":
    main()
