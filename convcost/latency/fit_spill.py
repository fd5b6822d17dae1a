"""Fit where a GEMM's weights stop fitting in the cache: the ``cache`` and ``spill`` of the
``gemm`` class (:func:`convcost.latency.shape.memory_seconds`).

A fully connected layer at batch 1 is all weight traffic. While its weights fit in the cache
they are still there on the next pass and move at the class's memory share; beyond, they come
from DRAM. One memory share cannot follow both (on ONNX Runtime here a 67 MB layer read its
weights at about 20 GB/s and a 151 MB one at 13), so after the class's own fit, every cache
size between two of the samples' weight sizes is tried, each with the spill share that fits
the samples beyond it best (a grid, then a pattern search, on the squared log error). The
term is kept only when at least :data:`MIN_BEYOND` samples lie beyond the cache and it takes
their root-mean-square log error down by :data:`MIN_GAIN` or more: otherwise ``(0, 0)``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

from convcost.latency.fit import Sample
from convcost.latency.profile import MAX_SHARE, Efficiency
from convcost.valueclasses import replace

MIN_BEYOND = 2
MIN_GAIN = 0.1
"""ln 1.105: the spill must bring the samples beyond the cache 10% closer (RMS)."""

Predict = Callable[[Sample, Efficiency], float]


def fit_spill(
    samples: Sequence[Sample], share: Efficiency, predict: Predict
) -> tuple[float, float]:
    """(cache bytes, spill share) for the class ``share`` fits, or (0, 0) for no term."""
    sizes = sorted({s.weight_bytes for s in samples if s.weight_bytes > 0})
    best: tuple[float, float, float] = (0.0, 0.0, 0.0)  # gain, cache, spill
    for low, high in itertools.pairwise(sizes):
        cache = math.sqrt(low * high)  # between two measured sizes
        beyond = [s for s in samples if s.weight_bytes > cache]
        if len(beyond) < MIN_BEYOND:
            break
        base = _rms(beyond, share, predict)
        spill, error = _best_spill(beyond, share, cache, predict)
        if base - error > best[0]:
            best = (base - error, cache, spill)
    gain, cache, spill = best
    return (cache, min(spill, MAX_SHARE)) if gain >= MIN_GAIN else (0.0, 0.0)


def _rms(samples: Sequence[Sample], share: Efficiency, predict: Predict) -> float:
    total = sum(math.log(predict(s, share) / s.seconds) ** 2 for s in samples)
    return math.sqrt(total / len(samples))


def _best_spill(
    samples: Sequence[Sample], share: Efficiency, cache: float, predict: Predict
) -> tuple[float, float]:
    def error(spill: float) -> float:
        return _rms(samples, replace(share, cache=cache, spill=spill), predict)

    grid = [share.memory * 2 ** (-k / 4) for k in range(-8, 29)]  # 4× above to 1/128 below
    spill = min(grid, key=error)
    step = 0.125
    while step > 1e-3:
        up, down = spill * math.exp(step), spill * math.exp(-step)
        here, above, below = error(spill), error(up), error(down)
        if min(above, below) < here:
            spill = up if above < below else down
        else:
            step /= 2
    return spill, error(spill)
