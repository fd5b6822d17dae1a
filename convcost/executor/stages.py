"""Elementwise layers as stages on bands of positions, run on every thread, and fused into the
layer that produces their input.

A :data:`Stage` is one elementwise layer (batchnorm, ReLU, …) applied to a band of a
channels-last tensor seen as ``(positions, channels)``. Run alone (:func:`elementwise`), the
bands go to every thread of :func:`convcost.executor.blas.parallel`: NumPy releases the GIL in
its loops, so the passes over memory run on all cores instead of one. Fused
(:class:`Epilogue`), a conv applies them to each band of its output right after computing it,
while the band is still in the CPU's cache: the separate passes over the whole tensor are gone.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from convcost.executor import blas
from convcost.executor.kernels import Array

Stage = Callable[[Array, Array], None]
"""Writes f(source) into target, both ``(positions, channels)`` of the same shape; target may
be source itself (in place)."""
StageFactory = Callable[[], Stage]
"""Makes a layer's stage for one forward pass (a batchnorm folds its statistics into a scale and
a shift once per pass)."""

BAND_BYTES = 256 * 2**10
"""An elementwise band's size: small enough that a few stay in a core's L2 cache."""
PARALLEL_BYTES = 256 * 2**10
"""Tensors smaller than this run their elementwise layers on the calling thread alone (the
pool's hand-off costs more than it saves)."""


def rows_per_band(rows: int, channels: int, itemsize: int, target: int = BAND_BYTES) -> int:
    """Rows of ``channels`` elements in one band of about ``target`` bytes (at least one)."""
    return max(1, min(rows, target // max(1, channels * itemsize)))


def elementwise(source: Array, target: Array, stages: Sequence[Stage]) -> None:
    """Apply ``stages`` in turn, the first from ``source`` into ``target`` (same shape,
    contiguous, channels last), the rest in place, band by band on every thread."""
    channels = source.shape[-1] if source.ndim > 1 else 1
    rows = source.size // max(channels, 1)
    flat_source = source.reshape(rows, channels)
    flat_target = target.reshape(rows, channels)
    if source.nbytes < PARALLEL_BYTES:
        _apply(stages, flat_source, flat_target)
        return
    # at least one band per thread, each a whole number of rows
    step = min(
        rows_per_band(rows, channels, source.itemsize), max(1, math.ceil(rows / blas.threads()))
    )
    count = math.ceil(rows / step)

    def band(index: int, worker: int) -> None:
        cut = slice(index * step, min(rows, (index + 1) * step))
        _apply(stages, flat_source[cut], flat_target[cut])

    blas.parallel(count, band)


def _apply(stages: Sequence[Stage], source: Array, target: Array) -> None:
    for stage in stages:
        stage(source, target)
        source = target


class Epilogue:
    """Stages a producing layer applies to each band of its output (``stages``) and, for a 1×1
    conv, to each band of its input before the product (``before``: the elementwise layers
    right before it), with the time each thread spent on each part (to divide the layer's wall
    time among the fused layers: :meth:`shares`)."""

    def __init__(
        self, stages: Sequence[Stage], channels: int, before: Sequence[Stage] = ()
    ) -> None:
        self.stages = tuple(stages)
        self.before = tuple(before)
        self.channels = channels
        """The channels the stages were prepared for: the producer's predicted output. A band
        with others is left as the producer made it, for the runner to report the wrong
        shape."""
        self.spent = [
            [0.0] * (len(self.before) + 1 + len(self.stages)) for _ in range(blas.threads())
        ]
        """Per worker: seconds in each stage before, in the producer's own work, then in each
        stage after."""

    def start(self, source: Array, target: Array, worker: int) -> float:
        """The stages before, from an input band into ``target`` (the first in place of none:
        a copy); returns the time they ended, when the producer's own work starts."""
        now = time.perf_counter()
        if not self.before:
            return now
        spent = self.spent[worker]
        for index, stage in enumerate(self.before):
            stage(source if index == 0 else target, target)
            later = time.perf_counter()
            spent[index] += later - now
            now = later
        return now

    def finish(self, band: Array, worker: int, started: float) -> None:
        """Called by ``worker`` once ``band`` (``(positions, channels)``, contiguous) holds the
        producer's output, which it began computing at ``started`` (``time.perf_counter``)."""
        spent = self.spent[worker]
        now = time.perf_counter()
        first = len(self.before)
        spent[first] += now - started
        if band.shape[-1] != self.channels:
            return
        for index, stage in enumerate(self.stages, start=first + 1):
            stage(band, band)
            later = time.perf_counter()
            spent[index] += later - now
            now = later

    def shares(self) -> list[float]:
        """The fraction of the thread time spent in each stage before, in the producer, then
        in each stage after (summed over threads; all on the producer when nothing was
        measured)."""
        totals = [sum(column) for column in zip(*self.spent, strict=True)]
        whole = sum(totals)
        if whole <= 0:
            return [0.0] * len(self.before) + [1.0] + [0.0] * len(self.stages)
        return [total / whole for total in totals]


def combine_into(function: np.ufunc, target: Array, other: Array) -> None:
    """``function(target, other, out=target)`` (a merge's add or multiply), in bands on every
    thread when both are contiguous arrays of the same shape."""
    same = target.shape == other.shape and target.flags.c_contiguous and other.flags.c_contiguous
    if not same or target.nbytes < PARALLEL_BYTES:
        function(target, other, out=target)
        return
    flat_target, flat_other = target.reshape(-1), other.reshape(-1)
    step = -(-target.size // max(blas.threads(), target.nbytes // BAND_BYTES))

    def band(index: int, worker: int) -> None:
        cut = slice(index * step, (index + 1) * step)
        function(flat_target[cut], flat_other[cut], out=flat_target[cut])

    blas.parallel(-(-target.size // step), band)


def concatenate(arrays: Sequence[Array]) -> Array:
    """``np.concatenate(arrays, axis=-1)``, copied in bands of positions on every thread."""
    first = arrays[0]
    channels = sum(array.shape[-1] for array in arrays)
    y = np.empty((*first.shape[:-1], channels), dtype=np.result_type(*arrays))
    if y.nbytes < PARALLEL_BYTES or any(a.shape[:-1] != first.shape[:-1] for a in arrays):
        np.concatenate(arrays, axis=-1, out=y)
        return y
    rows = y.size // channels
    flat = y.reshape(rows, channels)
    sources = [array.reshape(rows, array.shape[-1]) for array in arrays]
    step = rows_per_band(rows, channels, y.itemsize)

    def band(index: int, worker: int) -> None:
        cut = slice(index * step, (index + 1) * step)
        start = 0
        for source in sources:
            width = source.shape[1]
            flat[cut, start : start + width] = source[cut]
            start += width

    blas.parallel(-(-rows // step), band)
    return y
