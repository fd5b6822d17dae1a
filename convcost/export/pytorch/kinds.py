"""How each spec kind is written in PyTorch: one entry per kind name.

An entry turns one built layer into the constructor of its ``nn.Module`` (every layer is a
module, so the network's ``forward`` is a plain chain of calls and every layer can be hooked)
and the expression of its output channels. Values come from the built layer as literals, or as
the Python expression of a block parameter when the field is written ``$name`` / ``${expr}``
inside a block (:class:`Fields`), so that one class serves every use of the block.

A few kinds need a small module torch lacks (a channel split, a crop, LayerScale, a layernorm
over the channels of a map, self-attention); its source is in
:data:`convcost.export.pytorch.helpers.HELPERS` and the file defines it once, only when a layer
uses it. The merges (``concat``, ``add``, ``multiply``) are forward code, in :data:`MERGES`.
tests/test_export_pytorch.py checks that every kind the spec format knows is in
:data:`EMITTERS`, :data:`MERGES`, :data:`COMPOSITE` or :data:`UNSUPPORTED` (with its reason).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from convcost.layers import Layer, Shape
from convcost.layers.registry import declared_by
from convcost.valueclasses import dataclass


class Fields(Protocol):
    """A layer's fields as Python code, in the class being written."""

    @property
    def c(self) -> str:
        """The input channels: a literal, or ``ch`` (tracked as the block's ``__init__`` runs)."""

    def get(self, name: str, value: object) -> str:
        """Field ``name`` as code: its parameter expression when the spec writes it so inside a
        block (integer arithmetic over integer parameters), else the literal ``value`` (as
        torch takes it)."""

    def symbolic(self, name: str) -> bool:
        """Whether :meth:`get` gives a parameter expression for field ``name``."""


@dataclass(frozen=True, slots=True)
class Module:
    """One layer as PyTorch code."""

    code: str
    """The constructor, e.g. ``nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)``."""
    channels: str
    """The output channels as code (``ch`` when unchanged)."""
    helpers: tuple[str, ...] = ()
    """Names of the helper modules the constructor uses
    (:data:`convcost.export.pytorch.helpers.HELPERS`)."""


Emitter = Callable[[Any, Shape, Shape, Fields], Module]
"""(layer, input shape, output shape, fields) → the module."""


def literal(value: object) -> str:
    """Python source for a value: a per-axis tuple whose axes agree is one integer."""
    if isinstance(value, tuple) and value and len(set(value)) == 1 and type(value[0]) is int:
        return str(value[0])
    return source(value)


def source(value: object) -> str:
    """Python source that evaluates to ``value`` (``repr``, but an infinite or NaN float is
    ``float('inf')``: its repr is not Python)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float('{value}')"
    if isinstance(value, list):
        return f"[{', '.join(source(item) for item in value)}]"
    if isinstance(value, tuple):
        items = [source(item) for item in value]
        return f"({', '.join(items)}{',' if len(items) == 1 else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{source(k)}: {source(v)}" for k, v in value.items()) + "}"
    return repr(value)


def atom(code: str) -> str:
    """``code`` in parentheses unless it is a name or a number (an operand of ``*``, ``//``)."""
    return code if code.isidentifier() or code.isdigit() else f"({code})"


def _call(name: str, args: list[str], options: list[tuple[str, str, str | None]]) -> str:
    """``name(args…, key=code…)``, leaving out options whose code is their default."""
    parts = list(args)
    parts += [f"{key}={code}" for key, code, default in options if code != default]
    return f"{name}({', '.join(parts)})"


def _rank(shape: Shape) -> int:
    return max(len(shape) - 1, 1)


def _torch_pads(sides: tuple[tuple[int, int], ...]) -> str:
    """(before, after) per axis as torch's pad modules take them: the last axis first."""
    flat: list[int] = []
    for before, after in reversed(sides):
        flat += [before, after]
    return repr(tuple(flat))


# --- convolutions --------------------------------------------------------------------------


def _conv(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    rank = len(layer.kernel)
    kind = layer.label
    if kind == "depthwise":
        multiplier = layer.out // shape[0]
        mult = f.get("multiplier", multiplier)
        out_code = f.c if mult == "1" else f"{f.c} * {atom(mult)}"
        groups = f.c
    else:
        out_code = f.get("out", layer.out)
        groups = f.get("groups", layer.groups) if kind == "conv" else literal(layer.groups)
    kernel = literal(layer.kernel) if kind == "pointwise" else f.get("kernel", layer.kernel)
    stride = f.get("stride", layer.stride)
    dilation = f.get("dilation", layer.dilation) if kind != "pointwise" else "1"
    pads: tuple[tuple[int, int], ...] = layer.padding
    padding: str
    wrapper = None
    if f.symbolic("padding"):
        padding = f.get("padding", None)
    elif layer.padding_mode == "same":
        padding = "'same'"
    elif all(before == after for before, after in pads):
        padding = literal(tuple(before for before, _ in pads))
    else:  # uneven sides: an explicit zero pad first
        padding = "0"
        wrapper = f"nn.ConstantPad{rank}d({_torch_pads(pads)}, 0.0)"
    code = _call(
        f"nn.Conv{rank}d",
        [f.c, out_code, kernel],
        [
            ("stride", stride, "1"),
            ("padding", padding, "0"),
            ("dilation", dilation, "1"),
            ("groups", groups, "1"),
            ("bias", repr(layer.bias), "True"),
        ],
    )
    if wrapper is not None:
        code = f"nn.Sequential({wrapper}, {code})"
    return Module(code, out_code)


def _conv_transpose(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    rank = len(layer.kernel)
    out_code = f.get("out", layer.out)
    code = _call(
        f"nn.ConvTranspose{rank}d",
        [f.c, out_code, f.get("kernel", layer.kernel)],
        [
            ("stride", f.get("stride", layer.stride), "1"),
            ("padding", f.get("padding", layer.padding), "0"),
            ("output_padding", f.get("output_padding", layer.output_padding), "0"),
            ("groups", f.get("groups", layer.groups), "1"),
            ("bias", repr(layer.bias), "True"),
            ("dilation", f.get("dilation", layer.dilation), "1"),
        ],
    )
    return Module(code, out_code)


# --- pools ---------------------------------------------------------------------------------


def _maxpool(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    code = _call(
        f"nn.MaxPool{len(layer.kernel)}d",
        [f.get("kernel", layer.kernel)],
        [
            ("stride", f.get("stride", layer.stride), None),
            ("padding", f.get("padding", layer.padding), "0"),
            ("dilation", f.get("dilation", layer.dilation), "1"),
            ("ceil_mode", repr(layer.ceil_mode), "False"),
        ],
    )
    return Module(code, f.c)


def _avgpool(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    # count_include_pad=True (PyTorch's default) is what convcost and its executor divide by
    code = _call(
        f"nn.AvgPool{len(layer.kernel)}d",
        [f.get("kernel", layer.kernel)],
        [
            ("stride", f.get("stride", layer.stride), None),
            ("padding", f.get("padding", layer.padding), "0"),
            ("ceil_mode", repr(layer.ceil_mode), "False"),
        ],
    )
    return Module(code, f.c)


def _global_pool(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    which = "Max" if layer.reduction == "max" else "Avg"
    return Module(f"nn.Adaptive{which}Pool{_rank(shape)}d(1)", f.c)


def _adaptive_pool(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    which = "Max" if layer.reduction == "max" else "Avg"
    return Module(f"nn.Adaptive{which}Pool{_rank(shape)}d({f.get('size', layer.size)})", f.c)


# --- normalisation, scaling ----------------------------------------------------------------


def _eps(value: float) -> tuple[str, str, str | None]:
    return ("eps", literal(value), "1e-05")


def _batchnorm(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    # momentum is not in the spec: PyTorch's default (0.1)
    return Module(_call(f"nn.BatchNorm{_rank(shape)}d", [f.c], [_eps(layer.eps)]), f.c)


def _layernorm(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    affine = ("elementwise_affine", repr(layer.affine), "True")
    if layer.over == "all":
        return Module(_call("nn.LayerNorm", [repr(list(shape))], [_eps(layer.eps), affine]), f.c)
    if len(shape) == 1:
        return Module(_call("nn.LayerNorm", [f.c], [_eps(layer.eps), affine]), f.c)
    code = _call("ChannelLayerNorm", [f.c], [_eps(layer.eps), affine])
    return Module(code, f.c, ("ChannelLayerNorm",))


def _groupnorm(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    code = _call(
        "nn.GroupNorm",
        [f.get("groups", layer.groups), f.c],
        [_eps(layer.eps), ("affine", repr(layer.affine), "True")],
    )
    return Module(code, f.c)


def _instancenorm(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    # PyTorch's default: no running statistics, as convcost's instancenorm
    code = _call(
        f"nn.InstanceNorm{_rank(shape)}d",
        [f.c],
        [_eps(layer.eps), ("affine", repr(layer.affine), "False")],
    )
    return Module(code, f.c)


def _layer_scale(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    return Module(f"LayerScale({f.c}, {literal(layer.init)})", f.c, ("LayerScale",))


# --- elementwise ---------------------------------------------------------------------------

_ACTIVATIONS = {
    "relu": "nn.ReLU()",
    "relu6": "nn.ReLU6()",
    "sigmoid": "nn.Sigmoid()",
    "swish": "nn.SiLU()",
    "silu": "nn.SiLU()",
    "gelu": "nn.GELU()",
    "gelu_tanh": "nn.GELU(approximate='tanh')",
    "tanh": "nn.Tanh()",
    "hardswish": "nn.Hardswish()",
    "hardsigmoid": "nn.Hardsigmoid()",
    "mish": "nn.Mish()",
}


def _activation(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    return Module(_ACTIVATIONS[layer.function.value], f.c)


def _leaky_relu(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    return Module(f"nn.LeakyReLU({literal(layer.slope)})", f.c)


def _prelu(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    return Module(f"nn.PReLU({'1' if layer.shared else f.c})", f.c)


def _elu(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    return Module(f"nn.ELU({literal(layer.alpha)})", f.c)


def _softmax(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    return Module("nn.Softmax(dim=1)", f.c)  # over the channels (a flat input's features)


# --- shape changes -------------------------------------------------------------------------


def _identity(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    return Module("nn.Identity()", f.c)


def _dropout(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    p = literal(layer.p)
    if layer.mode == "spatial":  # whole channels when training (Dropout2d …)
        return Module(f"nn.Dropout{_rank(shape)}d({p})", f.c)
    return Module(f"nn.Dropout({p})", f.c)


def _flatten(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    return Module("nn.Flatten()", literal(out[0]))


def _linear(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    out_code = f.get("out", layer.out)
    code = _call("nn.Linear", [f.c, out_code], [("bias", repr(layer.bias), "True")])
    return Module(code, out_code)


def _channel_shuffle(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    return Module(f"ChannelShuffle({f.get('groups', layer.groups)})", f.c, ("ChannelShuffle",))


def _split(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    parts = f.get("parts", layer.parts)
    code = f"Split({parts}, {f.get('index', layer.index)})"
    return Module(code, f"{f.c} // {atom(parts)}", ("Split",))


def _upsample(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    if layer.size:
        target = ("size", f.get("size", layer.size), None)
    else:
        target = ("scale_factor", f.get("scale", layer.scale), None)
    align = layer.mode in ("linear", "bilinear", "trilinear", "bicubic")
    options = [target, ("mode", repr(layer.mode), "'nearest'")]
    if align:
        options.append(("align_corners", repr(layer.align_corners), None))
    return Module(_call("nn.Upsample", [], options), f.c)


def _pixel_shuffle(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    factor = atom(f.get("factor", layer.factor))
    return Module(f"nn.PixelShuffle({factor})", f"{f.c} // ({factor} * {factor})")


def _pixel_unshuffle(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    factor = atom(f.get("factor", layer.factor))
    return Module(f"nn.PixelUnshuffle({factor})", f"{f.c} * {factor} ** {len(shape) - 1}")


_PAD_MODULES = {
    "constant": "ConstantPad",
    "reflect": "ReflectionPad",
    "replicate": "ReplicationPad",
}


def _pad(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    name = f"nn.{_PAD_MODULES[layer.mode]}{_rank(shape)}d"
    args = [_torch_pads(layer.padding)]
    if layer.mode == "constant":
        args.append(literal(float(layer.value)))
    return Module(f"{name}({', '.join(args)})", f.c)


def _crop(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    return Module(f"Crop({layer.sides(shape)!r})", f.c, ("Crop",))


def _attention(layer: Any, shape: Shape, out: Shape, f: Fields) -> Module:
    code = _call(
        "SelfAttention",
        [f.c, literal(layer.heads), literal(layer.key_dim), literal(layer.value_dim)],
        [
            ("out", literal(layer.out), "None"),
            ("bias", repr(layer.bias), "True"),
            ("relative", repr(tuple(shape[1:]) if layer.relative else None), "None"),
        ],
    )
    return Module(code, literal(out[0]), ("SelfAttention",))


EMITTERS: Mapping[str, Emitter] = {
    "conv": _conv,
    "depthwise": _conv,
    "pointwise": _conv,
    "conv_transpose": _conv_transpose,
    "maxpool": _maxpool,
    "avgpool": _avgpool,
    "global_avgpool": _global_pool,
    "global_maxpool": _global_pool,
    "adaptive_avgpool": _adaptive_pool,
    "adaptive_maxpool": _adaptive_pool,
    "batchnorm": _batchnorm,
    **dict.fromkeys(declared_by("activation"), _activation),  # by Activation.function
    "identity": _identity,
    "dropout": _dropout,
    "flatten": _flatten,
    "linear": _linear,
    "channel_shuffle": _channel_shuffle,
    "split": _split,
    "leaky_relu": _leaky_relu,
    "prelu": _prelu,
    "elu": _elu,
    "softmax": _softmax,
    "upsample": _upsample,
    "pixel_shuffle": _pixel_shuffle,
    "pixel_unshuffle": _pixel_unshuffle,
    "pad": _pad,
    "crop": _crop,
    "attention": _attention,
    "layer_scale": _layer_scale,
    "layernorm": _layernorm,
    "groupnorm": _groupnorm,
    "instancenorm": _instancenorm,
}
"""Spec kind → its module. ``separable`` is built as a depthwise and a pointwise layer, which
the file holds as one ``nn.Sequential`` under the separable's name."""

MERGES: Mapping[str, str] = {
    "concat": "torch.cat([{}], dim=1)",
    "add": "{}",
    "multiply": "{}",
}
"""Merge kind → its forward expression around the branches (joined by :data:`JOINERS`)."""

JOINERS: Mapping[str, str] = {"concat": ", ", "add": " + ", "multiply": " * "}

UNSUPPORTED: Mapping[str, str] = {
    "custom": "a custom layer states only its costs, not what it computes",
}
"""Kinds that cannot be exported, with the reason the error gives."""

COMPOSITE = frozenset({"separable"})
"""Kinds built as several layers (each exported by its own entry)."""


def emit(layer: Layer, shape: Shape, out: Shape, fields: Fields) -> Module:
    """``layer`` (on input ``shape``, output ``out``) as a module."""
    return EMITTERS[layer.kind](layer, shape, out, fields)
