"""``conv`` (also ``depthwise``, ``pointwise`` and the halves of ``separable``) and
``conv_transpose``: weights drawn in the kernels' layout, and what each run allocates."""

from __future__ import annotations

import math

from convcost.executor import blas
from convcost.executor.kernels import padded_elements, slab_shape
from convcost.executor.kernels_conv import (
    ConvWeights,
    TransposeWeights,
    column_band,
    column_buffers,
    conv,
    conv_transpose,
    depthwise_band,
    per_offset,
    shifted_band,
    shifts,
)
from convcost.executor.ops.base import Initializer, Op, PreparedLayer, present
from convcost.layers.base import Shape
from convcost.layers.conv import Conv, ConvTranspose


def _depthwise(layer: Conv, shape: Shape) -> bool:
    return layer.groups > 1 and shape[0] == layer.groups


def _shifted(layer: Conv, shape: Shape) -> bool:
    return shifts(shape[0], layer.out, layer.kernel, layer.stride, layer.groups)


class ConvOp(Op[Conv]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        layer = self.layer
        per_group, k = shape[0] // layer.groups, math.prod(layer.kernel)
        fan_in = per_group * k
        depthwise = per_group == 1 and layer.groups > 1
        shifted = _shifted(layer, shape)
        if depthwise:
            matrix_shape = (k, layer.groups, layer.out // layer.groups)
        elif shifted:
            matrix_shape = (1, shape[0], k * layer.out)
        else:
            matrix_shape = (layer.groups, k * per_group, layer.out // layer.groups)
        weights = ConvWeights(
            init.uniform(matrix_shape, fan_in),
            layer.kernel,
            layer.groups,
            layer.out,
            depthwise,
            shifted,
        )
        bias = init.bias(layer.out, layer.bias)
        stride, padding, dilation = layer.stride, layer.padding, layer.dilation
        return PreparedLayer(
            lambda x, owned: (
                conv(x, weights, bias, stride=stride, padding=padding, dilation=dilation),
                True,
            ),
            present(weights.matrix, bias),
            fused=lambda x, owned, epilogue: (
                conv(
                    x,
                    weights,
                    bias,
                    stride=stride,
                    padding=padding,
                    dilation=dilation,
                    epilogue=epilogue,
                ),
                True,
            ),
            prologue=(k == 1 and layer.groups == 1 and not any(lo or hi for lo, hi in padding)),
        )

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        layer = self.layer
        padded = padded_elements(shape, layer.padding)
        if _depthwise(layer, shape):
            if layer.out == layer.groups:
                return 0  # one einsum per band, on its slab (:meth:`columns`), writes the output
            return padded  # one einsum over the padded input
        if _shifted(layer, shape):
            return 0  # no padded copy; one product band per thread (:meth:`columns`)
        if math.prod(layer.kernel) == 1 and layer.groups == 1 and not padded:
            # a strided 1×1 picks its positions into a copy first
            return 0 if all(s == 1 for s in layer.stride) else shape[0] * math.prod(out[1:])
        if layer.groups == 1:
            return 0  # one band of columns and one slab (:meth:`columns`), for the whole batch
        columns = shape[0] * math.prod(layer.kernel) * math.prod(out[1:])
        return padded + columns + math.prod(out)

    def columns(self, shape: Shape, out: Shape, batch: int, width: int) -> int:
        """The band buffers a conv reuses for the whole batch, one per thread at work: an
        ungrouped conv's im2col columns (:func:`~convcost.executor.kernels_conv.column_band`,
        :func:`~convcost.executor.kernels_conv.column_buffers`) or products
        (:func:`~convcost.executor.kernels_conv.shifted_band`), and the padded input rows of a
        band (:class:`~convcost.executor.kernels.PaddedBands`) of im2col and of a depthwise
        conv."""
        layer = self.layer
        padded = bool(padded_elements(shape, layer.padding))
        last = (0, *shape[1:], shape[0])  # channels last
        span = layer.dilation[0] * (layer.kernel[0] - 1) + 1
        if _depthwise(layer, shape) and layer.out == layer.groups:
            rows = depthwise_band(batch, out[1:])
            bands = min(batch * -(-out[1] // rows), blas.threads())
            # a product per offset: one band's temporary per thread, the weights along a row
            by_offset = per_offset(shape[0], out[1:])
            temporary = bands * rows * math.prod(out[2:]) * shape[0] if by_offset else 0
            tiled = math.prod(layer.kernel) * out[-1] * shape[0] if by_offset else 0
            if not padded:
                return temporary + tiled
            slab = slab_shape(last, layer.padding, 1, rows, layer.stride[0], span)
            return bands * math.prod(slab) + temporary + tiled
        if layer.groups > 1:
            return 0
        if math.prod(layer.kernel) == 1 and not padded_elements(shape, layer.padding):
            return 0
        if _shifted(layer, shape):
            product = math.prod(layer.kernel) * layer.out
            halo = (layer.kernel[0] - 1) * layer.dilation[0]
            rows, buffers = shifted_band(batch, out[1:], shape[1:], halo, product, width)
            return buffers * (rows + halo) * shape[2] * product
        depth = shape[0] * math.prod(layer.kernel)
        samples, rows = column_band(batch, out[1:], depth, width)
        buffers = column_buffers(batch, out[1:], depth, width)
        slab = slab_shape(last, layer.padding, samples, rows, layer.stride[0], span)
        return buffers * (samples * rows * math.prod(out[2:]) * depth + padded * math.prod(slab))

    def products(self, shape: Shape, out: Shape, batch: int) -> tuple[int, int, int]:
        layer = self.layer
        if _depthwise(layer, shape):
            return 0, 0, 0  # no matrix product
        if _shifted(layer, shape):
            return batch * math.prod(shape[1:]), shape[0], math.prod(layer.kernel) * layer.out
        depth = math.prod(layer.kernel) * shape[0] // layer.groups
        return batch * math.prod(out[1:]), depth, layer.out // layer.groups


class ConvTransposeOp(Op[ConvTranspose]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        layer = self.layer
        per_group = layer.out // layer.groups
        k = math.prod(layer.kernel)
        matrix = init.uniform(
            (layer.groups, shape[0] // layer.groups, k * per_group), per_group * k
        )
        weights = TransposeWeights(matrix, layer.kernel, layer.groups, layer.out)
        bias = init.bias(layer.out, layer.bias)
        stride, padding, output_padding = layer.stride, layer.padding, layer.output_padding
        dilation = layer.dilation
        return PreparedLayer(
            lambda x, owned: (
                conv_transpose(
                    x,
                    weights,
                    bias,
                    stride=stride,
                    padding=padding,
                    output_padding=output_padding,
                    dilation=dilation,
                ),
                True,
            ),
            present(matrix, bias),
        )

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        layer = self.layer
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

    def products(self, shape: Shape, out: Shape, batch: int) -> tuple[int, int, int]:
        layer = self.layer
        columns = math.prod(layer.kernel) * layer.out // layer.groups
        return batch * math.prod(shape[1:]), shape[0] // layer.groups, columns
