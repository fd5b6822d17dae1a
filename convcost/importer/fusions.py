"""Patterns of several ONNX nodes that are one convcost layer: SiLU, hard-swish, Mish, the Erf
GELU, channel shuffle, a channels-last flatten, MatMul + Add and a per-channel scale and shift.

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
from convcost.importer.ops_graph import Source, attributes
from convcost.importer.ops_result import Context, Out


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
    perm = list(attributes(transpose).get("perm", []))  # type: ignore[call-overload]
    if perm != [0, 2, 1, *range(3, len(split))]:
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


def _transpose_flatten(ctx: Context, transpose: Any) -> Fusion | None:
    """A Transpose straight into a flatten to [N, C·H·W]: the same features in another order
    (a Keras model flattens channels last) → flatten."""
    source = ctx.source
    shape = source.shapes.get(str(transpose.input[0]))
    perm = list(attributes(transpose).get("perm", []))  # type: ignore[call-overload]
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
    converters that unfold it write it) → batchnorm, the same 2·C parameters."""
    source = ctx.source
    x = next((str(t) for t in mul.input if not source.is_constant(str(t))), None)
    shape = source.shapes.get(x or "")
    if x is None or shape is None or not _per_channel(source, str(_other(mul, x)), shape):
        return None
    add = _next(source, str(mul.output[0]), "Add")
    if add is None or not _per_channel(source, str(_other(add, str(mul.output[0]))), shape):
        return None
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


_PATTERNS: dict[str, Callable[[Context, Any], Fusion | None]] = {
    "Sigmoid": _gate,
    "HardSigmoid": _gate,
    "Erf": _erf_gelu,
    "Softplus": _mish,
    "Reshape": _channel_shuffle,
    "Transpose": _transpose_flatten,
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
            fusion = pattern(ctx, node)
        except IndexError:  # a member without the inputs or outputs its operator has
            fusion = None
        if fusion is None or any(index in found for index in fusion.members):
            continue
        for index in fusion.members:
            found[index] = fusion
    return found
