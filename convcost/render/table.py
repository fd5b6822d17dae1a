"""The terminal table of ``convcost analyze`` (rich)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from convcost.render import numbers
from convcost.render.rows import Row, rows
from convcost.report import Report


@dataclass(frozen=True, slots=True)
class ExtraColumn:
    """A column another renderer appends to the layer table (``--execute`` timings)."""

    header: str
    footer: str
    cell: Callable[[Row], str]


def layer_table(
    report: Report,
    *,
    depth: int | None = None,
    exact: bool = False,
    extra: Sequence[ExtraColumn] = (),
) -> Table:
    table = Table(
        title=f"[bold]{report.name}[/]  input {numbers.shape(report.input_shape)}"
        + (f"  batch {report.batch}" if report.batch != 1 else ""),
        box=box.SIMPLE_HEAD,
        show_footer=True,
        pad_edge=False,
    )
    total_macs = report.totals.macs
    table.add_column("#", justify="right", style="dim", no_wrap=True)
    table.add_column("layer", footer="total", overflow="fold", min_width=8, ratio=1)
    table.add_column("kind", overflow="fold", min_width=7 if extra else None, max_width=16)
    table.add_column(
        "output", footer=numbers.shape(report.output_shape), no_wrap=True, justify="right"
    )
    table.add_column(
        "params",
        footer=numbers.count(report.totals.params, exact=exact),
        justify="right",
        no_wrap=True,
    )
    table.add_column(
        "MACs", footer=numbers.count(total_macs, exact=exact), justify="right", no_wrap=True
    )
    table.add_column("%", justify="right", no_wrap=True, style="dim")
    table.add_column(
        "RF", footer=numbers.receptive(report.receptive_field), justify="right", no_wrap=True
    )
    for column in extra:
        table.add_column(column.header, footer=column.footer, justify="right", no_wrap=True)
    for index, row in enumerate(rows(report, depth), start=1):
        style = "bold" if row.collapsed else None
        table.add_row(
            str(index),
            Text(row.path, style=style or ""),
            row.kind,
            numbers.shape(row.output_shape),
            numbers.count(row.cost.params, exact=exact) if row.cost.params else "—",
            numbers.count(row.cost.macs, exact=exact) if row.cost.macs else "—",
            numbers.share(row.cost.macs, total_macs) if row.cost.macs else "",
            numbers.receptive(row.receptive_field),
            *(column.cell(row) for column in extra),
        )
    return table


def summary(report: Report, *, exact: bool = False) -> Table:
    totals = report.totals
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(justify="right")
    grid.add_column(style="dim")
    grid.add_row(
        "parameters",
        numbers.count(totals.params, exact=exact),
        f"{totals.weights:,} weights + {totals.biases:,} biases",
    )
    grid.add_row("MACs", numbers.count(totals.macs, exact=exact), f"{totals.macs:,}")
    grid.add_row("FLOPs", numbers.count(totals.flops, exact=exact), "2 × MACs")
    grid.add_row(
        "other ops", numbers.count(totals.ops, exact=exact), "bias, norm, activation, pool, merge"
    )
    grid.add_row(
        "activations",
        numbers.size(report.activation_bytes, exact=exact),
        f"{totals.activation_elements:,} elements × {report.bytes_per_element} B ({report.dtype})",
    )
    grid.add_row(
        "peak memory",
        numbers.size(report.peak_memory_bytes, exact=exact),
        f"{numbers.size(report.peak_activation_bytes, exact=exact)} live at {report.peak_at} "
        f"+ {numbers.size(report.parameter_bytes, exact=exact)} params",
    )
    grid.add_row(
        "receptive field",
        numbers.receptive(report.receptive_field),
        f"jump {numbers.jump(report.receptive_field)}",
    )
    return grid


def render_report(
    report: Report, *, depth: int | None = None, exact: bool = False
) -> RenderableType:
    return Group(
        layer_table(report, depth=depth, exact=exact), summary(report, exact=exact), Text("")
    )


def print_reports(
    console: Console, reports: list[Report], *, depth: int | None, exact: bool
) -> None:
    for report in reports:
        console.print(render_report(report, depth=depth, exact=exact))


def zoo_table(reports: list[Report], *, exact: bool = False) -> Table:
    """One line per model: its input, output, totals and final receptive field."""
    table = Table(
        title="bundled models (convcost analyze NAME)", box=box.SIMPLE_HEAD, pad_edge=False
    )
    table.add_column("model", no_wrap=True)
    table.add_column("input", justify="right", no_wrap=True)
    table.add_column("params", justify="right", no_wrap=True)
    table.add_column("MACs", justify="right", no_wrap=True)
    table.add_column("activations", justify="right", no_wrap=True)
    table.add_column("layers", justify="right")
    for report in reports:
        table.add_row(
            report.name,
            numbers.shape(report.input_shape),
            numbers.count(report.totals.params, exact=exact),
            numbers.count(report.totals.macs, exact=exact),
            numbers.size(report.activation_bytes, exact=exact),
            str(len(report.layers)),
        )
    return table
