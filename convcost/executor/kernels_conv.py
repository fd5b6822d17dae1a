"""Convolution kernels on channels-last arrays: im2col by bands feeding one matrix product
per layer (batched over groups), one ``einsum`` for depthwise convs, and a product then col2im
for transposed convs.

Weights come in PyTorch's layout through :func:`conv_weights` and :func:`transpose_weights`
(tests compare with ``torch.nn.functional``); ``--execute`` draws them straight into the
rearranged layout instead.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from convcost.executor.kernels import (
    Array,
    Pads,
    count_macs,
    matmul,
    matmul_into,
    out_size,
    pad,
    windows,
)
from convcost.valueclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConvWeights:
    """A conv's weights rearranged for the channels-last kernels."""

    matrix: Array
    """``(groups, ∏k·C_in/g, C_out/g)``: rows ordered (kernel offset, channel) like im2col columns;
    for a depthwise conv ``(∏k, C_in, multiplier)``."""
    kernel: tuple[int, ...]
    groups: int
    out: int
    depthwise: bool


def conv_weights(weight: Array, groups: int) -> ConvWeights:
    """From PyTorch's ``(C_out, C_in/g, *kernel)``."""
    out, per_group, *kernel = weight.shape
    k = math.prod(kernel)
    if per_group == 1 and groups > 1:
        multiplier = out // groups
        matrix = weight.reshape(groups, multiplier, k).transpose(2, 0, 1)
        return ConvWeights(np.ascontiguousarray(matrix), tuple(kernel), groups, out, True)
    og = out // groups
    rank = len(kernel)
    # (g, Og, Cg, *k) → (g, *k, Cg, Og)
    grouped = weight.reshape(groups, og, per_group, *kernel)
    order = (0, *range(3, 3 + rank), 2, 1)
    matrix = np.ascontiguousarray(grouped.transpose(order)).reshape(groups, k * per_group, og)
    return ConvWeights(matrix, tuple(kernel), groups, out, False)


def conv(
    x: Array,
    weights: ConvWeights,
    bias: Array | None,
    *,
    stride: tuple[int, ...],
    padding: Pads,
    dilation: tuple[int, ...],
) -> Array:
    """N-d convolution (cross-correlation, as PyTorch) of a channels-last ``x``."""
    kernel, groups = weights.kernel, weights.groups
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    out = tuple(
        out_size(size, span, s, lo, hi)
        for size, span, s, (lo, hi) in zip(x.shape[1:-1], spans, stride, padding, strict=True)
    )
    n, channels = x.shape[0], x.shape[-1]
    positions = n * math.prod(out)
    if weights.depthwise:
        y = _depthwise(x, weights, out, stride, padding, dilation)
    elif math.prod(kernel) == 1 and groups == 1 and not any(lo or hi for lo, hi in padding):
        # 1×1: pick the strided positions (a copy only when strided), then one matrix product
        picked = x[
            (
                slice(None),
                *(slice(None, (o - 1) * s + 1, s) for o, s in zip(out, stride, strict=True)),
            )
        ]
        y = matmul(picked.reshape(positions, channels), weights.matrix[0])
    else:
        view = windows(pad(x, padding), out, kernel, stride, dilation)
        if groups == 1:
            y = _banded(view, weights.matrix[0], out)
        else:
            per_group = channels // groups
            split = view.reshape(*view.shape[:-1], groups, per_group)
            # (N, *out, *k, g, Cg) → (g, N, *out, *k, Cg): one copy, then a batched product
            order = (split.ndim - 2, *range(split.ndim - 2), split.ndim - 1)
            columns = np.empty((groups, n, *out, *kernel, per_group), dtype=x.dtype)
            np.copyto(columns, split.transpose(order))
            product = matmul(columns.reshape(groups, positions, -1), weights.matrix)
            y = np.ascontiguousarray(product.transpose(1, 0, 2))
    y = y.reshape(n, *out, weights.out)
    if bias is not None:
        y += bias
    return y


COLUMN_BAND_BYTES = 4 * 2**20
"""The im2col columns of a conv are gathered and multiplied one band of output positions at a
time, this large at most (unless one output row alone is larger): the band stays in the CPU's
cache between the copy and the product, and the whole column matrix (115 MiB for one VGG-16
image's second conv) is never allocated."""


def column_band(n: int, out: tuple[int, ...], depth: int, itemsize: int) -> tuple[int, int]:
    """(samples, rows) of one band: whole samples while one sample's columns fit in
    :data:`COLUMN_BAND_BYTES`, else ``rows`` of the first output axis of one sample."""
    row = math.prod(out[1:]) * depth * itemsize
    sample = out[0] * row
    if sample <= COLUMN_BAND_BYTES:
        return min(n, COLUMN_BAND_BYTES // sample), out[0]
    return 1, max(1, min(out[0], COLUMN_BAND_BYTES // row))


def _banded(view: Array, matrix: Array, out: tuple[int, ...]) -> Array:
    """im2col by bands (see :data:`COLUMN_BAND_BYTES`): each band of windows is copied into one
    reused buffer, then multiplied into its slice of the output."""
    n, depth, width = view.shape[0], matrix.shape[0], matrix.shape[1]
    samples, rows = column_band(n, out, depth, view.itemsize)
    y = np.empty((n, *out, width), dtype=view.dtype)
    buffer = np.empty((samples, rows, *view.shape[2:]), dtype=view.dtype)
    for first in range(0, n, samples):
        last = min(n, first + samples)
        for top in range(0, out[0], rows):
            bottom = min(out[0], top + rows)
            columns = buffer[: last - first, : bottom - top]
            np.copyto(columns, view[first:last, top:bottom])
            target = y[first:last, top:bottom].reshape(-1, width)
            matmul_into(columns.reshape(-1, depth), matrix, target)
    return y


def _depthwise(
    x: Array,
    weights: ConvWeights,
    out: tuple[int, ...],
    stride: tuple[int, ...],
    padding: Pads,
    dilation: tuple[int, ...],
) -> Array:
    """Each channel with its own filters: one ``einsum`` over the strided view of every window,
    which sums the kernel offsets as it writes each output once (no temporaries; a loop of
    whole-tensor products per offset passed over the output twice per offset)."""
    view = windows(pad(x, padding), out, weights.kernel, stride, dilation)
    n, channels = x.shape[0], x.shape[-1]
    multiplier = weights.matrix.shape[-1]
    rank = len(out)
    letters = "ABCDEFGHIJ"[: 2 * rank]
    positions, offsets = letters[:rank], letters[rank:]
    taps = weights.matrix.reshape(*weights.kernel, channels, multiplier)
    count_macs(n * math.prod(out) * math.prod(weights.kernel) * channels * multiplier)
    if multiplier == 1:
        y: Array = np.einsum(
            f"n{positions}{offsets}c,{offsets}c->n{positions}c", view, taps[..., 0]
        )
        return y
    y = np.einsum(f"n{positions}{offsets}c,{offsets}cm->n{positions}cm", view, taps)
    return y.reshape(n, *out, channels * multiplier)


@dataclass(frozen=True, slots=True)
class TransposeWeights:
    matrix: Array
    """``(groups, C_in/g, ∏k·C_out/g)``: columns ordered (kernel offset, channel)."""
    kernel: tuple[int, ...]
    groups: int
    out: int


def transpose_weights(weight: Array, groups: int) -> TransposeWeights:
    """From PyTorch's ``(C_in, C_out/g, *kernel)``."""
    in_channels, og, *kernel = weight.shape
    rank = len(kernel)
    grouped = weight.reshape(groups, in_channels // groups, og, *kernel)
    order = (0, 1, *range(3, 3 + rank), 2)
    matrix = np.ascontiguousarray(grouped.transpose(order)).reshape(
        groups, in_channels // groups, -1
    )
    return TransposeWeights(matrix, tuple(kernel), groups, og * groups)


def conv_transpose(
    x: Array,
    weights: TransposeWeights,
    bias: Array | None,
    *,
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    output_padding: tuple[int, ...],
    dilation: tuple[int, ...],
) -> Array:
    """Transposed convolution: one product gives every input's contribution to its
    ∏k outputs; those are added into the output one kernel offset at a time (col2im)."""
    kernel, groups, channels_out = weights.kernel, weights.groups, weights.out
    n, sizes, channels = x.shape[0], tuple(x.shape[1:-1]), x.shape[-1]
    full = tuple(
        (size - 1) * s + d * (k - 1) + 1 + op
        for size, s, d, k, op in zip(sizes, stride, dilation, kernel, output_padding, strict=True)
    )
    out = tuple(f - 2 * p for f, p in zip(full, padding, strict=True))
    if any(o < 1 for o in out):
        raise ValueError(f"transposed conv output {out} is empty")
    rank = len(kernel)
    positions = n * math.prod(sizes)
    per_group = channels // groups
    og = channels_out // groups
    if groups == 1:
        product = matmul(x.reshape(positions, channels), weights.matrix[0])
        contributions = product.reshape(n, *sizes, *kernel, channels_out)
    else:
        grouped = x.reshape(positions, groups, per_group).transpose(1, 0, 2)
        product = matmul(grouped, weights.matrix)  # (g, NP, ∏k·Og)
        contributions = np.ascontiguousarray(
            np.moveaxis(product.reshape(groups, n, *sizes, *kernel, og), 0, 1 + 2 * rank)
        ).reshape(n, *sizes, *kernel, channels_out)
    y = np.zeros((n, *full, channels_out), dtype=x.dtype)
    for at in itertools.product(*(range(k) for k in kernel)):
        where = tuple(
            slice(j * d, j * d + (size - 1) * s + 1, s)
            for j, d, size, s in zip(at, dilation, sizes, stride, strict=True)
        )
        y[(slice(None), *where)] += contributions[(slice(None),) * (1 + rank) + at]
    crop = tuple(slice(p, p + o) for p, o in zip(padding, out, strict=True))
    if any(padding) or any(output_padding):
        y = np.ascontiguousarray(y[(slice(None), *crop)])
    if bias is not None:
        y += bias
    return y
