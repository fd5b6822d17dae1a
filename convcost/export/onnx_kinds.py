"""Each layer kind as ONNX nodes (opset :data:`OPSET`): one writer per kind name, or the
reason a kind cannot be exported.

A writer gets the graph, the layer's node (its path, layer and shapes), the name of its input
tensor and its parameter arrays exactly as :func:`convcost.executor.prepare` allocated them
(the kernels' layout), and returns the name of its output tensor (the layer's path). Arrays are
rearranged here into ONNX's (PyTorch's) layout with their own methods, so NumPy and ONNX
Runtime run on the same values. Multi-node layers are written in the forms PyTorch's exporters
write them (the erf GELU, Reshape·Transpose·Reshape for a channel shuffle), which
:mod:`convcost.importer` reads back as one layer. tests/test_export_onnx.py checks that every
name in ``KIND_NAMES`` is in :data:`WRITERS` or :data:`UNSUPPORTED`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from convcost.executor.kernels_conv import torch_weight
from convcost.export.onnx_attention import attention
from convcost.export.onnx_graph import Graph
from convcost.layers.activation import Activation, Function
from convcost.layers.batchnorm import BatchNorm
from convcost.layers.border import Crop, Pad
from convcost.layers.conv import Conv, ConvTranspose
from convcost.layers.layer_scale import LayerScale
from convcost.layers.normalization import GroupNorm, InstanceNorm, LayerNorm
from convcost.layers.pixel_shuffle import PixelShuffle, PixelUnshuffle
from convcost.layers.pool import AdaptivePool, AvgPool, GlobalPool, MaxPool, WindowPool
from convcost.layers.rectifiers import Elu, LeakyRelu, Prelu
from convcost.layers.registry import declared_by
from convcost.layers.shuffle import ChannelShuffle, Split
from convcost.layers.upsample import Upsample
from convcost.network import LayerNode

OPSET = 17
"""The ONNX opset written: LayerNormalization's first (ONNX 1.12, 2022), read by every
onnxruntime since 1.12. Gelu (opset 20) and Mish (18) are written as their PyTorch-exporter
decompositions instead."""

Writer = Callable[[Graph, LayerNode, str, tuple[Any, ...]], str]


class Unexportable(Exception):
    """A layer whose settings ONNX cannot express (the exporter names the layer)."""


def _pads(pairs: tuple[tuple[int, int], ...]) -> list[int]:
    """ONNX ``pads``: every axis's start, then every axis's end."""
    return [lo for lo, _ in pairs] + [hi for _, hi in pairs]


def _channel_vector(values: Any, rank: int) -> Any:
    """A per-channel vector shaped ``(C, 1, …)`` to broadcast over a ``(N, C, *spatial)`` map."""
    return values.reshape((values.shape[0],) + (1,) * rank)


def _conv(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    layer = node.layer
    assert isinstance(layer, Conv)
    weight = torch_weight(
        arrays[0], node.input_shape[0], layer.out, layer.kernel, layer.stride, layer.groups
    )
    inputs = [x, g.array(f"{node.path}.weight", weight)]
    if layer.bias:
        inputs.append(g.array(f"{node.path}.bias", arrays[1]))
    return g.op(
        "Conv",
        inputs,
        node.path,
        name=node.path,
        kernel_shape=list(layer.kernel),
        strides=list(layer.stride),
        pads=_pads(layer.padding),
        dilations=list(layer.dilation),
        group=layer.groups,
    )


def _conv_transpose(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    layer = node.layer
    assert isinstance(layer, ConvTranspose)
    channels, rank = node.input_shape[0], len(layer.kernel)
    og = layer.out // layer.groups
    # (groups, C_in/g, (*kernel, out/g)) → (C_in, out/g, *kernel)
    grouped = arrays[0].reshape(layer.groups, channels // layer.groups, *layer.kernel, og)
    order = (0, 1, rank + 2, *range(2, rank + 2))
    weight = grouped.transpose(order).reshape(channels, og, *layer.kernel)
    inputs = [x, g.array(f"{node.path}.weight", weight)]
    if layer.bias:
        inputs.append(g.array(f"{node.path}.bias", arrays[1]))
    return g.op(
        "ConvTranspose",
        inputs,
        node.path,
        name=node.path,
        kernel_shape=list(layer.kernel),
        strides=list(layer.stride),
        pads=list(layer.padding) * 2,
        output_padding=list(layer.output_padding),
        dilations=list(layer.dilation),
        group=layer.groups,
    )


def _window_pool(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    layer = node.layer
    assert isinstance(layer, WindowPool)
    common: dict[str, Any] = {
        "kernel_shape": list(layer.kernel),
        "strides": list(layer.stride),
        "pads": list(layer.padding) * 2,
        "ceil_mode": int(layer.ceil_mode),
    }
    if isinstance(layer, MaxPool):
        return g.op(
            "MaxPool", [x], node.path, name=node.path, dilations=list(layer.dilation), **common
        )
    assert isinstance(layer, AvgPool)
    # PyTorch's default count_include_pad=True (as the executor's kernel)
    return g.op("AveragePool", [x], node.path, name=node.path, count_include_pad=1, **common)


def _global_pool(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    layer = node.layer
    assert isinstance(layer, GlobalPool)
    op = "GlobalAveragePool" if layer.reduction == "avg" else "GlobalMaxPool"
    return g.op(op, [x], node.path, name=node.path)


def _adaptive_pool(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    """A window pool of kernel = stride = input / output where the output divides the input
    (PyTorch's adaptive bins are then exactly those windows); ONNX has no adaptive pool."""
    layer = node.layer
    assert isinstance(layer, AdaptivePool)
    sizes = node.input_shape[1:]
    if any(size % out for size, out in zip(sizes, layer.size, strict=True)):
        raise Unexportable(
            f"adaptive pool from {list(sizes)} to {list(layer.size)}: ONNX has no adaptive "
            "pool, and its bins are one window pool only where each output size divides the "
            "input size"
        )
    kernel = [size // out for size, out in zip(sizes, layer.size, strict=True)]
    op = "AveragePool" if layer.reduction == "avg" else "MaxPool"
    return g.op(op, [x], node.path, name=node.path, kernel_shape=kernel, strides=kernel)


def _batchnorm(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    gamma, beta = arrays
    channels = node.input_shape[0]
    # a fresh layer's running statistics, as the executor's: mean 0, variance 1
    inputs = [
        x,
        g.array(f"{node.path}.weight", gamma),
        g.array(f"{node.path}.bias", beta),
        g.floats(f"{node.path}.running_mean", [0.0] * channels),
        g.floats(f"{node.path}.running_var", [1.0] * channels),
    ]
    assert isinstance(node.layer, BatchNorm)
    return g.op("BatchNormalization", inputs, node.path, name=node.path, epsilon=node.layer.eps)


def _gated(g: Graph, node: LayerNode, x: str, gate: str, **attributes: Any) -> str:
    """x · gate(x): SiLU (Sigmoid), hard-swish written as PyTorch writes SiLU."""
    gated = g.op(gate, [x], f"{node.path}/{gate.lower()}", name=f"{node.path}/{gate}", **attributes)
    return g.op("Mul", [x, gated], node.path, name=node.path)


def _gelu(g: Graph, node: LayerNode, x: str) -> str:
    """0.5 · x · (1 + erf(x / √2)), in the order PyTorch's TorchScript exporter writes it."""
    p = node.path
    root2 = g.floats(f"{p}/sqrt2", [math.sqrt(2.0)], [])
    one, half = g.floats(f"{p}/one", [1.0], []), g.floats(f"{p}/half", [0.5], [])
    scaled = g.op("Div", [x, root2], f"{p}/scaled", name=f"{p}/Div")
    erf = g.op("Erf", [scaled], f"{p}/erf", name=f"{p}/Erf")
    shifted = g.op("Add", [erf, one], f"{p}/shifted", name=f"{p}/Add")
    product = g.op("Mul", [x, shifted], f"{p}/product", name=f"{p}/Mul")
    return g.op("Mul", [product, half], p, name=p)


def _gelu_tanh(g: Graph, node: LayerNode, x: str) -> str:
    """0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))."""
    p = node.path
    three = g.floats(f"{p}/three", [3.0], [])
    coefficient = g.floats(f"{p}/coefficient", [0.044715], [])
    scale = g.floats(f"{p}/scale", [math.sqrt(2.0 / math.pi)], [])
    one, half = g.floats(f"{p}/one", [1.0], []), g.floats(f"{p}/half", [0.5], [])
    cube = g.op("Pow", [x, three], f"{p}/cube", name=f"{p}/Pow")
    term = g.op("Mul", [cube, coefficient], f"{p}/term", name=f"{p}/Mul_term")
    inner = g.op("Add", [x, term], f"{p}/inner", name=f"{p}/Add_inner")
    scaled = g.op("Mul", [inner, scale], f"{p}/scaled", name=f"{p}/Mul_scale")
    tanh = g.op("Tanh", [scaled], f"{p}/tanh", name=f"{p}/Tanh")
    shifted = g.op("Add", [tanh, one], f"{p}/shifted", name=f"{p}/Add")
    product = g.op("Mul", [x, shifted], f"{p}/product", name=f"{p}/Mul")
    return g.op("Mul", [product, half], p, name=p)


def _activation(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    layer = node.layer
    assert isinstance(layer, Activation)
    p = node.path
    match layer.function:
        case Function.RELU:
            return g.op("Relu", [x], p, name=p)
        case Function.RELU6:
            low, high = g.floats(f"{p}/min", [0.0], []), g.floats(f"{p}/max", [6.0], [])
            return g.op("Clip", [x, low, high], p, name=p)
        case Function.SIGMOID:
            return g.op("Sigmoid", [x], p, name=p)
        case Function.TANH:
            return g.op("Tanh", [x], p, name=p)
        case Function.SWISH | Function.SILU:
            return _gated(g, node, x, "Sigmoid")
        case Function.HARDSWISH:
            return g.op("HardSwish", [x], p, name=p)
        case Function.HARDSIGMOID:  # PyTorch's relu6(x + 3) / 6
            return g.op("HardSigmoid", [x], p, name=p, alpha=1 / 6, beta=0.5)
        case Function.GELU:
            return _gelu(g, node, x)
        case Function.GELU_TANH:
            return _gelu_tanh(g, node, x)
        case Function.MISH:
            softplus = g.op("Softplus", [x], f"{p}/softplus", name=f"{p}/Softplus")
            tanh = g.op("Tanh", [softplus], f"{p}/tanh", name=f"{p}/Tanh")
            return g.op("Mul", [x, tanh], p, name=p)
    raise AssertionError(layer.function)  # pragma: no cover (the match is exhaustive)


def _leaky_relu(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    layer = node.layer
    assert isinstance(layer, LeakyRelu)
    return g.op("LeakyRelu", [x], node.path, name=node.path, alpha=layer.slope)


def _elu(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    layer = node.layer
    assert isinstance(layer, Elu)
    return g.op("Elu", [x], node.path, name=node.path, alpha=layer.alpha)


def _prelu(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    layer = node.layer
    assert isinstance(layer, Prelu)
    slope = arrays[0]
    rank = len(node.input_shape) - 1
    if not layer.shared:  # one per channel: (C, 1, …) broadcasts at the right
        slope = _channel_vector(slope, rank)
    weight = g.array(f"{node.path}.weight", slope)
    return g.op("PRelu", [x, weight], node.path, name=node.path)


def _pass(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    """identity, and dropout at inference."""
    return g.op("Identity", [x], node.path, name=node.path)


def _flatten(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    return g.op("Flatten", [x], node.path, name=node.path, axis=1)


def _linear(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    # the executor's (in, out) matrix as it is (Gemm without transB): transposing VGG-16's
    # 25088×4096 into PyTorch's (out, in) took longer than writing the rest of the model
    inputs = [x, g.array(f"{node.path}.weight", arrays[0])]
    if len(arrays) > 1:
        inputs.append(g.array(f"{node.path}.bias", arrays[1]))
    return g.op("Gemm", inputs, node.path, name=node.path)


def _channel_shuffle(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    layer = node.layer
    assert isinstance(layer, ChannelShuffle)
    p, channels, sizes = node.path, node.input_shape[0], list(node.input_shape[1:])
    grouped = g.ints(f"{p}/grouped_shape", [0, layer.groups, channels // layer.groups, *sizes])
    back = g.ints(f"{p}/shape", [0, channels, *sizes])
    perm = [0, 2, 1, *range(3, 3 + len(sizes))]
    split = g.op("Reshape", [x, grouped], f"{p}/grouped", name=f"{p}/Reshape")
    swapped = g.op("Transpose", [split], f"{p}/swapped", name=f"{p}/Transpose", perm=perm)
    return g.op("Reshape", [swapped, back], p, name=p)


def _slice(g: Graph, node: LayerNode, x: str, starts: list[int], ends: list[int]) -> str:
    axes = list(range(1, 1 + len(starts)))
    p = node.path
    inputs = [
        x,
        g.ints(f"{p}/starts", starts),
        g.ints(f"{p}/ends", ends),
        g.ints(f"{p}/axes", axes),
    ]
    return g.op("Slice", inputs, p, name=p)


def _split(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    layer = node.layer
    assert isinstance(layer, Split)
    part = node.input_shape[0] // layer.parts
    return _slice(g, node, x, [layer.index * part], [(layer.index + 1) * part])


def _crop(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    layer = node.layer
    assert isinstance(layer, Crop)
    sizes, out = node.input_shape[1:], node.output_shape[1:]
    if layer.crop:
        starts = [lo for lo, _ in layer.crop]
    else:  # a centre crop: torchvision's offsets, ⌊(in − size)/2⌉ (Python's round)
        starts = [round((size - o) / 2) for size, o in zip(sizes, out, strict=True)]
    ends = [start + o for start, o in zip(starts, out, strict=True)]
    return _slice(g, node, x, [0, *starts], [node.input_shape[0], *ends])


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}


def _pad(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    layer = node.layer
    assert isinstance(layer, Pad)
    if layer.mode not in _PAD_MODES:
        raise Unexportable(f"pad mode {layer.mode!r} has no ONNX Pad mode at opset {OPSET}")
    p = node.path
    pads = [0, 0, *(lo for lo, _ in layer.padding), 0, 0, *(hi for _, hi in layer.padding)]
    inputs = [x, g.ints(f"{p}/pads", pads)]
    if layer.mode == "constant":
        inputs.append(g.floats(f"{p}/value", [layer.value], []))
    return g.op("Pad", inputs, p, name=p, mode=_PAD_MODES[layer.mode])


def _softmax(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    return g.op("Softmax", [x], node.path, name=node.path, axis=1)


def _upsample(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    """``F.interpolate`` as Resize to the output sizes: nearest is ⌊o · in/out⌋ (asymmetric,
    floor); the linear modes and bicubic (a = −0.75) sample at half pixels, or at the corners."""
    layer = node.layer
    assert isinstance(layer, Upsample)
    p = node.path
    attributes: dict[str, Any] = {}
    if layer.mode == "nearest":
        attributes |= {
            "mode": "nearest",
            "coordinate_transformation_mode": "asymmetric",
            "nearest_mode": "floor",
        }
    else:
        attributes["mode"] = "cubic" if layer.mode == "bicubic" else "linear"
        attributes["coordinate_transformation_mode"] = (
            "align_corners" if layer.align_corners else "half_pixel"
        )
        if layer.mode == "bicubic":
            attributes["cubic_coeff_a"] = -0.75
    # Resize reads every axis's size from `sizes`: batch and channels are taken from the input
    shape = g.op("Shape", [x], f"{p}/input_shape", name=f"{p}/Shape", end=2)
    spatial = g.ints(f"{p}/spatial", list(node.output_shape[1:]))
    full = g.op("Concat", [shape, spatial], f"{p}/sizes", name=f"{p}/Concat", axis=0)
    return g.op("Resize", [x, "", "", full], p, name=p, **attributes)


def _pixel_shuffle(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    layer = node.layer
    assert isinstance(layer, PixelShuffle)
    # CRD is nn.PixelShuffle's channel order
    return g.op("DepthToSpace", [x], node.path, name=node.path, blocksize=layer.factor, mode="CRD")


def _pixel_unshuffle(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    """Reshape·Transpose·Reshape as PyTorch writes ``nn.PixelUnshuffle`` (SpaceToDepth orders
    the channels the other way)."""
    layer = node.layer
    assert isinstance(layer, PixelUnshuffle)
    p, r = node.path, layer.factor
    c, h, w = node.input_shape
    split = g.ints(f"{p}/split_shape", [0, c, h // r, r, w // r, r])
    back = g.ints(f"{p}/shape", [0, c * r * r, h // r, w // r])
    blocks = g.op("Reshape", [x, split], f"{p}/blocks", name=f"{p}/Reshape")
    moved = g.op(
        "Transpose", [blocks], f"{p}/moved", name=f"{p}/Transpose", perm=[0, 1, 3, 5, 2, 4]
    )
    return g.op("Reshape", [moved, back], p, name=p)


def _layer_scale(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    layer = node.layer
    assert isinstance(layer, LayerScale)
    rank = len(node.input_shape) - 1
    gamma = g.array(f"{node.path}.weight", _channel_vector(arrays[0], rank))
    return g.op("Mul", [x, gamma], node.path, name=node.path)


def _affine(g: Graph, node: LayerNode, y: str, arrays: tuple[Any, ...], shape: Any) -> str:
    """γ · y + β with γ and β reshaped to ``shape`` (or ``y`` itself without an affine)."""
    if not arrays:
        return g.op("Identity", [y], node.path, name=node.path)
    p = node.path
    gamma = g.array(f"{p}.weight", arrays[0].reshape(shape))
    beta = g.array(f"{p}.bias", arrays[1].reshape(shape))
    scaled = g.op("Mul", [y, gamma], f"{p}/scaled", name=f"{p}/Mul")
    return g.op("Add", [scaled, beta], p, name=p)


def _layernorm(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    layer = node.layer
    assert isinstance(layer, LayerNorm)
    p, shape = node.path, node.input_shape
    rank = len(shape)
    ones = [1.0] * math.prod(shape)
    if rank == 1 or layer.over == "all":
        # over every axis but the batch (a flat layer's features): one LayerNormalization
        if arrays:  # the executor keeps a map's γ channels last: back to (C, *spatial)
            gamma, beta = (
                a.reshape(*shape[1:], shape[0]).transpose(rank - 1, *range(rank - 1))
                if rank > 1
                else a
                for a in arrays
            )
            scale, bias = g.array(f"{p}.weight", gamma), g.array(f"{p}.bias", beta)
        else:
            scale = g.floats(f"{p}/ones", ones, list(shape))
            bias = g.floats(f"{p}/zeros", [0.0] * len(ones), list(shape))
        return g.op("LayerNormalization", [x, scale, bias], p, name=p, axis=1, epsilon=layer.eps)
    # over the channels at every position: channels last, normalise, back (as ConvNeXt writes it)
    channels = shape[0]
    last = [0, *range(2, rank + 1), 1]
    first = [0, rank, *range(1, rank)]
    moved = g.op("Transpose", [x], f"{p}/channels_last", name=f"{p}/Transpose_in", perm=last)
    if arrays:
        scale, bias = g.array(f"{p}.weight", arrays[0]), g.array(f"{p}.bias", arrays[1])
    else:
        scale = g.floats(f"{p}/ones", [1.0] * channels)
        bias = g.floats(f"{p}/zeros", [0.0] * channels)
    normed = g.op(
        "LayerNormalization",
        [moved, scale, bias],
        f"{p}/normalized",
        name=f"{p}/LayerNormalization",
        axis=-1,
        epsilon=layer.eps,
    )
    return g.op("Transpose", [normed], p, name=p, perm=first)


def _groupnorm(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    """Reshape to [N, G, −1], InstanceNormalization by ones and zeros, Reshape back, then the
    per-channel affine: PyTorch's TorchScript export of ``nn.GroupNorm``."""
    layer = node.layer
    assert isinstance(layer, GroupNorm)
    p, shape = node.path, node.input_shape
    groups = layer.groups
    grouped_shape = g.ints(f"{p}/grouped_shape", [0, groups, -1])
    back = g.ints(f"{p}/shape", [0, *shape])
    grouped = g.op("Reshape", [x, grouped_shape], f"{p}/grouped", name=f"{p}/Reshape")
    ones = g.floats(f"{p}/ones", [1.0] * groups)
    zeros = g.floats(f"{p}/zeros", [0.0] * groups)
    normed = g.op(
        "InstanceNormalization",
        [grouped, ones, zeros],
        f"{p}/normalized",
        name=f"{p}/InstanceNormalization",
        epsilon=layer.eps,
    )
    if not arrays:
        return g.op("Reshape", [normed, back], p, name=p)
    restored = g.op("Reshape", [normed, back], f"{p}/restored", name=f"{p}/Reshape_back")
    return _affine(g, node, restored, arrays, (shape[0],) + (1,) * (len(shape) - 1))


def _instancenorm(g: Graph, node: LayerNode, x: str, arrays: tuple[Any, ...]) -> str:
    layer = node.layer
    assert isinstance(layer, InstanceNorm)
    p, channels = node.path, node.input_shape[0]
    if arrays:
        scale, bias = g.array(f"{p}.weight", arrays[0]), g.array(f"{p}.bias", arrays[1])
    else:
        scale = g.floats(f"{p}/ones", [1.0] * channels)
        bias = g.floats(f"{p}/zeros", [0.0] * channels)
    return g.op("InstanceNormalization", [x, scale, bias], p, name=p, epsilon=layer.eps)


WRITERS: dict[str, Writer] = {
    "conv": _conv,
    "depthwise": _conv,
    "pointwise": _conv,
    "conv_transpose": _conv_transpose,
    "maxpool": _window_pool,
    "avgpool": _window_pool,
    "global_avgpool": _global_pool,
    "global_maxpool": _global_pool,
    "adaptive_avgpool": _adaptive_pool,
    "adaptive_maxpool": _adaptive_pool,
    "batchnorm": _batchnorm,
    **dict.fromkeys(declared_by("activation"), _activation),  # by Activation.function
    "identity": _pass,
    "dropout": _pass,
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
    "layer_scale": _layer_scale,
    "layernorm": _layernorm,
    "groupnorm": _groupnorm,
    "instancenorm": _instancenorm,
    "attention": attention,
}
"""Spec kind name → its writer (``separable`` is built as its ``depthwise`` and ``pointwise``
rows, each written by :func:`_conv`; merges are written by :mod:`convcost.export.onnx_model`)."""

UNSUPPORTED: dict[str, str] = {
    "custom": "a custom layer declares its costs only, not the computation to write",
}
"""Spec kind name → why it is not exported (the error names the layer and this reason)."""

BUILT_AS: dict[str, tuple[str, ...]] = {"separable": ("depthwise", "pointwise")}
"""Kinds the builder turns into rows of other kinds (a group node of them)."""

MERGES = ("concat", "add", "multiply")
"""The merge kinds, written as Concat (channels) and chains of Add and Mul."""
