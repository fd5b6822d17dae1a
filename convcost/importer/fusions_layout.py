"""Patterns that move axes: a Transpose into a flatten, position-wise layers run channels last
between two Transposes (ConvNeXt), and a Reshape·Gather that puts every element back in place.
"""

from __future__ import annotations

import math

from convcost.importer.fusion_match import Fusion, index_of, only_reader, other_input, perm
from convcost.importer.onnx_proto import NodeProto
from convcost.importer.ops_graph import MAX_CONSTANT_ELEMENTS, attributes
from convcost.importer.ops_norm import layer_norm_last
from convcost.importer.ops_result import Context, Layer, Out


def gather_back(ctx: Context, first: NodeProto) -> Fusion | None:
    """A Reshape to one axis, then a Gather (axis 0) of its elements in order, by constant
    indices shaped as the Reshape's input: the same tensor (how the dynamo exporter writes
    an ``as_strided`` view, after ConvNeXt's global average pool) → nothing."""
    source = ctx.source
    shape = source.shapes.get(str(first.input[0]))
    flat = source.shapes.get(str(first.output[0]))
    if shape is None or flat is None or flat != (math.prod(shape),):
        return None
    gather = only_reader(source, str(first.output[0]), "Gather")
    if gather is None or len(gather.input) != 2 or attributes(gather).get("axis", 0) != 0:
        return None
    indices = str(gather.input[1])
    if not source.is_constant(indices) or source.shapes.get(indices) != shape:
        return None
    if flat[0] > MAX_CONSTANT_ELEMENTS or source.numbers(gather, indices) != tuple(
        map(float, range(flat[0]))
    ):
        return None
    members = (index_of(source, first), index_of(source, gather))
    out = Out(str(gather.output[0]), (str(first.input[0]),))
    return Fusion(members, out, "Reshape·Gather", named=members[1])


def _transpose_flatten(ctx: Context, transpose: NodeProto) -> Fusion | None:
    """A Transpose straight into a flatten to [N, C·H·W]: the same features in another order
    (a Keras model flattens channels last) → flatten."""
    source = ctx.source
    shape = source.shapes.get(str(transpose.input[0]))
    axes = perm(transpose)
    if shape is None or len(shape) < 3 or not axes or axes[0] != 0:
        return None
    flat = source.only_user(str(transpose.output[0]))
    if flat is None or flat.op_type not in ("Reshape", "Flatten") or not flat.output:
        return None
    if source.shapes.get(str(flat.output[0])) != (shape[0], math.prod(shape[1:])):
        return None
    members = (index_of(source, transpose), index_of(source, flat))
    out = Out(str(flat.output[0]), (str(transpose.input[0]),), ({"flatten": {}},))
    return Fusion(members, out, f"Transpose·{flat.op_type}", named=members[1])


_POSITIONWISE = frozenset({"Gelu", "Relu", "Sigmoid", "Tanh", "HardSwish", "Mish", "Elu"})
"""Activations a channels-last run may hold: each converts on its own, whatever the layout."""


def _pointwise(ctx: Context, matmul: NodeProto) -> tuple[Layer, list[NodeProto]] | None:
    """A MatMul of a channels-last map by a constant [C, out] weight, with the Add of a
    constant [out] bias if one follows: a pointwise conv on the channels-first map."""
    source = ctx.source
    weight = str(matmul.input[1])
    dims = source.shapes.get(weight)
    shape = source.shapes.get(str(matmul.input[0]))
    if weight not in ctx.static or dims is None or shape is None or len(dims) != 2:
        return None
    if dims[0] != shape[-1]:
        return None
    nodes = [matmul]
    fields: dict[str, object] = {"out": dims[1]}
    add = only_reader(source, str(matmul.output[0]), "Add")
    bias = other_input(add, str(matmul.output[0])) if add is not None else None
    if (
        add is not None
        and bias is not None
        and source.is_constant(bias)
        and source.shapes.get(bias) == (dims[1],)
    ):
        nodes.append(add)
    else:
        fields["bias"] = False
    return {"pointwise": fields}, nodes


def _channels_last(ctx: Context, first: NodeProto) -> tuple[Fusion, ...] | None:
    """A Transpose to channels last, position-wise layers on the last axis (LayerNormalization
    over it alone, MatMul by a constant weight and its bias, activations), then the Transpose
    back: torchvision's ConvNeXt (``LayerNorm2d``; a block's LayerNorm, Linear, GELU, Linear)
    → layernorm over the channels and pointwise convs; the activations convert on their own.
    One fusion per layer, named after its node; the Transposes are part of the first and last."""
    source = ctx.source
    shape = source.shapes.get(str(first.input[0]))
    if shape is None or len(shape) < 3 or perm(first) != [0, *range(2, len(shape)), 1]:
        return None
    back = [0, len(shape) - 1, *range(1, len(shape) - 1)]
    # each group: its member nodes, its layer (none for the Transposes alone), its input
    groups: list[tuple[list[NodeProto], list[Layer], str]] = [([first], [], str(first.input[0]))]
    tensor = str(first.output[0])
    while True:
        node = source.only_user(tensor)
        if node is None or not node.output:
            return None
        if node.op_type == "Transpose" and perm(node) == back:
            groups[-1][0].append(node)
            break
        found: tuple[Layer, list[NodeProto]] | None = None
        if node.op_type == "LayerNormalization":
            layer = layer_norm_last(ctx, node)
            found = None if layer is None else (layer, [node])
        elif node.op_type == "MatMul":
            found = _pointwise(ctx, node)
        elif node.op_type in _POSITIONWISE and len(node.input) == 1:
            # converted on its own; the next group starts at its output
            tensor = str(node.output[0])
            if groups[-1][0]:
                groups.append(([], [], tensor))
            else:
                groups[-1] = ([], [], tensor)
            continue
        if found is None:
            return None
        layer, nodes = found
        if groups[-1][1]:
            groups.append((nodes, [layer], tensor))
        else:
            groups[-1][0].extend(nodes)
            groups[-1][1].append(layer)
        tensor = str(nodes[-1].output[0])
    fusions = []
    for members, layers, start in groups:
        indices = tuple(index_of(source, node) for node in members)
        named = next((i for i, n in zip(indices, members, strict=True) if n is not first), None)
        out = Out(str(members[-1].output[0]), (start,), tuple(layers))
        fusions.append(Fusion(indices, out, "·".join(n.op_type for n in members), named))
    return tuple(fusions)


def transpose_patterns(ctx: Context, node: NodeProto) -> Fusion | tuple[Fusion, ...] | None:
    """The patterns that start with a Transpose: a flatten, a channels-last run."""
    return _transpose_flatten(ctx, node) or _channels_last(ctx, node)
