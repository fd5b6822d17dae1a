"""Benchmark: the engine in process, from 1,000 to 100,000 layers (not a test; run it by hand).

    PYTHONPATH=. python tests/bench/bench_engine.py [--baseline /path/to/other/tree] [--million]

Prints Markdown tables recorded in docs/benchmarks.md ("analyze: CLI and engine"). For each
generated spec it times, in this process and best of 3, the three stages of ``convcost analyze``
before any output: ``parse_spec`` (YAML to spec), ``build`` (spec to network) and
``analyze_network`` (network to report: costs, receptive field, peak memory), and gives the
engine's microseconds per layer, the scaling exponent of the engine's time against the number
of layers (1.0 is linear) and the bytes per layer the report keeps (tracemalloc, in a separate
untimed run).

``--baseline TREE`` runs the same measurements on another checkout of convcost (for example the
main branch) in a subprocess, interleaved with this tree's, and adds the ratio of the two engine
times: both are measured in the same run on the same loaded machine. ``--million`` adds the
1,000,000-layer stack (minutes, not seconds, while loading is slow).

Also prints the whole-process ``convcost analyze --format json`` time of the largest bundled
spec, next to bare Python start-up.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import convcost
from convcost.limits import Limits

ROOT = Path(__file__).resolve().parents[2]
REPEAT = 3


def plain_stack(depth: int) -> str:
    """``depth`` layers alternating a 3×3 conv and a relu on a 16×32×32 map (the shape never
    changes, as in the issue's plain stacks)."""
    kinds = ["conv: {out: 16, kernel: 3, padding: 1}", "relu: {}"]
    body = "".join(f"  - {kinds[i % 2]}\n" for i in range(depth))
    return f"input: [16, 32, 32]\nlayers:\n{body}"


def concat_branches(count: int) -> str:
    """One ``concat`` of ``count`` branches, each a 1×1 conv to 4 channels."""
    body = "".join(f"      b{i}: [{{conv: {{out: 4, kernel: 1}}}}]\n" for i in range(count))
    return f"input: [16, 32, 32]\nlayers:\n  - concat:\n{body}"


CASES: dict[str, tuple[Callable[[int], str], int]] = {
    "plain 1k": (plain_stack, 1_000),
    "plain 10k": (plain_stack, 10_000),
    "plain 100k": (plain_stack, 100_000),
    "concat 10k": (concat_branches, 10_000),
}
MILLION = ("plain 1M", (plain_stack, 1_000_000))


def best(fn: Callable[[], object], repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(case: str) -> dict[str, float]:
    """Times (seconds) of the three stages for one case, and the report's bytes per layer."""
    generate, size = dict([*CASES.items(), MILLION])[case]
    text = generate(size)
    # the defaults stop at 10**6 layers, 10**6 YAML nodes and 16 MiB: raise them all
    limits = Limits(max_layers=4 * size, max_spec_bytes=64 * size, max_yaml_nodes=16 * size)
    repeat = 1 if size >= 1_000_000 else REPEAT
    parse = best(lambda: convcost.parse_spec(text, limits=limits), repeat)
    spec = convcost.parse_spec(text, limits=limits)
    build = best(lambda: convcost.build(spec), repeat)
    network = convcost.build(spec)
    engine = best(lambda: convcost.analyze_network(network), repeat)
    report_bytes = math.nan
    if size <= 100_000:
        gc.collect()
        tracemalloc.start()
        report = convcost.analyze_network(network)
        report_bytes = tracemalloc.get_traced_memory()[0] / size
        tracemalloc.stop()
        del report
    return {"layers": size, "parse": parse, "build": build, "engine": engine, "bytes": report_bytes}


def measure_in(tree: Path, case: str) -> dict[str, float]:
    """:func:`measure` in a fresh process on the checkout ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, __file__, "--one", case],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def cli_wall() -> tuple[str, float, float]:
    """Whole-process ``analyze --format json`` of densenet121, and bare Python start-up."""
    spec = ROOT / "convcost" / "zoo" / "densenet121.yaml"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "convcost", "analyze", str(spec), "--format", "json"]
    subprocess.run(command, check=True, capture_output=True, env=env)
    wall = best(lambda: subprocess.run(command, check=True, capture_output=True, env=env), 5)
    bare = best(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), 5)
    return spec.name, wall, bare


def exponent(small: dict[str, float], large: dict[str, float]) -> float:
    """Slope of log(engine time) against log(layers): 1.0 is linear."""
    return math.log(large["engine"] / small["engine"]) / math.log(large["layers"] / small["layers"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with")
    parser.add_argument("--million", action="store_true", help="add the 1,000,000-layer stack")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    cases = [*CASES, MILLION[0]] if args.million else list(CASES)
    ours: dict[str, dict[str, float]] = {}
    theirs: dict[str, dict[str, float]] = {}
    for case in cases:  # interleaved: each case on both trees before the next
        ours[case] = measure_in(ROOT, case)
        if args.baseline:
            theirs[case] = measure_in(args.baseline, case)

    print(
        "| case | layers | parse_spec | build | analyze_network | µs/layer | report B/layer |"
        + (" baseline analyze_network | baseline / this |" if args.baseline else "")
    )
    print("|---|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if args.baseline else ""))
    for case in cases:
        m = ours[case]
        row = (
            f"| {case} | {int(m['layers']):,} | {m['parse'] * 1000:,.0f} ms | {m['build'] * 1000:,.0f} ms"
            f" | **{m['engine'] * 1000:,.1f} ms** | {m['engine'] / m['layers'] * 1e6:.2f}"
            f" | {m['bytes']:,.0f} |"
        )
        if args.baseline:
            b = theirs[case]
            row += f" {b['engine'] * 1000:,.1f} ms | {b['engine'] / m['engine']:.1f}× |"
        print(row)
    print()
    small, large = ours["plain 1k"], ours["plain 100k"]
    line = f"engine scaling exponent, plain 1k → 100k: {exponent(small, large):.2f}"
    if args.baseline:
        line += f" (baseline {exponent(theirs['plain 1k'], theirs['plain 100k']):.2f})"
    print(line)
    name, wall, bare = cli_wall()
    print(
        f"cli: analyze --format json {name}: {wall * 1000:.0f} ms (bare python -c pass {bare * 1000:.0f} ms)"
    )
    print(f"python {sys.version.split()[0]}; times are the best of {REPEAT} (1 for 1M layers)")


if __name__ == "__main__":
    main()
