"""Reports as JSON, CSV and Markdown text."""

from __future__ import annotations

import csv
import io
import json

from convcost.render import numbers
from convcost.render.rows import rows
from convcost.report import Report
from convcost.serialize import field_json, report_to_dict

CSV_COLUMNS = (
    "spec",
    "path",
    "kind",
    "input_shape",
    "output_shape",
    "params",
    "weights",
    "biases",
    "macs",
    "flops",
    "ops",
    "activation_elements",
    "activation_bytes",
    "receptive_field",
    "jump",
)


def to_json(reports: list[Report]) -> str:
    """One report as an object; several (files or variants) as an array."""
    data = [report_to_dict(report) for report in reports]
    return json.dumps(data[0] if len(data) == 1 else data, indent=2, ensure_ascii=False) + "\n"


def _axes(values: list[int | float] | None) -> str:
    return "x".join(str(v) for v in values) if values is not None else ""


def to_csv(reports: list[Report], *, depth: int | None = None) -> str:
    """One line per (collapsed) row; exact integers; shapes as ``CxHxW``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for report in reports:
        width = report.bytes_per_element
        for row in rows(report, depth):
            size, jump = field_json(row.receptive_field)
            writer.writerow(
                (
                    report.name,
                    row.path,
                    row.kind,
                    "x".join(map(str, row.input_shape)),
                    "x".join(map(str, row.output_shape)),
                    row.cost.params,
                    row.cost.weights,
                    row.cost.biases,
                    row.cost.macs,
                    row.cost.flops,
                    row.cost.ops,
                    row.cost.activation_elements,
                    row.cost.activation_elements * width,
                    _axes(size) or row.receptive_field.coverage.value,
                    _axes(jump),
                )
            )
    return out.getvalue()


def to_markdown(reports: list[Report], *, depth: int | None = None, exact: bool = False) -> str:
    lines: list[str] = []
    for report in reports:
        totals = report.totals
        lines += [
            f"### {report.name}",
            "",
            f"Input {numbers.shape(report.input_shape)} → output {numbers.shape(report.output_shape)}, "
            f"batch {report.batch}, {report.dtype}.",
            "",
            "| # | layer | kind | output | params | MACs | RF |",
            "|--:|---|---|--:|--:|--:|--:|",
        ]
        for index, row in enumerate(rows(report, depth), start=1):
            lines.append(
                f"| {index} | `{row.path}` | {row.kind} | {numbers.shape(row.output_shape)} | "
                f"{numbers.count(row.cost.params, exact=exact)} | {numbers.count(row.cost.macs, exact=exact)} | "
                f"{numbers.receptive(row.receptive_field)} |"
            )
        lines += [
            f"| | **total** | | {numbers.shape(report.output_shape)} | "
            f"**{numbers.count(totals.params, exact=exact)}** | **{numbers.count(totals.macs, exact=exact)}** | "
            f"{numbers.receptive(report.receptive_field)} |",
            "",
            f"Parameters {totals.params:,} · MACs {totals.macs:,} · FLOPs {totals.flops:,} · "
            f"activations {numbers.size(report.activation_bytes)}",
            "",
        ]
    return "\n".join(lines)


TOTALS_COLUMNS = (
    "name",
    "input_shape",
    "output_shape",
    "params",
    "macs",
    "flops",
    "ops",
    "activation_bytes",
)


def _totals_row(report: Report) -> tuple[object, ...]:
    totals = report.totals
    return (
        report.name,
        "x".join(map(str, report.input_shape)),
        "x".join(map(str, report.output_shape)),
        totals.params,
        totals.macs,
        totals.flops,
        totals.ops,
        report.activation_bytes,
    )


def totals_csv(reports: list[Report]) -> str:
    """One line of totals per report."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TOTALS_COLUMNS)
    writer.writerows(_totals_row(report) for report in reports)
    return out.getvalue()


def totals_markdown(reports: list[Report], *, exact: bool = False) -> str:
    lines = ["| model | input | params | MACs | activations |", "|---|--:|--:|--:|--:|"]
    for report in reports:
        lines.append(
            f"| {report.name} | {numbers.shape(report.input_shape)} | {numbers.count(report.totals.params, exact=exact)} | "
            f"{numbers.count(report.totals.macs, exact=exact)} | {numbers.size(report.activation_bytes)} |"
        )
    return "\n".join(lines) + "\n"
