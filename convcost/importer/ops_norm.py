"""LayerNormalization and InstanceNormalization: ``layernorm`` and ``instancenorm``.

GroupNorm has no single ONNX operator below opset 21: PyTorch's exporters write it as Reshape,
InstanceNormalization, Reshape, Mul, Add, which is not fused here (its Reshape to [N, G, −1] is
reported as unsupported).
"""

from __future__ import annotations

import math
import re
from typing import Any

from convcost.importer.ops_graph import attributes
from convcost.importer.ops_result import Context, Out, Unsupported

_EPS_DEFAULT = 1e-5
"""Both operators' default epsilon, and PyTorch's."""
_GENERATED = re.compile(r"val_\d+|onnx::.*|_val_\d+")
"""Names the exporters give constants of their own (the dynamo exporter's ``val_7``)."""


def _fields(node: Any, **fields: object) -> dict[str, object]:
    eps = float(attributes(node).get("epsilon", _EPS_DEFAULT))  # type: ignore[arg-type]
    if not math.isclose(eps, _EPS_DEFAULT, rel_tol=1e-6):
        fields["eps"] = float(f"{eps:.6g}")  # the float32 attribute, as written in PyTorch
    return fields


def _one(node: Any, kind: str, fields: dict[str, object]) -> list[Out]:
    return [Out(str(node.output[0]), (str(node.input[0]),), ({kind: fields},))]


def layer_norm(ctx: Context, node: Any) -> list[Out]:
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


def instance_norm(ctx: Context, node: Any) -> list[Out]:
    """``nn.InstanceNorm1d/2d/3d``: affine when its scale is a learned initializer. The
    operator always takes a scale and a shift; for ``affine=False`` the TorchScript exporter
    writes them as Constant nodes and the dynamo exporter as initializers it names ``val_N``."""
    scale = str(node.input[1])
    affine = scale in ctx.source.initializers and not _GENERATED.fullmatch(scale)
    return _one(node, "instancenorm", _fields(node, **({"affine": True} if affine else {})))
