"""Benchmark: rendering a report as JSON, table, Markdown and CSV (not a test; run by hand).

    PYTHONPATH=. python tests/bench/bench_output.py [--sizes 1000,10000,100000]

In-process, on plain conv/batchnorm/relu stacks (tests/bench/bench_engine.plain_stack): the
report is built once per size, outside the timings; each figure is the least CPU time of 3
runs (CPU, not wall time: the machine is shared). The references are measured in the same
run:

- JSON: the old renderer, ``json.dumps(report_to_dict(report), indent=2)`` (the pure-Python
  encoder, which ``indent`` forces), against the compact default (C encoder, streamed in
  batches) and ``--indent 2`` (jsontext.indented, streamed). Peak memory (tracemalloc) of
  writing the JSON to a sink, old against streamed.
- table: rich's own ``Table`` with every row added (what convcost drew before), against
  ``print_reports`` (FastTable); rich is timed once at 10,000 rows (about 15 s) and skipped
  above.
- whole process (``--process N``, default 10,000): ``convcost analyze`` of an N-layer stack,
  table and JSON, against the ``python -c "import yaml, rich"`` floor, interleaved.

Prints a Markdown table (docs/benchmarks.md, "Output").
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from copy import copy
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

sys.path.insert(0, str(Path(__file__).parent))

from bench_engine import plain_stack

import convcost
from convcost.integers import unlimited_str_digits
from convcost.render import formats
from convcost.render.table import layer_table, print_reports
from convcost.report import Report
from convcost.serialize import report_to_dict

ROOT = Path(__file__).resolve().parents[2]


def best(fn: Callable[[], object], repeat: int = 3) -> float:
    """The least CPU time of ``repeat`` runs (CPU rather than wall time: on a machine shared
    by other jobs, waiting for a core is not the renderer's cost)."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def old_json(report: Report) -> str:
    with unlimited_str_digits():
        return json.dumps(report_to_dict(report), indent=2, ensure_ascii=True) + "\n"


def streamed(pieces: object) -> int:
    """Write the pieces to a sink that keeps only their length (as a pipe would)."""
    return sum(len(piece) for piece in pieces)  # type: ignore[attr-defined]


def peak_bytes(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def console() -> Console:
    return Console(file=io.StringIO(), width=100, color_system=None)


def rich_table(report: Report) -> Table:
    """The layer table as rich alone draws it: the same frame, every row added."""
    fast = layer_table(report, width=100)
    table = copy(fast.frame)
    table.columns = [copy(column) for column in fast.frame.columns]
    table.rows = []
    for column in table.columns:
        column._cells = []
    for row in fast.rows():
        table.add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in row))
    return table


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def row(size: int) -> str:
    """The figures at ``size`` layers, as a Markdown table row."""
    report = convcost.analyze_all(convcost.parse_spec(plain_stack(size)))[0]
    old = best(lambda: old_json(report))
    compact = best(lambda: streamed(formats.json_chunks([report])))
    indent = best(lambda: streamed(formats.json_chunks([report], indent=2)))
    memory_old = peak_bytes(lambda: len(old_json(report)))
    memory_new = peak_bytes(lambda: streamed(formats.json_chunks([report])))
    table = best(lambda: print_reports(console(), [report], depth=None, exact=False))
    rich = None
    if size <= 10_000:  # rich alone: ~1.5 ms a row, once at 10,000 rows
        rich = best(lambda: console().print(rich_table(report)), repeat=3 if size <= 1_000 else 1)
    markdown = best(lambda: formats.to_markdown([report]))
    csv = best(lambda: formats.to_csv([report]))
    return (
        f"| {size:,} | {ms(old)} | {ms(compact)} | {ms(indent)} | {old / compact:.1f}× | "
        f"{old / indent:.1f}× | {memory_old / 2**20:,.0f} → {memory_new / 2**20:,.1f} MiB | "
        f"{ms(rich) if rich else '—'} | {ms(table)} | {table / size * 1e6:.1f} | "
        f"{f'{rich / table:.0f}×' if rich else '—'} | {ms(markdown)} | {ms(csv)} |"
    )


def wall(args: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of the process ``python ARGS``, its output to a
    pipe (as a user's ``| less``)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, capture_output=True, env=env)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def processes(size: int) -> list[str]:
    """``convcost analyze`` of a ``size``-layer stack as a whole process, table and JSON,
    against the ``import yaml, rich`` floor, interleaved; best of 5."""
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / f"plain{size}.yaml"
        spec.write_text(plain_stack(size), encoding="utf-8")
        commands = {
            "`python -c 'import yaml, rich'` (floor)": ["-c", "import yaml, rich"],
            f"`convcost analyze` table, {size:,} layers": ["-m", "convcost", "analyze", str(spec)],
            f"`convcost analyze -f json`, {size:,} layers": [
                "-m", "convcost", "analyze", str(spec), "-f", "json",
            ],
        }  # fmt: skip
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(5):
            for name, args in commands.items():
                times[name].append(wall(args))
    floor_wall = min(elapsed for elapsed, _ in next(iter(times.values())))
    floor_cpu = min(cpu for _, cpu in next(iter(times.values())))
    lines = []
    for name, values in times.items():
        elapsed = min(elapsed for elapsed, _ in values)
        cpu = min(cpu for _, cpu in values)
        lines.append(
            f"| {name} | {elapsed * 1000:,.0f} ms | {elapsed / floor_wall:.1f}× | "
            f"{cpu * 1000:,.0f} ms | {cpu / floor_cpu:.1f}× |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--process", type=int, default=10_000, help="0: no whole-process run")
    arguments = parser.parse_args()
    sizes = [int(size) for size in arguments.sizes.split(",")]
    lines = [
        "| rows (layers) | JSON old (indent 2, pure Python) | JSON compact (default) | "
        "JSON `--indent 2` | old / compact | old / indent | JSON peak memory old → streamed | "
        "table, rich Table | table (FastTable) | µs/row | rich / FastTable | Markdown | CSV |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for size in sizes:
        lines.append(row(size))
        print(lines[-1], file=sys.stderr, flush=True)
    if arguments.process:
        lines += [
            "",
            "| whole process | wall, best of 5 | / floor | CPU, best of 5 | / floor |",
            "|---|--:|--:|--:|--:|",
        ]
        lines += processes(arguments.process)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
