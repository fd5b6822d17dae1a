"""One ONNX operator at a time: what each becomes among convcost's layers and merges.

`CONVERTERS` maps an operator to its converter; an operator missing from it, or a converter
that raises `Unsupported`, is listed in the one error that names every unsupported node.
Patterns that span several nodes (SiLU, the Erf GELU, channel shuffle, MatMul + Add, …) are
found first by `convcost.importer.fusions`; a Pad is folded into the conv or pool it feeds by
`convcost.importer.ops_window.pad_fold`; shape arithmetic is evaluated by `ops_static`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from convcost.importer import ops_norm, ops_spatial, ops_window
from convcost.importer.graph import Merge
from convcost.importer.onnx_proto import NodeProto
from convcost.importer.ops_graph import attributes, int_list
from convcost.importer.ops_result import Context, Layer, Out, Unsupported

Converter = Callable[[Context, NodeProto], list[Out]]

_EPS_DEFAULT = 1e-5
"""BatchNormalization's and nn.BatchNorm's default epsilon."""


def _one(node: NodeProto, *layers: Layer) -> list[Out]:
    return [Out(str(node.output[0]), (str(node.input[0]),), layers)]


def _skip(ctx: Context, node: NodeProto) -> list[Out]:
    """Identity, Dropout (at inference): the output is the input."""
    return [Out(str(node.output[0]), (str(node.input[0]),))]


def _activation(kind: str) -> Converter:
    def convert(ctx: Context, node: NodeProto) -> list[Out]:
        return _one(node, {kind: {}})

    return convert


def _no_kind(ctx: Context, node: NodeProto) -> list[Out]:
    raise Unsupported(f"{node.op_type} (no convcost layer kind yet)")


def _hard_sigmoid(ctx: Context, node: NodeProto) -> list[Out]:
    attrs = attributes(node)
    alpha, beta = float(attrs.get("alpha", 0.2)), float(attrs.get("beta", 0.5))  # type: ignore[arg-type]
    if not (math.isclose(alpha, 1 / 6, rel_tol=1e-6) and math.isclose(beta, 0.5, rel_tol=1e-6)):
        raise Unsupported("HardSigmoid (alpha other than 1/6, PyTorch's)")
    return _one(node, {"hardsigmoid": {}})


def _gelu(ctx: Context, node: NodeProto) -> list[Out]:
    approximate = str(attributes(node).get("approximate", "none"))
    if approximate not in ("none", "tanh"):
        raise Unsupported(f"Gelu (approximate {approximate!r})")
    return _one(node, {"gelu": {"approximate": "tanh"} if approximate == "tanh" else {}})


def _number(node: NodeProto, name: str, default: float, field: str) -> dict[str, object]:
    """A float attribute as a layer field, written as PyTorch's float32 value reads (0.2, not
    0.20000000298); left out when it is the default."""
    value = float(attributes(node).get(name, default))  # type: ignore[arg-type]
    return {} if math.isclose(value, default, rel_tol=1e-6) else {field: float(f"{value:.6g}")}


def _leaky_relu(ctx: Context, node: NodeProto) -> list[Out]:
    return _one(node, {"leaky_relu": _number(node, "alpha", 0.01, "slope")})


def _elu(ctx: Context, node: NodeProto) -> list[Out]:
    return _one(node, {"elu": _number(node, "alpha", 1.0, "alpha")})


def _prelu(ctx: Context, node: NodeProto) -> list[Out]:
    """A constant slope of one element (shared), or one per channel: broadcast (ONNX aligns
    shapes at the right) it is 1 on every axis but the channels'."""
    source = ctx.source
    slope = str(node.input[1])
    if slope not in ctx.static:
        raise Unsupported("PRelu (with a computed slope)")
    shape = source.shape(node, str(node.input[0]))
    dims = source.shape(node, slope)
    if math.prod(dims) == 1:
        return _one(node, {"prelu": {"shared": True}})
    aligned = (1,) * (len(shape) - len(dims)) + tuple(dims)
    if len(aligned) == len(shape) > 1 and aligned[1] == shape[1] == math.prod(aligned):
        return _one(node, {"prelu": {}})
    raise Unsupported("PRelu (a slope other than one per channel or one shared)")


def _softmax(ctx: Context, node: NodeProto) -> list[Out]:
    """Softmax over the channels (axis 1). Before opset 13 it flattened [N, d1, …] from its
    axis into 2-D, so on a map it ran over more than the channels."""
    source = ctx.source
    rank = len(source.shape(node, str(node.input[0])))
    modern = source.opset >= 13
    axis = int(attributes(node).get("axis", -1 if modern else 1))  # type: ignore[call-overload]
    if axis % rank != 1 or not (modern or rank == 2):
        raise Unsupported("Softmax (over other axes than the channels)")
    return _one(node, {"softmax": {}})


def clip_kind(ctx: Context, node: NodeProto) -> str | None:
    """relu6 for Clip(0, 6), relu for Clip(0, ∞); None for other bounds."""
    attrs = attributes(node)
    bounds = [float(attrs.get("min", -math.inf)), float(attrs.get("max", math.inf))]  # type: ignore[arg-type]
    for index in (1, 2):
        if len(node.input) > index and node.input[index]:
            tensor = str(node.input[index])
            if not ctx.source.is_constant(tensor):
                return None
            bounds[index - 1] = ctx.source.numbers(node, tensor)[0]
    if bounds == [0.0, 6.0]:
        return "relu6"
    return "relu" if bounds == [0.0, math.inf] else None


def _clip(ctx: Context, node: NodeProto) -> list[Out]:
    kind = clip_kind(ctx, node)
    if kind is None:
        raise Unsupported("Clip (bounds other than 0 and 6)")
    return _one(node, {kind: {}})


def _batchnorm(ctx: Context, node: NodeProto) -> list[Out]:
    eps = float(attributes(node).get("epsilon", _EPS_DEFAULT))  # type: ignore[arg-type]
    fields: dict[str, object] = {}
    if not math.isclose(eps, _EPS_DEFAULT, rel_tol=1e-6):
        fields["eps"] = float(f"{eps:.6g}")  # the float32 attribute, as written in PyTorch
    return _one(node, {"batchnorm": fields})


def _flat_or_same(ctx: Context, node: NodeProto, label: str) -> list[Out]:
    """Reshape, Flatten, Squeeze: the identity, or a flatten to [N, C·H·W]."""
    source = ctx.source
    before = source.shape(node, str(node.input[0]))
    after = source.shape(node, str(node.output[0]))
    if after == before:
        return _skip(ctx, node)
    if len(before) > 2 and after == (before[0], math.prod(before[1:])):
        return _one(node, {"flatten": {}})
    raise Unsupported(f"{label} (other than a flatten to [N, C·H·W])")


def _reshape(ctx: Context, node: NodeProto) -> list[Out]:
    return _flat_or_same(ctx, node, node.op_type)


def _flatten(ctx: Context, node: NodeProto) -> list[Out]:
    if int(attributes(node).get("axis", 1)) != 1:  # type: ignore[call-overload]
        raise Unsupported("Flatten (axis other than 1)")
    return _flat_or_same(ctx, node, "Flatten")


def _global_pool(ctx: Context, node: NodeProto) -> list[Out]:
    kind = "global_avgpool" if node.op_type == "GlobalAveragePool" else "global_maxpool"
    return _one(node, {kind: {}})


def _reduce(ctx: Context, node: NodeProto) -> list[Out]:
    """ReduceMean/ReduceMax over every spatial axis: a global pool (keepdims=0: and a flatten)."""
    source = ctx.source
    attrs = attributes(node)
    rank = len(source.shape(node, str(node.input[0])))
    if len(node.input) > 1 and node.input[1]:
        axes = source.ints(node, str(node.input[1]))
    else:
        axes = int_list(attrs.get("axes", []), "axes")
    normal = {axis % rank if rank else axis for axis in axes}
    if rank < 3 or normal != set(range(2, rank)):
        raise Unsupported(f"{node.op_type} (over axes other than every spatial one)")
    kind = "global_avgpool" if node.op_type == "ReduceMean" else "global_maxpool"
    if attrs.get("keepdims", 1):
        return _one(node, {kind: {}})
    return _one(node, {kind: {}}, {"flatten": {}})


def linear(ctx: Context, node: NodeProto, weight: str, *, transposed: bool, bias: bool) -> Layer:
    """A Gemm or MatMul with a constant weight on a flat input [N, K]."""
    source = ctx.source
    shape = source.shape(node, str(node.input[0]))
    if weight not in ctx.static:  # an initializer, or computed from one (a Transpose, a Cast)
        raise Unsupported(f"{node.op_type} (of two computed tensors)")
    dims = source.shape(node, weight)
    if len(shape) != 2 or len(dims) != 2:
        raise Unsupported(f"{node.op_type} (on an input other than [N, features])")
    out, features = dims if transposed else dims[::-1]
    if features != shape[1]:
        raise source.fail(
            node, f"the weight {list(dims)} does not fit the input's {shape[1]} features"
        )
    fields: dict[str, object] = {"out": out}
    if not bias:
        fields["bias"] = False
    return {"linear": fields}


def _gemm(ctx: Context, node: NodeProto) -> list[Out]:
    attrs = attributes(node)
    if attrs.get("transA", 0):
        raise Unsupported("Gemm (transA)")
    bias = len(node.input) > 2 and bool(node.input[2])
    transposed = bool(attrs.get("transB", 0))
    return _one(node, linear(ctx, node, str(node.input[1]), transposed=transposed, bias=bias))


def _matmul(ctx: Context, node: NodeProto) -> list[Out]:
    return _one(node, linear(ctx, node, str(node.input[1]), transposed=False, bias=False))


_MERGES: dict[str, Merge] = {"Add": "add", "Mul": "multiply", "Concat": "concat"}


def _elementwise(ctx: Context, node: NodeProto) -> list[Out]:
    """Add/Mul of tensors: a merge; Add/Sub/Mul/Div by a scalar constant: nothing."""
    source = ctx.source
    inputs = [str(name) for name in node.input]
    data = [name for name in inputs if name not in ctx.static]
    if not data:
        return _skip(ctx, node)  # a shape computation (never reached: the reader skips it)
    if len(data) == 1:
        constant = next(name for name in inputs if name in ctx.static)
        if math.prod(source.shapes.get(constant, (2,))) != 1:
            raise Unsupported(f"{node.op_type} (by a constant tensor)")
        return [Out(str(node.output[0]), (data[0],))]
    if node.op_type not in _MERGES or len(data) != len(inputs):
        raise Unsupported(f"{node.op_type} (of two tensors)")
    return [Out(str(node.output[0]), tuple(data), merge=_MERGES[node.op_type])]


def _concat(ctx: Context, node: NodeProto) -> list[Out]:
    rank = len(ctx.source.shape(node, str(node.output[0])))
    axis = int(attributes(node).get("axis", 1))  # type: ignore[call-overload]
    if axis % rank != 1:
        raise Unsupported("Concat (on an axis other than channels)")
    if any(str(name) in ctx.static for name in node.input):
        raise Unsupported("Concat (with a constant)")
    if len(node.input) == 1:
        return _skip(ctx, node)
    return [Out(str(node.output[0]), tuple(str(n) for n in node.input), merge="concat")]


def _chunk(ctx: Context, node: NodeProto, tensor: str, start: int, size: int) -> Out:
    channels = ctx.source.shape(node, str(node.input[0]))[1]
    if size < 1 or channels % size or start % size:
        raise Unsupported(f"{node.op_type} (into unequal channel parts)")
    return Out(
        tensor,
        (str(node.input[0]),),
        ({"split": {"parts": channels // size, "index": start // size}},),
    )


def _split(ctx: Context, node: NodeProto) -> list[Out]:
    source = ctx.source
    rank = len(source.shape(node, str(node.input[0])))
    if int(attributes(node).get("axis", 0)) % rank != 1:  # type: ignore[call-overload]
        raise Unsupported("Split (on an axis other than channels)")
    outs, start = [], 0
    for tensor in node.output:
        size = source.shape(node, str(tensor))[1]
        if tensor and (source.consumers.get(str(tensor)) or str(tensor) in source.outputs):
            outs.append(_chunk(ctx, node, str(tensor), start, size))
        start += size
    return outs


def _slice(ctx: Context, node: NodeProto) -> list[Out]:
    """Slice on channels, one equal chunk: ``x[:, a:b]``."""
    source = ctx.source
    before = source.shape(node, str(node.input[0]))
    after = source.shape(node, str(node.output[0]))
    changed = [axis for axis, (b, a) in enumerate(zip(before, after, strict=True)) if b != a]
    if changed == []:
        return _skip(ctx, node)
    if changed != [1] or len(node.input) < 3:
        raise Unsupported("Slice (other than a channel chunk)")
    starts = source.ints(node, str(node.input[1]))
    axes = (
        source.ints(node, str(node.input[3]))
        if len(node.input) > 3 and node.input[3]
        else tuple(range(len(starts)))
    )
    steps = source.ints(node, str(node.input[4])) if len(node.input) > 4 and node.input[4] else (1,)
    channel = [i for i, axis in enumerate(axes) if axis % len(before) == 1]
    if len(channel) != 1 or (len(steps) > channel[0] and steps[channel[0]] != 1):
        raise Unsupported("Slice (other than a channel chunk)")
    start = starts[channel[0]]
    start = max(0, min(start + before[1] if start < 0 else start, before[1]))
    return [_chunk(ctx, node, str(node.output[0]), start, after[1])]


CONVERTERS: dict[str, Converter] = {
    "Conv": ops_window.conv,
    "ConvTranspose": ops_window.conv_transpose,
    "MaxPool": ops_window.pool,
    "AveragePool": ops_window.pool,
    "GlobalAveragePool": _global_pool,
    "GlobalMaxPool": _global_pool,
    "ReduceMean": _reduce,
    "ReduceMax": _reduce,
    "BatchNormalization": _batchnorm,
    "LayerNormalization": ops_norm.layer_norm,
    "InstanceNormalization": ops_norm.instance_norm,
    "Relu": _activation("relu"),
    "Sigmoid": _activation("sigmoid"),
    "Tanh": _activation("tanh"),
    "HardSwish": _activation("hardswish"),
    "HardSigmoid": _hard_sigmoid,
    "Gelu": _gelu,
    "Mish": _activation("mish"),
    "Softmax": _softmax,
    "Elu": _elu,
    "Clip": _clip,
    "LeakyRelu": _leaky_relu,
    "PRelu": _prelu,
    "Resize": ops_spatial.resize,
    "DepthToSpace": ops_spatial.depth_to_space,
    "Upsample": _no_kind,
    "Identity": _skip,
    "Dropout": _skip,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Squeeze": _reshape,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Add": _elementwise,
    "Sub": _elementwise,
    "Mul": _elementwise,
    "Div": _elementwise,
    "Concat": _concat,
    "Split": _split,
    "Slice": _slice,
}
