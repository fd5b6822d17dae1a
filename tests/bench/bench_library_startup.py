"""Benchmark: start-up of the library path ``convcost analyze`` takes, below the CLI, whole
processes, against the floor ``python -c "import yaml, rich"`` measured in the same run (issue 18:
``analyze resnet50`` 30× faster than torchinfo, a small ``analyze -f json`` ≤ 2× the floor).

    PYTHONPATH=. python tests/bench/bench_library_startup.py [--rounds 15] [--imports]

Each driver process makes exactly the library calls of ``convcost analyze SPEC`` without the
command-line layer: tell a spec from a model file, find the bundled model, load the spec and
analyse it (:func:`convcost.engine.analyze_loaded`), then print the table
(:func:`convcost.render.plain_report.plain_reports`, as on a pipe 80 columns wide: no rich) or the JSON
(:func:`convcost.render.formats.json_chunks`). Each command runs once per round, in a shuffled
order, after one uncounted warm-up round; the table gives the median and the minimum of each
command's wall and CPU times (on a busy machine the minimum is the steadier). ``--imports`` also lists the
modules the path imports beyond the floor's, with their self times from ``python -X importtime``
(medians of 5 runs), heaviest first. ``--instructions`` also counts each command's instructions
under valgrind (``cachegrind``, one run each, ``PYTHONHASHSEED=0``): a figure that a busy machine
does not disturb, ~8 s a command.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import subprocess
import sys
from collections.abc import Sequence

from tests.bench.process import (
    ROOT,
    Sample,
    child_env,
    instructions,
    measure,
    own_peak_mib,
    python_version,
)

FLOOR = '`python -c "import yaml, rich"` (floor)'

DRIVER = """\
import functools, sys
from convcost import zoo
from convcost.engine import analyze_loaded
from convcost.file_paths import is_model_path
from convcost.spec import read_spec_file

source, kind = sys.argv[1:3]
is_model_path(source)
path = zoo.spec_file(source) or source
reports = [r for r in analyze_loaded(functools.partial(read_spec_file, path), batch=1, dtype="float32")]
if kind == "table":
    from convcost.render.plain_report import plain_reports

    for piece in plain_reports(reports, depth=None, exact=False, width=80):
        sys.stdout.write(piece)
else:
    from convcost.render import formats

    for piece in formats.json_chunks(reports, depth=None, indent=None):
        sys.stdout.write(piece)
sys.stdout.flush()
"""
"""What ``convcost analyze SOURCE [-f json]`` does below the CLI (``cli/analyze.py``)."""

SMALL = "specs/quickstart.yaml"

CASES = {
    "resnet50 (table)": ("resnet50", "table"),
    "resnet50 -f json": ("resnet50", "json"),
    f"{SMALL} -f json": (SMALL, "json"),
    f"{SMALL} (table)": (SMALL, "table"),
}


def driver(source: str, kind: str, tree: str | None = None) -> list[str]:
    """The driver's command line; ``tree``: import convcost from that source tree instead."""
    code = DRIVER if tree is None else f"import sys; sys.path.insert(0, {tree!r})\n{DRIVER}"
    return [sys.executable, "-c", code, source, kind]


def commands(baseline: str | None = None) -> dict[str, list[str]]:
    python = sys.executable
    table = {
        FLOOR: [python, "-c", "import yaml, rich"],
        "`python -c pass`": [python, "-c", "pass"],
    }
    for label, (source, kind) in CASES.items():
        table[f"library `analyze {label}`"] = driver(source, kind)
        if baseline is not None:
            table[f"baseline `analyze {label}`"] = driver(source, kind, baseline)
    return table


def rounds(
    commands: dict[str, list[str]], count: int, warmup: int = 1, seed: int = 0
) -> dict[str, list[Sample]]:
    """Every command once per round, in a shuffled order each round, after ``warmup``
    uncounted rounds (as :func:`tests.bench.process.interleaved`, keeping every sample)."""
    order = list(commands)
    shuffle = random.Random(seed).shuffle
    samples: dict[str, list[Sample]] = {name: [] for name in order}
    for number in range(warmup + count):
        shuffle(order)
        for name in order:
            sample = measure(commands[name])
            if number >= warmup:
                samples[name].append(sample)
    return samples


def markdown(results: dict[str, list[Sample]]) -> str:
    """Medians and minima (the least disturbed run, steadier on a shared machine) of wall and
    CPU time, each with its ratio to the floor's."""

    def figures(samples: list[Sample]) -> tuple[float, float, float, float]:
        walls, cpus = [s.wall for s in samples], [s.cpu for s in samples]
        return statistics.median(walls), min(walls), statistics.median(cpus), min(cpus)

    floor = figures(results[FLOOR])
    lines = [
        "| command | wall median | × floor | wall min | × floor | CPU median | × floor "
        "| CPU min | × floor | peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, samples in results.items():
        cells = [
            f"{value * 1000:.1f} ms | {value / base:.2f}"
            for value, base in zip(figures(samples), floor, strict=True)
        ]
        peak = statistics.median(s.peak_mib for s in samples)
        lines.append(f"| {label} | {' | '.join(cells)} | {peak:.0f} MiB |")
    return "\n".join(lines)


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


def import_times(argv: Sequence[str]) -> dict[str, int]:
    """The modules ``argv`` imports, each with its self time (µs), from ``-X importtime``."""
    process = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]],
        cwd=ROOT,
        env=child_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
    )
    found = {}
    for line in process.stderr.splitlines():
        if match := _IMPORT_LINE.match(line):
            found[match[4]] = int(match[1])
    return found


def extra_imports(argv: Sequence[str], runs: int = 5) -> list[tuple[str, float]]:
    """The modules ``argv`` imports beyond the floor's, with their median self time (ms)."""
    floor = set(import_times([sys.executable, "-c", "import yaml, rich"]))
    samples: dict[str, list[int]] = {}
    for _ in range(runs):
        for name, micros in import_times(argv).items():
            if name not in floor:
                samples.setdefault(name, []).append(micros)
    medians = [(name, statistics.median(times) / 1000) for name, times in samples.items()]
    return sorted(medians, key=lambda item: -item[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="counted rounds (median of these)")
    parser.add_argument(
        "--imports", action="store_true", help="list the modules imported beyond the floor's"
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each command's instructions under valgrind (steady on a busy machine)",
    )
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help="also run the drivers on the convcost in the source tree DIR (another checkout, "
        "e.g. `git archive main | tar -x -C DIR`), interleaved with this tree's",
    )
    options = parser.parse_args(argv)
    results = rounds(commands(options.baseline), options.rounds)
    print(markdown(results))
    print(
        f"\nPython {python_version()}; {options.rounds} interleaved rounds after one "
        f"warm-up round; benchmark process {own_peak_mib():.0f} MiB."
    )
    if options.instructions:
        counted = {label: instructions(argv) for label, argv in commands(options.baseline).items()}
        floor = counted[FLOOR]
        print("\n| command | instructions | × floor | beyond the floor |\n|---|---:|---:|---:|")
        for label, count in counted.items():
            print(
                f"| {label} | {count / 1e6:.1f} M | {count / floor:.2f} "
                f"| {(count - floor) / 1e6:+.1f} M |"
            )
    if options.imports:
        for label, (source, kind) in CASES.items():
            extra = extra_imports(driver(source, kind))
            total = sum(ms for _, ms in extra)
            print(f"\n{label}: {len(extra)} modules beyond the floor's, {total:.1f} ms self time")
            print(", ".join(f"{name} {ms:.2f}" for name, ms in extra))


if __name__ == "__main__":
    main()
