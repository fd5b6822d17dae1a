"""The terminal view of ``convcost compare`` (rich): the side-by-side table, the per-layer
tables and the per-layer delta view."""

from __future__ import annotations

from fractions import Fraction

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from convcost.compare import Comparison, Entry, Metric, layer_deltas
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
from convcost.render.escape import printable
from convcost.render.table import fast_table, print_reports
from convcost.render.table_spec import Column, Frame, TableSpec, wrap_path

BEST = "bold green"
"""Style of the lowest value in each cost row."""


TRANSPOSE_ABOVE = 4
"""More entries than this are shown one per row (metrics as columns), so that 50 variants
stay readable on an 80-column terminal."""


def comparison_table(
    comparison: Comparison,
    *,
    exact: bool = False,
    show_coverage: bool = False,
    name: str | None = None,
) -> Table:
    """One column per entry, or one row per entry above :data:`TRANSPOSE_ABOVE` entries.
    ``name`` (the spec's, when one file is compared) heads the title."""
    title = Text(f"ratios to {printable(comparison.baseline_name)}")
    if name:
        title = Text.assemble((printable(name), "bold"), "  ", title)
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    labels = [
        printable(comparison.names[i]) + (" (baseline)" if i == comparison.baseline else "")
        for i in range(len(comparison.entries))
    ]
    grid: list[tuple[str, list[Text]]] = [
        (
            LABELS[row.metric],
            [
                Text(
                    cell_text(comparison, row.metric, index, exact=exact),
                    style=BEST if index in row.best else "",
                )
                for index in range(len(comparison.entries))
            ],
        )
        for row in comparison.rows
    ]
    grid += [
        (label, [Text(printable(t)) for t in texts])
        for label, texts in shape_rows(comparison, show_coverage=show_coverage)
    ]
    if len(comparison.entries) > TRANSPOSE_ABOVE:
        return _transposed(table, comparison, labels, grid)
    table.add_column("", style="bold", no_wrap=True)
    for label in labels:
        table.add_column(
            Text(label.replace(" (baseline)", "\n(baseline)")), justify="right", overflow="fold"
        )
    for label, cells in grid:
        table.add_row(label, *cells)
    return table


SHORT = {
    "parameters": "params",
    "other ops": "ops",
    "activations": "act. mem",
    "receptive field": "RF",
    "RF / input": "RF/input",
}
"""Column headers of the one-row-per-entry view."""


def _transposed(
    table: Table, comparison: Comparison, labels: list[str], grid: list[tuple[str, list[Text]]]
) -> Table:
    """One row per entry; each figure's ratio on a second line; FLOPs (2 × MACs) left out."""
    kept = [(label, cells) for label, cells in grid if label != LABELS[Metric.FLOPS]]
    table.add_column("", style="bold", no_wrap=True)
    for label, _ in kept:
        table.add_column(SHORT.get(label, label), justify="right", no_wrap=True)
    for index, label in enumerate(labels):
        table.add_row(
            Text(label.replace(" (baseline)", "\n(baseline)")),
            *(_two_lines(cells[index]) for _, cells in kept),
        )
    table.caption = "FLOPs = 2 × MACs"
    return table


def _two_lines(cell: Text) -> Text:
    """``12.4 M (0.10×)`` → ``12.4 M`` over ``0.10×``."""
    value, _, ratio = cell.plain.partition(" (")
    text = Text(value, style=cell.style)
    if ratio:
        text.append("\n" + ratio.rstrip(")"), style="dim")
    return text


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
        console.print(f"note: {printable(note)}", markup=False, highlight=False, soft_wrap=True)
    if per_layer:
        for base, other in delta_pairs(comparison):
            fast_table(delta_table(base, other, exact=exact, width=console.width)).print(console)


def delta_table(
    base: Entry, other: Entry, *, exact: bool = False, width: int | None = None
) -> TableSpec:
    """The layers both entries have (same path), baseline → other.

    On a console ``width`` wide, a changed value too wide for its column breaks before its
    ``→`` and its ratio (never inside a number), paths break after their dots, and when even
    that does not fit the table is laid out whole, wider than the console."""
    lines = []
    for delta in layer_deltas(base.report, other.report):
        kind = delta.kinds[0] if delta.kinds[0] == delta.kinds[1] else " → ".join(delta.kinds)
        lines.append(
            [
                printable(delta.path),
                printable(kind),
                _pair(numbers.shape(delta.output_shapes[0]), numbers.shape(delta.output_shapes[1])),
                _change(delta.params, exact=exact),
                _change(delta.macs, exact=exact),
                _pair(*(numbers.receptive(field) for field in delta.receptive_fields)),
            ]
        )
    headers = ("layer", "kind", "output", "params", "MACs", "RF")
    title = (
        f"per-layer: {printable(other.name)} against {printable(base.name)} (shared layer paths)"
    )

    def widest(rows: list[list[str]]) -> list[int]:
        return [
            max(len(line) for cell in column for line in cell.split("\n"))
            for column in zip(headers, *rows, strict=True)
        ]

    least = limit = None
    if width is not None and sum(widest(lines)) + 3 * len(headers) - 1 > width:
        lines = [[path, kind, *(map(_broken, values))] for path, kind, *values in lines]
        most = widest(lines)
        room = width - (sum(most[1:]) + 3 * len(headers) - 1)
        fitted = limit = max(room, min(most[0], 12))
        lines = [[wrap_path(path, fitted), *rest] for path, *rest in lines]
        if fitted > room:
            least = width + fitted - room
    most = widest(lines)
    columns = (
        Column("layer", overflow="fold", max_width=limit),
        Column("kind", overflow="fold"),
        *(
            Column(header, justify="right", no_wrap=True, min_width=most[position])
            for position, header in enumerate(headers[2:], start=2)
        ),
    )
    frame = Frame(columns, title=((title, ""),), pad_edge=False, least_width=least)
    return TableSpec(frame, lines.copy)


def _broken(value: str) -> str:
    """``295.0 K → 32.9 K (0.11×)`` on three lines: before the arrow and the ratio."""
    return value.replace(" → ", "\n→ ").replace(" (", "\n(")


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
