"""``convcost sweep`` output: the Pareto front (or every point) as a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from convcost.budget import Actual, Budgeted
from convcost.jsontext import dumps
from convcost.params import ParamValue
from convcost.receptive import Coverage, as_numbers
from convcost.render import numbers
from convcost.render.escape import printable
from convcost.render.formats import csv_row
from convcost.sweep import METRICS, Evaluation, Sweep

HEADINGS = {
    Budgeted.PARAMS: "params",
    Budgeted.MACS: "MACs",
    Budgeted.FLOPS: "FLOPs",
    Budgeted.ACTIVATION_MEMORY: "activations",
    Budgeted.PEAK_MEMORY: "peak memory",
    Budgeted.RECEPTIVE_FIELD: "RF",
}


def shown_metrics(sweep: Sweep) -> tuple[Budgeted, ...]:
    """The metrics a table shows: params, MACs and peak memory, and any other metric that is an
    objective or limited by the budget, in :class:`Budgeted` order."""
    wanted = {Budgeted.PARAMS, Budgeted.MACS, Budgeted.PEAK_MEMORY}
    wanted |= {o.metric for o in sweep.objectives if o.metric is not None}
    wanted |= {limit.metric for limit in sweep.budget.limits}
    return tuple(metric for metric in METRICS if metric in wanted)


def rows(sweep: Sweep, *, every: bool) -> tuple[Evaluation, ...]:
    """The front, best first; or every point in sweep order."""
    if every:
        return sweep.evaluations
    return tuple(sweep.evaluations[index] for index in sweep.front)


def summary(sweep: Sweep) -> str:
    """``18 points, 12 fit macs <= 300.0 M, 5 on the Pareto front (macs, params, peak_memory)``."""
    total = len(sweep.evaluations)
    parts = [f"{total:,} point{'s' if total != 1 else ''}"]
    if sweep.budget:
        limits = ", ".join(_limit_text(limit.metric, limit.value) for limit in sweep.budget.limits)
        parts.append(f"{len(sweep.fitting):,} fit {limits}")
    failed = len(sweep.failed)
    if failed:
        parts.append(f"{failed:,} failed")
    objectives = ", ".join(o.label for o in sweep.objectives)
    parts.append(f"{len(sweep.front):,} on the Pareto front ({objectives})")
    return ", ".join(parts)


def _limit_text(metric: Budgeted, value: tuple[int, ...]) -> str:
    if metric is Budgeted.RECEPTIVE_FIELD:
        return f"{metric.value} >= {'x'.join(map(str, value))}"
    shown = numbers.size(value[0]) if metric.is_bytes else numbers.count(value[0])
    return f"{metric.value} <= {shown}"


def print_table(console: Console, sweep: Sweep, *, every: bool, exact: bool = False) -> None:
    metrics = shown_metrics(sweep)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)
    table.add_column("#", justify="right", no_wrap=True)
    for name in sweep.axes:
        table.add_column(printable(name), justify="right", no_wrap=True)
    for metric in metrics:
        table.add_column(HEADINGS[metric], justify="right", no_wrap=True)
    if every:
        table.add_column("fits", no_wrap=True)
        table.add_column("front", no_wrap=True)
    on_front = set(sweep.front)
    for evaluation in rows(sweep, every=every):
        cells: list[str | Text] = [str(evaluation.index + 1)]
        cells += [printable(_param_text(value)) for _, value in evaluation.point]
        if evaluation.error is not None:
            cells += [""] * len(metrics)
            if every:
                cells += [Text("error", style="bold red"), ""]
        else:
            cells += [_metric_text(m, evaluation.metric(m), exact) for m in metrics]
            if every:
                fits = "yes" if evaluation.fits else "no: " + ", ".join(evaluation.exceeded)
                cells += [fits, "*" if evaluation.index in on_front else ""]
        table.add_row(*cells)
    variant = f", variant {sweep.variant}" if sweep.variant is not None else ""
    title = f"{sweep.name}{variant} ({sweep.source})"
    console.print(Text(printable(title), style="bold"), soft_wrap=True)
    if sweep.fixed:
        fixed = ", ".join(f"{name}={_param_text(value)}" for name, value in sweep.fixed)
        console.print(printable(f"with {fixed}"), markup=False, highlight=False)
    console.print(table)
    console.print()
    console.print(summary(sweep), markup=False, highlight=False, soft_wrap=True)


def _param_text(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _metric_text(metric: Budgeted, value: Actual, exact: bool) -> str:
    if isinstance(value, Coverage):
        return value.value
    if isinstance(value, tuple):
        shown = [numbers.compact(v) for v in value]
        return shown[0] if len(set(shown)) == 1 else "×".join(shown)
    if metric.is_bytes:
        return numbers.size(value, exact=exact)
    return numbers.count(value, exact=exact)


def _metric_json(value: Actual) -> Any:
    if isinstance(value, Coverage):
        return value.value
    if isinstance(value, tuple):
        return as_numbers(value)
    return value


def _point_json(evaluation: Evaluation, on_front: set[int]) -> dict[str, Any]:
    metrics = (
        None
        if evaluation.error is not None
        else {m.value: _metric_json(evaluation.metric(m)) for m in METRICS}
    )
    return {
        "point": evaluation.index + 1,
        "params": dict(evaluation.point),
        "metrics": metrics,
        "fits": evaluation.fits,
        "exceeded": [metric.value for metric in evaluation.exceeded],
        "front": evaluation.index in on_front,
        "error": evaluation.error,
    }


def to_json(sweep: Sweep, *, every: bool, indent: int | None = None) -> str:
    on_front = set(sweep.front)
    data = {
        "spec": sweep.name,
        "source": sweep.source,
        "variant": sweep.variant,
        "axes": list(sweep.axes),
        "fixed": dict(sweep.fixed),
        "objectives": [{"name": o.name, "direction": o.direction.value} for o in sweep.objectives],
        "budget": {
            limit.metric.value: list(limit.value)
            if limit.metric is Budgeted.RECEPTIVE_FIELD
            else limit.value[0]
            for limit in sweep.budget.limits
        },
        "points": len(sweep.evaluations),
        "fitting": len(sweep.fitting),
        "failed": len(sweep.failed),
        "shown": "all" if every else "front",
        "results": [_point_json(e, on_front) for e in rows(sweep, every=every)],
    }
    return dumps(data, indent=indent)


def to_csv(sweep: Sweep, *, every: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        csv_row(
            [
                "point",
                *sweep.axes,
                *(m.value for m in METRICS),
                "fits",
                "front",
                "exceeded",
                "error",
            ]
        )
    )
    on_front = set(sweep.front)
    for evaluation in rows(sweep, every=every):
        values: list[object] = [evaluation.index + 1, *(value for _, value in evaluation.point)]
        if evaluation.error is None:
            for metric in METRICS:
                value = evaluation.metric(metric)
                values.append(
                    value.value
                    if isinstance(value, Coverage)
                    else "x".join(map(str, as_numbers(value)))
                    if isinstance(value, tuple)
                    else value
                )
        else:
            values += [""] * len(Budgeted)
        values += [
            "true" if evaluation.fits else "false",
            "true" if evaluation.index in on_front else "false",
            " ".join(metric.value for metric in evaluation.exceeded),
            evaluation.error or "",
        ]
        writer.writerow(csv_row(values))
    return buffer.getvalue()
