"""The shape of a layer's kernel, for a rate that depends on it (docs/latency.md).

A runtime's matrix product is slower on a small matrix than on a large one: a thin product
(few output channels N) spends relatively more time packing or copying its left operand
(im2col), a shallow one (small reduction K) more time writing its output, a short one (few
rows M) more time reading its weights. A profile can say by how much, per kernel class, with a
*half size* per dimension: the rate at dimensions (M, N, K) is

    compute · 1 / (1 + half_m / M + half_n / N + half_k / K + half_im2col / N')

so a product with ``N = half_n`` (and M, K large) runs at half the class's rate. Each term is
one operand's traffic per multiply-add (weights K·N, input M·K, output M·N against M·N·K), the
form a roofline gives when each operand moves at its own rate. The last term is the copy of
a k×k conv's windows (im2col, M·K elements) before its product: N' = N for a conv that copies
(:func:`im2col_elements` > 0), infinite (no term) for one that does not, such as a 1×1 conv.
Pure arithmetic on the report.
"""

from __future__ import annotations

import math

from convcost.latency.kernels import KernelClass
from convcost.report import LayerReport

Dims = tuple[float, float, float, float]
"""(M, N, K, N') of a layer's product: rows, columns, depth, and the columns of its window
copy (N for a conv that copies its windows, else infinite)."""


def product_dims(layer: LayerReport, kernel: KernelClass) -> Dims | None:
    """(M, N, K, N') for a GEMM or depthwise layer, from its report alone; ``None`` for other
    classes or a layer with no arithmetic.

    GEMM (conv, pointwise, linear, conv_transpose, attention): N is the output channels
    (features), K = weights / N (C_in/groups · ∏k for a conv), M = MACs / weights (output
    positions × batch). Depthwise: M is the output positions × batch, N the channels, K the
    taps (∏k) = MACs / output elements."""
    cost = layer.cost
    if not cost.macs:
        return None
    if kernel is KernelClass.GEMM and cost.weights:
        columns = float(layer.output_shape[0])
        copies = columns if im2col_elements(layer) else math.inf
        return cost.macs / cost.weights, columns, cost.weights / columns, copies
    if kernel is KernelClass.DEPTHWISE and cost.written_elements:
        channels = layer.output_shape[0]
        return (
            cost.written_elements / channels,
            float(channels),
            cost.macs / cost.written_elements,
            math.inf,
        )
    return None


def slowdown(half: Dims, dims: Dims | None) -> float:
    """1 + half_m / M + half_n / N + half_k / K + half_im2col / N' (1 without dims): how many
    times longer than at the class's full rate the layer's arithmetic takes."""
    if dims is None:
        return 1.0
    return 1.0 + half[0] / dims[0] + half[1] / dims[1] + half[2] / dims[2] + half[3] / dims[3]


def memory_seconds(
    traffic: float, weight_bytes: float, bandwidth: float, memory: float, cache: float, spill: float
) -> float:
    """The memory term: ``traffic`` bytes at ``memory`` · ``bandwidth``, except that a GEMM's
    weight bytes beyond ``cache`` move at ``spill`` · ``bandwidth`` instead (0: no such term).
    A fully connected layer at batch 1 reads each weight once and does one multiply-add with
    it: its time is its weights' traffic, fast while they stay in the cache between passes
    and at DRAM speed beyond it (AlexNet's 151 MB fc6 against its 67 MB fc7)."""
    seconds = traffic / (bandwidth * memory)
    if cache > 0 and spill > 0 and weight_bytes > cache:
        beyond = min(weight_bytes, traffic) - cache
        seconds += max(beyond, 0.0) * (1 / (bandwidth * spill) - 1 / (bandwidth * memory))
    return seconds


def im2col_elements(layer: LayerReport) -> int:
    """The elements of the window matrix an im2col convolution builds: one row per output
    position and C_in·∏k columns, i.e. MACs / C_out for a dense conv (exact); a transposed
    conv's product before col2im, MACs / C_in; 0 for a 1×1 conv (MACs per output element
    equal to C_in: no copy) and for every other kind."""
    cost = layer.cost
    if not cost.written_elements:
        return 0
    if layer.kind == "conv_transpose":
        return cost.macs // layer.input_shape[0]
    if layer.kind != "conv" or cost.macs == layer.input_shape[0] * cost.written_elements:
        return 0
    return cost.macs // layer.output_shape[0]
