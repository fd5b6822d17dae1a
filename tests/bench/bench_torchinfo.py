"""Benchmark: ``convcost analyze resnet50`` against ``torchinfo.summary`` of the same network,
whole processes side by side (issue 18: convcost at least 30× faster).

    PYTHONPATH=. python tests/bench/bench_torchinfo.py [--rounds 5]

Needs torch and torchinfo (bench-only dependencies, not test ones). torchinfo summarises
``tests/torch_models.resnet50()`` (torchvision's ResNet-50 v1.5, the network the zoo spec
``resnet50`` is checked against layer by layer) on a 1×3×224×224 input and prints its table,
as a user would run it; convcost prints its table and, separately, JSON. ``import torch``
alone is measured too: most of torchinfo's time is torch's start-up. Each command runs once per
round, shuffled, after one uncounted warm-up round; the figures are medians.
"""

from __future__ import annotations

import argparse
import sys

from tests.bench.process import interleaved, own_peak_mib, python_version

TORCHINFO = "torchinfo.summary(resnet50(), (1, 3, 224, 224))"
CONVCOST = "`convcost analyze resnet50`"


def commands() -> dict[str, list[str]]:
    python = sys.executable
    torchinfo = (
        "import torchinfo; from tests.torch_models import resnet50; "
        "torchinfo.summary(resnet50(), input_size=(1, 3, 224, 224))"
    )
    return {
        CONVCOST: [python, "-m", "convcost", "analyze", "resnet50"],
        "`convcost analyze resnet50 -f json`": [
            *[python, "-m", "convcost", "analyze", "resnet50"],
            *["-f", "json"],
        ],
        f"`{TORCHINFO}`": [python, "-c", torchinfo],
        "`python -c 'import torch'`": [python, "-c", "import torch"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="counted rounds (median of these)")
    options = parser.parse_args(argv)
    results = interleaved(commands(), rounds=options.rounds)
    reference = results[f"`{TORCHINFO}`"]
    print("| command | wall | torchinfo ÷ this | CPU | torchinfo ÷ this | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, summary in results.items():
        print(
            f"| {label} | {summary.wall:.2f} s | {reference.wall / summary.wall:.1f}× "
            f"| {summary.cpu:.2f} s | {reference.cpu / summary.cpu:.1f}× | {summary.peak_mib:.0f} MiB |"
        )
    print(
        f"\nPython {python_version()}; medians of {options.rounds} interleaved rounds after one "
        f"warm-up round; benchmark process {own_peak_mib():.0f} MiB."
    )


if __name__ == "__main__":
    main()
