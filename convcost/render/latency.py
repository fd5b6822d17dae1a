"""``--device``: the layer table with memory traffic, intensity, roofline bound and estimated
time (and, with ``--execute``, the measured time and the error beside it), and the latency
table of ``compare --device``. The JSON, CSV and Markdown forms are in
:mod:`convcost.render.latency_formats`, the numbers behind them all in
:mod:`convcost.render.latency_rows`."""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from convcost.latency.quantities import seconds_text
from convcost.render import numbers
from convcost.render.latency_rows import (
    ComparedLatency,
    Predicted,
    RowTimes,
    error,
    measured_total,
    ratio_text,
    row_times,
)
from convcost.render.rows import Row, rows
from convcost.render.table import ExtraColumn, fast_table, layer_table
from convcost.render.table_spec import summary_spec
from convcost.report import intensity


def _columns(item: Predicted, depth: int | None) -> list[ExtraColumn]:
    report, estimate = item.report, item.estimate
    width = report.bytes_per_element
    # a path names one row at any depth (a merge step shares its block's path, but the
    # block's row and the step's never both appear)
    times = {
        row.path: t for row, t in zip(rows(report, depth), row_times(item, depth), strict=True)
    }

    def timing(row: Row) -> RowTimes:
        return times[row.path]

    columns = [
        ExtraColumn(
            "traffic",
            numbers.size(report.totals.traffic_elements * width),
            lambda row: numbers.size(row.cost.traffic_elements * width),
        ),
        ExtraColumn(
            "FLOP/B",
            numbers.intensity(intensity(report.totals, width)),
            lambda row: numbers.intensity(intensity(row.cost, width)),
        ),
        ExtraColumn("bound", "", lambda row: timing(row).bound),
        ExtraColumn(
            "est.",
            seconds_text(estimate.seconds),
            lambda row: seconds_text(timing(row).estimated),
        ),
        ExtraColumn(
            "%t",
            "",
            lambda row: (
                f"{timing(row).estimated / estimate.seconds * 100:.1f}%" if estimate.seconds else ""
            ),
        ),
    ]
    if item.execution is not None:
        execution = item.execution
        columns += [
            ExtraColumn(
                "measured",
                seconds_text(execution.seconds),
                lambda row: seconds_text(timing(row).measured or 0.0),
            ),
            ExtraColumn(
                "error",
                error(estimate.seconds, measured_total(execution)),
                lambda row: error(timing(row).estimated, timing(row).measured or 0.0),
            ),
        ]
    return columns


def device_summary(item: Predicted) -> Table:
    estimate = item.estimate
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(justify="right")
    grid.add_column(style="dim")
    how = "calibrated" if estimate.calibrated else "roofline bound, not calibrated"
    backend = f", {estimate.backend}" if estimate.backend else ""
    grid.add_row(
        "estimated",
        seconds_text(estimate.seconds),
        f"on {estimate.device} ({how}{backend}): Σ overhead + max(compute, memory) per layer",
    )
    if item.execution is not None:
        measured = measured_total(item.execution)
        grid.add_row(
            "measured",
            seconds_text(measured),
            f"sum of the per-layer times; error of the total {error(estimate.seconds, measured)}",
        )
    return grid


def print_predicted(
    console: Console, items: Sequence[Predicted], *, depth: int | None, exact: bool
) -> None:
    for item in items:
        table = layer_table(
            item.report, depth=depth, exact=exact, extra=_columns(item, depth), width=console.width
        )
        table.print(console)
        fast_table(summary_spec(item.report, exact=exact, width=console.width)).print(console)
        console.print(Group(device_summary(item), Text("")))


def compared_table(entries: Sequence[ComparedLatency]) -> Table:
    first = entries[0].estimate
    how = "calibrated" if first.calibrated else "roofline bound, not calibrated"
    table = Table(title=f"latency on {first.device} ({how})", box=box.SIMPLE_HEAD, pad_edge=False)
    executed = any(entry.measured is not None for entry in entries)
    for header in (
        "", "MACs ratio", "traffic", "estimated", "latency ratio", "memory-bound",
        *(("measured", "measured ratio") if executed else ()),
    ):  # fmt: skip
        table.add_column(header, justify="right" if header else "left", no_wrap=True)
    for entry in entries:
        table.add_row(
            entry.name,
            ratio_text(entry.macs_ratio),
            numbers.size(entry.traffic_bytes),
            seconds_text(entry.estimate.seconds),
            ratio_text(entry.latency_ratio),
            f"{entry.memory_bound_share:.0%}",
            *(
                (seconds_text(entry.measured or 0.0), ratio_text(entry.measured_ratio))
                if executed
                else ()
            ),
        )
    return table
