"""Benchmark: ``--convention`` adds nothing to the default path. Whole processes of this tree
against the same commands on the tree this branch started from (``git merge-base HEAD main``,
extracted with ``git archive`` into a temporary folder), measured in the same run, interleaved;
and what counting under a peer's convention costs on top of the default analysis.

    PYTHONPATH=. python tests/bench/bench_conventions.py [--rounds 9]

Prints a Markdown table (docs/benchmarks.md records it): median wall and CPU time per command
and the ratio to the base tree's (or, for ``--convention`` runs, to this tree's default run).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from tests.bench.process import ROOT, interleaved, python_version

COMMANDS = {
    "analyze resnet50 -f json": ["analyze", "resnet50", "-f", "json"],
    "analyze densenet121 (table)": ["analyze", "densenet121"],
    "compare resnet18 resnet50": ["compare", "resnet18", "resnet50"],
}
CONVENTION = {
    "analyze resnet50 -f json --convention ptflops": [
        "analyze",
        "resnet50",
        "-f",
        "json",
        "--convention",
        "ptflops",
    ],
    "analyze densenet121 --convention torchinfo": [
        "analyze",
        "densenet121",
        "--convention",
        "torchinfo",
    ],
}


def base_tree(folder: Path) -> str:
    commit = subprocess.run(
        ["git", "merge-base", "HEAD", "main"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "archive", commit, "convcost"], cwd=ROOT, capture_output=True, check=True
    )
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return commit


def run(tree: Path, args: list[str]) -> list[str]:
    return [
        "/usr/bin/env",
        f"PYTHONPATH={tree}",
        "NO_COLOR=1",
        sys.executable,
        "-m",
        "convcost",
        *args,
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=9)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        commit = base_tree(base)
        commands = {}
        for name, args in COMMANDS.items():
            commands[f"{name} (base)"] = run(base, args)
            commands[name] = run(ROOT, args)
        for name, args in CONVENTION.items():
            commands[name] = run(ROOT, args)
        found = interleaved(commands, rounds=rounds)
    print(f"Python {python_version()}, {rounds} rounds, base tree {commit[:10]}\n")
    print("| command | wall (median) | CPU (median) | CPU ratio | against |")
    print("|---|---:|---:|---:|---|")
    for name in COMMANDS:
        for label, against in ((f"{name} (base)", ""), (name, f"{name} (base)")):
            summary = found[label]
            ratio = f"{summary.cpu / found[against].cpu:.3f}" if against else "1"
            print(
                f"| {label} | {summary.wall:.3f} s | {summary.cpu:.3f} s | {ratio} | {against or '—'} |"
            )
    for name in CONVENTION:
        default = next(
            plain for plain in COMMANDS if name.startswith(plain.split(" (")[0].split(" -f")[0])
        )
        summary = found[name]
        print(
            f"| {name} | {summary.wall:.3f} s | {summary.cpu:.3f} s | "
            f"{summary.cpu / found[default].cpu:.3f} | {default} |"
        )


if __name__ == "__main__":
    main()
