"""ONNX's resampling operators as convcost's spatial kinds: Resize → ``upsample``,
DepthToSpace (CRD) → ``pixel_shuffle``, a Pad no conv or pool can take → ``pad``."""

from __future__ import annotations

from typing import Any

from convcost.importer.onnx_proto import NodeProto
from convcost.importer.ops_graph import attributes, int_list
from convcost.importer.ops_result import Context, Out, Unsupported

_LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}
_CORNERS = {"half_pixel": False, "pytorch_half_pixel": False, "align_corners": True}
"""Resize's coordinate transformations F.interpolate exports (``half_pixel`` differs from
PyTorch's only on an output axis of size 1)."""
_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}


def _text(attrs: dict[str, Any], name: str, default: str) -> str:
    value = attrs.get(name, default)
    return value.decode() if isinstance(value, bytes) else str(value)


def _mode(node: NodeProto, rank: int) -> dict[str, Any]:
    attrs = attributes(node)
    mode = _text(attrs, "mode", "nearest")
    transform = _text(attrs, "coordinate_transformation_mode", "half_pixel")
    if int(attrs.get("antialias", 0)) or int(attrs.get("exclude_outside", 0)):  # type: ignore[call-overload]
        raise Unsupported("Resize (antialias or exclude_outside)")
    if mode == "nearest":
        if (
            transform != "asymmetric"
            or _text(attrs, "nearest_mode", "round_prefer_floor") != "floor"
        ):
            raise Unsupported("Resize (nearest other than PyTorch's: asymmetric, floor)")
        return {"mode": "nearest"}
    if transform not in _CORNERS:
        raise Unsupported(f"Resize ({transform} coordinates)")
    if mode == "linear" and rank in _LINEAR:
        kind = _LINEAR[rank]
    elif mode == "cubic" and rank == 2 and float(attrs.get("cubic_coeff_a", -0.75)) == -0.75:  # type: ignore[arg-type]
        kind = "bicubic"
    else:
        raise Unsupported(f"Resize ({mode} on {rank} spatial axes)")
    return {"mode": kind, "align_corners": _CORNERS[transform]}


def resize(ctx: Context, node: NodeProto) -> list[Out]:
    """``upsample`` by ``scale`` when every spatial axis grows by a whole factor, else to ``size``."""
    source = ctx.source
    before = source.shape(node, str(node.input[0]))
    after = source.shape(node, str(node.output[0]))
    if len(before) < 3 or before[:2] != after[:2]:
        raise Unsupported("Resize (of the batch or channel axis)")
    fields = _mode(node, len(before) - 2)
    pairs = list(zip(before[2:], after[2:], strict=True))
    if all(m % n == 0 for n, m in pairs):
        fields = {"scale": [m // n for n, m in pairs], **fields}
    else:
        fields = {"size": list(after[2:]), **fields}
    if not fields.get("align_corners", True):
        del fields["align_corners"]
    return [Out(str(node.output[0]), (str(node.input[0]),), ({"upsample": fields},))]


def depth_to_space(ctx: Context, node: NodeProto) -> list[Out]:
    """DepthToSpace in CRD order is ``nn.PixelShuffle`` (DCR orders channels differently)."""
    attrs = attributes(node)
    if _text(attrs, "mode", "DCR") != "CRD":
        raise Unsupported("DepthToSpace (DCR order; PyTorch's pixel_shuffle is CRD)")
    factor = int(attrs["blocksize"])  # type: ignore[call-overload]
    return [
        Out(str(node.output[0]), (str(node.input[0]),), ({"pixel_shuffle": {"factor": factor}},))
    ]


def pad(ctx: Context, node: NodeProto) -> list[Out]:
    """A Pad of the spatial axes only, by amounts >= 0, as ``pad``."""
    source = ctx.source
    attrs = attributes(node)
    mode = _text(attrs, "mode", "constant")
    if mode not in _PAD_MODES:
        raise Unsupported(f"Pad ({mode})")
    if len(node.input) > 3 and node.input[3]:
        raise Unsupported("Pad (on chosen axes)")
    if len(node.input) > 1 and node.input[1]:
        pads = source.ints(node, str(node.input[1]))
    else:
        pads = int_list(attrs.get("pads", []), "pads")
    rank = len(pads) // 2
    if rank < 3 or min(pads) < 0 or any(pads[i] or pads[rank + i] for i in (0, 1)):
        raise Unsupported("Pad (of the batch or channel axis, or negative)")
    fields: dict[str, Any] = {
        "padding": [[pads[axis], pads[rank + axis]] for axis in range(2, rank)],
        "mode": _PAD_MODES[mode],
    }
    if mode == "constant" and len(node.input) > 2 and node.input[2]:
        value = source.numbers(node, str(node.input[2]))[0]
        if value:
            fields["value"] = value
    return [Out(str(node.output[0]), (str(node.input[0]),), ({"pad": fields},))]
