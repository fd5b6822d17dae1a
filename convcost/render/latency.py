"""``--device``: the layer table with memory traffic, intensity, roofline bound and estimated
time (and, with ``--execute``, the measured time and the error beside it), and the latency
table of ``compare --device``. The JSON, CSV and Markdown forms are in
:mod:`convcost.render.latency_formats`."""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from convcost.execution import Execution
from convcost.latency.estimate import Bound, Estimate
from convcost.latency.quantities import seconds_text
from convcost.render import numbers
from convcost.render.rows import Row, rows
from convcost.render.table import ExtraColumn, layer_table, summary
from convcost.report import Report, intensity
from convcost.valueclasses import dataclass


@dataclass(frozen=True, slots=True)
class Predicted:
    """A report, its estimate on a device, and the run that measured it (``--execute``)."""

    report: Report
    estimate: Estimate
    execution: Execution | None = None


@dataclass(frozen=True, slots=True)
class RowTimes:
    estimated: float
    bound: str
    measured: float | None


def row_groups(report: Report, depth: int | None) -> list[list[int]]:
    """The report layers' indices behind each row of :func:`convcost.render.rows.rows`."""
    if depth is None:
        return [[index] for index in range(len(report.layers))]
    groups: list[list[int]] = []
    key = None
    for index, layer in enumerate(report.layers):
        path = layer.path
        layer_key = path if path.count(".") < depth else ".".join(path.split(".")[:depth])
        if groups and layer_key == key:
            groups[-1].append(index)
        else:
            groups.append([index])
        key = layer_key
    return groups


def row_times(item: Predicted, depth: int | None) -> list[RowTimes]:
    result = []
    layers = item.estimate.layers
    runs = item.execution.layers if item.execution is not None else None
    for group in row_groups(item.report, depth):
        bounds = {layers[i].bound.value for i in group if layers[i].bound is not Bound.OVERHEAD}
        result.append(
            RowTimes(
                estimated=sum(layers[i].seconds for i in group),
                bound=bounds.pop() if len(bounds) == 1 else ("mixed" if bounds else "overhead"),
                measured=None if runs is None else sum(runs[i].seconds for i in group),
            )
        )
    return result


def error(predicted: float, measured: float) -> str:
    """``+12%`` (predicted above measured) or ``-8%``."""
    if measured <= 0:
        return ""
    return f"{(predicted - measured) / measured * 100:+.0f}%"


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


def measured_total(execution: Execution) -> float:
    """The measured total compared with the estimate: the sum of the per-layer times (what
    the estimate sums), not the wall time around them."""
    return sum(run.seconds for run in execution.layers)


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
        console.print(Group(summary(item.report, exact=exact), device_summary(item), Text("")))


@dataclass(frozen=True, slots=True)
class ComparedLatency:
    """One compared entry on a device: its estimate and ratios to the baseline."""

    name: str
    macs_ratio: float | None
    traffic_bytes: int
    estimate: Estimate
    latency_ratio: float | None
    measured: float | None
    measured_ratio: float | None

    @property
    def memory_bound_share(self) -> float:
        """The share of the estimated time spent in memory-bound layers."""
        total = self.estimate.seconds
        layers = self.estimate.layers
        memory = sum(layer.seconds for layer in layers if layer.bound is Bound.MEMORY)
        return memory / total if total > 0 else 0.0


def compared_latency(
    reports: Sequence[tuple[str, Report, Execution | None]],
    baseline: str,
    estimates: Sequence[Estimate],
) -> list[ComparedLatency]:
    base = next(i for i, (name, _, _) in enumerate(reports) if name == baseline)
    base_report, base_estimate = reports[base][1], estimates[base]
    base_run = reports[base][2]
    result = []
    for (name, report, run), estimate in zip(reports, estimates, strict=True):
        macs = base_report.totals.macs
        measured = run.seconds if run is not None else None
        result.append(
            ComparedLatency(
                name=name,
                macs_ratio=report.totals.macs / macs if macs else None,
                traffic_bytes=report.totals.traffic_elements * report.bytes_per_element,
                estimate=estimate,
                latency_ratio=estimate.seconds / base_estimate.seconds
                if base_estimate.seconds
                else None,
                measured=measured,
                measured_ratio=measured / base_run.seconds
                if measured is not None and base_run is not None and base_run.seconds
                else None,
            )
        )
    return result


def ratio_text(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


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
