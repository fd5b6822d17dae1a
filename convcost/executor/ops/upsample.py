"""``upsample`` on channels-last arrays: ``F.interpolate``'s index and weight tables per axis.

Each axis is resampled on its own (all of PyTorch's modes are separable): an output position
reads the inputs of its index table, weighted by its weight table, exactly as ATen's
``UpSample.h`` computes them (the source index ``ratio·(o + ½) − ½``, or ``ratio·o`` with
``align_corners``; all in the run's float type, as PyTorch's ``opmath_t``). No Python loop runs per
element: a pass is one ``np.take`` and one multiply-add per tap.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from convcost.executor.ops.base import Array, Initializer, Op, PreparedLayer
from convcost.layers.base import Shape
from convcost.layers.upsample import Upsample
from convcost.valueclasses import dataclass

CUBIC_A = -0.75
"""The cubic convolution's parameter in PyTorch (and OpenCV)."""


@dataclass(frozen=True, slots=True)
class AxisTable:
    """One axis's resampling: output ``o`` is Σ_t ``weights[t][o] · x[index[t][o]]``."""

    index: tuple[Array, ...]
    weights: tuple[Array, ...]
    """Empty for nearest (one tap, weight 1)."""


def nearest_index(size: int, out: int, scale: int | None, real: Any) -> Array:
    """PyTorch's ``nearest_idx``: ⌊o·ratio⌋ with ratio = 1/scale or in/out, computed in the
    run's float type as PyTorch's CPU kernel (float32 and float64 differ on some sizes)."""
    if out == size:
        return np.arange(out)
    if out == 2 * size:
        return np.arange(out) >> 1
    ratio = real(1.0 / scale) if scale else real(size) / real(out)
    index = np.floor(np.arange(out, dtype=real) * ratio).astype(np.intp)
    clamped: Array = np.minimum(index, size - 1)
    return clamped


def _ratio(size: int, out: int, align: bool, scale: int | None, real: Any) -> Any:
    """``area_pixel_compute_scale`` in the run's float type."""
    if align:
        return real(size - 1) / real(out - 1) if out > 1 else real(0)
    return real(1.0 / scale) if scale else real(size) / real(out)


def _source(size: int, out: int, align: bool, scale: int | None, real: Any) -> Array:
    """``area_pixel_compute_source_index`` for every output position (not clamped)."""
    ratio = _ratio(size, out, align, scale, real)
    positions = np.arange(out, dtype=real)
    source: Array = ratio * positions if align else ratio * (positions + real(0.5)) - real(0.5)
    return source


def linear_table(size: int, out: int, align: bool, scale: int | None, real: Any) -> AxisTable:
    """Two taps: ⌊src⌋ and the next input (the same at the last), weights 1 − λ and λ."""
    source = np.maximum(_source(size, out, align, scale, real), real(0))
    first = np.minimum(np.floor(source).astype(np.intp), size - 1)
    lam = np.clip(source - first.astype(real), real(0), real(1))
    second = first + (first < size - 1)
    return AxisTable((first, second), (real(1) - lam, lam))


def cubic_table(size: int, out: int, align: bool, scale: int | None, real: Any) -> AxisTable:
    """Four taps ⌊src⌋ − 1 … ⌊src⌋ + 2, clamped to the input, with the cubic convolution's
    weights at t = src − ⌊src⌋ (``get_cubic_upsample_coefficients``)."""
    source = _source(size, out, align, scale, real)
    first = np.minimum(np.floor(source).astype(np.intp), size - 1)
    t = np.clip(source - first.astype(real), real(0), real(1))
    a = real(CUBIC_A)

    def near(x: Array) -> Array:  # cubic_convolution1, |x| ≤ 1
        weight: Array = ((a + 2) * x - (a + 3)) * x * x + 1
        return weight

    def far(x: Array) -> Array:  # cubic_convolution2, 1 < |x| < 2
        weight: Array = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        return weight

    opposite = real(1) - t
    weights = (far(t + real(1)), near(t), near(opposite), far(opposite + real(1)))
    index = tuple(np.clip(first + offset, 0, size - 1) for offset in (-1, 0, 1, 2))
    return AxisTable(index, weights)


def axis_tables(layer: Upsample, sizes: Shape, real: Any) -> list[tuple[int, AxisTable] | None]:
    """Per spatial axis, (output size, table), or ``None`` where the axis is copied unchanged."""
    tables: list[tuple[int, AxisTable] | None] = []
    for axis, size in enumerate(sizes):
        scale = layer.scale[axis] if layer.scale else None
        out = layer.size[axis] if layer.size else size * layer.scale[axis]
        if out == size:
            tables.append(None)  # PyTorch copies such an axis (every mode's weights are 1, 0…)
        elif layer.mode == "nearest":
            tables.append((out, AxisTable((nearest_index(size, out, scale, real),), ())))
        elif layer.mode == "bicubic":
            tables.append((out, cubic_table(size, out, layer.align_corners, scale, real)))
        else:
            tables.append((out, linear_table(size, out, layer.align_corners, scale, real)))
    return tables


def _real(dtype: np.dtype[Any]) -> Any:
    """PyTorch's ``opmath_t``: tables in double for float64, else in float32."""
    return np.float64 if dtype == np.float64 else np.float32


BLOCK = 2**18
"""Elements of one sample a pass gathers per step (1 MiB in float32): the temporaries stay this
small whatever the map, and freed blocks are reused at once (whole-map temporaries left holes in
the heap that kept resident memory above the model)."""


def block_positions(per_position: int) -> int:
    """Output positions along the resampled axis gathered per step, for ``per_position``
    elements of one sample at each position."""
    return max(1, BLOCK // per_position)


def resample_axis(x: Array, axis: int, table: AxisTable) -> Array:
    """One axis's pass: per block of output positions, a gather per tap, weighted and summed
    into the output (the only temporary is one block)."""
    length = len(table.index[0])
    shape = (*x.shape[:axis], length, *x.shape[axis + 1 :])
    y = np.empty(shape, x.dtype)
    broadcast = [1] * x.ndim
    broadcast[axis] = -1
    weights = [w.astype(x.dtype).reshape(broadcast) for w in table.weights]
    if axis == x.ndim - 2:  # the last spatial axis: weights spelt out over the channels, else
        # numpy's loop runs once per position over C with a broadcast weight (5-7× slower)
        weights = [
            np.ascontiguousarray(np.broadcast_to(w, (*w.shape[:-1], x.shape[-1]))) for w in weights
        ]
    step = block_positions(math.prod(shape[1:]) // length)
    lead = (slice(None),) * axis
    for start in range(0, length, step):
        span = slice(start, start + step)
        target = y[(*lead, span)]
        for tap, (index, weight) in enumerate(zip(table.index, weights, strict=True)):
            part = np.take(x, index[span], axis=axis)
            if tap:
                part *= weight[(*lead, span)]
                target += part
            else:
                np.multiply(part, weight[(*lead, span)], out=target)
    return y


def upsample(x: Array, layer: Upsample) -> Array:
    """``F.interpolate`` of a channels-last array ``(N, *spatial, C)``."""
    tables = axis_tables(layer, tuple(x.shape[1:-1]), _real(x.dtype))
    if layer.mode == "nearest":
        index = [
            np.arange(n) if t is None else t[1].index[0]
            for n, t in zip(x.shape[1:-1], tables, strict=True)
        ]
        key: tuple[Any, ...] = (slice(None), *np.ix_(*index), slice(None))
        gathered: Array = x[key]
        return gathered
    y = x
    for axis, table in enumerate(tables):
        if table is not None:
            y = resample_axis(y, axis + 1, table[1])
    return y.copy() if y is x else y


def passes(layer: Upsample, shape: Shape) -> list[tuple[int, int]]:
    """Per interpolating pass, in the order they run: the elements of one sample after it and
    the resampled axis's output length (an unchanged axis is not a pass, as in axis_tables)."""
    sizes = list(shape[1:])
    after = []
    for axis, size in enumerate(shape[1:]):
        out = layer.size[axis] if layer.size else size * layer.scale[axis]
        if out != size:
            sizes[axis] = out
            after.append((shape[0] * math.prod(sizes), out))
    return after


def _block(size: int, length: int) -> int:
    """Elements of one sample in one block of a pass producing ``size`` elements."""
    return min(size, block_positions(size // length) * (size // length))


class UpsampleOp(Op[Upsample]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        layer = self.layer
        return PreparedLayer(lambda x, owned: (upsample(x, layer), True))

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        """Nearest gathers straight into the output. An interpolating pass holds the previous
        pass's result (not the input's), its own result (not the last's) and one block."""
        if self.layer.mode == "nearest":
            return 0
        steps = passes(self.layer, shape)
        held = [0, *(size for size, _ in steps[:-1])]
        return max(
            (
                held[p] + (size if p < len(steps) - 1 else 0) + _block(size, length)
                for p, (size, length) in enumerate(steps)
            ),
            default=0,
        )
