"""``analyze``: a spec in, a :class:`Report` out. Pure: no I/O, no printing."""

from __future__ import annotations

from typing import assert_never

from convcost.build import build
from convcost.errors import SpecError
from convcost.layers import Shape, elements
from convcost.network import GroupNode, LayerNode, MergeKind, MergeNode, Network, Node
from convcost.peak import peak_activations
from convcost.receptive import ReceptiveField, merge
from convcost.report import DTYPE_BYTES, BlockReport, Cost, Diagnostic, LayerReport, Report, total
from convcost.spec import Spec, Variant


def analyze(
    spec: Spec,
    *,
    variant: str | None = None,
    batch: int = 1,
    dtype: str = "float32",
    input_shape: Shape | None = None,
) -> Report:
    """Analyze one network of ``spec``: the only one, or the variant named ``variant``
    (the first when ``None``). ``input_shape`` overrides the spec's input."""
    chosen = _variant(spec, variant)
    network = build(spec, chosen, input_shape=input_shape)
    return analyze_network(network, batch=batch, dtype=dtype, source=spec.source)


def analyze_all(
    spec: Spec, *, batch: int = 1, dtype: str = "float32", input_shape: Shape | None = None
) -> tuple[Report, ...]:
    """One report per variant (a single one for a plain ``layers:`` spec)."""
    return tuple(
        analyze_network(
            build(spec, v, input_shape=input_shape), batch=batch, dtype=dtype, source=spec.source
        )
        for v in spec.variants
    )


def _variant(spec: Spec, name: str | None) -> Variant:
    if name is None:
        return spec.variants[0]
    for candidate in spec.variants:
        if candidate.name == name:
            return candidate
    known = ", ".join(v.name for v in spec.variants)
    raise SpecError(f"{spec.source}: no variant named {name!r}; variants: {known}")


def analyze_network(
    network: Network, *, batch: int = 1, dtype: str = "float32", source: str = ""
) -> Report:
    if batch < 1:
        raise SpecError(f"batch must be >= 1, got {batch}")
    if dtype not in DTYPE_BYTES:
        raise SpecError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPE_BYTES)}")
    walker = _Walker(batch)
    field = walker.sequence(network.nodes, ReceptiveField.start(len(network.input_shape) - 1))
    peak = peak_activations(network)
    return Report(
        name=network.name,
        source=source,
        input_shape=network.input_shape,
        output_shape=network.output_shape,
        batch=batch,
        dtype=dtype,
        layers=tuple(walker.layers),
        blocks=tuple(walker.blocks),
        totals=total(walker.costs()),
        receptive_field=field,
        warnings=tuple(walker.warnings),
        peak_activation_elements=peak.elements * batch,
        peak_at=peak.path,
    )


class _Walker:
    def __init__(self, batch: int) -> None:
        self.batch = batch
        self.layers: list[LayerReport] = []
        self.blocks: list[BlockReport] = []
        self.warnings: list[Diagnostic] = []

    def costs(self, start: int = 0) -> list[Cost]:
        return [layer.cost for layer in self.layers[start:]]

    def sequence(self, nodes: tuple[Node, ...], field: ReceptiveField) -> ReceptiveField:
        for node in nodes:
            field = self.node(node, field)
        return field

    def node(self, node: Node, field: ReceptiveField) -> ReceptiveField:
        match node:
            case LayerNode():
                return self.layer(node, field)
            case GroupNode():
                start = len(self.layers)
                field = self.sequence(node.children, field)
                self.block(node, node.label, start, field)
                return field
            case MergeNode():
                return self.merge(node, field)
            case _:
                assert_never(node)

    def layer(self, node: LayerNode, field: ReceptiveField) -> ReceptiveField:
        layer, shape, out = node.layer, node.input_shape, node.output_shape
        cost = Cost(
            weights=layer.weights(shape),
            biases=layer.biases(shape),
            macs=layer.macs(shape, out) * self.batch,
            ops=layer.ops(shape, out) * self.batch,
            activation_elements=elements(out) * self.batch,
        )
        field = field.through(layer.window(shape))
        drops = layer.dropped(shape)
        if drops:
            listed = ", ".join(f"{drop.pixels} on axis {drop.axis}" for drop in drops)
            self.warnings.append(
                Diagnostic(
                    path=node.path,
                    message=f"floor division leaves input pixels unread at the end ({listed}): "
                    "the stride does not divide (size + padding − kernel span); change padding or input size",
                    location=node.location,
                )
            )
        self.layers.append(
            LayerReport(
                path=node.path,
                kind=layer.kind,
                input_shape=shape,
                output_shape=out,
                cost=cost,
                receptive_field=field,
                location=node.location,
            )
        )
        return field

    def merge(self, node: MergeNode, field: ReceptiveField) -> ReceptiveField:
        start = len(self.layers)
        fields = [self.sequence(branch.nodes, field) for branch in node.branches]
        merged, problem = merge(fields)
        if problem:
            self.warnings.append(
                Diagnostic(path=node.path, message=problem, location=node.location)
            )
        out_elements = elements(node.output_shape) * self.batch
        joins = 0 if node.merge is MergeKind.CONCAT else len(node.branches) - 1
        self.layers.append(
            LayerReport(
                path=node.path,
                kind=node.merge.value,
                input_shape=node.input_shape,
                output_shape=node.output_shape,
                cost=Cost(ops=joins * out_elements, activation_elements=out_elements),
                receptive_field=merged,
                location=node.location,
            )
        )
        self.block(node, node.merge.value, start, merged)
        return merged

    def block(
        self, node: GroupNode | MergeNode, kind: str, start: int, field: ReceptiveField
    ) -> None:
        self.blocks.append(
            BlockReport(
                path=node.path,
                kind=kind,
                input_shape=node.input_shape,
                output_shape=node.output_shape,
                cost=total(self.costs(start)),
                receptive_field=field,
                location=node.location,
            )
        )
