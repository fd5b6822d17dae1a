"""A :class:`Comparison` as JSON, CSV and Markdown text, and the cell texts the table shares."""

from __future__ import annotations

import csv
import io
from fractions import Fraction
from typing import Any

from convcost.compare import Comparison, Entry, Metric, coverage, layer_deltas
from convcost.integers import scientific
from convcost.jsontext import dumps
from convcost.render import numbers
from convcost.render.escape import markdown_text
from convcost.render.execution import execution_json, rate, seconds
from convcost.render.formats import axes_csv, csv_row, shape_csv
from convcost.report import Report
from convcost.serialize import field_json, report_to_dict
from convcost.valueclasses import replace

LABELS = {
    Metric.PARAMS: "parameters",
    Metric.MACS: "MACs",
    Metric.FLOPS: "FLOPs",
    Metric.OPS: "other ops",
    Metric.ACTIVATION_BYTES: "activations",
    Metric.TIME: "time (measured)",
}
"""Row labels, as in ``convcost analyze``'s summary."""

RATIO_FORMAT = (
    "float: the entry's value / the baseline's value (exact_ratios holds the same as reduced "
    "fractions 'n/d'); null when the baseline's value is 0 and the entry's is not, or when the "
    "ratio is beyond a float's range (exact_ratios still holds it)"
)


def ratio_float(ratio: Fraction | None) -> float | None:
    """The ratio as a float; None when there is none or it is beyond a float's range."""
    if ratio is None:
        return None
    try:
        return float(ratio)
    except OverflowError:
        return None


_PLAIN_RATIOS = (Fraction(1, 10**15), Fraction(10**15))
"""Ratios outside this range are written ``1.2e+20×`` from the exact fraction."""


def value_text(metric: Metric, value: int, *, exact: bool) -> str:
    if metric is Metric.TIME:
        return f"{value:,} ns" if exact else seconds(value / 1e9)
    if metric is Metric.ACTIVATION_BYTES:
        return numbers.size(value, exact=exact)
    return numbers.count(value, exact=exact)


def ratio_text(ratio: Fraction | None, *, exact: bool = False) -> str:
    """``0.10×``; four decimals with ``exact``; one significant digit below 0.01."""
    if ratio is None:
        return "n/a"
    if ratio != 0 and not _PLAIN_RATIOS[0] <= ratio < _PLAIN_RATIOS[1]:
        return f"{scientific(ratio, decimals=4 if exact else 1)}×"
    if exact:
        return f"{float(ratio):.4f}×"
    if ratio != 0 and ratio < Fraction(1, 100):
        return f"{float(ratio):.1g}×"
    return f"{float(ratio):.2f}×"


def cell_text(comparison: Comparison, metric: Metric, index: int, *, exact: bool) -> str:
    """``12.4 M (0.10×)``; the baseline's own cell has no ratio."""
    row = comparison.row(metric)
    text = value_text(metric, row.values[index], exact=exact)
    if index == comparison.baseline:
        return text
    return f"{text} ({ratio_text(row.ratios[index], exact=exact)})"


def coverage_text(report: Report) -> str:
    """Receptive field / input size in percent: ``4.9%`` (per axis, ``4.9%×3.1%``, when they
    differ), with ``@layer`` when measured before a global pool; above 100% every output
    already sees the whole input."""
    found = coverage(report)
    if found is None:
        return str(report.receptive_field.coverage.value)
    shown = [f"{numbers.share(ratio.numerator, ratio.denominator)}" for ratio in found.ratios]
    text = shown[0] if len(set(shown)) == 1 else "×".join(shown)
    return text if found.path is None else f"{text} @{found.path}"


def renamed(entries: tuple[Entry, ...]) -> list[Report]:
    """The entries' reports under their comparison names (for the per-layer views)."""
    return [replace(entry.report, name=entry.name) for entry in entries]


def delta_pairs(comparison: Comparison) -> list[tuple[Entry, Entry]]:
    """(baseline, other) for every other entry that shares at least one layer path."""
    base = comparison.entries[comparison.baseline]
    return [
        (base, entry)
        for index, entry in enumerate(comparison.entries)
        if index != comparison.baseline and layer_deltas(base.report, entry.report)
    ]


def _fraction(ratio: Fraction | None) -> str | None:
    return None if ratio is None else f"{ratio.numerator}/{ratio.denominator}"


def comparison_to_dict(comparison: Comparison, *, per_layer: bool = False) -> dict[str, Any]:
    """The JSON contract of ``convcost compare`` (docs/cli.md)."""
    names = comparison.names
    data: dict[str, Any] = {
        "baseline": comparison.baseline_name,
        "names": list(names),
        "variants": [
            report_to_dict(entry.report)
            if entry.execution is None
            else {**report_to_dict(entry.report), "execution": execution_json(entry.execution)}
            for entry in comparison.entries
        ],
        "ratio_format": RATIO_FORMAT,
        "ratios": {
            name: {row.metric.value: ratio_float(row.ratios[i]) for row in comparison.rows}
            for i, name in enumerate(names)
        },
        "exact_ratios": {
            name: {row.metric.value: _fraction(row.ratios[i]) for row in comparison.rows}
            for i, name in enumerate(names)
        },
        "best": {row.metric.value: [names[i] for i in row.best] for row in comparison.rows},
        "warnings": list(comparison.warnings),
        "oversized": [
            {"name": found.entry, "first_layer": found.first, "layers": found.count}
            for found in comparison.oversized
        ],
    }
    if per_layer:
        data["layer_deltas"] = [
            {
                "baseline": base.name,
                "other": other.name,
                "layers": [
                    {
                        "path": delta.path,
                        "kinds": list(delta.kinds),
                        "output_shapes": [list(shape) for shape in delta.output_shapes],
                        "params": list(delta.params),
                        "macs": list(delta.macs),
                        "receptive_fields": [field_json(f)[0] for f in delta.receptive_fields],
                    }
                    for delta in layer_deltas(base.report, other.report)
                ],
            }
            for base, other in delta_pairs(comparison)
        ]
    return data


def comparison_json(
    comparison: Comparison, *, per_layer: bool = False, indent: int | None = None
) -> str:
    return dumps(comparison_to_dict(comparison, per_layer=per_layer), indent=indent)


def csv_columns(comparison: Comparison) -> tuple[str, ...]:
    """The header: ``time_ns`` and its ratio appear only for ``--execute``."""
    metrics = [row.metric.value for row in comparison.rows]
    return (
        "name",
        "baseline",
        "input_shape",
        "output_shape",
        *metrics,
        "receptive_field",
        "jump",
        *(f"{metric}_ratio" for metric in metrics),
    )


def comparison_csv(comparison: Comparison) -> str:
    """One line per entry: exact integers, and float ratios to the baseline."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csv_columns(comparison))
    for index, entry in enumerate(comparison.entries):
        report = entry.report
        size, jump = field_json(report.receptive_field)
        ratios = [row.ratios[index] for row in comparison.rows]
        writer.writerow(
            csv_row(
                (
                    entry.name,
                    "yes" if index == comparison.baseline else "",
                    shape_csv(report.input_shape),
                    shape_csv(report.output_shape),
                    *(row.values[index] for row in comparison.rows),
                    axes_csv(size) or report.receptive_field.coverage.value,
                    axes_csv(jump),
                    *("" if value is None else value for value in map(ratio_float, ratios)),
                )
            )
        )
    return out.getvalue()


def comparison_markdown(
    comparison: Comparison, *, exact: bool = False, show_coverage: bool = False
) -> str:
    """The comparison table with the best value of each cost row in bold."""
    names = [
        markdown_text(name) + (" (baseline)" if i == comparison.baseline else "")
        for i, name in enumerate(comparison.names)
    ]
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "--:|" * len(names)]
    for row in comparison.rows:
        cells = [
            f"**{text}**" if i in row.best else text
            for i, text in (
                (i, cell_text(comparison, row.metric, i, exact=exact)) for i in range(len(names))
            )
        ]
        lines.append(f"| {LABELS[row.metric]} | " + " | ".join(cells) + " |")
    for label, cells in shape_rows(comparison, show_coverage=show_coverage):
        lines.append(f"| {label} | " + " | ".join(markdown_text(cell) for cell in cells) + " |")
    lines.append("")
    lines += [f"> {markdown_text(note)}" for note in notes(comparison)]
    lines += [f"> warning: {markdown_text(warning)}" for warning in comparison.warnings]
    return "\n".join(lines) + "\n"


def shape_rows(comparison: Comparison, *, show_coverage: bool) -> list[tuple[str, list[str]]]:
    """The rows without ratios: output shape, receptive field, jump (and RF / input)."""
    reports = [entry.report for entry in comparison.entries]
    result = [
        ("output", [numbers.shape(r.output_shape) for r in reports]),
        ("receptive field", [numbers.receptive(r.receptive_field) for r in reports]),
        ("jump", [numbers.jump(r.receptive_field) for r in reports]),
    ]
    if show_coverage:
        result.append(("RF / input", [coverage_text(r) for r in reports]))
    runs = [entry.execution for entry in comparison.entries]
    if all(run is not None for run in runs):
        result.append(
            ("GFLOP/s (measured)", [rate(run.macs, run.seconds) for run in runs if run is not None])
        )
    return result


def notes(comparison: Comparison) -> list[str]:
    """Layers whose receptive field already exceeds the input, per entry."""
    return [
        f"{found.entry}: {found.count} layer{'s already see' if found.count != 1 else ' already sees'} more "
        f"than the whole input (receptive field ≥ input size), the first {found.first}"
        for found in comparison.oversized
    ]
