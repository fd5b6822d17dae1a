"""The terminal view of ``convcost compare`` (rich): the side-by-side table, the per-layer
tables and the per-layer delta view."""

from __future__ import annotations

from fractions import Fraction

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from convcost.compare import Comparison, Entry, layer_deltas
from convcost.render import numbers
from convcost.render.comparison_formats import (
    LABELS,
    cell_text,
    delta_pairs,
    notes,
    ratio_text,
    renamed,
    shape_rows,
)
from convcost.render.table import print_reports

BEST = "bold green"
"""Style of the lowest value in each cost row."""


def comparison_table(
    comparison: Comparison,
    *,
    exact: bool = False,
    show_coverage: bool = False,
    name: str | None = None,
) -> Table:
    """``name`` (the spec's, when one file is compared) heads the title."""
    title = f"ratios to {comparison.baseline_name}"
    if name:
        title = f"[bold]{name}[/]  {title}"
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("", style="bold", no_wrap=True)
    for index, column in enumerate(comparison.names):
        header = f"{column}\n(baseline)" if index == comparison.baseline else column
        table.add_column(header, justify="right", overflow="fold")
    for row in comparison.rows:
        cells = [
            Text(
                cell_text(comparison, row.metric, index, exact=exact),
                style=BEST if index in row.best else "",
            )
            for index in range(len(comparison.entries))
        ]
        table.add_row(LABELS[row.metric], *cells)
    for label, texts in shape_rows(comparison, show_coverage=show_coverage):
        table.add_row(label, *texts)
    return table


def print_comparison(
    console: Console,
    comparison: Comparison,
    *,
    exact: bool = False,
    per_layer: bool = False,
    show_coverage: bool = False,
    name: str | None = None,
) -> None:
    if per_layer:
        print_reports(console, renamed(comparison.entries), depth=None, exact=exact)
    console.print(comparison_table(comparison, exact=exact, show_coverage=show_coverage, name=name))
    for note in notes(comparison):
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    if per_layer:
        for base, other in delta_pairs(comparison):
            console.print(delta_table(base, other, exact=exact))


def delta_table(base: Entry, other: Entry, *, exact: bool = False) -> Table:
    """The layers both entries have (same path), baseline → other."""
    table = Table(
        title=f"per-layer: {other.name} against {base.name} (shared layer paths)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("layer", overflow="fold")
    table.add_column("kind", overflow="fold")
    table.add_column("output", justify="right")
    table.add_column("params", justify="right")
    table.add_column("MACs", justify="right")
    table.add_column("RF", justify="right")
    for delta in layer_deltas(base.report, other.report):
        kind = delta.kinds[0] if delta.kinds[0] == delta.kinds[1] else " → ".join(delta.kinds)
        table.add_row(
            delta.path,
            kind,
            _pair(numbers.shape(delta.output_shapes[0]), numbers.shape(delta.output_shapes[1])),
            _change(delta.params, exact=exact),
            _change(delta.macs, exact=exact),
            _pair(*(numbers.receptive(field) for field in delta.receptive_fields)),
        )
    return table


def _pair(first: str, second: str) -> str:
    return first if first == second else f"{first} → {second}"


def _change(values: tuple[int, int], *, exact: bool) -> str:
    """``2.4 M → 241.7 K (0.10×)``; one value when unchanged."""
    first, second = values
    if first == second:
        return numbers.count(first, exact=exact)
    shown = f"{numbers.count(first, exact=exact)} → {numbers.count(second, exact=exact)}"
    if first == 0:
        return shown
    return f"{shown} ({ratio_text(Fraction(second, first), exact=exact)})"
