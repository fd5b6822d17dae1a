"""Transitional: the executor side of the kinds not yet moved to their own op modules."""

from __future__ import annotations

import math
from typing import assert_never

from convcost.executor import kernels
from convcost.executor.kernels import column_band
from convcost.executor.ops.base import Initializer, Op, PreparedLayer, present
from convcost.layers import (
    AnyLayer,
    Conv,
    ConvTranspose,
    Shape,
)
from convcost.layers.legacy import Legacy


class LegacyOp(Op[Legacy]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        return _prepare(cast_any(self.layer), shape[0], init)

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        return _workspace(cast_any(self.layer), shape, out, width, owned)

    def columns(self, shape: Shape, out: Shape, batch: int, width: int) -> int:
        return _columns(cast_any(self.layer), shape, out, batch, width)

    def products(self, shape: Shape, out: Shape, batch: int) -> tuple[int, int, int]:
        return _products(cast_any(self.layer), shape, out, batch)


def cast_any(layer: Legacy) -> AnyLayer:
    return layer  # type: ignore[return-value]


def _prepare(layer: AnyLayer, channels: int, init: Initializer) -> PreparedLayer:
    match layer:
        case Conv():
            per_group, k = channels // layer.groups, math.prod(layer.kernel)
            fan_in = per_group * k
            depthwise = per_group == 1 and layer.groups > 1
            shape = (
                (k, layer.groups, layer.out // layer.groups)
                if depthwise
                else (layer.groups, k * per_group, layer.out // layer.groups)
            )
            weights = kernels.ConvWeights(
                init.uniform(shape, fan_in), layer.kernel, layer.groups, layer.out, depthwise
            )
            bias = init.bias(layer.out, layer.bias)
            return PreparedLayer(
                lambda x, owned: (
                    kernels.conv(
                        x,
                        weights,
                        bias,
                        stride=layer.stride,
                        padding=layer.padding,
                        dilation=layer.dilation,
                    ),
                    True,
                ),
                present(weights.matrix, bias),
            )
        case ConvTranspose():
            per_group = layer.out // layer.groups
            k = math.prod(layer.kernel)
            matrix = init.uniform(
                (layer.groups, channels // layer.groups, k * per_group), per_group * k
            )
            transposed = kernels.TransposeWeights(matrix, layer.kernel, layer.groups, layer.out)
            bias = init.bias(layer.out, layer.bias)
            return PreparedLayer(
                lambda x, owned: (
                    kernels.conv_transpose(
                        x,
                        transposed,
                        bias,
                        stride=layer.stride,
                        padding=layer.padding,
                        output_padding=layer.output_padding,
                        dilation=layer.dilation,
                    ),
                    True,
                ),
                present(matrix, bias),
            )
        case _:
            assert_never(layer)


def _padded(shape: Shape, pads: tuple[tuple[int, int], ...]) -> int:
    if not any(lo or hi for lo, hi in pads):
        return 0
    return shape[0] * math.prod(s + lo + hi for s, (lo, hi) in zip(shape[1:], pads, strict=True))


def _workspace(layer: AnyLayer, shape: Shape, out: Shape, width: int, owned: bool) -> int:
    """Elements of one sample's temporaries while the layer runs, beyond its input and output."""
    outputs = math.prod(out)
    match layer:
        case Conv():
            padded = _padded(shape, layer.padding)
            if layer.groups > 1 and shape[0] == layer.groups:
                return padded  # depthwise: one einsum writes the output, no temporaries
            if math.prod(layer.kernel) == 1 and layer.groups == 1 and not padded:
                # a strided 1×1 picks its positions into a copy first
                return 0 if all(s == 1 for s in layer.stride) else shape[0] * math.prod(out[1:])
            if layer.groups == 1:
                return padded  # and one band of columns (:func:`_columns`), for the whole batch
            columns = shape[0] * math.prod(layer.kernel) * math.prod(out[1:])
            return padded + columns + outputs
        case ConvTranspose():
            contributions = layer.out * math.prod(layer.kernel) * math.prod(shape[1:])
            full = layer.out * math.prod(
                (size - 1) * s + d * (k - 1) + 1 + op
                for size, s, d, k, op in zip(
                    shape[1:],
                    layer.stride,
                    layer.dilation,
                    layer.kernel,
                    layer.output_padding,
                    strict=True,
                )
            )
            # the full-size sum is the output itself unless padding crops it
            cropped = full if any(layer.padding) or any(layer.output_padding) else 0
            if layer.groups > 1:
                # the grouped input made contiguous, the product, and its regrouped copy
                return math.prod(shape) + 2 * contributions + cropped
            return contributions + cropped
        case _:
            assert_never(layer)


def _columns(layer: AnyLayer, shape: Shape, out: Shape, batch: int, width: int) -> int:
    """Elements of the im2col band buffer an ungrouped conv that is not a plain 1×1 reuses
    (:func:`~convcost.executor.kernels.column_band`), for the whole batch; 0 for other layers."""
    if not isinstance(layer, Conv) or layer.groups > 1:
        return 0
    if math.prod(layer.kernel) == 1 and not _padded(shape, layer.padding):
        return 0
    depth = shape[0] * math.prod(layer.kernel)
    samples, rows = column_band(batch, out[1:], depth, width)
    return samples * rows * math.prod(out[2:]) * depth


def _mask(elements: int, width: int) -> int:
    """A boolean array of ``elements``, in elements of ``width`` bytes (rounded up)."""
    return -(-elements // width)


def _products(layer: AnyLayer, shape: Shape, out: Shape, batch: int) -> tuple[int, int, int]:
    """(rows, depth, columns) of the layer's matrix products, or zeros without any."""
    match layer:
        case Conv():
            if layer.groups > 1 and shape[0] == layer.groups:
                return 0, 0, 0  # depthwise: no matrix product
            depth = math.prod(layer.kernel) * shape[0] // layer.groups
            return batch * math.prod(out[1:]), depth, layer.out // layer.groups
        case ConvTranspose():
            columns = math.prod(layer.kernel) * layer.out // layer.groups
            return batch * math.prod(shape[1:]), shape[0] // layer.groups, columns
        case _:
            assert_never(layer)
