"""``convcost export --to onnx``: a spec as an ONNX model, written with ``onnx.helper``.

No torch: the graph is written node by node from convcost's built network
(:mod:`convcost.export.onnx_kinds` holds each kind's nodes), at opset
:data:`~convcost.export.onnx_kinds.OPSET`. Names come from the spec: the graph is the spec's
name (and variant), each layer's output tensor and node its path, each parameter
``<path>.weight`` / ``<path>.bias``. The weights are the ones ``--execute`` runs on:
:func:`convcost.executor.prepare` draws them with the same seed (He-uniform; zero biases; a fresh
batchnorm), so NumPy and ONNX Runtime compute on identical values; ``zeros`` writes every
parameter as 0 instead.

The batch axis is symbolic (``batch``); every other size is the spec's.
``onnx`` is the optional ``convcost[onnx]`` extra, imported on first use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, assert_never

from convcost.errors import SpecError
from convcost.export.onnx_graph import Graph
from convcost.export.onnx_kinds import MERGES, OPSET, UNSUPPORTED, WRITERS, Unexportable
from convcost.network import GroupNode, LayerNode, MergeKind, MergeNode, Network, Node
from convcost.spec import Spec
from convcost.valueclasses import dataclass

PRODUCER = "convcost"
INPUT = "input"
"""The graph input's name."""

Outputs = Literal["final", "layers"]
"""``final``: the network's output alone; ``layers``: every layer's and merge's output too
(what ``--execute --backend onnxruntime`` checks the shapes of)."""


def load_onnx() -> Any:
    """The ``onnx`` module, or a :class:`SpecError` (exit 2) naming the extra."""
    try:
        import onnx  # noqa: PLC0415  (optional: imported on first use)
        import onnx.numpy_helper  # noqa: PLC0415
    except ImportError:
        raise SpecError(
            "exporting to ONNX needs the onnx package: pip install 'convcost[onnx]'"
        ) from None
    return onnx


def onnx_bytes(
    spec: Spec, *, variant: str | None = None, seed: int = 0, zeros: bool = False
) -> bytes:
    """The serialized ONNX model (a ``ModelProto``) of one variant of ``spec`` (the first by
    default), with ``--execute``'s weights for ``seed``, or all zeros."""
    model = onnx_model(spec, variant=variant, seed=seed, zeros=zeros)
    data: bytes = model.SerializeToString()
    return data


def onnx_model(
    spec: Spec,
    *,
    variant: str | None = None,
    seed: int = 0,
    zeros: bool = False,
    outputs: Outputs = "final",
) -> Any:
    """The ``onnx.ModelProto`` that :func:`onnx_bytes` serializes."""
    from convcost.build import build  # noqa: PLC0415
    from convcost.engine import _variant  # noqa: PLC0415  (the one variant lookup)

    onnx = load_onnx()
    chosen = _variant(spec, variant)
    network = build(spec, chosen)
    name = spec.name if not spec.has_variants else f"{spec.name}.{chosen.name}"
    arrays = parameter_arrays(network, seed=seed, zeros=zeros)
    return network_model(onnx, network, arrays, name=name, outputs=outputs)


def parameter_arrays(
    network: Network, *, seed: int = 0, zeros: bool = False, dtype: str = "float32"
) -> dict[str, tuple[Any, ...]]:
    """Each leaf layer's parameter arrays as ``--execute`` allocates them for ``seed`` (the
    kernels' layout), by path; every element 0 with ``zeros``."""
    from convcost.executor import prepare  # noqa: PLC0415  (numpy: the executor's)

    prepared = prepare(network, dtype=dtype, seed=seed, zeros=zeros)
    return {path: step.arrays for path, step in prepared.steps.items()}


def network_model(
    onnx: Any,
    network: Network,
    arrays: Mapping[str, tuple[Any, ...]],
    *,
    name: str,
    outputs: Outputs = "final",
) -> Any:
    """The ``ModelProto`` of a built network with these parameter arrays (by layer path).

    Raises :class:`SpecError` naming the layer (file:line:col) for a kind or a setting ONNX
    cannot express (:data:`~convcost.export.onnx_kinds.UNSUPPORTED`)."""
    graph = Graph(onnx)
    written: list[tuple[str, tuple[int, ...]]] = []
    named = _Named(frozenset(network.reads), {"": INPUT})
    final = _sequence(graph, network.nodes, INPUT, arrays, written, named)
    helper = onnx.helper
    float_type = onnx.TensorProto.FLOAT

    def value(tensor: str, shape: tuple[int, ...]) -> Any:
        return helper.make_tensor_value_info(tensor, float_type, ["batch", *shape])

    if final == INPUT:  # an empty network, or one of identities only: still a graph
        final = graph.op("Identity", [INPUT], "output", name="output")
    results = [value(final, network.output_shape)]
    if outputs == "layers":
        results += [value(tensor, shape) for tensor, shape in written if tensor != final]
    proto = graph.proto
    proto.name = name
    proto.input.append(value(INPUT, network.input_shape))
    proto.output.extend(results)
    model = graph.model
    model.ir_version = 8  # opset 17's IR version: readable by onnxruntime 1.12 and later
    model.opset_import.append(helper.make_opsetid("", OPSET))
    model.producer_name = PRODUCER
    model.doc_string = f"{name}: exported by convcost from its spec"
    return model


@dataclass(frozen=True, slots=True)
class _Named:
    """The ONNX values of the named tensors a DAG reads (``from:``, merge inputs), by key
    (:mod:`convcost.references`): a reader's input is its producer's output value."""

    read: frozenset[str]
    """The keys some node reads by name (:attr:`convcost.network.Network.reads`)."""
    values: dict[str, str]

    def keep(self, key: str, value: str) -> None:
        if key in self.read:
            self.values[key] = value


def _sequence(
    g: Graph,
    nodes: tuple[Node, ...],
    x: str,
    arrays: Mapping[str, tuple[Any, ...]],
    written: list[tuple[str, tuple[int, ...]]],
    named: _Named,
) -> str:
    for node in nodes:
        if node.source is not None:
            x = named.values[node.source]
        x = _node(g, node, x, arrays, written, named)
        named.keep(node.path, x)
    return x


def _node(
    g: Graph,
    node: Node,
    x: str,
    arrays: Mapping[str, tuple[Any, ...]],
    written: list[tuple[str, tuple[int, ...]]],
    named: _Named,
) -> str:
    match node:
        case LayerNode():
            kind = node.layer.kind
            writer = WRITERS.get(kind)
            if writer is None:
                reason = UNSUPPORTED.get(kind, "no ONNX writer for this kind")
                raise SpecError(
                    f"cannot export {kind} to ONNX: {reason}",
                    location=node.location,
                    layer=node.path,
                )
            try:
                y = writer(g, node, x, arrays.get(node.path, ()))
            except Unexportable as error:
                raise SpecError(
                    f"cannot export to ONNX: {error}", location=node.location, layer=node.path
                ) from None
            written.append((y, node.output_shape))
            return y
        case GroupNode():
            return _sequence(g, node.children, x, arrays, written, named)
        case MergeNode():
            branches = [
                named.values[b.source]
                if b.source is not None
                else _sequence(g, b.nodes, x, arrays, written, named)
                for b in node.branches
            ]
            y = _merge(g, node, branches)
            written.append((y, node.output_shape))
            return y
        case _:
            assert_never(node)


def _merge(g: Graph, node: MergeNode, branches: list[str]) -> str:
    p = node.path
    assert node.merge.value in MERGES
    match node.merge:
        case MergeKind.CONCAT:
            return g.op("Concat", branches, p, name=p, axis=1)
        case MergeKind.ADD | MergeKind.MULTIPLY:
            op = "Add" if node.merge is MergeKind.ADD else "Mul"
            if len(branches) == 1:
                return g.op("Identity", branches, p, name=p)
            y = branches[0]
            for index, other in enumerate(branches[1:], start=1):
                last = index == len(branches) - 1
                out = p if last else f"{p}/{index}"
                y = g.op(op, [y, other], out, name=out)
            return y
        case _:
            assert_never(node.merge)
