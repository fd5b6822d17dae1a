"""``--device``: the layer table with memory traffic, intensity, roofline bound and estimated
time (and, with ``--execute``, the measured time and the error beside it); the ``latency``
JSON object; the extra CSV and Markdown columns."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console, Group
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from convcost.execution import Execution
from convcost.latency.estimate import Bound, Estimate
from convcost.latency.quantities import seconds_text
from convcost.render import formats, numbers
from convcost.render.rows import Row, rows
from convcost.render.table import ExtraColumn, layer_table, summary
from convcost.report import Report, intensity
from convcost.serialize import report_to_dict

if TYPE_CHECKING:
    from convcost.latency.calibrate import Calibration


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
                error(estimate.seconds, _measured_total(execution)),
                lambda row: error(timing(row).estimated, timing(row).measured or 0.0),
            ),
        ]
    return columns


def _measured_total(execution: Execution) -> float:
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
        measured = _measured_total(item.execution)
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


def latency_json(item: Predicted, depth: int | None = None) -> dict[str, Any]:
    estimate = item.estimate
    data: dict[str, Any] = {
        "device": estimate.device,
        "calibrated": estimate.calibrated,
        "backend": estimate.backend,
        "seconds": estimate.seconds,
        "layers": [
            {
                "path": layer.path,
                "kernel": layer.kernel.value,
                "bound": layer.bound.value,
                "seconds": layer.seconds,
                "share": estimate.share(layer),
            }
            for layer in estimate.layers
        ],
    }
    if item.execution is not None:
        measured = _measured_total(item.execution)
        data["measured_seconds"] = measured
        data["error"] = (estimate.seconds - measured) / measured if measured > 0 else None
        for entry, run in zip(data["layers"], item.execution.layers, strict=True):
            entry["measured_seconds"] = run.seconds
    return data


def to_json(items: Sequence[Predicted]) -> str:
    """Each report as :func:`convcost.serialize.report_to_dict` with a ``latency`` object."""
    data = [{**report_to_dict(item.report), "latency": latency_json(item)} for item in items]
    return json.dumps(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False) + "\n"


def to_csv(items: Sequence[Predicted], *, depth: int | None = None) -> str:
    """:func:`convcost.render.formats.to_csv` with ``bound`` and ``estimated_seconds`` (and
    ``measured_seconds`` with ``--execute``) per row."""
    table = list(csv.reader(io.StringIO(formats.to_csv([i.report for i in items], depth=depth))))
    executed = any(item.execution is not None for item in items)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [*table[0], "bound", "estimated_seconds", *(["measured_seconds"] if executed else [])]
    )
    times = [t for item in items for t in row_times(item, depth)]
    for cells, t in zip(table[1:], times, strict=True):
        measured = [repr(t.measured) if t.measured is not None else ""] if executed else []
        writer.writerow([*cells, t.bound, repr(t.estimated), *measured])
    return out.getvalue()


def to_markdown(
    items: Sequence[Predicted], *, depth: int | None = None, exact: bool = False
) -> str:
    """:func:`convcost.render.formats.to_markdown` with ``bound``, ``est.`` (and ``measured``)
    columns and the estimate's line under each table."""
    out: list[str] = []
    for item in items:
        lines = formats.to_markdown([item.report], depth=depth, exact=exact).split("\n")
        times = row_times(item, depth)
        executed = item.execution is not None
        start = next(i for i, line in enumerate(lines) if line.startswith("|"))
        out += lines[:start]
        out.append(lines[start] + (" bound | est. | measured |" if executed else " bound | est. |"))
        out.append(lines[start + 1] + ("---|--:|--:|" if executed else "---|--:|"))
        for offset, t in enumerate(times, start=start + 2):
            measured = f" {seconds_text(t.measured or 0.0)} |" if executed else ""
            out.append(f"{lines[offset]} {t.bound} | {seconds_text(t.estimated)} |{measured}")
        total = start + 2 + len(times)
        measured_total = (
            f" **{seconds_text(_measured_total(item.execution))}** |" if item.execution else ""
        )
        out.append(f"{lines[total]} | **{seconds_text(item.estimate.seconds)}** |{measured_total}")
        out += lines[total + 1 :]
        how = "calibrated" if item.estimate.calibrated else "roofline bound, not calibrated"
        line = f"Estimated on {item.estimate.device} ({how}): {seconds_text(item.estimate.seconds)}"
        if item.execution is not None:
            total_measured = _measured_total(item.execution)
            line += (
                f"; measured {seconds_text(total_measured)} "
                f"({error(item.estimate.seconds, total_measured)})"
            )
        out += [line + ".", ""]
    return "\n".join(out)


@contextmanager
def calibration_progress(console: Console) -> Iterator[Callable[[str, int, int], None]]:
    """A transient bar over the synthetic chains on ``console`` (stderr), on a terminal only."""
    if not console.is_terminal:
        yield lambda name, done, total: None
        return
    bar = Progress(
        TextColumn("calibrating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task("", total=None)

    def update(name: str, done: int, total: int) -> None:
        bar.update(task, completed=done, total=total, description=name)

    with bar:
        yield update


def residual_summary(calibration: Calibration) -> str:
    """Per kernel class: samples, fitted shares and overhead, and the errors of the final
    profile on its own samples (median and worst |predicted − measured| / measured)."""
    profile = calibration.profile
    rate = profile.peak_flops["float32"]
    lines = [
        f"peak {rate / 1e9:.1f} GFLOP/s (float32), bandwidth {profile.memory_bandwidth / 1e9:.1f} GB/s",
        f"{'class':<12} {'samples':>7} {'compute':>8} {'memory':>8} {'overhead':>9} "
        f"{'median err':>10} {'worst err':>9}",
    ]
    every: list[float] = []
    for kernel, samples in calibration.samples.items():
        if not samples:
            continue
        errors = []
        for sample in samples:
            share = profile.of(sample.kind, kernel)
            predicted = profile.layer_overhead(sample.kind, kernel) + max(
                sample.work / (rate * share.compute),
                sample.traffic / (profile.memory_bandwidth * share.memory),
            )
            errors.append(abs(predicted - sample.seconds) / sample.seconds)
        every += errors
        ordered = sorted(errors)
        own = profile.of(kernel.value, kernel)
        lines.append(
            f"{kernel.value:<12} {len(samples):>7} {own.compute:>8.3f} {own.memory:>8.3f} "
            f"{seconds_text(profile.layer_overhead(kernel.value, kernel)):>9} "
            f"{ordered[len(ordered) // 2]:>10.0%} {ordered[-1]:>9.0%}"
        )
    ordered = sorted(every)
    if ordered:
        lines.append(
            f"all {len(ordered)} samples: median error {ordered[len(ordered) // 2]:.0%}, "
            f"worst {ordered[-1]:.0%}"
        )
    return "\n".join(lines)


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


def _ratio(value: float | None) -> str:
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
            _ratio(entry.macs_ratio),
            numbers.size(entry.traffic_bytes),
            seconds_text(entry.estimate.seconds),
            _ratio(entry.latency_ratio),
            f"{entry.memory_bound_share:.0%}",
            *(
                (seconds_text(entry.measured or 0.0), _ratio(entry.measured_ratio))
                if executed
                else ()
            ),
        )
    return table


def compared_markdown(entries: Sequence[ComparedLatency]) -> str:
    first = entries[0].estimate
    how = "calibrated" if first.calibrated else "roofline bound, not calibrated"
    executed = any(entry.measured is not None for entry in entries)
    lines = [
        f"Latency on {first.device} ({how}):",
        "",
        "| | MACs ratio | traffic | estimated | latency ratio | memory-bound |"
        + (" measured | measured ratio |" if executed else ""),
        "|---|--:|--:|--:|--:|--:|" + ("--:|--:|" if executed else ""),
    ]
    for entry in entries:
        measured = (
            f" {seconds_text(entry.measured or 0.0)} | {_ratio(entry.measured_ratio)} |"
            if executed
            else ""
        )
        lines.append(
            f"| {entry.name} | {_ratio(entry.macs_ratio)} | {numbers.size(entry.traffic_bytes)} | "
            f"{seconds_text(entry.estimate.seconds)} | {_ratio(entry.latency_ratio)} | "
            f"{entry.memory_bound_share:.0%} |{measured}"
        )
    return "\n".join(lines) + "\n"


def compared_json(entries: Sequence[ComparedLatency]) -> dict[str, Any]:
    first = entries[0].estimate
    return {
        "device": first.device,
        "calibrated": first.calibrated,
        "backend": first.backend,
        "entries": [
            {
                "name": entry.name,
                "macs_ratio": entry.macs_ratio,
                "traffic_bytes": entry.traffic_bytes,
                "estimated_seconds": entry.estimate.seconds,
                "latency_ratio": entry.latency_ratio,
                "memory_bound_share": entry.memory_bound_share,
                "measured_seconds": entry.measured,
                "measured_ratio": entry.measured_ratio,
            }
            for entry in entries
        ],
    }


def compared_csv(text: str, entries: Sequence[ComparedLatency]) -> str:
    """The comparison CSV with ``estimated_seconds`` and ``latency_ratio`` columns."""
    table = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*table[0], "estimated_seconds", "latency_ratio"])
    for cells, entry in zip(table[1:], entries, strict=True):
        ratio = "" if entry.latency_ratio is None else repr(entry.latency_ratio)
        writer.writerow([*cells, repr(entry.estimate.seconds), ratio])
    return out.getvalue()


def with_latency_json(text: str, entries: Sequence[ComparedLatency], *, indent: int | None) -> str:
    """The comparison JSON text with a ``latency`` object added."""
    data = json.loads(text)
    data["latency"] = compared_json(entries)
    return json.dumps(data, indent=indent, ensure_ascii=False) + "\n"
