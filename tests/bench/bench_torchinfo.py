"""Benchmark: ``convcost analyze resnet50`` against ``torchinfo.summary`` of the same network,
whole processes side by side (issue 18: convcost at least 30× faster).

    PYTHONPATH=. python tests/bench/bench_torchinfo.py [--rounds 5] [--instructions] [--editable]

Needs torch and torchinfo (bench-only dependencies, not test ones). torchinfo summarises
``tests/torch_models.resnet50()`` (torchvision's ResNet-50 v1.5, the network the zoo spec
``resnet50`` is checked against layer by layer) on a 1×3×224×224 input and prints its table,
as a user would run it; convcost prints its table and, separately, JSON, run as its console
script runs it (and once through ``python -m``). ``import torch`` alone is measured too: most of
torchinfo's time is torch's start-up. Each command runs once per round, shuffled, after one
uncounted warm-up round; the figures are medians. Every command runs in an isolated environment
without the editable install's start-up finder (``process.isolated_python``; ``--editable``
measures this environment as it is).
"""

from __future__ import annotations

import argparse

from tests.bench.process import (
    ENTRY,
    instructions,
    interleaved,
    isolated_python,
    own_peak_mib,
    python_version,
)

TORCHINFO = "torchinfo.summary(resnet50(), (1, 3, 224, 224))"
CONVCOST = "`convcost analyze resnet50`"


def commands(python: str) -> dict[str, list[str]]:
    torchinfo = (
        "import torchinfo; from tests.torch_models import resnet50; "
        "torchinfo.summary(resnet50(), input_size=(1, 3, 224, 224))"
    )
    convcost = [python, "-c", ENTRY, "analyze", "resnet50"]
    return {
        CONVCOST: convcost,
        "`convcost analyze resnet50 -f json`": [*convcost, "-f", "json"],
        "`python -m convcost analyze resnet50`": [python, "-m", "convcost", "analyze", "resnet50"],
        f"`{TORCHINFO}`": [python, "-c", torchinfo],
        "`python -c 'import torch'`": [python, "-c", "import torch"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="counted rounds (median of these)")
    parser.add_argument(
        "--editable",
        action="store_true",
        help="run in this environment as it is, editable-install finder and all "
        "(default: an isolated one, see tests/bench/process.py: isolated_python)",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each command's instructions under valgrind, one run each (steady on a "
        "busy machine; torchinfo's takes about a minute)",
    )
    options = parser.parse_args(argv)
    with isolated_python(not options.editable) as python:
        results = interleaved(commands(python), rounds=options.rounds)
        counts = (
            {label: instructions(command) for label, command in commands(python).items()}
            if options.instructions
            else {}
        )
    reference = results[f"`{TORCHINFO}`"]
    print("| command | wall | torchinfo ÷ this | CPU | torchinfo ÷ this | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, summary in results.items():
        print(
            f"| {label} | {summary.wall:.3f} s | {reference.wall / summary.wall:.1f}× "
            f"| {summary.cpu:.3f} s | {reference.cpu / summary.cpu:.1f}× "
            f"| {summary.peak_mib:.0f} MiB |"
        )
    if counts:
        print("\n| command | instructions | torchinfo ÷ this |\n|---|---:|---:|")
        for label, count in counts.items():
            print(f"| {label} | {count / 1e6:,.0f} M | {counts[f'`{TORCHINFO}`'] / count:.1f}× |")
    print(
        f"\nPython {python_version()}; medians of {options.rounds} interleaved rounds after one "
        f"warm-up round; benchmark process {own_peak_mib():.0f} MiB."
    )


if __name__ == "__main__":
    main()
