"""Patterns of several ONNX nodes that are one convcost layer: SiLU, hard-swish, Mish, the Erf
GELU, channel shuffle, GroupNorm, a channels-last flatten, MatMul + Add, a per-channel scale
and shift (or scale alone: layer scale), and position-wise layers run channels last (ConvNeXt's
LayerNorm and linears between two permutes).

Each is found before conversion; the reader emits the fused layer at the pattern's first node
and skips the others. A pattern is fused only when its inner tensors are read by the pattern
alone, so skipping them never hides a tensor another node needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from convcost.importer.ops import linear
from convcost.importer.ops_graph import MAX_CONSTANT_ELEMENTS, Source, attributes
from convcost.importer.ops_norm import layer_norm_last, learned
from convcost.importer.ops_result import Context, Layer, Out


@dataclass(frozen=True, slots=True)
class Fusion:
    """Several ONNX nodes that become the layers of `out`."""

    members: tuple[int, ...]
    """The fused nodes' indices, in graph order; the layers are emitted at the first."""
    out: Out
    label: str
    """The pattern, as a node's origin names it: e.g. ``Mul·Sigmoid``."""
    named: int | None = None
    """The member the layer is named after; None for the first."""


def _constant_near(source: Source, node: Any, tensor: str, value: float) -> bool:
    if not source.is_constant(tensor):
        return False
    numbers = source.numbers(node, tensor)
    return len(numbers) == 1 and math.isclose(numbers[0], value, rel_tol=1e-6)


def _other(node: Any, tensor: str) -> str | None:
    """A binary node's input other than `tensor`, if `tensor` is one of its two inputs."""
    inputs = [str(name) for name in node.input]
    if len(inputs) != 2 or tensor not in inputs:
        return None
    inputs.remove(tensor)
    return inputs[0]


def _next(source: Source, tensor: str, op_type: str) -> Any:
    """The single reader of `tensor`, if it is an `op_type` node (else None)."""
    user = source.only_user(tensor)
    return user if user is not None and user.op_type == op_type else None


def _index(source: Source, node: Any) -> int:
    return source.producers[str(node.output[0])]


def _gate(ctx: Context, node: Any) -> Fusion | None:
    """x · Sigmoid(x) → silu; x · HardSigmoid(x) (alpha 1/6) → hardswish."""
    source = ctx.source
    x = str(node.input[0])
    mul = _next(source, str(node.output[0]), "Mul")
    if mul is None or _other(mul, str(node.output[0])) != x:
        return None
    if node.op_type == "HardSigmoid":
        attrs = attributes(node)
        if not math.isclose(float(attrs.get("alpha", 0.2)), 1 / 6, rel_tol=1e-6):  # type: ignore[arg-type]
            return None
        kind, label = "hardswish", "Mul·HardSigmoid"
    else:
        kind, label = "silu", "Mul·Sigmoid"
    members = (_index(source, node), _index(source, mul))
    return Fusion(members, Out(str(mul.output[0]), (x,), ({kind: {}},)), label)


def _mish(ctx: Context, softplus: Any) -> Fusion | None:
    """x · Tanh(Softplus(x)) → mish (the TorchScript exporter's nn.Mish)."""
    source = ctx.source
    x = str(softplus.input[0])
    tanh = _next(source, str(softplus.output[0]), "Tanh")
    if tanh is None:
        return None
    mul = _next(source, str(tanh.output[0]), "Mul")
    if mul is None or _other(mul, str(tanh.output[0])) != x:
        return None
    members = (_index(source, softplus), _index(source, tanh), _index(source, mul))
    return Fusion(members, Out(str(mul.output[0]), (x,), ({"mish": {}},)), "Mul·Tanh·Softplus")


def _erf_gelu(ctx: Context, erf: Any) -> Fusion | None:
    """0.5 · x · (1 + erf(x / √2)), in the orders the exporters write it → gelu."""
    source = ctx.source
    scale = source.producer(str(erf.input[0]))
    if scale is None or source.only_user(str(scale.output[0])) is not erf:
        return None
    if len(scale.input) != 2:
        return None
    x, factor = str(scale.input[0]), str(scale.input[1])
    if not (
        (scale.op_type == "Div" and _constant_near(source, scale, factor, math.sqrt(2)))
        or (scale.op_type == "Mul" and _constant_near(source, scale, factor, 1 / math.sqrt(2)))
    ):
        return None
    add = _next(source, str(erf.output[0]), "Add")
    if add is None or not _constant_near(source, add, str(_other(add, str(erf.output[0]))), 1.0):
        return None
    mul = _next(source, str(add.output[0]), "Mul")
    if mul is None:
        return None
    members = [scale, erf, add, mul]
    other = _other(mul, str(add.output[0]))
    if other == x:  # (x · (1 + erf)) · 0.5
        half = _next(source, str(mul.output[0]), "Mul")
        if half is None or not _constant_near(
            source, half, str(_other(half, str(mul.output[0]))), 0.5
        ):
            return None
        members.append(half)
    else:  # (x · 0.5) · (1 + erf)
        half = source.producer(str(other))
        if half is None or half.op_type != "Mul" or source.only_user(str(other)) is not mul:
            return None
        if _other(half, x) is None or not _constant_near(source, half, str(_other(half, x)), 0.5):
            return None
        members.append(half)
    output = str(members[-1].output[0]) if other == x else str(mul.output[0])
    indices = tuple(sorted(_index(source, node) for node in members))
    return Fusion(indices, Out(output, (x,), ({"gelu": {}},)), "Erf GELU")


def _channel_shuffle(ctx: Context, first: Any) -> Fusion | None:
    """Reshape [N, C, …] → [N, g, C/g, …], Transpose(1, 2), Reshape back → channel_shuffle."""
    source = ctx.source
    shape = source.shapes.get(str(first.input[0]))
    split = source.shapes.get(str(first.output[0]))
    if shape is None or split is None or len(shape) < 3 or len(split) != len(shape) + 1:
        return None
    groups = split[1]
    if split[0] != shape[0] or split[3:] != shape[2:] or groups * split[2] != shape[1]:
        return None
    transpose = _next(source, str(first.output[0]), "Transpose")
    if transpose is None:
        return None
    if _perm(transpose) != [0, 2, 1, *range(3, len(split))]:
        return None
    last = _next(source, str(transpose.output[0]), "Reshape")
    if last is None or source.shapes.get(str(last.output[0])) != shape:
        return None
    members = (_index(source, first), _index(source, transpose), _index(source, last))
    layer = {"channel_shuffle": {"groups": groups}}
    return Fusion(
        members,
        Out(str(last.output[0]), (str(first.input[0]),), (layer,)),
        "Reshape·Transpose·Reshape",
    )


def _all_near(source: Source, node: Any, tensor: str, value: float) -> bool:
    """Whether a constant holds `value` in every element."""
    if not source.is_constant(tensor):
        return False
    return all(math.isclose(v, value, abs_tol=1e-6) for v in source.numbers(node, tensor))


def _group_norm(ctx: Context, first: Any) -> Fusion | None:
    """Reshape [N, C, …] → [N, G, −1], InstanceNormalization by ones and zeros, Reshape back,
    then with the affine a Mul by γ and an Add of β per channel → groupnorm (how both of
    PyTorch's exporters write ``nn.GroupNorm`` below opset 21)."""
    source = ctx.source
    shape = source.shapes.get(str(first.input[0]))
    grouped = source.shapes.get(str(first.output[0]))
    if shape is None or grouped is None or len(shape) < 3 or len(grouped) != 3:
        return None
    groups = grouped[1]
    if grouped[0] != shape[0] or shape[1] % groups or groups * grouped[2] != math.prod(shape[1:]):
        return None
    norm = _next(source, str(first.output[0]), "InstanceNormalization")
    if norm is None or len(norm.input) < 3:
        return None
    if not (
        _all_near(source, norm, str(norm.input[1]), 1.0)
        and _all_near(source, norm, str(norm.input[2]), 0.0)
    ):
        return None
    back = _next(source, str(norm.output[0]), "Reshape")
    if back is None or source.shapes.get(str(back.output[0])) != shape:
        return None
    members = [_index(source, first), _index(source, norm), _index(source, back)]
    fields: dict[str, object] = {"groups": groups}
    eps = float(attributes(norm).get("epsilon", 1e-5))  # type: ignore[arg-type]
    if not math.isclose(eps, 1e-5, rel_tol=1e-6):
        fields["eps"] = float(f"{eps:.6g}")
    end = str(back.output[0])
    mul = _next(source, end, "Mul")
    add = _next(source, str(mul.output[0]), "Add") if mul is not None else None
    if (
        mul is not None
        and add is not None
        and _per_channel(source, str(_other(mul, end)), shape)
        and _per_channel(source, str(_other(add, str(mul.output[0]))), shape)
    ):
        members += [_index(source, mul), _index(source, add)]
        if not learned(ctx, mul, str(_other(mul, end)), str(_other(add, str(mul.output[0])))):
            fields["affine"] = False  # the dynamo exporter's own ones and zeros
        end = str(add.output[0])
    else:
        fields["affine"] = False
    out = Out(end, (str(first.input[0]),), ({"groupnorm": fields},))
    label = "Reshape·InstanceNormalization·Reshape" + ("·Mul·Add" if len(members) > 3 else "")
    return Fusion(tuple(members), out, label, named=members[1])


def _gather_back(ctx: Context, first: Any) -> Fusion | None:
    """A Reshape to one axis, then a Gather (axis 0) of its elements in order, by constant
    indices shaped as the Reshape's input: the same tensor (how the dynamo exporter writes
    an ``as_strided`` view, after ConvNeXt's global average pool) → nothing."""
    source = ctx.source
    shape = source.shapes.get(str(first.input[0]))
    flat = source.shapes.get(str(first.output[0]))
    if shape is None or flat is None or flat != (math.prod(shape),):
        return None
    gather = _next(source, str(first.output[0]), "Gather")
    if gather is None or len(gather.input) != 2 or attributes(gather).get("axis", 0) != 0:
        return None
    indices = str(gather.input[1])
    if not source.is_constant(indices) or source.shapes.get(indices) != shape:
        return None
    if flat[0] > MAX_CONSTANT_ELEMENTS or source.numbers(gather, indices) != tuple(
        map(float, range(flat[0]))
    ):
        return None
    members = (_index(source, first), _index(source, gather))
    out = Out(str(gather.output[0]), (str(first.input[0]),))
    return Fusion(members, out, "Reshape·Gather", named=members[1])


def _reshape(ctx: Context, first: Any) -> Fusion | None:
    """The patterns that start with a Reshape: channel shuffle, GroupNorm, an in-order
    gather."""
    return _channel_shuffle(ctx, first) or _group_norm(ctx, first) or _gather_back(ctx, first)


def _transpose_flatten(ctx: Context, transpose: Any) -> Fusion | None:
    """A Transpose straight into a flatten to [N, C·H·W]: the same features in another order
    (a Keras model flattens channels last) → flatten."""
    source = ctx.source
    shape = source.shapes.get(str(transpose.input[0]))
    perm = _perm(transpose)
    if shape is None or len(shape) < 3 or not perm or perm[0] != 0:
        return None
    flat = source.only_user(str(transpose.output[0]))
    if flat is None or flat.op_type not in ("Reshape", "Flatten") or not flat.output:
        return None
    if source.shapes.get(str(flat.output[0])) != (shape[0], math.prod(shape[1:])):
        return None
    members = (_index(source, transpose), _index(source, flat))
    out = Out(str(flat.output[0]), (str(transpose.input[0]),), ({"flatten": {}},))
    return Fusion(members, out, f"Transpose·{flat.op_type}", named=members[1])


def _per_channel(source: Source, tensor: str, shape: tuple[int, ...]) -> bool:
    """Whether a constant holds one value per channel of `shape`: [C, 1, 1] or [1, C, 1, 1]."""
    dims = source.shapes.get(tensor)
    if dims is None or not source.is_constant(tensor) or len(dims) > len(shape):
        return False
    aligned = (1,) * (len(shape) - len(dims)) + dims
    return len(shape) >= 3 and aligned == (1, shape[1]) + (1,) * (len(shape) - 2)


def _scale_shift(ctx: Context, mul: Any) -> Fusion | None:
    """x · scale + shift, each one constant per channel: batchnorm at inference (as
    converters that unfold it write it) → batchnorm, the same 2·C parameters. x · scale alone
    (ConvNeXt's learned γ) → layer_scale, C parameters."""
    source = ctx.source
    x = next((str(t) for t in mul.input if not source.is_constant(str(t))), None)
    shape = source.shapes.get(x or "")
    if x is None or shape is None or not _per_channel(source, str(_other(mul, x)), shape):
        return None
    add = _next(source, str(mul.output[0]), "Add")
    if add is None or not _per_channel(source, str(_other(add, str(mul.output[0]))), shape):
        out = Out(str(mul.output[0]), (x,), ({"layer_scale": {}},))
        return Fusion((_index(source, mul),), out, "Mul")
    members = (_index(source, mul), _index(source, add))
    return Fusion(members, Out(str(add.output[0]), (x,), ({"batchnorm": {}},)), "Mul·Add")


def _matmul_add(ctx: Context, matmul: Any) -> Fusion | None:
    """MatMul by a constant weight, then Add of a constant bias → linear with bias."""
    source = ctx.source
    add = _next(source, str(matmul.output[0]), "Add")
    if add is None or str(matmul.input[1]) not in ctx.static:
        return None
    bias = _other(add, str(matmul.output[0]))
    if bias is None or not source.is_constant(bias):
        return None
    out_shape = source.shapes.get(str(add.output[0]))
    if out_shape is None or math.prod(source.shapes.get(bias, (0,))) != out_shape[-1]:
        return None
    layer = linear(ctx, matmul, str(matmul.input[1]), transposed=False, bias=True)
    members = (_index(source, matmul), _index(source, add))
    return Fusion(members, Out(str(add.output[0]), (str(matmul.input[0]),), (layer,)), "MatMul·Add")


_POSITIONWISE = frozenset({"Gelu", "Relu", "Sigmoid", "Tanh", "HardSwish", "Mish", "Elu"})
"""Activations a channels-last run may hold: each converts on its own, whatever the layout."""


def _perm(node: Any) -> list[int]:
    """A Transpose's permutation ([] when it has none: the reversal)."""
    perm = attributes(node).get("perm", [])
    return [int(axis) for axis in perm] if isinstance(perm, list | tuple) else []


def _pointwise(ctx: Context, matmul: Any) -> tuple[Layer, list[Any]] | None:
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
    add = _next(source, str(matmul.output[0]), "Add")
    bias = _other(add, str(matmul.output[0])) if add is not None else None
    if bias is not None and source.is_constant(bias) and source.shapes.get(bias) == (dims[1],):
        nodes.append(add)
    else:
        fields["bias"] = False
    return {"pointwise": fields}, nodes


def _channels_last(ctx: Context, first: Any) -> tuple[Fusion, ...] | None:
    """A Transpose to channels last, position-wise layers on the last axis (LayerNormalization
    over it alone, MatMul by a constant weight and its bias, activations), then the Transpose
    back: torchvision's ConvNeXt (``LayerNorm2d``; a block's LayerNorm, Linear, GELU, Linear)
    → layernorm over the channels and pointwise convs; the activations convert on their own.
    One fusion per layer, named after its node; the Transposes are part of the first and last."""
    source = ctx.source
    shape = source.shapes.get(str(first.input[0]))
    if shape is None or len(shape) < 3 or _perm(first) != [0, *range(2, len(shape)), 1]:
        return None
    back = [0, len(shape) - 1, *range(1, len(shape) - 1)]
    # each group: its member nodes, its layer (none for the Transposes alone), its input
    groups: list[tuple[list[Any], list[Layer], str]] = [([first], [], str(first.input[0]))]
    tensor = str(first.output[0])
    while True:
        node = source.only_user(tensor)
        if node is None or not node.output:
            return None
        if node.op_type == "Transpose" and _perm(node) == back:
            groups[-1][0].append(node)
            break
        found: tuple[Layer, list[Any]] | None = None
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
        indices = tuple(_index(source, node) for node in members)
        named = next((i for i, n in zip(indices, members, strict=True) if n is not first), None)
        out = Out(str(members[-1].output[0]), (start,), tuple(layers))
        fusions.append(Fusion(indices, out, "·".join(n.op_type for n in members), named))
    return tuple(fusions)


def _transpose(ctx: Context, node: Any) -> Fusion | tuple[Fusion, ...] | None:
    """The patterns that start with a Transpose: a flatten, a channels-last run."""
    return _transpose_flatten(ctx, node) or _channels_last(ctx, node)


_PATTERNS: dict[str, Callable[[Context, Any], Fusion | tuple[Fusion, ...] | None]] = {
    "Sigmoid": _gate,
    "HardSigmoid": _gate,
    "Erf": _erf_gelu,
    "Softplus": _mish,
    "Reshape": _reshape,
    "Transpose": _transpose,
    "MatMul": _matmul_add,
    "Mul": _scale_shift,
}
"""Each pattern, by the operator that identifies it."""


def find_fusions(ctx: Context) -> dict[int, Fusion]:
    """Every fused pattern, by each member node's index (a node is in one pattern at most)."""
    found: dict[int, Fusion] = {}
    for node in ctx.source.nodes:
        pattern = _PATTERNS.get(str(node.op_type))
        if pattern is None or not node.input or not node.output:
            continue  # a node without inputs or outputs is the converter's to report
        if all(str(tensor) in ctx.static for tensor in node.output):
            continue  # shape arithmetic, or a weight's Transpose: not a layer
        if _index(ctx.source, node) in found:
            continue
        try:
            fused = pattern(ctx, node)
        except IndexError:  # a member without the inputs or outputs its operator has
            fused = None
        fusions = (fused,) if isinstance(fused, Fusion) else fused or ()
        if any(index in found for fusion in fusions for index in fusion.members):
            continue
        for fusion in fusions:
            for index in fusion.members:
                found[index] = fusion
    return found
