"""The network's structure as nested HTML boxes: sequences flow left to right and wrap,
merge blocks stack their branches above the merge step, blocks and repeat groups fold into
``<details>`` (closed: one box with the block's totals; open: its layers). No script.

Every layer and merge step of the report is one ``.node`` box with ``data-path``; every block
is a ``details.group`` or ``details.merge`` element with ``data-path``.
"""

from __future__ import annotations

from typing import assert_never

from convcost.html.bounds import MAX_DIAGRAM_DEPTH, MAX_DIAGRAM_NODES
from convcost.html.markup import attribute, short, text
from convcost.network import GroupNode, LayerNode, MergeNode, Network, Node
from convcost.render import numbers
from convcost.report import BlockReport, Cost, LayerReport, Report
from convcost.valueclasses import dataclass, field

ARROW = '<span class="arrow" aria-hidden="true">→</span>'


@dataclass(slots=True)
class _Drawing:
    layers: dict[str, LayerReport]
    blocks: dict[str, BlockReport]
    budget: int
    skipped: int = 0
    parts: list[str] = field(default_factory=list)


def diagram(network: Network, report: Report, *, budget: int = MAX_DIAGRAM_NODES) -> str:
    """The structure diagram of ``network`` with ``report``'s figures."""
    drawing = _Drawing(
        layers={layer.path: layer for layer in report.layers},
        blocks={block.path: block for block in report.blocks},
        budget=budget,
    )
    drawing.parts.append('<div class="diagram"><div class="flow">')
    drawing.parts.append(_box("input", "input", (), report.input_shape, None, css="node io"))
    _sequence(drawing, network.nodes, 0)
    drawing.parts.append("</div>")
    if drawing.skipped:
        drawing.parts.append(
            f'<p class="note">{drawing.skipped:,} more boxes not drawn (at most '
            f"{budget:,} per diagram); the charts and the layer table list every layer.</p>"
        )
    drawing.parts.append("</div>")
    return "".join(drawing.parts)


def _figures(cost: Cost | None) -> str:
    return "" if cost is None else f" · {numbers.count(cost.macs)} MACs"


def _box(
    name: str,
    kind: str,
    input_shape: tuple[int, ...],
    output_shape: tuple[int, ...],
    cost: Cost | None,
    *,
    css: str = "node",
    path: str | None = None,
) -> str:
    tip = [path or name, f"{kind}", f"out {numbers.shape(output_shape)}"]
    if input_shape:
        tip.insert(2, f"in {numbers.shape(input_shape)}")
    if cost is not None:
        tip.append(f"{numbers.count(cost.params, exact=True)} params")
        tip.append(f"{numbers.count(cost.macs, exact=True)} MACs")
    data = "" if path is None else attribute("data-path", path)
    return (
        f'<div class="{css}"{data}{attribute("title", " · ".join(tip), limit=600)}>'
        f'<span class="name">{text(short(name, 40))}</span> '
        f'<span class="kind">{text(short(kind, 30))}</span>'
        f'<span class="figures">{numbers.shape(output_shape)}{_figures(cost)}</span></div>'
    )


def _sequence(drawing: _Drawing, nodes: tuple[Node, ...], depth: int) -> None:
    for node in nodes:
        if drawing.budget <= 0:
            drawing.skipped += _count(node)
            continue
        # the arrow and the box it points to wrap together: a row never ends in an arrow
        drawing.parts.append('<div class="link">' + ARROW)
        _node(drawing, node, depth)
        drawing.parts.append("</div>")


def _count(node: Node) -> int:
    """Boxes the node would draw (itself and everything inside)."""
    match node:
        case LayerNode():
            return 1
        case GroupNode():
            return 1 + sum(_count(child) for child in node.children)
        case MergeNode():
            return 2 + sum(_count(child) for branch in node.branches for child in branch.nodes)
        case _:
            assert_never(node)


def _last(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def _node(drawing: _Drawing, node: Node, depth: int) -> None:
    drawing.budget -= 1
    match node:
        case LayerNode():
            layer = drawing.layers.get(node.path)
            drawing.parts.append(
                _box(
                    _last(node.path),
                    node.layer.kind,
                    node.input_shape,
                    node.output_shape,
                    None if layer is None else layer.cost,
                    path=node.path,
                )
            )
        case GroupNode():
            block = drawing.blocks.get(node.path)
            cost = None if block is None else block.cost
            if depth >= MAX_DIAGRAM_DEPTH:
                drawing.skipped += _count(node) - 1
                drawing.parts.append(
                    _box(
                        _last(node.path),
                        node.label,
                        node.input_shape,
                        node.output_shape,
                        cost,
                        css="node folded",
                        path=node.path,
                    )
                )
                return
            drawing.parts.append(
                f'<details class="group"{attribute("data-path", node.path)}><summary>'
                f'<span class="name">{text(short(_last(node.path), 40))}</span> '
                f'<span class="kind">{text(short(node.label, 30))}</span>'
                f'<span class="figures">{numbers.shape(node.output_shape)}{_figures(cost)}</span>'
                "</summary>"
                '<div class="flow">'
            )
            _sequence(drawing, node.children, depth + 1)
            drawing.parts.append("</div></details>")
        case MergeNode():
            block = drawing.blocks.get(node.path)
            cost = None if block is None else block.cost
            if depth >= MAX_DIAGRAM_DEPTH:
                drawing.skipped += _count(node) - 1
                drawing.parts.append(
                    _box(
                        _last(node.path),
                        node.merge.value,
                        node.input_shape,
                        node.output_shape,
                        cost,
                        css="node folded",
                        path=node.path,
                    )
                )
                return
            drawing.parts.append(
                f'<details class="merge" open{attribute("data-path", node.path)}><summary>'
                f'<span class="name">{text(short(_last(node.path), 40))}</span> '
                f'<span class="kind">{node.merge.value} of {len(node.branches)} branches</span>'
                f'<span class="figures">{numbers.shape(node.output_shape)}{_figures(cost)}</span>'
                '</summary><div class="branches">'
            )
            for branch in node.branches:
                drawing.parts.append(
                    f'<div class="branch"><span class="branch-name">{text(short(branch.name, 40))}</span>'
                    '<div class="flow">'
                )
                if branch.nodes:
                    _sequence(drawing, branch.nodes, depth + 1)
                else:
                    drawing.parts.append(ARROW + '<span class="identity">identity</span>')
                drawing.parts.append("</div></div>")
            drawing.budget -= 1
            step = drawing.layers.get(node.path)
            drawing.parts.append(
                '</div><div class="flow">'
                + ARROW
                + _box(
                    _last(node.path),
                    node.merge.value,
                    (),
                    node.output_shape,
                    None if step is None else step.cost,
                    css="node step",
                    path=node.path,
                )
                + "</div></details>"
            )
        case _:
            assert_never(node)
