"""LayerNormalization and InstanceNormalization: ``layernorm`` and ``instancenorm``.

A LayerNormalization over the channels of a channels-last map, and GroupNorm (Reshape,
InstanceNormalization, Reshape, Mul, Add below opset 21), are patterns of several nodes: see
``fusions``.
"""

from __future__ import annotations

import math
import re

from convcost.importer.onnx_proto import NodeProto
from convcost.importer.ops_graph import MAX_CONSTANT_ELEMENTS, attributes
from convcost.importer.ops_result import Context, Layer, Out, Unsupported

_EPS_DEFAULT = 1e-5
"""Both operators' default epsilon, and PyTorch's."""
_GENERATED = re.compile(r"val_\d+|onnx::.*|_val_\d+")
"""Names the exporters give constants of their own (the dynamo exporter's ``val_7``)."""


def _fields(node: NodeProto, **fields: object) -> dict[str, object]:
    eps = float(attributes(node).get("epsilon", _EPS_DEFAULT))  # type: ignore[arg-type]
    if not math.isclose(eps, _EPS_DEFAULT, rel_tol=1e-6):
        fields["eps"] = float(f"{eps:.6g}")  # the float32 attribute, as written in PyTorch
    return fields


def _one(node: NodeProto, kind: str, fields: dict[str, object]) -> list[Out]:
    return [Out(str(node.output[0]), (str(node.input[0]),), ({kind: fields},))]


def layer_norm(ctx: Context, node: NodeProto) -> list[Out]:
    """Over the last axis of a flat [N, F] (``nn.LayerNorm(F)``), or over every axis but the
    batch's of a map (``nn.LayerNorm([C, H, W])``)."""
    rank = len(ctx.source.shape(node, str(node.input[0])))
    axis = int(attributes(node).get("axis", -1))  # type: ignore[call-overload]
    axis = axis + rank if axis < 0 else axis
    if len(node.input) < 3 or not node.input[2]:
        raise Unsupported("LayerNormalization (without a bias)")
    if axis != 1:
        raise Unsupported("LayerNormalization (other than over a flat input or a whole map)")
    return _one(node, "layernorm", _fields(node, **({"over": "all"} if rank > 2 else {})))


def layer_norm_last(ctx: Context, node: NodeProto) -> Layer | None:
    """A LayerNormalization over the last axis alone of a channels-last map (torchvision's
    ``LayerNorm2d`` and ConvNeXt block's ``nn.LayerNorm(C)`` between permutes) as the layer it
    is on the channels-first map: ``layernorm`` over the channels; None for any other."""
    shape = ctx.source.shapes.get(str(node.input[0]))
    if shape is None or len(node.input) < 3 or not node.input[2]:
        return None
    axis = int(attributes(node).get("axis", -1))  # type: ignore[call-overload]
    if axis % len(shape) != len(shape) - 1:
        return None
    return {"layernorm": _fields(node)}


def learned(ctx: Context, node: NodeProto, scale: str, shift: str) -> bool:
    """Whether a norm's scale and shift are learned parameters rather than PyTorch's
    ``affine=False`` ones and zeros, which the exporters write as constants of their own.

    A learned scale is an initializer of the module's (``norm.weight``); the exporters' own
    constants are Constant nodes or initializers they name (``val_7``, ``onnx::Mul_16``). Both
    exporters also rename GroupNorm's γ (reshaped to [C, 1, 1]), so a scale that is not all
    ones, or a shift not all zeros, is learned too: only an affine layer still at PyTorch's
    initial γ = 1, β = 0 and exported under such a name reads as ``affine: false``.
    """
    source = ctx.source
    if scale in source.initializers and not _GENERATED.fullmatch(scale):
        return True
    for tensor, neutral in ((scale, 1.0), (shift, 0.0)):
        proto = source.tensor_proto(tensor)
        if proto is None or math.prod(int(d) for d in proto.dims) > MAX_CONSTANT_ELEMENTS:
            return True  # computed at run time, or too large to be the exporter's filler
        if any(v != neutral for v in source.numbers(node, tensor)):
            return True
    return False


def instance_norm(ctx: Context, node: NodeProto) -> list[Out]:
    """``nn.InstanceNorm1d/2d/3d``: affine when its scale is a learned initializer. The
    operator always takes a scale and a shift; for ``affine=False`` the TorchScript exporter
    writes them as Constant nodes and the dynamo exporter as initializers it names ``val_N``."""
    affine = learned(ctx, node, str(node.input[1]), str(node.input[2]))
    return _one(node, "instancenorm", _fields(node, **({"affine": True} if affine else {})))
