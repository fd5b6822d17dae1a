"""The short HTML that Jupyter shows for a :class:`~convcost.report.Report` or a
:class:`~convcost.compare.Comparison` (``_repr_html_``): the totals and one chart, a few
kilobytes whatever the network's size (the full page is ``convcost report``)."""

from __future__ import annotations

from convcost.compare import Comparison
from convcost.html import charts
from convcost.html.bounds import NOTEBOOK_BARS
from convcost.html.comparison import comparison_body
from convcost.html.markup import text
from convcost.html.tables import totals_table
from convcost.render import numbers
from convcost.report import Report

_STYLE = (
    "<style>.convcost-nb{max-width:900px}.convcost-nb table{border-collapse:collapse}"
    ".convcost-nb th,.convcost-nb td{padding:1px 8px;text-align:left}"
    ".convcost-nb td.num{text-align:right}.convcost-nb td.best{font-weight:700}"
    ".convcost-nb td.detail,.convcost-nb .meta{opacity:.7}"
    ".convcost-nb svg{width:100%;height:auto;font-size:11px}"
    ".convcost-nb svg text{fill:currentColor}.convcost-nb .grid{stroke:#8884}"
    ".convcost-nb .band{fill:#8881}.convcost-nb .bar{fill:#2f6fb2}"
    ".convcost-nb .front,.convcost-nb .rf,.convcost-nb .jump{fill:none;stroke:#c2571a;"
    "stroke-width:2}.convcost-nb .point{fill:#2f6fb2}.convcost-nb .point.on-front{fill:#c2571a}"
    "</style>"
)


def report_snippet(report: Report) -> str:
    """Name, shapes, the totals table and the MACs per layer (at most
    :data:`~convcost.html.bounds.NOTEBOOK_BARS` bars, without hover titles)."""
    return (
        f'<div class="convcost-nb">{_STYLE}<strong>{text(report.name)}</strong> '
        f'<span class="meta">input {numbers.shape(report.input_shape)} → output '
        f"{numbers.shape(report.output_shape)} · batch {report.batch:,} · {text(report.dtype)} · "
        f"{len(report.layers):,} layers</span>"
        + totals_table(report)
        + charts.macs_chart(report, limit=NOTEBOOK_BARS, hover=False)
        + '<div class="meta">MACs per layer in execution order · <code>report.to_dataframe()'
        "</code> has one row per layer · <code>convcost report</code> writes the full page</div>"
        "</div>"
    )


def comparison_snippet(comparison: Comparison) -> str:
    """The comparison table and the scatter of parameters against MACs."""
    return f'<div class="convcost-nb">{_STYLE}{comparison_body(comparison)}</div>'
