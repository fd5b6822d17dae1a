"""``explain``: every layer's figures as formulas with its own numbers substituted.

Pure: a spec in, typed :class:`Step` values out (rendering is in ``render/explain.py``).
Each step's ``value`` is computed here from the layer's fields by the formula it shows;
``tests/test_explain.py`` pins every value against the engine's :class:`LayerReport`, so the
worked example and the report cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import assert_never

from convcost.build import build
from convcost.dag import Kept, branch_input
from convcost.engine import analyze_network
from convcost.errors import ConvcostError
from convcost.explain.blocks import merge_steps
from convcost.explain.steps import LayerExplanation, Quantity, Step, number, step_text
from convcost.explain.traffic import traffic_steps
from convcost.layers import Shape
from convcost.layers.separable import separable_summary
from convcost.names import did_you_mean
from convcost.network import Branch, GroupKind, GroupNode, LayerNode, MergeNode, Node
from convcost.receptive import ReceptiveField, merge
from convcost.report import LayerReport, Report
from convcost.spec import Spec, Variant
from convcost.valueclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Explanation:
    name: str
    input_shape: Shape
    layers: tuple[LayerExplanation, ...]


def explain(
    spec: Spec, *, variant: str | None = None, layer: str | None = None
) -> tuple[Explanation, ...]:
    """One explanation per variant (only ``variant`` when given), with every layer, or only
    the layer ``layer`` (a leaf path, or a block's path for all the layers inside it).

    Raises :class:`ConvcostError` for an unknown variant or layer, with a did-you-mean.
    """
    variants = _variants(spec, variant)
    explanations = [_explain_variant(spec, chosen) for chosen in variants]
    if layer is None:
        return tuple(explanations)
    picked = [
        Explanation(
            name=e.name,
            input_shape=e.input_shape,
            layers=tuple(item for item in e.layers if _within(item.path, layer)),
        )
        for e in explanations
    ]
    picked = [e for e in picked if e.layers]
    if not picked:
        paths = sorted(
            {p for e in explanations for item in e.layers for p in _ancestors(item.path)}
        )
        raise ConvcostError(
            f"{spec.source}: no layer {layer!r}{did_you_mean(layer, paths)}; "
            f"layers: {', '.join(paths)}"
        )
    return tuple(picked)


def _within(path: str, layer: str) -> bool:
    return path == layer or path.startswith(layer + ".")


def _ancestors(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts) + 1)]


def _variants(spec: Spec, name: str | None) -> Sequence[Variant]:
    if name is None:
        return spec.variants
    for candidate in spec.variants:
        if candidate.name == name:
            return (candidate,)
    names = [v.name for v in spec.variants]
    raise ConvcostError(
        f"{spec.source}: no variant named {name!r}{did_you_mean(name, names)}; variants: {', '.join(names)}"
    )


def _explain_variant(spec: Spec, variant: Variant) -> Explanation:
    network = build(spec, variant)
    report = analyze_network(network, source=spec.source)
    explainer = _Explainer(report)
    field = ReceptiveField.start(len(network.input_shape) - 1)
    if network.reads:
        explainer.kept = Kept(network, field)
    explainer.sequence(network.nodes, field)
    assert explainer.index == len(report.layers), "explain walked the network differently"
    return Explanation(
        name=network.name, input_shape=network.input_shape, layers=tuple(explainer.items)
    )


class _Explainer:
    """Visits the nodes in the engine's order, carrying the receptive field."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.index = 0
        self.items: list[LayerExplanation] = []
        self.kept: Kept[ReceptiveField] | None = None
        """The fields of named tensors (a DAG's), as the engine keeps them."""

    def next_report(self) -> LayerReport:
        layer_report = self.report.layers[self.index]
        self.index += 1
        return layer_report

    def sequence(self, nodes: tuple[Node, ...], field: ReceptiveField) -> ReceptiveField:
        kept = self.kept
        for node in nodes:
            if kept is not None and node.source is not None:
                field, _ = kept.take(node.source)
            field = self.node(node, field)
            if kept is not None:
                kept.keep(node.path, field)
        return field

    def node(self, node: Node, field: ReceptiveField) -> ReceptiveField:
        match node:
            case LayerNode():
                steps, field_after = node.layer.steps(node.input_shape, node.output_shape, field)
                report = self.next_report()
                self.items.append(
                    LayerExplanation(
                        path=node.path,
                        kind=node.layer.kind,
                        settings=_reads(node.source, node.layer.settings()),
                        input_shape=node.input_shape,
                        output_shape=node.output_shape,
                        steps=(*steps, *traffic_steps(report)),
                        report=report,
                    )
                )
                return field_after
            case GroupNode():
                after = self.sequence(node.children, field)
                if node.group is GroupKind.SEPARABLE:
                    self.items.append(separable_summary(node))
                return after
            case MergeNode():
                fields = [
                    self.sequence(branch.nodes, branch_input(self.kept, branch, field))
                    for branch in node.branches
                ]
                merged, _ = merge(fields)
                report = self.next_report()
                branches = tuple(branch.output_shape for branch in node.branches)
                self.items.append(
                    LayerExplanation(
                        path=node.path,
                        kind=node.merge.value,
                        settings=_reads(
                            node.source, "branches " + ", ".join(map(_branch, node.branches))
                        ),
                        input_shape=node.input_shape,
                        output_shape=node.output_shape,
                        steps=(
                            *merge_steps(node, fields, merged),
                            *traffic_steps(report, branches=branches),
                        ),
                        report=report,
                    )
                )
                return merged
            case _:
                assert_never(node)


def _reads(source: str | None, settings: str) -> str:
    """A node's settings, after the named tensor it reads (``from cat1.down.enc2``)."""
    if source is None:
        return settings
    reads = f"from {source or 'input'}"
    return f"{reads}; {settings}" if settings else reads


def _branch(branch: Branch) -> str:
    """A branch as explain names it: a named input shows the tensor it is (``up = up3``)."""
    if branch.source is None or branch.source == branch.name:
        return branch.name
    return f"{branch.name} = {branch.source or 'input'}"


__all__ = [
    "Explanation",
    "LayerExplanation",
    "Quantity",
    "Step",
    "explain",
    "number",
    "step_text",
]
