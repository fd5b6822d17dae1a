"""The self-contained report page of ``convcost report``: one section per analysed network."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from convcost.build import build
from convcost.engine import analyze_network
from convcost.html import charts
from convcost.html.bounds import MAX_BARS
from convcost.html.markup import attribute, text
from convcost.html.memory import live_bytes
from convcost.html.structure import diagram
from convcost.html.style import CSS
from convcost.html.tables import layer_table, totals_table
from convcost.layers import Shape
from convcost.network import Network
from convcost.render import numbers
from convcost.report import Report
from convcost.spec import Spec
from convcost.valueclasses import dataclass
from convcost.version import __version__


@dataclass(frozen=True, slots=True, kw_only=True)
class Analysis:
    """A built network and its report: the diagram and the memory chart need the network."""

    network: Network
    report: Report


Section = Callable[[Analysis], str]
"""An extra part of each network's section: an HTML fragment (its user text escaped with
:func:`convcost.html.markup.text`), placed after the memory chart. The latency estimate of
``--device`` plugs in here; an empty string adds nothing."""


def analyses(
    spec: Spec, *, batch: int = 1, dtype: str = "float32", input_shape: Shape | None = None
) -> tuple[Analysis, ...]:
    """One analysis per variant of ``spec`` (one for a plain spec), as ``analyze_all`` does."""
    result = []
    for variant in spec.variants:
        network = build(spec, variant, input_shape=input_shape)
        report = analyze_network(network, batch=batch, dtype=dtype, source=spec.source)
        result.append(Analysis(network=network, report=report))
    return tuple(result)


def document(title: str, body: str) -> str:
    """A complete HTML5 document: inline stylesheet, no script, no external resource."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="generator" content="convcost {text(__version__)}">'
        f"<title>{text(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def _layers(count: int) -> str:
    return "1 layer" if count == 1 else f"{count:,} layers"


def _anchor(index: int) -> str:
    return f"net{index}"


def section(analysis: Analysis, index: int, extra: Sequence[Section] = ()) -> str:
    report = analysis.report
    live = live_bytes(analysis.network, report)
    warnings = [str(w) for w in report.warnings] + list(report.notes)
    warned = (
        '<ul class="warnings">' + "".join(f"<li>{text(w)}</li>" for w in warnings) + "</ul>"
        if warnings
        else ""
    )
    parts = [
        f'<section class="network" id="{_anchor(index)}"{attribute("data-name", report.name)}>',
        f"<h2>{text(report.name)}</h2>",
        f'<p class="meta">{text(report.source)} · input {numbers.shape(report.input_shape)} → '
        f"output {numbers.shape(report.output_shape)} · batch {report.batch:,} · "
        f"{text(report.dtype)} · {_layers(len(report.layers))}</p>",
        warned,
        "<h3>Totals</h3>",
        totals_table(report),
        "<h3>Structure</h3>",
        '<p class="hint">Blocks are folded: open one to see its layers. Hover a box for its '
        "input shape, parameters and exact MACs.</p>",
        diagram(analysis.network, report),
        "<h3>MACs per layer</h3>",
        charts.macs_chart(report, limit=MAX_BARS),
        "<h3>Parameters per layer</h3>",
        charts.params_chart(report, limit=MAX_BARS),
        "<h3>Receptive field and jump</h3>",
        charts.field_chart(report, limit=MAX_BARS),
        "<h3>Live activation memory</h3>",
        charts.memory_chart(report, live, limit=MAX_BARS),
        *(part(analysis) for part in extra),
        "<h3>Layers</h3>",
        layer_table(report),
        "</section>",
    ]
    return "".join(parts)


def report_page(analyses: Sequence[Analysis], *, extra: Sequence[Section] = ()) -> str:
    """The report page: a heading, a contents list when there are several networks (the
    variants of a spec), and one section each."""
    names = [analysis.report.name for analysis in analyses]
    title = names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"
    contents = ""
    if len(analyses) > 1:
        contents = (
            "<nav><ul>"
            + "".join(
                f'<li><a href="#{_anchor(i)}">{text(name)}</a></li>' for i, name in enumerate(names)
            )
            + "</ul></nav>"
        )
    body = (
        f"<h1>convcost report: {text(title)}</h1>"
        f'<p class="meta">convcost {text(__version__)} · every figure is exact; hover a bar or '
        "box for its layer (docs/report.md explains each chart)</p>"
        + contents
        + "".join(section(analysis, i, extra) for i, analysis in enumerate(analyses))
    )
    return document(f"convcost: {title}", body)
