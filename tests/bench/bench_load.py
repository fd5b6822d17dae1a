"""Benchmark: loading and building big generated specs, in process (not a test; run it by hand).

    PYTHONPATH=. python tests/bench/bench_load.py [--before /path/to/other/tree] [--repeat 3]

For a plain conv/batchnorm/relu stack of 10,000 and 100,000 layers and a concat of 10,000
branches: the time to load the spec (``parse_spec``: bytes to located tree) and to build its
network (``build``: every layer's fields read, every shape resolved) in CPU time (the 2-core
machine is shared: wall time there is 2-4× CPU time and swings with the load), best of
``--repeat`` runs in a fresh child process each, and the memory the tree and the network hold (tracemalloc, a
separate run). Each YAML path is measured: the plain reader (the default for these specs),
libyaml's events (what any other spec takes), and PyYAML's pure-Python parser (without
libyaml). ``--before`` measures another checkout (``git worktree add /tmp/main main``) in the
same run, interleaved, and prints the ratio. Prints a Markdown table (docs/benchmarks.md,
*Loading*).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import yaml

import convcost  # from the tree on PYTHONPATH: each child process sets its own
from convcost import document

HERE = Path(__file__).resolve()
ROOT = HERE.parents[2]

CONV = "conv: {out: 64, kernel: 3, padding: 1, bias: false}"


def plain_stack(depth: int) -> str:
    """``depth`` layers: conv/batchnorm/relu triples on a 64×56×56 map (as bench_engine.py)."""
    kinds = [CONV, "batchnorm: {}", "relu: {}"]
    body = "".join(f"  - {kinds[i % 3]}\n" for i in range(depth))
    return f"input: [64, 56, 56]\nlayers:\n{body}"


def concat_branches(count: int) -> str:
    """One concat of ``count`` branches, each a 1×1 conv to 8 channels."""
    body = "".join(
        f"      b{i}:\n        - conv: {{out: 8, kernel: 1, bias: false}}\n" for i in range(count)
    )
    return f"input: [64, 56, 56]\nlayers:\n  - concat:\n{body}"


CASES = {
    "plain stack, 10,000 layers": ("stack", 10_000),
    "plain stack, 100,000 layers": ("stack", 100_000),
    "concat, 10,000 branches": ("concat", 10_000),
}
PATHS = ("plain reader", "libyaml events", "PyYAML pure parser")


def child(case: str, path: str, repeat: int, memory: bool) -> dict[str, float]:
    """Run in a child process: times (or memory) of one case on one YAML path."""
    if path != "plain reader" and hasattr(document, "read_plain"):

        def decline(*args: object, **kwargs: object) -> None:
            raise document.Declined

        document.read_plain = decline  # type: ignore[assignment]
    if path == "PyYAML pure parser":
        try:
            from convcost import yaml_events as events  # noqa: PLC0415
        except ImportError:  # a tree from before yaml_events.py (--before)
            events = document  # type: ignore[assignment]
        events._LOADER = yaml.SafeLoader
    kind, size = CASES[case]
    text = plain_stack(size) if kind == "stack" else concat_branches(size)
    layers = size + 2 if kind == "concat" else size  # a concat: the merge and its branches
    if memory:
        tracemalloc.start()
        spec = convcost.parse_spec(text)
        tree = tracemalloc.get_traced_memory()[0]
        network = convcost.build(spec)
        built = tracemalloc.get_traced_memory()[0] - tree
        del network
        return {"tree_bytes": tree / layers, "network_bytes": built / layers}
    loads, builds = [], []
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        spec = convcost.parse_spec(text)
        middle = time.process_time()
        convcost.build(spec)
        end = time.process_time()
        loads.append(middle - start)
        builds.append(end - middle)
        del spec
    return {"load": min(loads), "build": min(builds), "layers": layers}


def measure(
    tree: Path, case: str, path: str, repeat: int, memory: bool = False
) -> dict[str, float]:
    command = [sys.executable, str(HERE), "--child", case, path, str(repeat), str(int(memory))]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", type=Path, help="another checkout, measured alongside")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        case, path, repeat, memory = options.child
        print(json.dumps(child(case, path, int(repeat), memory == "1")))
        return

    header = (
        "| spec | YAML path | load | build | load + build per layer | tree, network per layer |"
    )
    if options.before:
        print(f"{header} before: load + build, ratio |")
        print("|---|---|---:|---:|---:|---:|---:|")
    else:
        print(header)
        print("|---|---|---:|---:|---:|---:|")
    for case in CASES:
        for path in PATHS:
            if path == "PyYAML pure parser" and CASES[case][1] > 10_000:
                continue  # minutes: the ratio at 10,000 layers says enough
            now = measure(ROOT, case, path, options.repeat)
            before = measure(options.before, case, path, options.repeat) if options.before else None
            memory = measure(ROOT, case, path, 1, memory=True)
            per_layer = (now["load"] + now["build"]) / now["layers"] * 1e6
            row = (
                f"| {case} | {path} | {now['load'] * 1000:,.0f} ms | {now['build'] * 1000:,.0f} ms "
                f"| {per_layer:.1f} µs | {memory['tree_bytes']:,.0f} B, "
                f"{memory['network_bytes']:,.0f} B |"
            )
            if before is not None:
                then = before["load"] + before["build"]
                row += (
                    f" {then * 1000:,.0f} ms before: {then / (now['load'] + now['build']):.1f}× |"
                )
            print(row, flush=True)


if __name__ == "__main__":
    main()
