"""The comparison page of ``compare --format html``: the table and the scatter."""

from __future__ import annotations

from convcost.compare import Comparison, Metric
from convcost.html.markup import text
from convcost.html.page import document
from convcost.html.scatter import scatter
from convcost.render.comparison_formats import LABELS, cell_text, notes, shape_rows

DEFAULT_AXES = (Metric.MACS, Metric.PARAMS)
"""The scatter's x and y when ``--scatter-x``/``--scatter-y`` are not given."""


def comparison_table(
    comparison: Comparison, *, exact: bool = False, show_coverage: bool = False
) -> str:
    """One column per entry; the lowest value of each cost row in bold (``td.best``)."""
    head = "".join(
        f"<th>{text(name)}{' (baseline)' if i == comparison.baseline else ''}</th>"
        for i, name in enumerate(comparison.names)
    )
    rows = []
    for row in comparison.rows:
        cells = "".join(
            f'<td class="num{" best" if i in row.best else ""}" data-value="{value}">'
            f"{text(cell_text(comparison, row.metric, i, exact=exact))}</td>"
            for i, value in enumerate(row.values)
        )
        rows.append(
            f'<tr data-metric="{row.metric.value}"><th scope="row">{LABELS[row.metric]}</th>{cells}</tr>'
        )
    for label, cells_text in shape_rows(comparison, show_coverage=show_coverage):
        cells = "".join(f'<td class="num">{text(cell)}</td>' for cell in cells_text)
        rows.append(f'<tr><th scope="row">{text(label)}</th>{cells}</tr>')
    return (
        f'<div class="scroll"><table class="comparison"><thead><tr><th></th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def comparison_body(
    comparison: Comparison,
    *,
    x_metric: Metric = DEFAULT_AXES[0],
    y_metric: Metric = DEFAULT_AXES[1],
    exact: bool = False,
    show_coverage: bool = False,
) -> str:
    """The table, the notes and warnings, and the scatter (without page around it)."""
    remarks = [*notes(comparison), *(f"warning: {w}" for w in comparison.warnings)]
    listed = (
        '<ul class="warnings">' + "".join(f"<li>{text(r)}</li>" for r in remarks) + "</ul>"
        if remarks
        else ""
    )
    return (
        comparison_table(comparison, exact=exact, show_coverage=show_coverage)
        + listed
        + f"<h3>{LABELS[y_metric]} against {LABELS[x_metric]}</h3>"
        + scatter(comparison, x_metric, y_metric)
    )


def comparison_page(
    comparison: Comparison,
    *,
    x_metric: Metric = DEFAULT_AXES[0],
    y_metric: Metric = DEFAULT_AXES[1],
    exact: bool = False,
    show_coverage: bool = False,
    title: str | None = None,
) -> str:
    """The comparison as a self-contained page."""
    name = title or ", ".join(comparison.names[:3]) + (" …" if len(comparison.names) > 3 else "")
    body = (
        f"<h1>convcost compare: {text(name)}</h1>"
        f'<p class="meta">ratios to {text(comparison.baseline_name)}; the lowest value of each '
        "cost row in bold (docs/report.md explains the scatter)</p>"
        + comparison_body(
            comparison,
            x_metric=x_metric,
            y_metric=y_metric,
            exact=exact,
            show_coverage=show_coverage,
        )
    )
    return document(f"convcost compare: {name}", body)
