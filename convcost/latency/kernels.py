"""Latency kernel classes: every layer kind maps to the class whose efficiency a device
profile gives (docs/latency.md). One table keyed by kind name; tests/test_latency.py checks
that it covers :data:`convcost.layers.registry.KIND_NAMES`.
"""

from __future__ import annotations

import enum

from convcost.report import LayerReport


class KernelClass(enum.StrEnum):
    GEMM = "gemm"
    """Matrix products with a deep reduction: dense and grouped convs, linear, attention."""
    DEPTHWISE = "depthwise"
    """Convolutions with a shallow reduction (depthwise, or fewer than
    :data:`SHALLOW_REDUCTION` MACs per output element): few FLOPs per byte."""
    ELEMENTWISE = "elementwise"
    """One pass over the tensor: activations, normalisation, merges, resizes, copies."""
    POOL = "pool"
    """Windowed or global reductions without weights."""
    VIEW = "view"
    """Moves nothing (identity, dropout, flatten, split, crop): only the per-layer overhead."""


SHALLOW_REDUCTION = 32
"""A convolution whose MACs per output element are below this is a :attr:`DEPTHWISE` kernel
(a depthwise 3×3 has 9; a grouped conv of 4 channels per group and 3×3 kernel has 36)."""

_CONV = KernelClass.GEMM
KERNEL_OF: dict[str, KernelClass] = {
    "conv": _CONV,
    "conv_transpose": _CONV,
    "pointwise": _CONV,
    "separable": _CONV,  # built as its depthwise and pointwise rows; never a report's kind
    "depthwise": KernelClass.DEPTHWISE,
    "linear": KernelClass.GEMM,
    "attention": KernelClass.GEMM,
    "maxpool": KernelClass.POOL,
    "avgpool": KernelClass.POOL,
    "global_avgpool": KernelClass.POOL,
    "global_maxpool": KernelClass.POOL,
    "adaptive_avgpool": KernelClass.POOL,
    "adaptive_maxpool": KernelClass.POOL,
    "batchnorm": KernelClass.ELEMENTWISE,
    "relu": KernelClass.ELEMENTWISE,
    "relu6": KernelClass.ELEMENTWISE,
    "sigmoid": KernelClass.ELEMENTWISE,
    "swish": KernelClass.ELEMENTWISE,
    "silu": KernelClass.ELEMENTWISE,
    "gelu": KernelClass.ELEMENTWISE,
    "tanh": KernelClass.ELEMENTWISE,
    "hardswish": KernelClass.ELEMENTWISE,
    "hardsigmoid": KernelClass.ELEMENTWISE,
    "mish": KernelClass.ELEMENTWISE,
    "leaky_relu": KernelClass.ELEMENTWISE,
    "prelu": KernelClass.ELEMENTWISE,
    "elu": KernelClass.ELEMENTWISE,
    "softmax": KernelClass.ELEMENTWISE,
    "layernorm": KernelClass.ELEMENTWISE,
    "groupnorm": KernelClass.ELEMENTWISE,
    "instancenorm": KernelClass.ELEMENTWISE,
    "layer_scale": KernelClass.ELEMENTWISE,
    "upsample": KernelClass.ELEMENTWISE,
    "pixel_shuffle": KernelClass.ELEMENTWISE,
    "pixel_unshuffle": KernelClass.ELEMENTWISE,
    "channel_shuffle": KernelClass.ELEMENTWISE,
    "pad": KernelClass.ELEMENTWISE,
    "custom": KernelClass.ELEMENTWISE,
    "concat": KernelClass.ELEMENTWISE,
    "add": KernelClass.ELEMENTWISE,
    "multiply": KernelClass.ELEMENTWISE,
    "identity": KernelClass.VIEW,
    "dropout": KernelClass.VIEW,
    "flatten": KernelClass.VIEW,
    "split": KernelClass.VIEW,
    "crop": KernelClass.VIEW,
}
"""Each layer kind's kernel class (a conv may still be :attr:`KernelClass.DEPTHWISE`: see
:func:`kernel_class`)."""


def kernel_class(layer: LayerReport) -> KernelClass:
    """The class of ``layer``: its kind's, except a shallow convolution (grouped or
    depthwise written as ``conv``) is :attr:`KernelClass.DEPTHWISE`; a kind the table does not
    know (``custom:LABEL``) is elementwise."""
    kind = KERNEL_OF.get(layer.kind.partition(":")[0], KernelClass.ELEMENTWISE)
    cost = layer.cost
    if kind is KernelClass.GEMM and layer.kind != "linear" and cost.written_elements:
        if cost.macs < SHALLOW_REDUCTION * cost.written_elements:
            return KernelClass.DEPTHWISE
    if kind is not KernelClass.VIEW and cost.traffic_elements == 0:
        return KernelClass.VIEW
    return kind
