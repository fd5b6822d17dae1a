"""What every ``--execute`` kernel shares: the channels-last layout, the counted matrix
product, padding and window views.

Spatial tensors are ``(N, *spatial, C)`` (channels last, so a 1×1 conv is one matrix product
and per-channel scales broadcast over the contiguous axis); flat tensors are ``(N, F)``.
Each kind's kernels live with its op (:mod:`convcost.executor.ops`) or in
:mod:`convcost.executor.kernels_conv`. No kernel loops over pixels or output positions, and
output sizes are computed from the arrays, independently of :mod:`convcost.layers`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import as_strided

from convcost.executor import blas

Array = npt.NDArray[Any]
Pads = tuple[tuple[int, int], ...]


_counted = [0]
"""Multiply-accumulates the kernels performed since :func:`take_macs` last ran."""


def take_macs() -> int:
    """The multiply-accumulates performed since the last call, counted from the shapes of the
    operands each kernel really multiplied (not from convcost's cost formulas)."""
    count, _counted[0] = _counted[0], 0
    return count


def count_macs(macs: int) -> None:
    """Count multiply-accumulates a kernel performs without :func:`matmul` (an ``einsum``),
    from the shapes of its operands."""
    _counted[0] += macs


def matmul(a: Array, b: Array) -> Array:
    """``a @ b``, counting rows × inner × columns (× the batch of a batched product)."""
    _counted[0] += math.prod(a.shape[:-1]) * a.shape[-1] * b.shape[-1]
    return blas.matmul(a, b)


def matmul_into(a: Array, b: Array, out: Array) -> None:
    """``out[...] = a @ b`` (a contiguous ``out``), counted as :func:`matmul`."""
    _counted[0] += math.prod(a.shape[:-1]) * a.shape[-1] * b.shape[-1]
    blas.matmul_into(a, b, out)


def to_channels_last(x: Array) -> Array:
    """``(N, C, *spatial)`` → ``(N, *spatial, C)`` (a copy, contiguous)."""
    return np.ascontiguousarray(np.moveaxis(x, 1, -1)) if x.ndim > 2 else x


def to_channels_first(x: Array) -> Array:
    """``(N, *spatial, C)`` → ``(N, C, *spatial)`` (a view)."""
    return np.moveaxis(x, -1, 1) if x.ndim > 2 else x


def sample_shape(x: Array) -> tuple[int, ...]:
    """The per-sample shape in PyTorch's order ``(C, *spatial)`` of a channels-last array."""
    shape = tuple(int(v) for v in x.shape)
    return (shape[-1], *shape[1:-1]) if x.ndim > 2 else shape[1:]


def out_size(size: int, span: int, stride: int, lo: int, hi: int) -> int:
    out = (size + lo + hi - span) // stride + 1
    if size + lo + hi < span or out < 1:
        raise ValueError(f"input {size} + padding {lo + hi} is smaller than the window {span}")
    return out


def pad(x: Array, pads: Pads, value: float = 0.0) -> Array:
    """Pad the spatial axes of a channels-last array (no copy when nothing is padded)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    shape = (x.shape[0], *(s + lo + hi for s, (lo, hi) in zip(x.shape[1:-1], pads, strict=True)))
    out = np.full((*shape, x.shape[-1]), value, dtype=x.dtype)
    inner = tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[1:-1], pads, strict=True))
    out[(slice(None), *inner)] = x
    return out


def windows(
    xp: Array,
    out: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
) -> Array:
    """A strided view ``(N, *out, *kernel, C)`` of every window of ``xp``: nothing is copied."""
    s_n, *s_sp, s_c = xp.strides
    return as_strided(
        xp,
        shape=(xp.shape[0], *out, *kernel, xp.shape[-1]),
        strides=(
            s_n,
            *(a * s for a, s in zip(s_sp, stride, strict=True)),
            *(a * d for a, d in zip(s_sp, dilation, strict=True)),
            s_c,
        ),
        writeable=False,
    )


def padded_elements(shape: tuple[int, ...], pads: Pads) -> int:
    """Elements of one sample ``(C, *spatial)`` padded by ``pads``; 0 when nothing is padded
    (:func:`pad` then makes no copy)."""
    if not any(lo or hi for lo, hi in pads):
        return 0
    return shape[0] * math.prod(s + lo + hi for s, (lo, hi) in zip(shape[1:], pads, strict=True))


class PaddedBands:
    """The windows of bands of a channels-last ``x`` as if it were padded by ``pads``, without
    padding it whole: each band (samples ``first:last``, output rows ``top:bottom`` of the
    first spatial axis) copies the input rows it reads into its thread's slab, whose padding
    stays ``value`` (a copy of one band, in the cache for the kernel that reads it, where
    :func:`pad` wrote the whole tensor into fresh memory on one thread). Unpadded, a band is a
    view of ``x``. The slabs, one per thread at work (``bands`` in all, at most
    :func:`~convcost.executor.blas.threads`), are allocated here, by the calling thread: a
    worker's own allocations would come from its own heap arena, which keeps what it frees."""

    def __init__(
        self,
        x: Array,
        pads: Pads,
        out: tuple[int, ...],
        kernel: tuple[int, ...],
        stride: tuple[int, ...],
        dilation: tuple[int, ...],
        band: tuple[int, int],
        bands: int,
        value: float = 0.0,
    ) -> None:
        self.x, self.pads, self.out, self.value = x, pads, out, value
        self.kernel, self.stride, self.dilation = kernel, stride, dilation
        self.padded = any(lo or hi for lo, hi in pads)
        self.span = dilation[0] * (kernel[0] - 1) + 1
        samples, rows = band
        shape = slab_shape(x.shape, pads, samples, rows, stride[0], self.span)
        count = min(bands, blas.threads()) if self.padded else 0
        self.slabs = [np.full(shape, value, dtype=x.dtype) for _ in range(count)]

    def windows(self, worker: int, first: int, last: int, top: int, bottom: int) -> Array:
        """``(last − first, bottom − top, *out[1:], *kernel, C)`` windows of the band."""
        x, out = self.x, (bottom - top, *self.out[1:])
        if not self.padded:
            below = x[first:last, top * self.stride[0] :]
            return windows(below, out, self.kernel, self.stride, self.dilation)
        slab = self.slabs[worker]
        lo = self.pads[0][0]
        start = top * self.stride[0] - lo  # the input row of the slab's first row
        rows = (bottom - top - 1) * self.stride[0] + self.span
        part = slab[: last - first, :rows]
        height = x.shape[1]
        begin, end = max(0, start), min(height, start + rows)
        if begin > start:
            part[:, : begin - start] = self.value
        if start + rows > end:
            part[:, max(0, end - start) :] = self.value
        if begin < end:
            inner = tuple(
                slice(p, p + s) for s, (p, _) in zip(x.shape[2:-1], self.pads[1:], strict=True)
            )
            part[(slice(None), slice(begin - start, end - start), *inner)] = x[
                first:last, begin:end
            ]
        return windows(part, out, self.kernel, self.stride, self.dilation)


def slab_shape(
    shape: tuple[int, ...], pads: Pads, samples: int, rows: int, stride: int, span: int
) -> tuple[int, ...]:
    """A :class:`PaddedBands` slab for bands of ``samples`` × ``rows`` output rows of a
    channels-last ``shape``: the input rows they read, every other axis padded."""
    others = tuple(s + lo + hi for s, (lo, hi) in zip(shape[2:-1], pads[1:], strict=True))
    return (samples, (rows - 1) * stride + span, *others, shape[-1])
