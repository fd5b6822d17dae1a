"""Patterns of several ONNX nodes that are one convcost layer: SiLU, hard-swish, Mish, the Erf
GELU, channel shuffle, GroupNorm, a channels-last flatten, MatMul + Add, a per-channel scale
and shift (or scale alone: layer scale), and position-wise layers run channels last (ConvNeXt's
LayerNorm and linears between two permutes).

Each is found before conversion; the reader emits the fused layer at the pattern's first node
and skips the others. A pattern is fused only when its inner tensors are read by the pattern
alone, so skipping them never hides a tensor another node needs. The patterns that move axes
(Transposes, channels last) are in `convcost.importer.fusions_layout`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from convcost.importer.fusion_match import (
    Fusion,
    constant_near,
    index_of,
    only_reader,
    other_input,
    perm,
)
from convcost.importer.fusions_layout import gather_back, transpose_patterns
from convcost.importer.onnx_proto import NodeProto
from convcost.importer.ops import linear
from convcost.importer.ops_graph import Source, attributes
from convcost.importer.ops_norm import learned
from convcost.importer.ops_result import Context, Out, Unsupported


def _gate(ctx: Context, node: NodeProto) -> Fusion | None:
    """x · Sigmoid(x) → silu; x · HardSigmoid(x) (alpha 1/6) → hardswish."""
    source = ctx.source
    x = str(node.input[0])
    mul = only_reader(source, str(node.output[0]), "Mul")
    if mul is None or other_input(mul, str(node.output[0])) != x:
        return None
    if node.op_type == "HardSigmoid":
        attrs = attributes(node)
        if not math.isclose(float(attrs.get("alpha", 0.2)), 1 / 6, rel_tol=1e-6):  # type: ignore[arg-type]
            return None
        kind, label = "hardswish", "Mul·HardSigmoid"
    else:
        kind, label = "silu", "Mul·Sigmoid"
    members = (index_of(source, node), index_of(source, mul))
    return Fusion(members, Out(str(mul.output[0]), (x,), ({kind: {}},)), label)


def _mish(ctx: Context, softplus: NodeProto) -> Fusion | None:
    """x · Tanh(Softplus(x)) → mish (the TorchScript exporter's nn.Mish)."""
    source = ctx.source
    x = str(softplus.input[0])
    tanh = only_reader(source, str(softplus.output[0]), "Tanh")
    if tanh is None:
        return None
    mul = only_reader(source, str(tanh.output[0]), "Mul")
    if mul is None or other_input(mul, str(tanh.output[0])) != x:
        return None
    members = (index_of(source, softplus), index_of(source, tanh), index_of(source, mul))
    return Fusion(members, Out(str(mul.output[0]), (x,), ({"mish": {}},)), "Mul·Tanh·Softplus")


def _erf_gelu(ctx: Context, erf: NodeProto) -> Fusion | None:
    """0.5 · x · (1 + erf(x / √2)), in the orders the exporters write it → gelu."""
    source = ctx.source
    scale = source.producer(str(erf.input[0]))
    if scale is None or source.only_user(str(scale.output[0])) is not erf:
        return None
    if len(scale.input) != 2:
        return None
    x, factor = str(scale.input[0]), str(scale.input[1])
    if not (
        (scale.op_type == "Div" and constant_near(source, scale, factor, math.sqrt(2)))
        or (scale.op_type == "Mul" and constant_near(source, scale, factor, 1 / math.sqrt(2)))
    ):
        return None
    add = only_reader(source, str(erf.output[0]), "Add")
    if add is None or not constant_near(
        source, add, str(other_input(add, str(erf.output[0]))), 1.0
    ):
        return None
    mul = only_reader(source, str(add.output[0]), "Mul")
    if mul is None:
        return None
    members = [scale, erf, add, mul]
    other = other_input(mul, str(add.output[0]))
    if other == x:  # (x · (1 + erf)) · 0.5
        half = only_reader(source, str(mul.output[0]), "Mul")
        if half is None or not constant_near(
            source, half, str(other_input(half, str(mul.output[0]))), 0.5
        ):
            return None
        members.append(half)
    else:  # (x · 0.5) · (1 + erf)
        half = source.producer(str(other))
        if half is None or half.op_type != "Mul" or source.only_user(str(other)) is not mul:
            return None
        if other_input(half, x) is None or not constant_near(
            source, half, str(other_input(half, x)), 0.5
        ):
            return None
        members.append(half)
    output = str(members[-1].output[0]) if other == x else str(mul.output[0])
    indices = tuple(sorted(index_of(source, node) for node in members))
    return Fusion(indices, Out(output, (x,), ({"gelu": {}},)), "Erf GELU")


def _channel_shuffle(ctx: Context, first: NodeProto) -> Fusion | None:
    """Reshape [N, C, …] → [N, g, C/g, …], Transpose(1, 2), Reshape back → channel_shuffle."""
    source = ctx.source
    shape = source.shapes.get(str(first.input[0]))
    split = source.shapes.get(str(first.output[0]))
    if shape is None or split is None or len(shape) < 3 or len(split) != len(shape) + 1:
        return None
    groups = split[1]
    if split[0] != shape[0] or split[3:] != shape[2:] or groups * split[2] != shape[1]:
        return None
    transpose = only_reader(source, str(first.output[0]), "Transpose")
    if transpose is None:
        return None
    if perm(transpose) != [0, 2, 1, *range(3, len(split))]:
        return None
    last = only_reader(source, str(transpose.output[0]), "Reshape")
    if last is None or source.shapes.get(str(last.output[0])) != shape:
        return None
    members = (index_of(source, first), index_of(source, transpose), index_of(source, last))
    layer = {"channel_shuffle": {"groups": groups}}
    return Fusion(
        members,
        Out(str(last.output[0]), (str(first.input[0]),), (layer,)),
        "Reshape·Transpose·Reshape",
    )


def _all_near(source: Source, node: NodeProto, tensor: str, value: float) -> bool:
    """Whether a constant holds `value` in every element."""
    if not source.is_constant(tensor):
        return False
    return all(math.isclose(v, value, abs_tol=1e-6) for v in source.numbers(node, tensor))


def _group_norm(ctx: Context, first: NodeProto) -> Fusion | None:
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
    norm = only_reader(source, str(first.output[0]), "InstanceNormalization")
    if norm is None or len(norm.input) < 3:
        return None
    if not (
        _all_near(source, norm, str(norm.input[1]), 1.0)
        and _all_near(source, norm, str(norm.input[2]), 0.0)
    ):
        return None
    back = only_reader(source, str(norm.output[0]), "Reshape")
    if back is None or source.shapes.get(str(back.output[0])) != shape:
        return None
    members = [index_of(source, first), index_of(source, norm), index_of(source, back)]
    fields: dict[str, object] = {"groups": groups}
    eps = float(attributes(norm).get("epsilon", 1e-5))  # type: ignore[arg-type]
    if not math.isclose(eps, 1e-5, rel_tol=1e-6):
        fields["eps"] = float(f"{eps:.6g}")
    end = str(back.output[0])
    mul = only_reader(source, end, "Mul")
    add = only_reader(source, str(mul.output[0]), "Add") if mul is not None else None
    if (
        mul is not None
        and add is not None
        and _per_channel(source, str(other_input(mul, end)), shape)
        and _per_channel(source, str(other_input(add, str(mul.output[0]))), shape)
    ):
        members += [index_of(source, mul), index_of(source, add)]
        if not learned(
            ctx, mul, str(other_input(mul, end)), str(other_input(add, str(mul.output[0])))
        ):
            fields["affine"] = False  # the dynamo exporter's own ones and zeros
        end = str(add.output[0])
    else:
        fields["affine"] = False
    out = Out(end, (str(first.input[0]),), ({"groupnorm": fields},))
    label = "Reshape·InstanceNormalization·Reshape" + ("·Mul·Add" if len(members) > 3 else "")
    return Fusion(tuple(members), out, label, named=members[1])


def _reshape(ctx: Context, first: NodeProto) -> Fusion | None:
    """The patterns that start with a Reshape: channel shuffle, GroupNorm, an in-order
    gather."""
    return _channel_shuffle(ctx, first) or _group_norm(ctx, first) or gather_back(ctx, first)


def _per_channel(source: Source, tensor: str, shape: tuple[int, ...]) -> bool:
    """Whether a constant holds one value per channel of `shape`: [C, 1, 1] or [1, C, 1, 1]."""
    dims = source.shapes.get(tensor)
    if dims is None or not source.is_constant(tensor) or len(dims) > len(shape):
        return False
    aligned = (1,) * (len(shape) - len(dims)) + dims
    return len(shape) >= 3 and aligned == (1, shape[1]) + (1,) * (len(shape) - 2)


def _scale_shift(ctx: Context, mul: NodeProto) -> Fusion | None:
    """x · scale + shift, each one constant per channel: batchnorm at inference (as
    converters that unfold it write it) → batchnorm, the same 2·C parameters. x · scale alone
    (ConvNeXt's learned γ) → layer_scale, C parameters."""
    source = ctx.source
    x = next((str(t) for t in mul.input if not source.is_constant(str(t))), None)
    shape = source.shapes.get(x or "")
    if x is None or shape is None or not _per_channel(source, str(other_input(mul, x)), shape):
        return None
    add = only_reader(source, str(mul.output[0]), "Add")
    if add is None or not _per_channel(source, str(other_input(add, str(mul.output[0]))), shape):
        out = Out(str(mul.output[0]), (x,), ({"layer_scale": {}},))
        return Fusion((index_of(source, mul),), out, "Mul")
    members = (index_of(source, mul), index_of(source, add))
    return Fusion(members, Out(str(add.output[0]), (x,), ({"batchnorm": {}},)), "Mul·Add")


def _matmul_add(ctx: Context, matmul: NodeProto) -> Fusion | None:
    """MatMul by a constant weight, then Add of a constant bias → linear with bias."""
    source = ctx.source
    add = only_reader(source, str(matmul.output[0]), "Add")
    if add is None or str(matmul.input[1]) not in ctx.static:
        return None
    bias = other_input(add, str(matmul.output[0]))
    if bias is None or not source.is_constant(bias):
        return None
    out_shape = source.shapes.get(str(add.output[0]))
    if out_shape is None or math.prod(source.shapes.get(bias, (0,))) != out_shape[-1]:
        return None
    layer = linear(ctx, matmul, str(matmul.input[1]), transposed=False, bias=True)
    members = (index_of(source, matmul), index_of(source, add))
    return Fusion(members, Out(str(add.output[0]), (str(matmul.input[0]),), (layer,)), "MatMul·Add")


_PATTERNS: dict[str, Callable[[Context, NodeProto], Fusion | tuple[Fusion, ...] | None]] = {
    "Sigmoid": _gate,
    "HardSigmoid": _gate,
    "Erf": _erf_gelu,
    "Softplus": _mish,
    "Reshape": _reshape,
    "Transpose": transpose_patterns,
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
        if index_of(ctx.source, node) in found:
            continue
        try:
            fused = pattern(ctx, node)
        except IndexError:  # a member without the inputs or outputs its operator has
            fused = None
        except Unsupported:  # not this pattern: its nodes convert (or are reported) one by one
            fused = None
        fusions = (fused,) if isinstance(fused, Fusion) else fused or ()
        if any(index in found for fusion in fusions for index in fusion.members):
            continue
        for fusion in fusions:
            for index in fusion.members:
                found[index] = fusion
    return found
