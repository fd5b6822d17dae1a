"""``analyze``: a spec in, a :class:`Report` out. Pure: no I/O, no printing."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import assert_never

from convcost.build import build
from convcost.dag import Kept, branch_input
from convcost.errors import SpecError
from convcost.gcpause import paused_gc
from convcost.layers import Context, Global, Layer, Shape, Untracked, Window, elements
from convcost.layers.base import axis_names
from convcost.network import GroupKind, GroupNode, LayerNode, MergeKind, MergeNode, Network, Node
from convcost.peak import peak_activations
from convcost.receptive import UNTRACKED, Coverage, ReceptiveField, merge
from convcost.report import (
    DTYPE_BYTES,
    BlockReport,
    Cost,
    Diagnostic,
    LayerReport,
    Report,
    block_report,
    cost_of,
    layer_report,
)
from convcost.spec import Spec, Variant
from convcost.valueclasses import replace


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


def analyze_loaded(
    load: Callable[[], Spec], *, batch: int = 1, dtype: str = "float32"
) -> tuple[Report, ...]:
    """:func:`analyze_all` of the spec ``load`` returns, which is dropped (its located tree with
    it) once its networks are built, and each network once it is analysed: the peak memory of
    a million-layer spec is that of two of the tree, the network and the report, not all
    three (docs/benchmarks.md, *Scale*)."""
    spec = load()
    source = spec.source
    networks = [build(spec, variant) for variant in spec.variants]
    del spec
    reports = []
    while networks:
        network = networks.pop(0)
        reports.append(analyze_network(network, batch=batch, dtype=dtype, source=source))
        del network
    return tuple(reports)


def _dead_taps(window: Window) -> str:
    """A warning when kernel taps read only padding at every output position, else ``""``."""
    axes = window.axes
    if not any(axis.dead for axis in axes):
        return ""
    taps = math.prod(axis.taps for axis in axes)
    live = math.prod(axis.taps - axis.dead for axis in axes)
    listed = ", ".join(
        f"{axis.dead} of {axis.taps} on axis {name}"
        for name, axis in zip(axis_names(len(axes)), axes, strict=True)
        if axis.dead
    )
    spans = "×".join(str(axis.last[0] - axis.first[0] + 1) for axis in axes)
    full = "×".join(str((axis.taps - 1) * axis.step[0] + 1) for axis in axes)
    return (
        f"{taps - live} of {taps} kernel taps read only padding at every output position "
        f"({listed}): the receptive field counts the live ones (window {spans}, not {full})"
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
    with paused_gc():  # the walk makes no cycles (see convcost.gcpause)
        tally = _Tally(batch)
        field = ReceptiveField.start(len(network.input_shape) - 1)
        if network.reads:
            tally.kept = Kept(network, field)
        field = tally.sequence(network.nodes, field)
        peak = peak_activations(network)
        return Report(
            name=network.name,
            source=source,
            input_shape=network.input_shape,
            output_shape=network.output_shape,
            batch=batch,
            dtype=dtype,
            layers=tuple(tally.layers),
            blocks=tuple(tally.blocks),
            totals=tally.sums.cost(),
            receptive_field=field,
            warnings=tuple(tally.warnings),
            notes=placeholder_notes(tally.placeholders),
            peak_activation_elements=peak.elements * batch,
            peak_at=peak.path,
        )


class _Figures:
    """What a layer contributes, the same for every layer equal to it on the same input shape.

    A plain class, read-only by convention: a value class compiles its ``__init__`` past its
    fourth object, which costs more than a network's few dozen figures."""

    __slots__ = ("cost", "dropped", "kind", "placeholder", "window")

    def __init__(
        self,
        kind: str,
        cost: Cost,
        window: Window | Global | Context | Untracked | None,
        dropped: str,
        placeholder: str | None = None,
    ) -> None:
        self.kind = kind
        self.cost = cost
        self.window = window
        self.dropped = dropped
        """The floor-division and dead-tap warnings, or empty."""
        self.placeholder = placeholder
        """A placeholder of unknown cost (``custom`` with ``unknown``): its label."""


_UNKNOWN, _LOCAL = Coverage.UNKNOWN, Coverage.LOCAL

_KNOWN_LIMIT = 4096
"""(Layer, input shape) pairs remembered at a time: a generated stack repeats a few layers many
times, and their figures (and :class:`Cost` objects) are computed once and shared."""


class _Sums:
    """Running totals of every layer's cost so far; a block's cost is the change across it."""

    __slots__ = (
        "activation_elements",
        "biases",
        "macs",
        "ops",
        "read_elements",
        "weights",
        "written_elements",
    )

    def __init__(self) -> None:
        self.weights = self.biases = self.macs = self.ops = self.activation_elements = 0
        self.read_elements = self.written_elements = 0

    def add(self, cost: Cost) -> None:
        self.weights += cost.weights
        self.biases += cost.biases
        self.macs += cost.macs
        self.ops += cost.ops
        self.activation_elements += cost.activation_elements
        self.read_elements += cost.read_elements
        self.written_elements += cost.written_elements

    def cost(self) -> Cost:
        return Cost(
            weights=self.weights,
            biases=self.biases,
            macs=self.macs,
            ops=self.ops,
            activation_elements=self.activation_elements,
            read_elements=self.read_elements,
            written_elements=self.written_elements,
        )

    def mark(self) -> _Mark:
        """The totals so far, for :meth:`since` (a tuple: a block's start is never reported)."""
        return (
            self.weights,
            self.biases,
            self.macs,
            self.ops,
            self.activation_elements,
            self.read_elements,
            self.written_elements,
        )

    def since(self, start: _Mark) -> Cost:
        weights, biases, macs, ops, activation, read, written = start
        return cost_of(
            weights=self.weights - weights,
            biases=self.biases - biases,
            macs=self.macs - macs,
            ops=self.ops - ops,
            activation_elements=self.activation_elements - activation,
            read_elements=self.read_elements - read,
            written_elements=self.written_elements - written,
        )


_Mark = tuple[int, int, int, int, int, int, int]
"""The running totals at a block's start, in :class:`Cost`'s field order."""


class _Tally:
    """Visits the nodes in execution order, summing their costs into layer and block reports."""

    def __init__(self, batch: int) -> None:
        self.batch = batch
        self.layers: list[LayerReport] = []
        self.blocks: list[BlockReport] = []
        self.warnings: list[Diagnostic] = []
        self.placeholders: list[tuple[str, str]] = []
        """Each placeholder layer of unknown cost: its path and label."""
        self.sums = _Sums()
        self.known: dict[tuple[Layer, Shape], _Figures] = {}
        self.by_identity: dict[tuple[int, Shape], _Figures] = {}
        self.kept: Kept[ReceptiveField] | None = None
        """The fields of named tensors (a DAG's), from their producers to their readers."""
        self.last_through: tuple[object, object, ReceptiveField | None] = (None, None, None)
        """The last field, window and field after it (:meth:`layer`): a merge's branches that
        begin with the same layer share one field object, which the JSON writer encodes once."""

    def sequence(self, nodes: tuple[Node, ...], field: ReceptiveField) -> ReceptiveField:
        if self.kept is not None:
            return self.dag_sequence(nodes, field, self.kept)
        layer = self.layer
        for node in nodes:
            field = layer(node, field) if type(node) is LayerNode else self.node(node, field)
        return field

    def dag_sequence(
        self, nodes: tuple[Node, ...], field: ReceptiveField, kept: Kept[ReceptiveField]
    ) -> ReceptiveField:
        """:meth:`sequence` where a node may read a named tensor: each path through the DAG
        carries its own field, and a merge unites them (the largest window over the paths)."""
        for node in nodes:
            if node.source is not None:
                field, _ = kept.take(node.source)
            field = self.node(node, field)
            kept.keep(node.path, field)
        return field

    def node(self, node: Node, field: ReceptiveField) -> ReceptiveField:
        match node:
            case LayerNode():
                return self.layer(node, field)
            case GroupNode():
                start = self.sums.mark()
                warned = len(self.warnings)
                field = self.sequence(node.children, field)
                self.block(node, node.label, start, field)
                if node.group is GroupKind.BLOCK and len(self.warnings) > warned:
                    # the outermost use wins: it is the line that passed the values
                    self.warnings[warned:] = [
                        replace(warning, used_at=node.location, block=node.label)
                        for warning in self.warnings[warned:]
                    ]
                return field
            case MergeNode():
                return self.merge(node, field)
            case _:
                assert_never(node)

    def figures(self, layer: Layer, shape: Shape, out: Shape) -> _Figures:
        """The figures of ``layer`` on ``shape``: found by identity (a builder that shares one
        object between equal layers), else by equality, else computed."""
        figures = self.by_identity.get((id(layer), shape))  # the network keeps layers alive
        if figures is not None:
            return figures
        key = (layer, shape)
        figures = self.known.get(key)
        if figures is None:
            figures = self.compute(layer, shape, out)
            if len(self.known) >= _KNOWN_LIMIT:
                self.known.clear()
                self.by_identity.clear()
            self.known[key] = figures
        if len(self.by_identity) >= _KNOWN_LIMIT:
            self.by_identity.clear()
        self.by_identity[id(layer), shape] = figures
        return figures

    def compute(self, layer: Layer, shape: Shape, out: Shape) -> _Figures:
        batch = self.batch
        weights, biases = layer.weights(shape), layer.biases(shape)
        written = elements(out) * batch
        # memory traffic (docs/cost-model.md): inputs and parameters read once, the output
        # written once; a view moves nothing
        moved = not layer.view
        cost = cost_of(
            weights=weights,
            biases=biases,
            macs=layer.macs(shape, out) * batch,
            ops=layer.ops(shape, out) * batch,
            activation_elements=written,
            read_elements=elements(shape) * batch + weights + biases if moved else 0,
            written_elements=written if moved else 0,
        )
        drops = layer.dropped(shape)
        dropped = ""
        if drops:
            listed = ", ".join(f"{drop.pixels} on axis {drop.axis}" for drop in drops)
            dropped = (
                f"floor division leaves input pixels unread at the end ({listed}): "
                "the stride does not divide (size + padding − kernel span); change padding or input size"
            )
        window = layer.window(shape)
        if type(window) is Window:
            dead = _dead_taps(window)
            if dead:
                dropped = f"{dropped}; {dead}" if dropped else dead
        return _Figures(layer.kind, cost, window, dropped, layer.placeholder())

    def layer(self, node: LayerNode, field: ReceptiveField) -> ReceptiveField:
        shape = node.input_shape
        figures = self.figures(node.layer, shape, node.output_shape)
        window = figures.window
        last_field, last_window, after = self.last_through
        if after is None or last_field is not field or last_window is not window:
            after = field.through(window)
            self.last_through = (field, window, after)
        before, field = field, after
        if field.coverage is _UNKNOWN and before.coverage is _LOCAL:
            self.warnings.append(
                Diagnostic(path=node.path, message=UNTRACKED, location=node.location)
            )
        if figures.dropped:
            self.warnings.append(
                Diagnostic(path=node.path, message=figures.dropped, location=node.location)
            )
        if figures.placeholder is not None:
            self.placeholders.append((node.path, figures.placeholder))
        self.sums.add(figures.cost)
        self.layers.append(
            layer_report(
                node.path,
                figures.kind,
                shape,
                node.output_shape,
                figures.cost,
                field,
                node.location,
            )
        )
        return field

    def merge(self, node: MergeNode, field: ReceptiveField) -> ReceptiveField:
        start = self.sums.mark()
        fields = [
            self.sequence(branch.nodes, branch_input(self.kept, branch, field))
            for branch in node.branches
        ]
        merged, problem = merge(fields)
        if problem:
            self.warnings.append(
                Diagnostic(path=node.path, message=problem, location=node.location)
            )
        out_elements = elements(node.output_shape) * self.batch
        joins = 0 if node.merge is MergeKind.CONCAT else len(node.branches) - 1
        # a merge reads every branch's output once (a broadcast operand at its own size) and
        # writes the merged output: concat copies, as torch.cat and numpy.concatenate do
        read = sum(elements(branch.output_shape) for branch in node.branches) * self.batch
        cost = cost_of(
            weights=0,
            biases=0,
            macs=0,
            ops=joins * out_elements,
            activation_elements=out_elements,
            read_elements=read,
            written_elements=out_elements,
        )
        self.sums.add(cost)
        self.layers.append(
            layer_report(
                node.path,
                node.merge.value,
                node.input_shape,
                node.output_shape,
                cost,
                merged,
                node.location,
            )
        )
        self.block(node, node.merge.value, start, merged)
        return merged

    def block(
        self, node: GroupNode | MergeNode, kind: str, start: _Mark, field: ReceptiveField
    ) -> None:
        self.blocks.append(
            block_report(
                node.path,
                kind,
                node.input_shape,
                node.output_shape,
                self.sums.since(start),
                field,
                node.location,
            )
        )


def placeholder_notes(placeholders: list[tuple[str, str]]) -> tuple[str, ...]:
    """The note every report carries on placeholder layers of unknown cost, or none:
    ``2 placeholder layers of unknown cost (Sin ×2; first: layer sin): their MACs and ops are
    not counted in the totals``."""
    if not placeholders:
        return ()
    counts: dict[str, int] = {}
    for _, label in placeholders:
        counts[label] = counts.get(label, 0) + 1
    listed = ", ".join(f"{label} ×{count}" for label, count in counts.items())
    layers, their = ("layer", "its") if len(placeholders) == 1 else ("layers", "their")
    return (
        f"{len(placeholders)} placeholder {layers} of unknown cost ({listed}; first: layer "
        f"{placeholders[0][0]}): {their} MACs and ops are not counted in the totals",
    )
