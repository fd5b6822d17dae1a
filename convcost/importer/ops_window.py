"""Convolutions and pools: ONNX's kernel, strides, pads and auto_pad as convcost fields."""

from __future__ import annotations

from convcost.importer.onnx_proto import NodeProto
from convcost.importer.ops_graph import attributes, int_list
from convcost.importer.ops_result import Context, Out, Unsupported
from convcost.layers import geometry


def per_axis(values: tuple[int, ...]) -> object:
    """A per-axis field as a spec writes it: one int when every axis agrees."""
    return values[0] if len(set(values)) == 1 else list(values)


def _fields(
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    *,
    stride_default: tuple[int, ...],
) -> dict[str, object]:
    fields: dict[str, object] = {"kernel": per_axis(kernel)}
    if stride != stride_default:
        fields["stride"] = per_axis(stride)
    if any(d != 1 for d in dilation):
        fields["dilation"] = per_axis(dilation)
    return fields


def _pads(
    ctx: Context,
    node: NodeProto,
    sizes: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
) -> tuple[tuple[int, int], ...]:
    """Explicit (before, after) pads per spatial axis, auto_pad resolved, a folded Pad added."""
    attrs = attributes(node)
    rank = len(sizes)
    auto = str(attrs.get("auto_pad", "NOTSET"))
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pairs = []
        for size, k, s, d in zip(sizes, kernel, stride, dilation, strict=True):
            total = max((-(-size // s) - 1) * s + geometry.effective(k, d) - size, 0)
            small, large = total // 2, total - total // 2
            pairs.append((small, large) if auto == "SAME_UPPER" else (large, small))
    elif auto == "VALID":
        pairs = [(0, 0)] * rank
    elif auto == "NOTSET":
        pads = int_list(attrs.get("pads", [0] * 2 * rank), "pads")
        if len(pads) != 2 * rank or min(pads) < 0:
            raise ctx.source.fail(node, f"pads {list(pads)} do not fit {rank} spatial axes")
        pairs = list(zip(pads[:rank], pads[rank:], strict=True))
    else:
        raise ctx.source.fail(node, f"unknown auto_pad {auto!r}")
    extra = ctx.folded_pads.get(str(node.input[0]))
    if extra is not None:
        pairs = [(b + extra[i], a + extra[rank + i]) for i, (b, a) in enumerate(pairs)]
    return tuple(pairs)


def _window(ctx: Context, node: NodeProto) -> tuple[tuple[int, ...], ...]:
    """(input sizes, kernel, stride, dilation) of a windowed node."""
    attrs = attributes(node)
    shape = ctx.source.shape(node, str(node.input[0]))
    sizes = shape[2:]
    if not sizes:
        raise ctx.source.fail(node, f"needs a spatial input [N, C, ...], got {list(shape)}")
    if "kernel_shape" in attrs:
        kernel = int_list(attrs["kernel_shape"], "kernel_shape")
    else:
        kernel = ctx.source.shape(node, str(node.input[1]))[2:]
    stride = int_list(attrs.get("strides", [1] * len(sizes)), "strides")
    dilation = int_list(attrs.get("dilations", [1] * len(sizes)), "dilations")
    if not len(kernel) == len(stride) == len(dilation) == len(sizes):
        raise ctx.source.fail(
            node, "kernel_shape, strides and dilations must have one value per axis"
        )
    return sizes, kernel, stride, dilation


def _has_bias(ctx: Context, node: NodeProto) -> bool:
    """Whether a conv has a bias parameter: an initializer (a bias computed by the graph, such
    as the zeros the dynamo exporter expands for ``bias=False`` without optimisation, is not)."""
    return len(node.input) > 2 and ctx.source.is_constant(str(node.input[2]))


def conv(ctx: Context, node: NodeProto) -> list[Out]:
    sizes, kernel, stride, dilation = _window(ctx, node)
    weight = str(node.input[1])
    if weight not in ctx.static:  # an initializer, or computed from one (a Cast)
        raise Unsupported("Conv (with a computed weight)")
    weight_shape = ctx.source.shape(node, weight)
    groups = int(attributes(node).get("group", 1))  # type: ignore[call-overload]
    fields: dict[str, object] = {"out": weight_shape[0]}
    fields |= _fields(kernel, stride, dilation, stride_default=(1,) * len(sizes))
    pairs = _pads(ctx, node, sizes, kernel, stride, dilation)
    if any(b != a for b, a in pairs):
        fields["padding"] = [list(pair) for pair in pairs]
    elif any(b for b, _ in pairs):
        fields["padding"] = per_axis(tuple(b for b, _ in pairs))
    if groups != 1:
        fields["groups"] = groups
    if not _has_bias(ctx, node):
        fields["bias"] = False
    return [Out(str(node.output[0]), (str(node.input[0]),), ({"conv": fields},))]


def conv_transpose(ctx: Context, node: NodeProto) -> list[Out]:
    sizes, kernel, stride, dilation = _window(ctx, node)
    attrs = attributes(node)
    rank = len(sizes)
    weight_shape = ctx.source.shape(node, str(node.input[1]))
    groups = int(attrs.get("group", 1))  # type: ignore[call-overload]
    output_padding = list(int_list(attrs.get("output_padding", [0] * rank), "output_padding"))
    out_sizes = ctx.source.shape(node, str(node.output[0]))[2:]
    padding = []
    for axis in range(rank):
        # ONNX: out = s·(in − 1) + op + d·(k − 1) + 1 − (begin + end); torch pads both ends by p
        full = stride[axis] * (sizes[axis] - 1) + output_padding[axis]
        total = full + geometry.effective(kernel[axis], dilation[axis]) - out_sizes[axis]
        if total < 0:
            raise Unsupported("ConvTranspose (negative padding)")
        # an odd total is one more output pixel cropped at one end: as torch, pad ⌈total/2⌉
        # on both ends and take the pixel back with output_padding (same shape, same MACs)
        padding.append(-(-total // 2))
        output_padding[axis] += 2 * padding[axis] - total
    fields: dict[str, object] = {"out": weight_shape[1] * groups}
    fields |= _fields(kernel, stride, dilation, stride_default=(1,) * rank)
    if any(padding):
        fields["padding"] = per_axis(tuple(padding))
    if any(output_padding):
        fields["output_padding"] = per_axis(tuple(output_padding))
    if groups != 1:
        fields["groups"] = groups
    if not _has_bias(ctx, node):
        fields["bias"] = False
    return [Out(str(node.output[0]), (str(node.input[0]),), ({"conv_transpose": fields},))]


def pool(ctx: Context, node: NodeProto) -> list[Out]:
    sizes, kernel, stride, dilation = _window(ctx, node)
    attrs = attributes(node)
    kind = "maxpool" if node.op_type == "MaxPool" else "avgpool"
    if len(node.output) > 1 and node.output[1]:
        raise Unsupported("MaxPool (with indices)")
    pairs = _pads(ctx, node, sizes, kernel, stride, dilation)
    if any(b != a for b, a in pairs):
        raise Unsupported(f"{node.op_type} (asymmetric pads)")
    padding = tuple(b for b, _ in pairs)
    if any(2 * p > k for p, k in zip(padding, kernel, strict=True)):
        raise Unsupported(f"{node.op_type} (padding above half the kernel)")
    fields = _fields(kernel, stride, dilation, stride_default=kernel)
    if kind == "avgpool" and "dilation" in fields:
        raise Unsupported("AveragePool (dilated)")
    if any(padding):
        fields["padding"] = per_axis(padding)
        if kind == "avgpool" and not attrs.get("count_include_pad", 0):
            ctx.note(
                node,
                "AveragePool leaves the padding out of the average (count_include_pad=0);"
                " convcost's avgpool counts it, as PyTorch's default: shapes and costs are the"
                " same, --execute values at the border differ",
            )
    if attrs.get("ceil_mode", 0):
        fields["ceil_mode"] = True
    return [Out(str(node.output[0]), (str(node.input[0]),), ({kind: fields},))]


def pad_fold(ctx: Context, node: NodeProto) -> tuple[int, ...] | None:
    """A Pad's spatial pads when every reader can take them into its own padding exactly."""
    source = ctx.source
    attrs = attributes(node)
    if str(attrs.get("mode", "constant")) != "constant":
        return None
    if len(node.input) > 1 and node.input[1]:
        pads = source.ints(node, str(node.input[1]))
    else:
        pads = int_list(attrs.get("pads", []), "pads")
    value = 0.0
    if len(node.input) > 2 and node.input[2]:
        value = source.numbers(node, str(node.input[2]))[0]
    if len(node.input) > 3 and node.input[3]:
        return None  # pads on chosen axes only: rare, not folded
    rank = len(pads) // 2
    if rank < 3 or min(pads) < 0 or any(pads[i] or pads[rank + i] for i in (0, 1)):
        return None  # batch or channel pads, or a crop
    spatial = pads[2:rank] + pads[rank + 2 :]
    tensor = str(node.output[0])
    readers = source.users(tensor)
    if not readers or tensor in source.outputs:
        return None
    for reader in readers:
        if (
            str(reader.input[0]) != tensor
            or str(attributes(reader).get("auto_pad", "NOTSET")) != "NOTSET"
        ):
            return None
        if reader.op_type in ("Conv", "ConvTranspose"):
            ok = value == 0.0 and reader.op_type == "Conv"
        elif reader.op_type == "AveragePool":
            ok = value == 0.0 and bool(attributes(reader).get("count_include_pad", 0))
        elif reader.op_type == "MaxPool":
            ok = value == float("-inf")
        else:
            ok = False
        if not ok:
            return None
    return spatial
