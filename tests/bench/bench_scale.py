"""Benchmark: whole-process ``convcost analyze`` on generated specs of growing size (issue 18:
10,000 layers < 0.5 s, 100,000 < 3 s, 1,000,000 < 30 s and < 1 GB; 10,000 concat branches
< 0.5 s; a 10,000-row table < 1 s), with peak RSS and the scaling exponent.

    PYTHONPATH=. python tests/bench/bench_scale.py [--sizes 1k,10k,100k,1M] [--rounds 3]

The specs are written to a temporary directory by a child process (so that this process stays
small: its size is a floor under every child's peak RSS, see tests/bench/process.py):

- a plain stack of N layers, ``bench_engine.plain_stack`` (conv/relu on 16×32×32, one layer
  a line), for each N in ``--sizes`` (default 1k, 10k, 100k: add 1M for the full run),
  ``-f json``; past 100,000 layers with ``--max-spec-bytes`` and ``--max-yaml-nodes`` raised
  (a literal million-layer stack is 28 MB and 6 million YAML nodes);
- one ``concat`` of 10,000 branches of one convolution each, ``-f json``;
- the 10,000-layer stack as a table (10,000 rows; standard output to /dev/null);
- with ``--gc-baseline``, the JSON cases up to 100,000 layers again with Python's default
  garbage-collector thresholds (``convcost.cli.entry.tune_collector`` skipped), for an A/B.

Every case runs once per round, shuffled, after one uncounted warm-up run of the smallest case. The exponent between two sizes is
log(time ratio) / log(layer ratio): 1.0 is linear. Standard output goes to /dev/null.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.bench.process import Summary, interleaved, measure, own_peak_mib, python_version

FLOOR = '`python -c "import yaml, rich"`'
VERSION = "`convcost --version`"
CONCAT = 10_000
TABLE = 10_000
TARGETS = {10_000: "0.5 s", 100_000: "3 s", 1_000_000: "30 s, 1 GB"}


def concat_branches(count: int) -> str:
    """One ``concat`` of ``count`` branches, each a 1×1 convolution to 8 channels."""
    body = "".join(f"      b{i}: [{{conv: {{out: 8, kernel: 1}}}}]\n" for i in range(count))
    return f"input: [64, 56, 56]\nlayers:\n  - concat:\n{body}"


def write_spec(kind: str, count: int, path: Path) -> None:
    """Run in a child process (``--write``)."""
    from tests.bench.bench_engine import plain_stack  # noqa: PLC0415  (the child only: it imports convcost)

    text = plain_stack(count) if kind == "stack" else concat_branches(count)
    path.write_text(text, encoding="utf-8")


def generate(kind: str, count: int, folder: Path) -> Path:
    path = folder / f"{kind}-{count}.yaml"
    subprocess.run(
        [sys.executable, __file__, "--write", kind, str(count), str(path)],
        check=True,
    )
    return path


def parse_size(text: str) -> int:
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1].lower(), 1)
    return int(text[:-1] if scale > 1 else text) * scale


def raised(size: int) -> list[str]:
    """The flags a stack of ``size`` layers needs past 100,000: 28 bytes and 6 YAML nodes a
    layer, where the defaults stop at 16 MiB and 1,000,000 nodes (docs/limits.md)."""
    return ["--max-spec-bytes", f"{32 * size // 2**20 + 1}MiB", "--max-yaml-nodes", str(7 * size)]


def analyze(path: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "convcost", "analyze", str(path), *options]


DEFAULT_GC = "import convcost.cli.entry as entry; entry.tune_collector = lambda: None; entry.main()"
"""The command with Python's default collector thresholds (``--gc-baseline``)."""


def analyze_default_gc(path: Path, *options: str) -> list[str]:
    return [sys.executable, "-c", DEFAULT_GC, "analyze", str(path), *options]


def exponent(small: tuple[int, Summary], large: tuple[int, Summary], cpu: bool) -> str:
    (n1, s1), (n2, s2) = small, large
    t1, t2 = (s1.cpu, s2.cpu) if cpu else (s1.wall, s2.wall)
    return f"{math.log(t2 / t1) / math.log(n2 / n1):.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1k,10k,100k", help="stack sizes, e.g. 1k,10k,100k,1M")
    parser.add_argument("--rounds", type=int, default=3, help="counted rounds (median of these)")
    parser.add_argument(
        "--gc-baseline",
        action="store_true",
        help="also run the JSON cases up to 100k layers with Python's default collector",
    )
    parser.add_argument("--write", nargs=3, metavar=("KIND", "N", "PATH"), help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.write:
        kind, count, path = options.write
        write_spec(kind, int(count), Path(path))
        return
    sizes = sorted(parse_size(size) for size in options.sizes.split(","))
    with tempfile.TemporaryDirectory(prefix="convcost-scale-") as temporary:
        folder = Path(temporary)
        commands: dict[str, list[str]] = {
            FLOOR: [sys.executable, "-c", "import yaml, rich"],
            VERSION: [sys.executable, "-m", "convcost", "--version"],
        }
        stacks: dict[int, str] = {}
        for size in sizes:
            flags = raised(size) if size > 100_000 else []  # past the default input bounds
            label = f"stack of {size:,} layers, `-f json`"
            label += f" `{' '.join(flags)}`" if flags else ""
            commands[label] = analyze(generate("stack", size, folder), "-f", "json", *flags)
            stacks[size] = label
        concat = f"{CONCAT:,} concat branches, `-f json`"
        commands[concat] = analyze(generate("concat", CONCAT, folder), "-f", "json")
        table = f"stack of {TABLE:,} layers, table ({TABLE:,} rows)"
        commands[table] = analyze(generate("stack", TABLE, folder))
        if options.gc_baseline:
            for label in [*(stacks[n] for n in sizes if n <= 100_000), concat]:
                commands[f"{label}, default GC"] = [
                    *analyze_default_gc(Path(commands[label][4])),
                    *commands[label][5:],
                ]
        measure(commands[stacks[sizes[0]]])  # warm-up: .pyc files written, caches filled
        results = interleaved(commands, rounds=options.rounds, warmup=0)
    floor = results[FLOOR]
    print("| case | wall | CPU | peak RSS | exponent (wall, CPU) | target |")
    print("|---|---:|---:|---:|---:|---:|")
    previous: tuple[int, Summary] | None = None
    for label, summary in results.items():
        scaling = ""
        size = next((n for n, name in stacks.items() if name == label), None)
        if size is not None:
            if previous is not None:
                current = (size, summary)
                scaling = (
                    f"{exponent(previous, current, False)}, {exponent(previous, current, True)}"
                )
                scaling += f" (from {previous[0]:,})"
            previous = (size, summary)
        target = TARGETS.get(size, "") if size else ("0.5 s" if label == concat else "")
        target = "1 s" if label == table else target
        ratio = f" ({summary.wall / floor.wall:.1f}× floor)" if label != FLOOR else ""
        cpu_ratio = f" ({summary.cpu / floor.cpu:.1f}× floor)" if label != FLOOR else ""
        print(
            f"| {label} | {summary.wall:.2f} s{ratio} | {summary.cpu:.2f} s{cpu_ratio} "
            f"| {summary.peak_mib:.0f} MiB | {scaling} | {target} |"
        )
    print(
        f"\nPython {python_version()}; medians of {options.rounds} interleaved rounds; "
        f"benchmark process {own_peak_mib():.0f} MiB."
    )


if __name__ == "__main__":
    main()
