"""``convcost analyze``'s default table (the layer table, the summary, a blank line per
report) written without rich where the console draws no styles."""

from __future__ import annotations

from collections.abc import Iterator

from convcost.render.plain_table import plain
from convcost.render.table_spec import TableSpec, layer_spec, summary_spec
from convcost.report import Report


def plain_reports(
    reports: list[Report], *, depth: int | None, exact: bool, width: int
) -> Iterator[str] | None:
    """What :func:`convcost.render.table.print_reports` prints on a console ``width`` columns
    wide that draws no styles, or None where :mod:`convcost.render.plain_table` does not
    reproduce rich (decided before anything is written)."""
    items: list[TableSpec | str] = []
    for report in reports:
        items += (
            layer_spec(report, depth=depth, exact=exact, width=width),
            summary_spec(report, exact=exact, width=width),
            "\n",
        )
    return plain(items, width)
