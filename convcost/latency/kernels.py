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
    """Depthwise convolutions (one input channel per output channel): few FLOPs per byte."""
    ELEMENTWISE = "elementwise"
    """One pass over the tensor: activations, normalisation, merges, resizes, copies."""
    POOL = "pool"
    """Windowed or global reductions without weights."""
    VIEW = "view"
    """Moves nothing (identity, dropout, flatten, split, crop): only the per-layer overhead."""
    FUSED = "fused"
    """Not a kind's class: a one-pass layer the runtime runs inside the conv before it (the
    profile's ``fuses``, :mod:`convcost.latency.fusion`). A profile's ``fused`` entry prices
    it (NumPy's executor applies it to each band of the conv's output while that is in the
    cache); without one it costs 0 (ONNX Runtime folds it into the conv's kernel)."""


DEPTHWISE_REDUCTIONS = frozenset(k * k for k in range(1, 8))
"""MACs per output element of a ``conv`` with one input channel per group and a square
kernel up to 7×7: such a conv (``groups`` = input channels) is a :attr:`DEPTHWISE` kernel. A
dense conv never has them on a multi-channel input unless its channels × kernel area is a
square (a 4-channel 1×1, a 9-channel 3×3 conv... rare enough to accept)."""

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
    """The class of ``layer``: its kind's, except a depthwise convolution written as ``conv``
    (see :data:`DEPTHWISE_REDUCTIONS`) is :attr:`KernelClass.DEPTHWISE`, and a layer that
    moves nothing is a view; a kind the table does not know (``custom:LABEL``) is
    elementwise."""
    kind = KERNEL_OF.get(layer.kind.partition(":")[0], KernelClass.ELEMENTWISE)
    cost = layer.cost
    if layer.kind == "conv" and cost.written_elements and layer.input_shape[0] > 1:
        reduction, rest = divmod(cost.macs, cost.written_elements)
        if not rest and reduction in DEPTHWISE_REDUCTIONS and reduction < layer.input_shape[0]:
            return KernelClass.DEPTHWISE
    if kind is not KernelClass.VIEW and cost.traffic_elements == 0:
        return KernelClass.VIEW
    return kind
