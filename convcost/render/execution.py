"""``analyze --execute``: the layer table with measured time and GFLOP/s, the run's summary,
the ``execution`` JSON object, and the progress bar."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from convcost.execution import Executed, Execution, LayerRun
from convcost.render import formats, numbers
from convcost.render.rows import Row, rows
from convcost.render.table import ExtraColumn, fast_table, layer_table
from convcost.render.table_spec import TableSpec, fitted_grid, summary_spec
from convcost.serialize import report_to_dict


def seconds(value: float) -> str:
    """``12.3 ms``, ``840 µs``, ``1.25 s``."""
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.2f} ms"
    return f"{value * 1e6:.0f} µs"


def rate(macs: int, elapsed: float) -> str:
    """Achieved GFLOP/s (2·MACs per second); blank for layers without MACs."""
    return f"{2 * macs / elapsed / 1e9:.1f}" if macs and elapsed > 0 else ""


def _runs_under(execution: Execution, key: str) -> list[LayerRun]:
    prefix = key + "."
    return [run for run in execution.layers if run.path == key or run.path.startswith(prefix)]


def _columns(execution: Execution) -> list[ExtraColumn]:
    def row_seconds(row: Row) -> str:
        return seconds(sum(run.seconds for run in _runs_under(execution, row.path)))

    def row_rate(row: Row) -> str:
        runs = _runs_under(execution, row.path)
        return rate(sum(run.macs for run in runs), sum(run.seconds for run in runs))

    return [
        ExtraColumn("time", seconds(execution.seconds), row_seconds),
        ExtraColumn("GFLOP/s", rate(execution.macs, execution.seconds), row_rate),
    ]


def run_summary(execution: Execution, *, width: int | None = None) -> TableSpec:
    """What ran, how fast and in how much memory (a grid fitted to ``width``)."""
    return fitted_grid(
        [
            (
                "executed",
                seconds(execution.seconds),
                f"{_passes(execution)}, batch {execution.batch}, {execution.dtype}, "
                f"seed {execution.seed}; every shape confirmed "
                f"({_plural(len(execution.layers), 'step')})",
            ),
            ("achieved", f"{execution.gflops_per_second:.1f} GFLOP/s", "2 × MACs / forward time"),
            (
                "memory",
                numbers.size(execution.peak_rss_bytes),
                f"peak resident ({_estimated(execution)})",
            ),
        ],
        width=width,
    )


def _estimated(execution: Execution) -> str:
    """The pre-run memory estimate (the NumPy backend's only: ORT allocates its own)."""
    if execution.backend != "numpy":
        return "not estimated for this backend"
    return f"estimated {numbers.size(execution.estimated_bytes)}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _passes(execution: Execution) -> str:
    """``one warm forward pass`` or ``median of 5 warm forward passes`` (``warm``: after an
    untimed one)."""
    kind = "warm forward pass" if execution.warm_up else "forward pass"
    repeat = execution.repeat
    passes = f"one {kind}" if repeat == 1 else f"median of {repeat} {kind}es"
    return passes + _backend(execution)


def _backend(execution: Execution) -> str:
    """`` on onnxruntime, 2 threads``; empty for NumPy at its default threads."""
    named = "" if execution.backend == "numpy" else f" on {execution.backend}"
    if execution.threads is None:
        return named
    return f"{named or ' on numpy'}, {_plural(execution.threads, 'thread')}"


def print_executed(
    console: Console, results: list[Executed], *, depth: int | None, exact: bool
) -> None:
    for result in results:
        layer_table(
            result.report,
            depth=depth,
            exact=exact,
            extra=_columns(result.execution),
            width=console.width,
        ).print(console)
        fast_table(summary_spec(result.report, exact=exact, width=console.width)).print(console)
        fast_table(run_summary(result.execution, width=console.width)).print(console)
        console.print(Text(""))


def _confirmed(execution: Execution, key: str) -> tuple[int, ...]:
    """The real output shape of a row: its own step's, or the last step under a collapsed row."""
    return _runs_under(execution, key)[-1].shape


def _row_measures(execution: Execution, key: str) -> tuple[float, str, tuple[int, ...]]:
    runs = _runs_under(execution, key)
    elapsed = sum(run.seconds for run in runs)
    return elapsed, rate(sum(run.macs for run in runs), elapsed), runs[-1].shape


def to_csv(results: list[Executed], *, depth: int | None = None) -> str:
    """:func:`convcost.render.formats.to_csv` with three measured columns per row: ``seconds``
    (the row's layers, summed), ``gflops_per_second`` (2·MACs counted by the kernels / seconds;
    empty without MACs) and ``confirmed_output_shape`` (the real shape, ``CxHxW``)."""
    table = list(csv.reader(io.StringIO(formats.to_csv([r.report for r in results], depth=depth))))
    keys = [(r.execution, row.path) for r in results for row in rows(r.report, depth)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*table[0], "seconds", "gflops_per_second", "confirmed_output_shape"])
    for cells, (execution, key) in zip(table[1:], keys, strict=True):
        elapsed, gflops, shape = _row_measures(execution, key)
        writer.writerow([*cells, repr(elapsed), gflops, "x".join(map(str, shape))])
    return out.getvalue()


def to_markdown(results: list[Executed], *, depth: int | None = None, exact: bool = False) -> str:
    """:func:`convcost.render.formats.to_markdown` with ``time``, ``GFLOP/s`` and ``confirmed``
    (the real output shape) columns, and a line on the run under each table."""
    sections = formats.to_markdown([r.report for r in results], depth=depth, exact=exact)
    lines = sections.split("\n")
    result, index = [], 0
    for executed in results:
        execution = executed.execution
        keys = [row.path for row in rows(executed.report, depth)]
        # this report's table: header, separator, one line per row, the total
        while not lines[index].startswith("|"):
            result.append(lines[index])
            index += 1
        result.append(lines[index] + " time | GFLOP/s | confirmed |")
        result.append(lines[index + 1] + "--:|--:|--:|")
        for offset, key in enumerate(keys, start=2):
            elapsed, gflops, shape = _row_measures(execution, key)
            result.append(
                f"{lines[index + offset]} {seconds(elapsed)} | {gflops} | {numbers.shape(shape)} |"
            )
        total = rate(execution.macs, execution.seconds)
        result.append(
            f"{lines[index + 2 + len(keys)]} **{seconds(execution.seconds)}** | {total} | |"
        )
        index += 3 + len(keys)
        # the summary line after the table, then the run's
        while index < len(lines) and not lines[index].strip():
            result.append(lines[index])
            index += 1
        if index < len(lines):
            result.append(lines[index])
            index += 1
        result += ["", _run_line(execution)]
    result += lines[index:]
    return "\n".join(result)


def _run_line(execution: Execution) -> str:
    return (
        f"Executed: {_passes(execution)}, batch {execution.batch}, {execution.dtype}, "
        f"seed {execution.seed}; every shape confirmed ({_plural(len(execution.layers), 'step')}) · "
        f"{seconds(execution.seconds)}, {execution.gflops_per_second:.1f} GFLOP/s · peak resident "
        f"{numbers.size(execution.peak_rss_bytes)} ({_estimated(execution)})."
    )


def execution_json(execution: Execution) -> dict[str, Any]:
    return {
        "seconds": execution.seconds,
        "gflops_per_second": execution.gflops_per_second,
        "batch": execution.batch,
        "dtype": execution.dtype,
        "seed": execution.seed,
        "repeat": execution.repeat,
        "warm_up": execution.warm_up,
        "backend": execution.backend,
        "threads": execution.threads,
        "estimated_bytes": execution.estimated_bytes,
        "peak_rss_bytes": execution.peak_rss_bytes,
        "baseline_rss_bytes": execution.baseline_rss_bytes,
        "params": execution.params,
        "layers": [
            {
                "path": run.path,
                "output_shape": list(run.shape),
                "seconds": run.seconds,
                "gflops_per_second": run.gflops_per_second,
            }
            for run in execution.layers
        ],
    }


def to_json(results: list[Executed]) -> str:
    """As :func:`convcost.render.formats.to_json`, each report with its ``execution`` object."""
    data = [{**report_to_dict(r.report), "execution": execution_json(r.execution)} for r in results]
    return json.dumps(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False) + "\n"


@contextmanager
def progress_bar(
    console: Console, *, delay: float = 0.5
) -> Iterator[Callable[[str, int, int], None] | None]:
    """A transient progress bar on ``console`` (stderr), shown only on a terminal and only once
    the run has taken ``delay`` seconds; yields the callback for :func:`convcost.executor.execute`."""
    if not console.is_terminal:
        yield None
        return
    bar = Progress(
        TextColumn("executing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        refresh_per_second=4,
    )
    task = bar.add_task("", total=None)
    start = time.perf_counter()
    shown = False

    def update(path: str, done: int, total: int) -> None:
        nonlocal shown
        if not shown and time.perf_counter() - start >= delay:
            bar.start()
            shown = True
        if shown:
            bar.update(task, completed=done, total=total, description=path)

    try:
        yield update
    finally:
        if shown:
            bar.stop()
