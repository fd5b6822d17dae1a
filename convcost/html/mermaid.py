"""A mermaid flowchart of a network's top level, for ``analyze --format markdown --mermaid``
(GitHub draws a ```` ```mermaid ```` block in issues, pull requests and markdown files).

One box per top-level layer or block (blocks folded, with their totals), a merge's branches
fanned out and joined at the merge step. At most :data:`MAX_NODES` top-level boxes; the rest are
counted in one last box. Labels are written with mermaid's entity codes for every character
outside a small safe set, so no name can end the label, the block or the code fence.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import assert_never

from convcost.html.markup import short
from convcost.html.page import Analysis, analyses
from convcost.network import GroupNode, LayerNode, MergeNode, Node
from convcost.render import numbers
from convcost.render.escape import markdown_text, printable
from convcost.report import Cost
from convcost.spec import Spec

MAX_NODES = 100

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,_-:×·/+=%")


def label_text(value: str) -> str:
    """``value`` inside a quoted mermaid label: every character outside a safe set written as
    ``#<code>;`` (mermaid's entity form), control characters first shown as ``\\x..``."""
    return "".join(c if c in _SAFE else f"#{ord(c)};" for c in printable(value))


def _label(*lines: str) -> str:
    return '"' + "<br/>".join(label_text(line) for line in lines) + '"'


def _figures(shape: tuple[int, ...], cost: Cost | None) -> str:
    macs = "" if cost is None else f" · {numbers.count(cost.macs)} MACs"
    return f"{numbers.shape(shape)}{macs}"


def flowchart(analysis: Analysis) -> str:
    """The ```` ```mermaid ```` block (with its fences) of ``analysis``'s top level."""
    report, network = analysis.report, analysis.network
    layers = {layer.path: layer.cost for layer in report.layers}
    blocks = {block.path: block.cost for block in report.blocks}
    lines = [
        "```mermaid",
        "flowchart TD",
        f"  n0[{_label('input', numbers.shape(report.input_shape))}]",
    ]
    previous = ["n0"]
    nodes = network.nodes
    for index, node in enumerate(nodes[:MAX_NODES], start=1):
        name = f"n{index}"
        previous = _node(lines, node, name, previous, layers, blocks)
    if len(nodes) > MAX_NODES:
        more = len(nodes) - MAX_NODES
        lines.append(f"  more[{_label(f'… {more} more top-level layers and blocks')}]")
        lines.extend(f"  {p} --> more" for p in previous)
    lines.append("```")
    return "\n".join(lines) + "\n"


def flowcharts(specs: Sequence[Spec], *, batch: int = 1, dtype: str = "float32") -> str:
    """A heading and a flowchart per network of ``specs`` (each variant), for markdown."""
    parts = []
    for spec in specs:
        for analysis in analyses(spec, batch=batch, dtype=dtype):
            parts.append(f"\n#### {markdown_text(analysis.report.name)}: structure\n\n")
            parts.append(flowchart(analysis))
    return "".join(parts)


def _node(
    lines: list[str],
    node: Node,
    name: str,
    previous: list[str],
    layers: dict[str, Cost],
    blocks: dict[str, Cost],
) -> list[str]:
    """Append ``node``'s boxes and edges; return the boxes the next node connects from."""
    path = short(node.path, 60)
    match node:
        case LayerNode():
            shown = _label(
                f"{path} · {node.layer.kind}", _figures(node.output_shape, layers.get(node.path))
            )
            lines.append(f"  {name}[{shown}]")
        case GroupNode():
            shown = _label(
                f"{path} · {node.label}", _figures(node.output_shape, blocks.get(node.path))
            )
            lines.append(f"  {name}[[{shown}]]")
        case MergeNode():
            ends = []
            for b, branch in enumerate(node.branches):
                if not branch.nodes:
                    ends.extend(previous)
                    continue
                branch_name = f"{name}b{b}"
                cost = sum(
                    (layers.get(layer_path, Cost()) for layer_path in _leaves(branch.nodes)), Cost()
                )
                shown = _label(
                    f"{short(branch.name, 40)} · {_count(branch.nodes)} layers",
                    _figures(branch.output_shape, cost),
                )
                lines.append(f"  {branch_name}[{shown}]")
                lines.extend(f"  {p} --> {branch_name}" for p in previous)
                ends.append(branch_name)
            shown = _label(
                f"{path} · {node.merge.value}", _figures(node.output_shape, blocks.get(node.path))
            )
            lines.append(f"  {name}{{{{{shown}}}}}")
            lines.extend(f"  {end} --> {name}" for end in dict.fromkeys(ends))
            return [name]
        case _:
            assert_never(node)
    lines.extend(f"  {p} --> {name}" for p in previous)
    return [name]


def _leaves(nodes: tuple[Node, ...]) -> list[str]:
    """The paths of the report rows under ``nodes`` (layers and merge steps)."""
    paths: list[str] = []
    for node in nodes:
        match node:
            case LayerNode():
                paths.append(node.path)
            case GroupNode():
                paths.extend(_leaves(node.children))
            case MergeNode():
                for branch in node.branches:
                    paths.extend(_leaves(branch.nodes))
                paths.append(node.path)
            case _:
                assert_never(node)
    return paths


def _count(nodes: tuple[Node, ...]) -> int:
    return len(_leaves(nodes))
