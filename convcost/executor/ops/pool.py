"""Pooling on channels-last arrays: windowed max/avg, global and adaptive pools.

Windowed pools loop only over the few kernel offsets, band by band of output rows on every
thread."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from convcost.executor import blas
from convcost.executor.kernels import PaddedBands, Pads, padded_elements, slab_shape
from convcost.executor.ops.base import Array, Initializer, Op, PreparedLayer
from convcost.layers.base import Shape
from convcost.layers.pool import AdaptivePool, AvgPool, GlobalPool, MaxPool, WindowPool


def pool_size(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> int:
    """PyTorch's pooling output size (division rounding towards −∞, as its ``div_rtn``): with
    ceil mode the last window must start inside the input or its left padding, and the window
    may be wider than the input (3 wide on 2 pixels, stride 3: one output over both)."""
    numerator = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (numerator + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    if out < 1:
        raise ValueError(
            f"pooling window {dilation * (kernel - 1) + 1} exceeds input {size} + padding"
        )
    return out


def _pool_geometry(
    x: Array,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    dilation: tuple[int, ...],
    ceil_mode: bool,
) -> tuple[tuple[int, ...], Pads]:
    sizes = x.shape[1:-1]
    out = tuple(
        pool_size(size, k, s, p, d, ceil_mode)
        for size, k, s, p, d in zip(sizes, kernel, stride, padding, dilation, strict=True)
    )
    return out, _pads(sizes, out, kernel, stride, padding, dilation)


def _pads(
    sizes: tuple[int, ...],
    out: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    dilation: tuple[int, ...],
) -> Pads:
    """The padding the pool kernels add to inputs of spatial ``sizes`` giving ``out``: ceil
    mode may read past the right padding, so the right side reaches the last window's end."""
    return tuple(
        (p, max(p, (o - 1) * s + d * (k - 1) + 1 - size - p))
        for size, o, k, s, p, d in zip(sizes, out, kernel, stride, padding, dilation, strict=True)
    )


POOL_BAND_ROWS = 8
"""Pools run in bands of this many rows of the first output axis (of one sample), on every
thread, each band combined over every kernel offset while it is in the cache."""


def pool_band(out: tuple[int, ...]) -> int:
    """Output rows (of one sample) in one band of a windowed pool."""
    return max(1, min(out[0], POOL_BAND_ROWS))


def _by_offset(
    x: Array,
    pads: Pads,
    out: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    value: float,
    combine: np.ufunc,
) -> Array:
    """``combine`` (maximum, add) over the kernel offsets of the windows of ``x`` padded by
    ``pads`` with ``value`` (band by band, :class:`~convcost.executor.kernels.PaddedBands`),
    by bands of output rows on every thread."""
    n = x.shape[0]
    y = np.empty((n, *out, x.shape[-1]), dtype=x.dtype)
    rows = pool_band(out)
    bands = [(sample, top) for sample in range(n) for top in range(0, out[0], rows)]
    source = PaddedBands(x, pads, out, kernel, stride, dilation, (1, rows), len(bands), value)
    at: list[tuple[Any, ...]] = [
        (Ellipsis, *where, slice(None)) for where in itertools.product(*map(range, kernel))
    ]

    def band(index: int, worker: int) -> None:
        sample, top = bands[index]
        bottom = min(out[0], top + rows)
        part = source.windows(worker, sample, sample + 1, top, bottom)[0]
        target = y[sample, top:bottom]
        np.copyto(target, part[at[0]])
        for where in at[1:]:
            combine(target, part[where], out=target)

    blas.parallel(len(bands), band)
    return y


def max_pool(
    x: Array,
    *,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    dilation: tuple[int, ...],
    ceil_mode: bool = False,
) -> Array:
    out, pads = _pool_geometry(x, kernel, stride, padding, dilation, ceil_mode)
    return _by_offset(x, pads, out, kernel, stride, dilation, -np.inf, np.maximum)


def avg_pool(
    x: Array,
    *,
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    padding: tuple[int, ...],
    ceil_mode: bool = False,
) -> Array:
    """PyTorch's default ``count_include_pad=True``: the divisor counts padding but not the
    part of a ceil-mode window beyond the right padding."""
    ones = (1,) * len(kernel)
    out, pads = _pool_geometry(x, kernel, stride, padding, ones, ceil_mode)
    y = _by_offset(x, pads, out, kernel, stride, ones, 0.0, np.add)
    divisor = np.ones((), dtype=np.int64)
    for axis, (size, o, k, s, p) in enumerate(
        zip(x.shape[1:-1], out, kernel, stride, padding, strict=True)
    ):
        start = np.arange(o) * s - p
        counts = np.minimum(start + k, size + p) - start
        divisor = divisor * counts.reshape((o,) + (1,) * (len(out) - 1 - axis))
    y /= divisor[..., None].astype(x.dtype)
    return y


def global_avg_pool(x: Array) -> Array:
    axes = tuple(range(1, x.ndim - 1))
    return np.mean(x, axis=axes, keepdims=True, dtype=x.dtype)


def global_max_pool(x: Array) -> Array:
    result: Array = np.max(x, axis=tuple(range(1, x.ndim - 1)), keepdims=True)
    return result


def _adaptive_index(size: int, out: int) -> tuple[Array, Array]:
    """PyTorch's adaptive windows [⌊i·L/out⌋, ⌈(i+1)·L/out⌉) as an index table ``(out, longest)``
    (short windows repeat their last index) and a mask of the real entries."""
    i = np.arange(out)
    start = (i * size) // out
    end = -((-(i + 1) * size) // out)
    longest = int((end - start).max())
    index = start[:, None] + np.arange(longest)[None, :]
    mask = index < end[:, None]
    return np.minimum(index, end[:, None] - 1), mask


def _adaptive(x: Array, size: tuple[int, ...], op: str) -> Array:
    """Box windows are separable: reduce one spatial axis at a time with a gathered table."""
    y = x
    for axis, out in enumerate(size, start=1):
        index, mask = _adaptive_index(y.shape[axis], out)
        gathered = np.take(y, index, axis=axis)  # (…, out, longest, …)
        if op == "max":
            y = gathered.max(axis=axis + 1)
        else:
            shape = [1] * gathered.ndim
            shape[axis], shape[axis + 1] = mask.shape
            # the gathered table is a fresh copy: mask it in place, sum, divide in place
            gathered *= mask.reshape(shape).astype(x.dtype)
            y = gathered.sum(axis=axis + 1)
            del gathered
            y /= mask.sum(axis=1).astype(x.dtype).reshape(shape[: axis + 1] + shape[axis + 2 :])
    return np.ascontiguousarray(y)


def adaptive_avg_pool(x: Array, size: tuple[int, ...]) -> Array:
    return _adaptive(x, size, "avg")


def adaptive_max_pool(x: Array, size: tuple[int, ...]) -> Array:
    return _adaptive(x, size, "max")


class WindowPoolOp(Op[WindowPool]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        layer = self.layer
        kernel, stride, padding, ceil_mode = (
            layer.kernel,
            layer.stride,
            layer.padding,
            layer.ceil_mode,
        )
        if isinstance(layer, MaxPool):
            dilation = layer.dilation
            return PreparedLayer(
                lambda x, owned: (
                    max_pool(
                        x,
                        kernel=kernel,
                        stride=stride,
                        padding=padding,
                        dilation=dilation,
                        ceil_mode=ceil_mode,
                    ),
                    True,
                )
            )
        return PreparedLayer(
            lambda x, owned: (
                avg_pool(x, kernel=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode),
                True,
            )
        )

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        layer = self.layer
        # avgpool's divisor table: int64 counts per output position (2 elements each), x2
        return 4 * math.prod(out[1:]) if isinstance(layer, AvgPool) else 0

    def columns(self, shape: Shape, out: Shape, batch: int, width: int) -> int:
        """The padded slabs of input rows the bands read (:class:`~convcost.executor.kernels.
        PaddedBands`), one per thread at work, reused for the whole batch."""
        layer = self.layer
        dilation = layer.dilation if isinstance(layer, MaxPool) else (1,) * len(layer.kernel)
        pads = _pads(shape[1:], out[1:], layer.kernel, layer.stride, layer.padding, dilation)
        if not padded_elements(shape, pads):
            return 0
        rows = pool_band(out[1:])
        bands = min(batch * -(-out[1] // rows), blas.threads())
        span = dilation[0] * (layer.kernel[0] - 1) + 1
        slab = slab_shape((0, *shape[1:], shape[0]), pads, 1, rows, layer.stride[0], span)
        return bands * math.prod(slab)


class GlobalPoolOp(Op[GlobalPool]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        pool = global_avg_pool if self.layer.reduction == "avg" else global_max_pool
        return PreparedLayer(lambda x, owned: (pool(x), True))

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        return 0


class AdaptivePoolOp(Op[AdaptivePool]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        adaptive = adaptive_avg_pool if self.layer.reduction == "avg" else adaptive_max_pool
        size = self.layer.size
        return PreparedLayer(lambda x, owned: (adaptive(x, size), True))

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        """The pool reduces one axis at a time: a gathered table (out × longest window per
        axis) and the reduced array; the intermediate of the previous axis stays alive
        meanwhile, and the table of an earlier axis may stay resident as a hole in the heap
        when a later, larger one does not fit in it (on a warm pass glibc serves them from the
        heap: measured 29.6 MiB for upsampling 64×96×96 to 192×192 against 27.0 on a cold one)."""
        current, peak, previous, holes = list(shape), 0, 0, 0
        for axis, size_out in enumerate(self.layer.size, start=1):
            size = current[axis]
            longest = max(
                -(-(i + 1) * size // size_out) - (i * size) // size_out for i in range(size_out)
            )
            gathered = math.prod(current) // size * size_out * longest
            current[axis] = size_out
            last = axis == len(self.layer.size)
            reduced = 0 if last else math.prod(current)  # the last is the output
            hole = holes if gathered > holes else 0
            peak = max(peak, hole + previous + gathered + reduced)
            previous = reduced
            holes = max(holes, gathered)
        return peak
