"""The terminal table of ``convcost analyze`` (rich), built from the rich-free descriptions of
:mod:`convcost.render.table_spec`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from convcost.render.fast_table import FastTable
from convcost.render.table_rows import Cell
from convcost.render.table_spec import (
    LEAST_PATH,
    NARROW_PATH,
    ExtraColumn,
    Frame,
    Styled,
    TableSpec,
    layer_spec,
    summary_spec,
    wrap_path,
    zoo_spec,
)
from convcost.report import Report

__all__ = [
    "LEAST_PATH",
    "NARROW_PATH",
    "ExtraColumn",
    "layer_table",
    "print_reports",
    "print_zoo",
    "render_report",
    "rich_frame",
    "rich_table",
    "summary",
    "wrap_path",
]


def rich_frame(frame: Frame) -> Table:
    """The rich ``Table`` (without rows) a :class:`~convcost.render.table_spec.Frame`
    describes. Its own headers and footers are ``Text``, words and numbers that rich would
    otherwise parse for markup and emoji codes (which loads rich's 4,000 emoji names); an
    extra column's are text as its renderer wrote them."""
    table = Table(
        title=Text.assemble(*frame.title) if frame.title else None,
        box=box.SIMPLE_HEAD if frame.box else None,
        padding=frame.padding,
        collapse_padding=frame.collapse_padding,
        pad_edge=frame.pad_edge,
        show_header=frame.show_header,
        show_footer=frame.show_footer,
        show_edge=frame.show_edge,
    )
    for column in frame.columns:
        table.add_column(
            column.header if column.markup else Text(column.header),
            footer=column.footer if column.markup else Text(column.footer),
            justify=column.justify,  # type: ignore[arg-type]
            style=column.style or None,
            no_wrap=column.no_wrap,
            overflow=column.overflow,  # type: ignore[arg-type]
            min_width=column.min_width,
            max_width=column.max_width,
            ratio=column.ratio,
        )
    return table


def rich_cells(row: Sequence[str | Styled]) -> tuple[Cell, ...]:
    """A described row's cells for :class:`FastTable` (a styled cell as a ``Text``)."""
    return tuple(
        cell if isinstance(cell, str) else Text(cell.text, style=cell.style) for cell in row
    )


def fast_table(spec: TableSpec) -> FastTable:
    """The description drawn by :class:`FastTable` (time linear in the rows)."""

    def cells() -> Iterator[tuple[Cell, ...]]:
        return map(rich_cells, spec.rows())

    return FastTable(rich_frame(spec.frame), cells, spec.frame.least_width)


def rich_table(spec: TableSpec) -> Table:
    """The description as an ordinary rich ``Table``, every row added (a plain cell as a
    ``Text``, never read as markup)."""
    table = rich_frame(spec.frame)
    for row in spec.rows():
        table.add_row(*(Text(cell) if type(cell) is str else cell for cell in rich_cells(row)))
    return table


def layer_table(
    report: Report,
    *,
    depth: int | None = None,
    exact: bool = False,
    extra: Sequence[ExtraColumn] = (),
    width: int | None = None,
) -> FastTable:
    """One row per layer (or collapsed block), laid out as rich would lay it out in time
    linear in the rows (:class:`FastTable`); see :func:`~convcost.render.table_spec.layer_spec`.
    """
    return fast_table(layer_spec(report, depth=depth, exact=exact, extra=extra, width=width))


def summary(report: Report, *, exact: bool = False) -> Table:
    return rich_table(summary_spec(report, exact=exact))


def render_report(
    report: Report, *, depth: int | None = None, exact: bool = False, width: int | None = None
) -> RenderableType:
    return Group(
        layer_table(report, depth=depth, exact=exact, width=width),
        summary(report, exact=exact),
        Text(""),
    )


def print_reports(
    console: Console, reports: list[Report], *, depth: int | None, exact: bool
) -> None:
    """As ``console.print(render_report(...))`` for each report, with the layer table
    written a chunk of rows at a time, and both tables drawn by :class:`FastTable` (the
    summary through rich's generic table took longer than the 200 rows of ResNet-50)."""
    for report in reports:
        layer_table(report, depth=depth, exact=exact, width=console.width).print(console)
        fast_table(summary_spec(report, exact=exact, width=console.width)).print(console)
        console.print(Text(""))


def print_zoo(console: Console, reports: list[Report], *, exact: bool = False) -> None:
    """``convcost zoo``'s table (:func:`~convcost.render.table_spec.zoo_spec`)."""
    fast_table(zoo_spec(reports, exact=exact, width=console.width)).print(console)
