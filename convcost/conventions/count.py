"""Apply a convention to a built network: each layer's count, the rule that produced it, and
the total the tool would print. The :class:`~convcost.report.Report` is read, never changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import assert_never

from convcost.build import build
from convcost.conventions.rules import (
    CHANNELS_LAST_RUN,
    FAMILIES,
    Convention,
    Part,
    Rule,
    Site,
    Unsupported,
    starts_channels_last,
)
from convcost.engine import analyze_network
from convcost.layers import Shape
from convcost.network import GroupNode, LayerNode, MergeNode, Network, Node
from convcost.report import LayerReport, Report
from convcost.spec import Spec
from convcost.valueclasses import dataclass


@dataclass(frozen=True, slots=True)
class LayerCount:
    """One layer under a convention."""

    path: str
    kind: str
    macs: int
    """convcost's MACs (exact), for comparison."""
    value: int | None
    """The tool's count, or ``None`` where the convention does not reproduce the kind."""
    rule: str
    """The rule's text (or why the kind is not reproduced)."""
    parts: tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class ConventionReport:
    """A report counted under one convention."""

    convention: Convention
    report: Report
    layers: tuple[LayerCount, ...]

    @property
    def total(self) -> int:
        """The tool's total over the layers it counts."""
        return sum(layer.value for layer in self.layers if layer.value is not None)

    @property
    def unsupported(self) -> tuple[LayerCount, ...]:
        return tuple(layer for layer in self.layers if layer.value is None)

    def families(self) -> dict[str, int]:
        """The total split by rule family (:data:`~convcost.conventions.rules.FAMILIES`)."""
        sums = dict.fromkeys(FAMILIES, 0)
        for layer in self.layers:
            for part in layer.parts:
                sums[part.family] += part.value
        return sums


def _sites(
    nodes: tuple[Node, ...], following: str, batch: int, reports: dict[str, LayerReport]
) -> Iterator[Site]:
    """Each layer and merge step in execution order (the engine's order)."""
    channels_last = False
    for index, node in enumerate(nodes):
        after = (_first_kind(nodes[index + 1]) if index + 1 < len(nodes) else "") or following
        match node:
            case LayerNode():
                layer = node.layer
                kind = layer.kind
                if starts_channels_last(
                    kind, getattr(layer, "over", None), len(node.input_shape), after
                ):
                    channels_last = True
                elif kind not in CHANNELS_LAST_RUN:
                    channels_last = False
                yield _site(node.path, after, batch, reports, node, channels_last)
                continue
            case GroupNode():
                yield from _sites(node.children, after, batch, reports)
            case MergeNode():
                for branch in node.branches:
                    yield from _sites(branch.nodes, node.merge.value, batch, reports)
                yield _site(node.path, after, batch, reports, None)
            case _:
                assert_never(node)
        channels_last = False


def _first_kind(node: Node) -> str:
    """The kind of the first layer ``node`` runs (a merge runs its branches' first)."""
    match node:
        case LayerNode():
            return node.layer.kind
        case GroupNode():
            return _first_kind(node.children[0]) if node.children else ""
        case MergeNode():
            return node.merge.value
        case _:
            assert_never(node)


def _site(
    path: str,
    following: str,
    batch: int,
    reports: dict[str, LayerReport],
    node: LayerNode | None,
    channels_last: bool = False,
) -> Site:
    report = reports[path]
    return Site(
        path=path,
        kind=report.kind,
        layer=node.layer if node is not None else None,
        input_shape=report.input_shape,
        output_shape=report.output_shape,
        following=following,
        channels_last=channels_last,
        batch=batch,
        macs=report.cost.macs,
        weights=report.cost.weights,
        biases=report.cost.biases,
    )


def count(network: Network, report: Report, convention: Convention) -> ConventionReport:
    """``report`` (the analysis of ``network``) counted under ``convention``."""
    reports = {layer.path: layer for layer in report.layers}
    counted: list[LayerCount] = []
    for site in _sites(network.nodes, "", report.batch, reports):
        rule = convention.rules[site.kind]
        if isinstance(rule, Unsupported):
            counted.append(LayerCount(site.path, site.kind, site.macs, None, rule.reason, ()))
            continue
        assert isinstance(rule, Rule)
        found = rule.count(site)
        value = sum(part.value for part in found)
        counted.append(LayerCount(site.path, site.kind, site.macs, value, rule.text, found))
    return ConventionReport(convention=convention, report=report, layers=tuple(counted))


def count_spec(
    spec: Spec,
    convention: Convention,
    *,
    variant: str | None = None,
    batch: int = 1,
    dtype: str = "float32",
    input_shape: Shape | None = None,
) -> ConventionReport:
    """Build and analyze one variant of ``spec`` and count it under ``convention``."""
    from convcost.engine import _variant  # noqa: PLC0415

    network = build(spec, _variant(spec, variant), input_shape=input_shape)
    report = analyze_network(network, batch=batch, dtype=dtype, source=spec.source)
    return count(network, report, convention)


def budget_report(network: Network, report: Report, convention: Convention) -> Report:
    """``report`` with its total MACs replaced by the convention's figure, for ``check
    --convention``: a MACs convention's total as is, a FLOPs convention's (torch, calflops)
    halved and rounded up; FLOPs are then 2 × that. Nothing else changes."""
    from convcost.valueclasses import replace  # noqa: PLC0415

    total = count(network, report, convention).total
    macs = total if convention.unit == "MACs" else -(-total // 2)
    return replace(report, totals=replace(report.totals, macs=macs))
