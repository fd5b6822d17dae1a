"""Benchmark: this tree against another checkout of convcost (a base commit), whole processes,
interleaved in the same run, so that a refactoring is shown not to slow anything down.

    git archive <base> | tar -x -C /tmp/base
    PYTHONPATH=. python tests/bench/bench_trees.py --base /tmp/base [--rounds 7]

Each command runs under both trees (``python -m convcost`` with the tree as working directory
and ``PYTHONPATH``), once per round in a shuffled order after one uncounted warm-up round:
``analyze`` of the quickstart spec (start-up), of bundled models and of generated plain stacks
(10,000 and 100,000 layers), all ``-f json``; ``explain`` of a model; and ``analyze --execute``
of a model (weights, estimate and forward pass). Prints a Markdown table of medians: wall and CPU seconds per tree and the
ratio this tree / base (below 1: faster), and whether each tree's ``analyze`` loaded numpy.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.bench.bench_engine import plain_stack
from tests.bench.process import ROOT, Sample, Summary, child_env, measure, python_version

MODELS = ("resnet50", "densenet121", "mobilenet_v3_small")


def commands(stacks: dict[int, Path]) -> dict[str, list[str]]:
    run = [sys.executable, "-m", "convcost"]
    quickstart = str(ROOT / "specs" / "quickstart.yaml")
    found = {
        "analyze specs/quickstart.yaml (start-up)": [*run, "analyze", quickstart, "-f", "json"]
    }
    found |= {f"analyze {model}": [*run, "analyze", model, "-f", "json"] for model in MODELS}
    for size, path in stacks.items():
        found[f"analyze plain {size:,} layers"] = [*run, "analyze", str(path), "-f", "json"]
    found["explain resnet50"] = [*run, "explain", "resnet50", "-f", "json"]
    found["analyze resnet18 --execute"] = [*run, "analyze", "resnet18", "--execute", "-f", "json"]
    return found


def loads_numpy(tree: Path) -> bool:
    code = (
        "import sys; from convcost.__main__ import main; sys.argv = ['convcost', 'analyze', "
        "'resnet50', '-f', 'json']\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
        "sys.stderr.write(str('numpy' in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tree,
        env=child_env({"PYTHONPATH": str(tree)}),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stderr.strip() == "True"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", type=Path, required=True, help="the other checkout's root")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    trees = {"base": args.base.resolve(), "this": ROOT}
    with tempfile.TemporaryDirectory() as folder:
        stacks = {}
        for size in (10_000, 100_000):
            stacks[size] = Path(folder) / f"plain{size}.yaml"
            stacks[size].write_text(plain_stack(size), encoding="utf-8")
        cases = commands(stacks)
        runs = [(name, tree) for name in cases for tree in trees]
        samples: dict[tuple[str, str], list[Sample]] = {run: [] for run in runs}
        order = list(runs)
        shuffle = random.Random(0).shuffle
        for round_number in range(1 + args.rounds):
            shuffle(order)
            for name, tree in order:
                env = child_env({"PYTHONPATH": str(trees[tree])})
                sample = measure(cases[name], env=env, cwd=trees[tree])
                if round_number:
                    samples[name, tree].append(sample)
    summaries = {run: Summary.of(found) for run, found in samples.items()}
    print(f"{python_version()}; medians of {args.rounds} interleaved rounds\n")
    print("| command | base wall s | this wall s | ratio | base CPU s | this CPU s | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in cases:
        base, this = summaries[name, "base"], summaries[name, "this"]
        print(
            f"| {name} | {base.wall:.3f} | {this.wall:.3f} | {this.wall / base.wall:.2f} "
            f"| {base.cpu:.3f} | {this.cpu:.3f} | {this.cpu / base.cpu:.2f} |"
        )
    print()
    for tree, path in trees.items():
        print(f"- {tree}: `analyze resnet50` loads numpy: {loads_numpy(path)}")


if __name__ == "__main__":
    main()
