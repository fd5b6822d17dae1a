"""Benchmark: CLI wall time and engine scaling (not a test; run it by hand).

    python tests/bench/bench_engine.py

Prints the figures recorded in docs/benchmarks.md. Targets (issues #2 and #3):
CLI `analyze --format json` on the largest bundled spec under 0.3 s; a 10,000-layer spec
through the engine under 0.5 s and linear in depth; a 200-block ResNet-style spec under 0.2 s.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import convcost
from convcost import zoo

ROOT = Path(__file__).resolve().parents[2]


def best(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def plain_stack(depth: int) -> str:
    """``depth`` layers: conv/batchnorm/relu triples on a 64×56×56 map."""
    kinds = ["conv: {out: 64, kernel: 3, padding: 1, bias: false}", "batchnorm: {}", "relu: {}"]
    body = "".join(f"  - {kinds[i % 3]}\n" for i in range(depth))
    return f"input: [64, 56, 56]\nlayers:\n{body}"


def resnet_blocks(count: int) -> str:
    return f"""
input: [256, 56, 56]
blocks:
  bottleneck:
    params: {{mid: 64}}
    layers:
      - add:
          body:
            - conv: {{out: $mid, kernel: 1, bias: false}}
            - batchnorm: {{}}
            - relu: {{}}
            - conv: {{out: $mid, kernel: 3, padding: 1, bias: false}}
            - batchnorm: {{}}
            - relu: {{}}
            - conv: {{out: "${{in_channels}}", kernel: 1, bias: false}}
            - batchnorm: {{}}
          shortcut: []
      - relu: {{}}
layers:
  - bottleneck: {{mid: 64}}
    repeat: {count}
"""


def cli_wall(spec: str) -> float:
    def once() -> None:
        subprocess.run(
            [sys.executable, "-m", "convcost", "analyze", spec, "--format", "json"],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )

    once()
    return best(once, repeat=7)


def main() -> None:
    candidates = [ROOT / "specs" / p.name for p in (ROOT / "specs").glob("*.yaml")]
    candidates += [zoo.ZOO_DIR / f"{name}.yaml" for name in zoo.names()]
    largest = max(
        candidates,
        key=lambda p: (
            len(convcost.build(convcost.load_spec(p)).nodes)
            and sum(len(r.layers) for r in convcost.analyze_all(convcost.load_spec(p)))
        ),
    )
    layers = sum(len(r.layers) for r in convcost.analyze_all(convcost.load_spec(largest)))
    wall = cli_wall(str(largest))
    print(
        f"cli: analyze --format json {largest.name} ({layers} layers): {wall * 1000:.0f} ms (target 300 ms)"
    )
    baseline = subprocess.run([sys.executable, "-c", "pass"], check=True, capture_output=True)
    del baseline
    python_start = best(
        lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), repeat=7
    )
    print(f"     (bare python start-up on this machine: {python_start * 1000:.0f} ms)")

    print("engine: plain conv/bn/relu stacks (load = YAML parse, analyze = build + costs)")
    per_layer = []
    for depth in (1_000, 2_000, 5_000, 10_000):
        text = plain_stack(depth)
        load = best(lambda text=text: convcost.parse_spec(text), repeat=3)
        spec = convcost.parse_spec(text)
        analyze = best(lambda spec=spec: convcost.analyze(spec), repeat=3)
        per_layer.append(analyze / depth)
        print(
            f"  {depth:>6} layers: load {load * 1000:7.1f} ms, analyze {analyze * 1000:7.1f} ms"
            f"  ({analyze / depth * 1e6:.1f} µs/layer)"
        )
    spread = max(per_layer) / min(per_layer)
    print(f"  µs/layer spread from 1k to 10k layers: {spread:.2f}× (1.0 = perfectly linear)")

    text = resnet_blocks(200)
    spec = convcost.parse_spec(text)
    report = convcost.analyze(spec)
    analyze = best(lambda: convcost.analyze(spec), repeat=5)
    load = best(lambda: convcost.parse_spec(text), repeat=5)
    print(
        f"engine: 200 bottleneck blocks ({len(report.layers)} rows): analyze {analyze * 1000:.1f} ms, "
        f"load {load * 1000:.1f} ms (target 200 ms)"
    )
    print(f"python {sys.version.split()[0]}; every figure is the best of 3 to 7 runs")


if __name__ == "__main__":
    main()
