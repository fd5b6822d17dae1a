"""Convolution kernels on channels-last arrays: 1×1 products, im2col and depthwise ``einsum``
by bands of output positions on every thread (each band's epilogue, the elementwise layers
fused after the conv, applied while it is in the cache), one batched product over the groups of
a grouped conv, and a product then col2im for transposed convs.

Weights come in PyTorch's layout through :func:`conv_weights` and :func:`transpose_weights`
(tests compare with ``torch.nn.functional``); ``--execute`` draws them straight into the
rearranged layout instead.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np

from convcost.executor import blas
from convcost.executor.kernels import (
    Array,
    PaddedBands,
    Pads,
    count_macs,
    matmul,
    out_size,
    pad,
    windows,
)
from convcost.executor.stages import Epilogue
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
    shifted: bool = False
    """The matrix is ``(1, C_in, ∏k·C_out)``, columns ordered (kernel offset, channel), for
    :func:`shifted_product` (:func:`shifts`)."""


def shifts(
    channels: int, out: int, kernel: tuple[int, ...], stride: tuple[int, ...], groups: int
) -> bool:
    """Whether a conv runs as one product of its input by every kernel offset's weights, then
    a sum of shifted slices (:func:`shifted_product`), instead of im2col: for a 2-D conv of
    stride 1 with no groups whose ∏k·C_out columns per position are fewer than the ∏k·C_in
    im2col would copy, by :data:`SHIFT_RATIO` (DenseNet's 3×3 convs of 128 channels into 32)."""
    return (
        len(kernel) == 2
        and math.prod(kernel) > 1
        and groups == 1
        and all(s == 1 for s in stride)
        and out * SHIFT_RATIO <= channels
    )


SHIFT_RATIO = 2
""":func:`shifts` takes a conv whose output channels are at most its input's over this."""


def conv_weights(weight: Array, groups: int, *, shifted: bool = False) -> ConvWeights:
    """From PyTorch's ``(C_out, C_in/g, *kernel)``; ``shifted`` (for an ungrouped conv) in
    :func:`shifted_product`'s layout."""
    out, per_group, *kernel = weight.shape
    k = math.prod(kernel)
    if per_group == 1 and groups > 1:
        multiplier = out // groups
        matrix = weight.reshape(groups, multiplier, k).transpose(2, 0, 1)
        return ConvWeights(np.ascontiguousarray(matrix), tuple(kernel), groups, out, True)
    if shifted:
        if groups != 1:
            raise ValueError("a shifted product is for an ungrouped conv")
        # (O, C, *k) → (C, *k, O)
        matrix = np.moveaxis(weight, 0, -1).reshape(1, per_group, k * out)
        return ConvWeights(
            np.ascontiguousarray(matrix), tuple(kernel), groups, out, False, shifted=True
        )
    og = out // groups
    rank = len(kernel)
    # (g, Og, Cg, *k) → (g, *k, Cg, Og)
    grouped = weight.reshape(groups, og, per_group, *kernel)
    order = (0, *range(3, 3 + rank), 2, 1)
    matrix = np.ascontiguousarray(grouped.transpose(order)).reshape(groups, k * per_group, og)
    return ConvWeights(matrix, tuple(kernel), groups, out, False)


def torch_weight(
    matrix: Array,
    channels: int,
    out: int,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    groups: int,
) -> Array:
    """PyTorch's ``(C_out, C_in/g, *kernel)`` from a weight in the layout :func:`conv_weights`
    makes for this conv (depthwise, shifted or im2col): its inverse, for the ONNX exporter,
    which writes the weights the executor drew."""
    rank, per_group = len(kernel), channels // groups
    if per_group == 1 and groups > 1:  # depthwise: (∏k, groups, multiplier)
        return matrix.transpose(1, 2, 0).reshape(out, 1, *kernel)
    if shifts(channels, out, kernel, stride, groups):  # (1, C, (*kernel, out))
        return matrix.reshape(channels, *kernel, out).transpose(rank + 1, *range(rank + 1))
    # (groups, (*kernel, C/g), out/g)
    grouped = matrix.reshape(groups, *kernel, per_group, out // groups)
    order = (0, rank + 2, rank + 1, *range(1, rank + 1))
    return grouped.transpose(order).reshape(out, per_group, *kernel)


def conv(
    x: Array,
    weights: ConvWeights,
    bias: Array | None,
    *,
    stride: tuple[int, ...],
    padding: Pads,
    dilation: tuple[int, ...],
    epilogue: Epilogue | None = None,
) -> Array:
    """N-d convolution (cross-correlation, as PyTorch) of a channels-last ``x``; ``epilogue``'s
    stages (the elementwise layers after it) are applied to each band of the output as soon as
    it is computed."""
    kernel, groups = weights.kernel, weights.groups
    spans = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True))
    out = tuple(
        out_size(size, span, s, lo, hi)
        for size, span, s, (lo, hi) in zip(x.shape[1:-1], spans, stride, padding, strict=True)
    )
    n, channels = x.shape[0], x.shape[-1]
    positions = n * math.prod(out)
    started = time.perf_counter()
    if weights.shifted:
        if any(s != 1 for s in stride) or len(out) != 2:
            raise ValueError("a shifted product is for a 2-D conv of stride 1")
        return shifted_product(x, weights, bias, out, padding, dilation, epilogue)
    if weights.depthwise:
        if weights.matrix.shape[-1] == 1:
            return _depthwise_bands(x, weights, bias, out, stride, padding, dilation, epilogue)
        y = _depthwise(x, weights, out, stride, padding, dilation)
    elif math.prod(kernel) == 1 and groups == 1 and not any(lo or hi for lo, hi in padding):
        # 1×1: pick the strided positions (a copy only when strided), then one matrix product
        picked = x[
            (
                slice(None),
                *(slice(None, (o - 1) * s + 1, s) for o, s in zip(out, stride, strict=True)),
            )
        ]
        rows = picked.reshape(positions, channels)
        matrix = weights.matrix[0]
        if positions >= weights.out and positions * channels * weights.out >= blas.SPLIT_MACS:
            y = _pointwise_bands(rows, matrix, bias, epilogue)
            return y.reshape(n, *out, weights.out)
        if epilogue is not None and epilogue.before:
            prepared = np.empty(rows.shape, dtype=rows.dtype)
            started = epilogue.start(rows, prepared, 0)
            rows = prepared
        y = matmul(rows, matrix)
    else:
        if groups == 1:
            return _banded(
                x, padding, kernel, stride, dilation, weights.matrix[0], bias, out, epilogue
            )
        view = windows(pad(x, padding), out, kernel, stride, dilation)
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
    if epilogue is not None:
        epilogue.finish(y.reshape(-1, weights.out), 0, started)
    return y


POINTWISE_BAND_BYTES = 2**20
"""A 1×1 conv's product runs in bands of positions whose input and output rows take about this
many bytes (at least :data:`MIN_BAND_ROWS` rows), one band per thread at a time, each band's
epilogue applied while it is in the cache."""
MIN_BAND_ROWS = 512
"""Fewer rows than this make a matrix product pack its second operand for too little work."""


def _pointwise_bands(
    rows: Array, matrix: Array, bias: Array | None, epilogue: Epilogue | None
) -> Array:
    """``rows @ matrix`` (+ bias, then the epilogue) by bands of rows on every thread."""
    positions, depth = rows.shape
    width = matrix.shape[1]
    count_macs(positions * depth * width)
    y = np.empty((positions, width), dtype=rows.dtype)
    step = max(MIN_BAND_ROWS, POINTWISE_BAND_BYTES // ((depth + width) * rows.itemsize))
    step = min(step, -(-positions // blas.threads()))
    count = -(-positions // step)

    before = epilogue is not None and bool(epilogue.before)
    buffers = [
        np.empty((step, depth), dtype=rows.dtype)
        for _ in range(min(count, blas.threads()) if before else 0)
    ]

    def band(index: int, worker: int) -> None:
        cut = slice(index * step, min(positions, (index + 1) * step))
        source = rows[cut]
        if epilogue is not None and before:
            prepared = buffers[worker][: source.shape[0]]
            started = epilogue.start(source, prepared, worker)
            source = prepared
        else:
            started = time.perf_counter()
        target = y[cut]
        np.matmul(source, matrix, out=target)
        if bias is not None:
            target += bias
        if epilogue is not None:
            epilogue.finish(target, worker, started)

    blas.parallel(count, band)
    return y


COLUMN_BAND_BYTES = 2**20
"""The im2col columns of a conv are gathered and multiplied one band of output positions at a
time, each thread its own band in its own buffer: this large (or :data:`MIN_BAND_ROWS` output
positions, whichever is larger, unless one output row alone is larger), so that the band stays
in the CPU's cache between the copy and the product, and the whole column matrix (115 MiB for
one VGG-16 image's second conv) is never allocated."""


def column_band(n: int, out: tuple[int, ...], depth: int, itemsize: int) -> tuple[int, int]:
    """(samples, rows) of one band: whole samples while one sample's columns fit in a band
    (:data:`COLUMN_BAND_BYTES`, :data:`MIN_BAND_ROWS`), else ``rows`` of the first output axis
    of one sample."""
    per_position = depth * itemsize
    band = max(COLUMN_BAND_BYTES, MIN_BAND_ROWS * per_position)
    row = math.prod(out[1:]) * per_position
    sample = out[0] * row
    if sample <= band:
        return min(n, band // sample), out[0]
    return 1, max(1, min(out[0], band // row))


def column_buffers(n: int, out: tuple[int, ...], depth: int, itemsize: int) -> int:
    """How many band buffers a conv uses at once: one per thread, at most one per band."""
    samples, rows = column_band(n, out, depth, itemsize)
    bands = -(-n // samples) * -(-out[0] // rows)
    return min(bands, blas.threads())


def _banded(
    x: Array,
    padding: Pads,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    matrix: Array,
    bias: Array | None,
    out: tuple[int, ...],
    epilogue: Epilogue | None,
) -> Array:
    """im2col by bands (see :data:`COLUMN_BAND_BYTES`): each band of windows (of its padded
    input rows, :class:`~convcost.executor.kernels.PaddedBands`) is copied into its thread's
    buffer, then multiplied into its slice of the output (+ bias, then the epilogue)."""
    n, depth, width = x.shape[0], matrix.shape[0], matrix.shape[1]
    samples, rows = column_band(n, out, depth, x.itemsize)
    y = np.empty((n, *out, width), dtype=x.dtype)
    bands = [(first, top) for first in range(0, n, samples) for top in range(0, out[0], rows)]
    source = PaddedBands(x, padding, out, kernel, stride, dilation, (samples, rows), len(bands))
    buffers = [
        np.empty((samples, rows, *out[1:], *kernel, x.shape[-1]), dtype=x.dtype)
        for _ in range(column_buffers(n, out, depth, x.itemsize))
    ]
    count_macs(n * math.prod(out) * depth * width)
    parallel = len(buffers) > 1

    def band(index: int, worker: int) -> None:
        started = time.perf_counter()
        first, top = bands[index]
        last, bottom = min(n, first + samples), min(out[0], top + rows)
        columns = buffers[worker][: last - first, : bottom - top]
        np.copyto(columns, source.windows(worker, first, last, top, bottom))
        target = y[first:last, top:bottom].reshape(-1, width)
        if parallel:
            np.matmul(columns.reshape(-1, depth), matrix, out=target)
        else:  # one band at a time: the product itself is cut across the threads
            blas.matmul_into(columns.reshape(-1, depth), matrix, target)
        if bias is not None:
            target += bias
        if epilogue is not None:
            epilogue.finish(target, worker, started)

    if parallel:
        blas.parallel(len(bands), band)
    else:
        for index in range(len(bands)):
            band(index, 0)
    return y


SHIFT_BAND_BYTES = 2**20
""":func:`shifted_product` multiplies one band of input rows at a time, each thread its own
band, whose product (∏k·C_out per position) takes about this many bytes: it stays in the cache
while its shifted slices are summed."""


def shifted_band(
    n: int, out: tuple[int, ...], size: tuple[int, ...], halo: int, columns: int, itemsize: int
) -> tuple[int, int]:
    """(output rows per band, buffers: one per thread at most one per band) of
    :func:`shifted_product` for an input of spatial ``size``, a kernel reaching ``halo`` rows
    below a band's own, and ``columns`` = ∏k·C_out."""
    row = size[1] * columns * itemsize
    rows = max(1, min(out[0], SHIFT_BAND_BYTES // row - halo))
    if n < blas.threads():  # a band for every thread
        rows = min(rows, max(1, -(-out[0] * n // blas.threads())))
    bands = n * -(-out[0] // rows)
    return rows, min(bands, blas.threads())


def shifted_product(
    x: Array,
    weights: ConvWeights,
    bias: Array | None,
    out: tuple[int, ...],
    padding: Pads,
    dilation: tuple[int, ...],
    epilogue: Epilogue | None,
) -> Array:
    """A 2-D conv of stride 1 by bands of output rows on every thread: the input rows a band
    reads (its own and the kernel's reach) times every offset's weights in one product, ∏k·C_out
    columns per position, then each offset's slice of it, shifted, added into the band of the
    output (+ bias, then the epilogue). No im2col copy, no padded copy: the padding is where
    no slice lands. Rows below a band are multiplied again by the next band."""
    n, height, width, channels = x.shape
    (kh, kw), (dh, dw) = weights.kernel, dilation
    (top_pad, _), (left_pad, _) = padding
    matrix = weights.matrix[0]
    cout = weights.out
    halo = (kh - 1) * dh
    rows, buffers_count = shifted_band(n, out, (height, width), halo, matrix.shape[1], x.itemsize)
    y = np.empty((n, *out, cout), dtype=x.dtype)
    bands = [(sample, top) for sample in range(n) for top in range(0, out[0], rows)]
    buffers = [
        np.empty(((rows + halo) * width, matrix.shape[1]), dtype=x.dtype)
        for _ in range(buffers_count)
    ]
    count_macs(n * math.prod(out) * kh * kw * channels * cout)
    # each offset's output columns [j0, j1) and the input columns they read, [j0 + shift, …)
    columns = []
    for b in range(kw):
        shift = b * dw - left_pad
        j0, j1 = max(0, -shift), min(out[1], width - shift)
        columns.append((b, j0, j1, shift))

    def band(index: int, worker: int) -> None:
        started = time.perf_counter()
        sample, top = bands[index]
        bottom = min(out[0], top + rows)
        first = max(0, top - top_pad)
        last = min(height, bottom - 1 - top_pad + halo + 1)
        target = y[sample, top:bottom]
        if first >= last:  # every row of the band reads only padding
            target.fill(0)
        else:
            product = buffers[worker][: (last - first) * width]
            np.matmul(x[sample, first:last].reshape(-1, channels), matrix, out=product)
            shifted = product.reshape(last - first, width, kh, kw, cout)
            slices = []
            for a in range(kh):
                down = a * dh - top_pad  # output row i reads input row i + down
                i0, i1 = max(top, first - down), min(bottom, last - down)
                if i0 >= i1:
                    continue
                for b, j0, j1, shift in columns:
                    if j0 < j1:
                        source = shifted[
                            i0 + down - first : i1 + down - first, j0 + shift : j1 + shift, a, b
                        ]
                        slices.append((i0 - top, i1 - top, j0, j1, source))
            full = next(
                (i for i, s in enumerate(slices) if s[:4] == (0, bottom - top, 0, out[1])), None
            )
            if full is None:
                target.fill(0)
            else:
                np.copyto(target, slices.pop(full)[4])
            for i0, i1, j0, j1, source in slices:
                part = target[i0:i1, j0:j1]
                np.add(part, source, out=part)
        flat = target.reshape(-1, cout)
        if bias is not None:
            flat += bias
        if epilogue is not None:
            epilogue.finish(flat, worker, started)

    blas.parallel(len(bands), band)
    return y


DEPTHWISE_BAND_ROWS = 32
"""A depthwise conv runs in bands of this many rows of the first output axis (of one sample),
each band's epilogue applied while the band is in the cache."""


PER_OFFSET_CHANNELS = 64
"""A depthwise conv (of 2 or more spatial axes) with at most this many channels runs a product
per kernel offset (:func:`_depthwise_bands`): on one core, 1×112×112×32 took 1.2 ms this way
against 6.6 ms by ``einsum``; from 96 channels on, ``einsum`` was as fast or faster."""


def per_offset(channels: int, out: tuple[int, ...]) -> bool:
    """Whether a depthwise conv of ``channels`` into the spatial ``out`` runs a product per
    kernel offset (:data:`PER_OFFSET_CHANNELS`) rather than one ``einsum``."""
    return len(out) >= 2 and channels <= PER_OFFSET_CHANNELS


def depthwise_band(n: int, out: tuple[int, ...]) -> int:
    """Rows of the first output axis (of one sample) in one depthwise band."""
    return max(1, min(out[0], DEPTHWISE_BAND_ROWS))


def _depthwise_bands(
    x: Array,
    weights: ConvWeights,
    bias: Array | None,
    out: tuple[int, ...],
    stride: tuple[int, ...],
    padding: Pads,
    dilation: tuple[int, ...],
    epilogue: Epilogue | None,
) -> Array:
    """Each channel with its own filter (multiplier 1), by bands of output rows on every
    thread: one ``einsum`` per band over the strided view of its windows, which sums the kernel
    offsets as it writes each output once, then the epilogue while the band is in the cache.

    With few channels (:func:`per_offset`) ``einsum``'s inner loop, over the channels alone,
    is too short: the band is then a product per kernel offset added up (two passes per offset,
    but over whole rows of positions × channels, with the weights repeated along the row)."""
    n, channels = x.shape[0], x.shape[-1]
    taps = weights.matrix.reshape(*weights.kernel, channels)
    count_macs(n * math.prod(out) * math.prod(weights.kernel) * channels)
    rows = depthwise_band(n, out)
    y = np.empty((n, *out, channels), dtype=x.dtype)
    bands = [(sample, top) for sample in range(n) for top in range(0, out[0], rows)]
    source = PaddedBands(x, padding, out, weights.kernel, stride, dilation, (1, rows), len(bands))
    letters = "ABCDEFGHIJ"[: 2 * len(out)]
    positions, offsets = letters[: len(out)], letters[len(out) :]
    formula = f"{positions}{offsets}c,{offsets}c->{positions}c"
    by_offset = per_offset(channels, out)
    if by_offset:
        # (*k, last output axis, C): each offset's weights along a row of the output
        tiled = np.ascontiguousarray(
            np.broadcast_to(taps[..., None, :], (*weights.kernel, out[-1], channels))
        )
        at = list(itertools.product(*map(range, weights.kernel)))
        temporaries = [
            np.empty((rows, *out[1:], channels), dtype=x.dtype)
            for _ in range(min(len(bands), blas.threads()))
        ]

    def band(index: int, worker: int) -> None:
        started = time.perf_counter()
        sample, top = bands[index]
        bottom = min(out[0], top + rows)
        target = y[sample, top:bottom]
        view = source.windows(worker, sample, sample + 1, top, bottom)[0]  # (*out, *k, C)
        if by_offset:
            temporary = temporaries[worker][: bottom - top]
            inner = (slice(None),) * len(out)
            np.multiply(view[(*inner, *at[0])], tiled[at[0]], out=target)
            for where in at[1:]:
                np.multiply(view[(*inner, *where)], tiled[where], out=temporary)
                np.add(target, temporary, out=target)
        else:
            np.einsum(formula, view, taps, out=target)
        if bias is not None:
            target += bias
        if epilogue is not None:
            epilogue.finish(target.reshape(-1, channels), worker, started)

    blas.parallel(len(bands), band)
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
