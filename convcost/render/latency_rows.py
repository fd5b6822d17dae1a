"""The numbers of ``--device``'s reports, without rich: a report with its estimate and measured
run (:class:`Predicted`), each table row's times, the error of an estimate, and the entries of
``compare --device``. The table is drawn by :mod:`convcost.render.latency`, the JSON, CSV and
Markdown forms by :mod:`convcost.render.latency_formats`: ``analyze --device -f json`` loads
no rich."""

from __future__ import annotations

from collections.abc import Sequence

from convcost.execution import Execution
from convcost.latency.estimate import Bound, Estimate
from convcost.report import Report
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


def measured_total(execution: Execution) -> float:
    """The measured total compared with the estimate: the sum of the per-layer times (what
    the estimate sums), not the wall time around them."""
    return sum(run.seconds for run in execution.layers)


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
