"""Benchmark: the engine in process, from 1,000 to 100,000 layers (not a test; run it by hand).

    PYTHONPATH=. python tests/bench/bench_engine.py [--baseline TREE] [--rounds N] [--million]

Prints a Markdown table recorded in docs/benchmarks.md ("analyze: CLI and engine"). For each
generated spec (a plain conv/relu stack of 1k, 10k and 100k layers; one concat of 10,000
branches) a fresh process times the three stages of ``convcost analyze`` before any output:
``parse_spec`` (YAML to spec), ``build`` (spec to network) and ``analyze_network`` (network to
report: costs, receptive field, peak memory), each the best of 3. The engine's time is given
as wall and as CPU time of the process: on a shared, loaded machine the CPU time is the steadier,
and the ratios and the scaling exponent (engine CPU time against layers; 1.0 is linear) use it.
The bytes per layer that the report keeps are measured with tracemalloc in a separate untimed run.

``--baseline TREE`` measures another checkout of convcost (for example the main branch) the same
way, interleaved with this tree case by case and round by round (``--rounds``, default 2; each
figure is its best over the rounds), and adds the ratio of the two engine times, measured in the
same run on the same machine. ``--million`` adds the 1,000,000-layer stack (one run per round).
``--engine-million`` instead times the engine alone, once per tree, on a 1,000,000-layer network
made directly in Python (loading excluded), with the growth of the process's peak RSS.

Also prints the whole-process ``convcost analyze --format json`` time of densenet121, next to
bare Python start-up.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import convcost
from convcost.errors import Location
from convcost.layers import Activation, Conv, Function
from convcost.limits import Limits
from convcost.network import LayerNode, Network

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
ENGINE_ONLY = 1_000_000
"""Layers of the ``--engine-million`` network."""


def best(fn: Callable[[], object], repeat: int = REPEAT) -> tuple[float, float]:
    """The best wall time and the best CPU time of this process over ``repeat`` runs (on a
    shared, loaded machine the CPU time is the steadier of the two)."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return min(walls), min(cpus)


def measure(case: str) -> dict[str, float]:
    """Times (seconds) of the three stages for one case, and the report's bytes per layer."""
    generate, size = dict([*CASES.items(), MILLION])[case]
    text = generate(size)
    # the defaults stop at 10**6 layers, 10**6 YAML nodes and 16 MiB: raise them all
    limits = Limits(max_layers=4 * size, max_spec_bytes=64 * size, max_yaml_nodes=16 * size)
    repeat = 1 if size >= 1_000_000 else REPEAT
    parse, parse_cpu = best(lambda: convcost.parse_spec(text, limits=limits), repeat)
    spec = convcost.parse_spec(text, limits=limits)
    build, build_cpu = best(lambda: convcost.build(spec), repeat)
    network = convcost.build(spec)
    engine, engine_cpu = best(lambda: convcost.analyze_network(network), repeat)
    report_bytes = math.nan
    if size <= 100_000:
        gc.collect()
        tracemalloc.start()
        report = convcost.analyze_network(network)
        report_bytes = tracemalloc.get_traced_memory()[0] / size
        tracemalloc.stop()
        del report
    return {
        "layers": size,
        "parse": parse,
        "parse_cpu": parse_cpu,
        "build": build,
        "build_cpu": build_cpu,
        "engine": engine,
        "engine_cpu": engine_cpu,
        "bytes": report_bytes,
    }


def measure_engine_only(size: int) -> dict[str, float]:
    """The engine alone on a ``size``-node plain conv/relu network made here in Python (so that
    loading does not count): CPU and wall time of one run, and the growth of the peak RSS."""
    conv = Conv(out=16, kernel=(3, 3), stride=(1, 1), padding=((1, 1), (1, 1)), dilation=(1, 1))
    relu = Activation(function=Function.RELU)
    shape = (16, 32, 32)
    nodes = tuple(
        LayerNode(
            path=f"conv{i // 2 + 1}" if i % 2 == 0 else f"relu{i // 2 + 1}",
            layer=conv if i % 2 == 0 else relu,
            input_shape=shape,
            output_shape=shape,
            location=Location("<generated>", i + 3, 5),
        )
        for i in range(size)
    )
    network = Network(name="plain", input_shape=shape, nodes=nodes)
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    wall, cpu = best(lambda: convcost.analyze_network(network), 1)
    growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
    return {"layers": size, "engine": wall, "engine_cpu": cpu, "rss_growth": growth}


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
    wall, _ = best(lambda: subprocess.run(command, check=True, capture_output=True, env=env), 5)
    bare, _ = best(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), 5)
    return spec.name, wall, bare


def exponent(small: dict[str, float], large: dict[str, float]) -> float:
    """Slope of log(engine CPU time) against log(layers): 1.0 is linear."""
    ratio = large["engine_cpu"] / small["engine_cpu"]
    return math.log(ratio) / math.log(large["layers"] / small["layers"])


def fastest(runs: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's best over the rounds."""
    return {key: min(run[key] for run in runs) for key in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", type=Path, help="another checkout to compare with")
    parser.add_argument("--million", action="store_true", help="add the 1,000,000-layer stack")
    parser.add_argument(
        "--engine-million",
        action="store_true",
        help="only the engine on a 1,000,000-layer network made in Python",
    )
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (default 2)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one = measure_engine_only(ENGINE_ONLY) if args.one == "engine 1M" else measure(args.one)
        print(json.dumps(one))
        return
    if args.engine_million:
        print("| engine only, 1,000,000-layer network | CPU | wall | peak RSS growth |")
        print("|---|---:|---:|---:|")
        trees = [("this tree", ROOT)] + ([("baseline", args.baseline)] if args.baseline else [])
        for name, tree in trees:
            m = measure_in(tree, "engine 1M")
            print(
                f"| {name} | {m['engine_cpu']:.1f} s | {m['engine']:.1f} s"
                f" | {m['rss_growth'] / 2**20:,.0f} MiB ({m['rss_growth'] / m['layers']:.0f} B/layer) |"
            )
        return
    cases = [*CASES, MILLION[0]] if args.million else list(CASES)
    runs: dict[str, list[dict[str, float]]] = {case: [] for case in cases}
    baseline_runs: dict[str, list[dict[str, float]]] = {case: [] for case in cases}
    for _ in range(args.rounds):  # interleaved: each case on both trees, round after round
        for case in cases:
            runs[case].append(measure_in(ROOT, case))
            if args.baseline:
                baseline_runs[case].append(measure_in(args.baseline, case))
    ours = {case: fastest(runs[case]) for case in cases}
    theirs = {case: fastest(baseline_runs[case]) for case in cases if args.baseline}

    print(
        "| case | layers | parse_spec | build | analyze_network (wall) | analyze_network (CPU) "
        "| µs/layer (CPU) | report B/layer |"
        + (" baseline analyze_network (CPU) | baseline / this |" if args.baseline else "")
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if args.baseline else ""))
    for case in cases:
        m = ours[case]
        row = (
            f"| {case} | {int(m['layers']):,} | {m['parse'] * 1000:,.0f} ms"
            f" | {m['build'] * 1000:,.0f} ms | {m['engine'] * 1000:,.1f} ms"
            f" | **{m['engine_cpu'] * 1000:,.1f} ms** | {m['engine_cpu'] / m['layers'] * 1e6:.2f}"
            f" | {m['bytes']:,.0f} |"
        )
        if args.baseline:
            b = theirs[case]
            row += f" {b['engine_cpu'] * 1000:,.1f} ms | {b['engine_cpu'] / m['engine_cpu']:.1f}× |"
        print(row)
    print()
    for small, large in (("plain 1k", "plain 100k"), ("plain 10k", "plain 100k")):
        line = f"engine scaling exponent (CPU), {small} → {large}: {exponent(ours[small], ours[large]):.2f}"
        if args.baseline:
            line += f" (baseline {exponent(theirs[small], theirs[large]):.2f})"
        print(line)
    name, wall, bare = cli_wall()
    print(
        f"cli: analyze --format json {name}: {wall * 1000:.0f} ms (bare python -c pass {bare * 1000:.0f} ms)"
    )
    print(
        f"python {sys.version.split()[0]}; best of {REPEAT} runs (1 for 1M layers) "
        f"in each of {args.rounds} interleaved rounds"
    )


if __name__ == "__main__":
    main()
