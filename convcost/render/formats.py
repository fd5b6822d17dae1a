"""Reports as JSON, CSV and Markdown text."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from functools import partial
from typing import Any

from convcost.integers import digits
from convcost.jsontext import Streamed, chunks
from convcost.layers import Shape
from convcost.render import numbers
from convcost.render.escape import csv_cell, markdown_code, markdown_text
from convcost.render.numbers import memoized
from convcost.render.rows import Row, rows
from convcost.report import Report, intensity
from convcost.serialize import cost_json, field_json, field_json_cached, report_to_stream

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
    "bytes_read",
    "bytes_written",
    "intensity",
)


def to_json(reports: list[Report], *, depth: int | None = None, indent: int | None = None) -> str:
    """One report as an object; several (files or variants) as an array. With ``depth``,
    each report also has ``depth`` and ``rows``: the table's rows at that depth. Compact
    unless ``indent`` is given (:func:`convcost.jsontext.dumps`)."""
    return "".join(json_chunks(reports, depth=depth, indent=indent))


def json_chunks(
    reports: list[Report], *, depth: int | None = None, indent: int | None = None
) -> Iterator[str]:
    """:func:`to_json`'s text in pieces, a few thousand layers at a time (a million-layer
    report is written without a dict per layer or the whole text in memory)."""
    data = [report_to_stream(report) | depth_json(report, depth, stream=True) for report in reports]
    return chunks(data[0] if len(data) == 1 else data, indent=indent)


def depth_json(report: Report, depth: int | None, *, stream: bool = False) -> dict[str, Any]:
    """``{"depth": k, "rows": [...]}`` (the ``--depth k`` table as data), or nothing; with
    ``stream``, the rows as a :class:`Streamed` array."""
    if depth is None:
        return {}
    shown = rows(report, depth)
    data = Streamed(lambda: (_row_json(row, report) for row in shown))
    return {"depth": depth, "rows": data if stream else list(data.items())}


def _row_json(row: Row, report: Report) -> dict[str, Any]:
    size, jump = field_json(row.receptive_field)
    return {
        "path": row.path,
        "kind": row.kind,
        "collapsed": row.collapsed,
        "input_shape": list(row.input_shape),
        "output_shape": list(row.output_shape),
        **cost_json(row.cost, report.bytes_per_element),
        "receptive_field": size,
        "jump": jump,
        "receptive_field_coverage": row.receptive_field.coverage.value,
        "receptive_field_varies": row.receptive_field.varies,
        "global_context": row.receptive_field.global_context,
    }


def axes_csv(values: list[int | float] | None) -> str:
    """``3x3`` (a receptive field or jump per axis), or empty."""
    return "x".join(map(_number, values or ()))


def shape_csv(shape: Shape) -> str:
    """``3x224x224``."""
    return "x".join(map(digits, shape))


def _number(value: int | float) -> str:
    return str(value) if isinstance(value, float) else digits(value)


def csv_row(values: Iterable[object]) -> list[str]:
    """CSV cells: text through :func:`csv_cell` (no formulas, no control characters),
    integers exact at any size, anything else (floats, booleans) as ``str``."""
    return [
        csv_cell(value)
        if isinstance(value, str)
        else digits(value)
        if type(value) is int
        else str(value)
        for value in values
    ]


def to_csv(reports: list[Report], *, depth: int | None = None) -> str:
    """One line per (collapsed) row; exact integers; shapes as ``CxHxW``. Every text cell
    goes through :func:`csv_cell` (as :func:`csv_row` does), repeated ones once."""
    import csv  # noqa: PLC0415 (JSON and markdown need no csv module)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    text = memoized(csv_cell)

    def shape_cell(value: Shape) -> str:
        return text(shape_csv(value))

    shape = memoized(shape_cell)
    for report in reports:
        width = report.bytes_per_element
        name = csv_cell(report.name)
        fields = field_json_cached()
        for row in rows(report, depth):
            size, jump = fields(row.receptive_field)
            cost = row.cost
            writer.writerow(
                (
                    name,
                    csv_cell(row.path),
                    text(row.kind),
                    shape(row.input_shape),
                    shape(row.output_shape),
                    *map(
                        digits,
                        (
                            cost.params,
                            cost.weights,
                            cost.biases,
                            cost.macs,
                            cost.flops,
                            cost.ops,
                            cost.activation_elements,
                            cost.activation_elements * width,
                        ),
                    ),
                    text(axes_csv(size) or row.receptive_field.coverage.value),
                    text(axes_csv(jump)),
                    digits(cost.read_elements * width),
                    digits(cost.written_elements * width),
                    numbers.intensity(intensity(cost, width), exact=True),
                )
            )
    return out.getvalue()


def to_markdown(reports: list[Report], *, depth: int | None = None, exact: bool = False) -> str:
    """A heading, a layer table and a totals line per report; names escaped for markdown
    (layer paths as code spans)."""
    lines: list[str] = []
    shape = memoized(numbers.shape)
    for report in reports:
        count = memoized(partial(numbers.count, exact=exact))
        totals = report.totals
        width = report.bytes_per_element
        lines += [
            f"### {markdown_text(report.name)}",
            "",
            f"Input {numbers.shape(report.input_shape)} → output {numbers.shape(report.output_shape)}, "
            f"batch {digits(report.batch)}, {markdown_text(report.dtype)}.",
            "",
            "| # | layer | kind | output | params | MACs | RF | traffic | FLOP/B |",
            "|--:|---|---|--:|--:|--:|--:|--:|--:|",
        ]
        kind = memoized(markdown_text)
        for index, row in enumerate(rows(report, depth), start=1):
            lines.append(
                f"| {index} | {markdown_code(row.path)} | {kind(row.kind)} | "
                f"{shape(row.output_shape)} | {count(row.cost.params)} | {count(row.cost.macs)} | "
                f"{numbers.receptive(row.receptive_field)} | "
                f"{numbers.size(row.cost.traffic_elements * width)} | "
                f"{numbers.intensity(intensity(row.cost, width))} |"
            )
        lines += [
            f"| | **total** | | {numbers.shape(report.output_shape)} | "
            f"**{numbers.count(totals.params, exact=exact)}** | **{numbers.count(totals.macs, exact=exact)}** | "
            f"{numbers.receptive(report.receptive_field)} | "
            f"**{numbers.size(totals.traffic_elements * width)}** | "
            f"{numbers.intensity(intensity(totals, width))} |",
            "",
            f"Parameters {numbers.count(totals.params, exact=True)} · "
            f"MACs {numbers.count(totals.macs, exact=True)} · "
            f"FLOPs {numbers.count(totals.flops, exact=True)} · "
            f"activations {numbers.size(report.activation_bytes)} · "
            f"memory traffic {numbers.count(totals.read_elements * width, exact=True)} B read + "
            f"{numbers.count(totals.written_elements * width, exact=True)} B written",
            "",
            *(f"> warning: {markdown_text(note)}\n" for note in report.notes),
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
        shape_csv(report.input_shape),
        shape_csv(report.output_shape),
        totals.params,
        totals.macs,
        totals.flops,
        totals.ops,
        report.activation_bytes,
    )


def totals_csv(reports: list[Report]) -> str:
    """One line of totals per report."""
    import csv  # noqa: PLC0415 (JSON and markdown need no csv module)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TOTALS_COLUMNS)
    writer.writerows(csv_row(_totals_row(report)) for report in reports)
    return out.getvalue()


def totals_markdown(reports: list[Report], *, exact: bool = False) -> str:
    lines = ["| model | input | params | MACs | activations |", "|---|--:|--:|--:|--:|"]
    for report in reports:
        lines.append(
            f"| {markdown_text(report.name)} | {numbers.shape(report.input_shape)} | {numbers.count(report.totals.params, exact=exact)} | "
            f"{numbers.count(report.totals.macs, exact=exact)} | {numbers.size(report.activation_bytes)} |"
        )
    return "\n".join(lines) + "\n"
