"""The totals table (as ``convcost analyze`` prints it) and the per-layer table."""

from __future__ import annotations

from functools import partial

from convcost.html.bounds import MAX_TABLE_ROWS
from convcost.html.markup import attribute, text
from convcost.render import numbers
from convcost.report import Report


def totals_table(report: Report) -> str:
    """Parameters, MACs, FLOPs, other ops, activations, peak memory and receptive field, each
    short, exact and explained (the rows of the terminal summary)."""
    totals = report.totals
    unknown = " + placeholders of unknown cost" if report.notes else ""
    rows = [
        (
            "parameters",
            "params",
            numbers.count(totals.params),
            f"{numbers.count(totals.weights, exact=True)} weights + "
            f"{numbers.count(totals.biases, exact=True)} biases",
        ),
        (
            "MACs",
            "macs",
            numbers.count(totals.macs),
            numbers.count(totals.macs, exact=True) + unknown,
        ),
        ("FLOPs", "flops", numbers.count(totals.flops), "2 × MACs"),
        ("other ops", "ops", numbers.count(totals.ops), "bias, norm, activation, pool, merge"),
        (
            "activations",
            "activation_bytes",
            numbers.size(report.activation_bytes),
            f"{numbers.count(totals.activation_elements, exact=True)} elements × "
            f"{report.bytes_per_element} B ({report.dtype})",
        ),
        (
            "peak memory",
            "peak_memory_bytes",
            numbers.size(report.peak_memory_bytes),
            f"{numbers.size(report.peak_activation_bytes)} live at {report.peak_at} + "
            f"{numbers.size(report.parameter_bytes)} params",
        ),
        (
            "receptive field",
            "receptive_field",
            numbers.receptive(report.receptive_field),
            f"jump {numbers.jump(report.receptive_field)}",
        ),
    ]
    body = "".join(
        f'<tr data-key="{key}"><th scope="row">{label}</th><td class="num">{text(value)}</td>'
        f'<td class="detail">{text(detail)}</td></tr>'
        for label, key, value, detail in rows
    )
    return f'<table class="totals">{body}</table>'


LAYER_COLUMNS = (
    "#",
    "layer",
    "kind",
    "output",
    "params",
    "MACs",
    "other ops",
    "activation bytes",
    "RF",
    "jump",
)


def layer_table(report: Report, *, limit: int = MAX_TABLE_ROWS) -> str:
    """Every layer (up to ``limit``) with exact integers, inside a closed ``<details>``."""
    count = numbers.memoized(partial(numbers.count, exact=True))
    shape = numbers.memoized(numbers.shape)
    width = report.bytes_per_element
    head = "".join(f"<th>{name}</th>" for name in LAYER_COLUMNS)
    rows = []
    for index, layer in enumerate(report.layers[:limit], start=1):
        cost = layer.cost
        field = layer.receptive_field
        rows.append(
            f'<tr{attribute("data-path", layer.path)}><td class="num">{index}</td>'
            f'<td class="path">{text(layer.path)}</td><td>{text(layer.kind)}</td>'
            f'<td class="num">{shape(layer.output_shape)}</td>'
            f'<td class="num">{count(cost.params)}</td><td class="num">{count(cost.macs)}</td>'
            f'<td class="num">{count(cost.ops)}</td>'
            f'<td class="num">{count(cost.activation_elements * width)}</td>'
            f'<td class="num">{text(numbers.receptive(field))}</td>'
            f'<td class="num">{text(numbers.jump(field))}</td></tr>'
        )
    more = len(report.layers) - limit
    note = (
        f'<p class="note">{more:,} more layers not listed (at most {limit:,}); '
        "<code>convcost analyze --format csv</code> lists every one.</p>"
        if more > 0
        else ""
    )
    return (
        f'<details class="layers"><summary>Every layer ({len(report.layers):,})</summary>'
        f'<div class="scroll"><table class="layers"><thead><tr>{head}</tr></thead><tbody>'
        + "".join(rows)
        + f"</tbody></table></div>{note}</details>"
    )
