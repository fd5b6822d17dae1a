"""Fit a kernel class's efficiencies and overhead to measured layer times (pure Python).

Each measurement is a layer's arithmetic W (FLOPs + ops), its traffic B (bytes) and its
measured time t. The model (:mod:`convcost.latency.estimate`) predicts

    t̂ = o + max(W / (P · c), B / (BW · m))

for the device's peak P and bandwidth BW. :func:`fit_class` finds the overhead o ≥ 0 and
the shares c, m that minimise the squared log error Σ (ln t̂ − ln t)², which weighs a 2×
miss on a 10 µs layer like one on a 10 ms layer: a coarse grid over (c, m, o), then a
pattern search around the best point in log space.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from convcost.latency.shape import Dims
from convcost.valueclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Sample:
    label: str
    work: float
    """FLOPs + ops."""
    traffic: float
    """Bytes read and written."""
    seconds: float
    """Measured."""
    kind: str = ""
    """The layer kind measured."""
    dims: Dims | None = None
    """(M, N, K) of a GEMM or depthwise layer's product (:mod:`convcost.latency.shape`)."""
    weight_bytes: float = 0.0
    """Bytes of weights a GEMM layer reads (for :func:`convcost.latency.shape.memory_seconds`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Fit:
    compute: float
    memory: float
    overhead: float
    residuals: tuple[float, ...]
    """(predicted − measured) / measured per sample, in order."""

    @property
    def median_error(self) -> float:
        ordered = sorted(abs(r) for r in self.residuals)
        return ordered[len(ordered) // 2] if ordered else 0.0

    @property
    def worst_error(self) -> float:
        return max((abs(r) for r in self.residuals), default=0.0)


def predict(sample: Sample, peak: float, bandwidth: float, c: float, m: float, o: float) -> float:
    return o + max(sample.work / (peak * c), sample.traffic / (bandwidth * m))


def _loss(
    samples: Sequence[Sample], peak: float, bandwidth: float, c: float, m: float, o: float
) -> float:
    total = 0.0
    for sample in samples:
        total += math.log(predict(sample, peak, bandwidth, c, m, o) / sample.seconds) ** 2
    return total


_SHARES = [10 ** (-4 + 4.6 * i / 39) for i in range(40)]
"""Shares of the peak from 1e-4 to 4 (a runtime can beat a datasheet figure that was itself
measured, and a memory term counted without caches can be beaten by a cache)."""


def fit_class(samples: Sequence[Sample], peak: float, bandwidth: float) -> Fit:
    """The (compute, memory, overhead) of one kernel class from its samples."""
    if not samples:
        return Fit(compute=1.0, memory=1.0, overhead=0.0, residuals=())
    quickest = min(sample.seconds for sample in samples)
    overheads = [0.0, *(quickest * 2 ** (-k) for k in range(12))]
    best = (math.inf, 1.0, 1.0, 0.0)
    for c in _SHARES:
        for m in _SHARES:
            for o in overheads:
                loss = _loss(samples, peak, bandwidth, c, m, o)
                if loss < best[0]:
                    best = (loss, c, m, o)
    loss, c, m, o = best
    # pattern search in log space (the overhead in steps of its own size, or from a floor)
    step = 0.5
    floor = quickest * 1e-4
    while step > 1e-4:
        improved = False
        for dc, dm, do in (
            (1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1),
        ):  # fmt: skip
            trial_c = c * math.exp(dc * step)
            trial_m = m * math.exp(dm * step)
            trial_o = max(o, floor) * math.exp(do * step) if do else o
            if do < 0 and o <= floor:
                trial_o = 0.0
            trial = _loss(samples, peak, bandwidth, trial_c, trial_m, trial_o)
            if trial < loss:
                loss, c, m, o = trial, trial_c, trial_m, trial_o
                improved = True
        if not improved:
            step /= 2
    residuals = tuple(
        (predict(s, peak, bandwidth, c, m, o) - s.seconds) / s.seconds for s in samples
    )
    return Fit(compute=c, memory=m, overhead=o, residuals=residuals)


def kind_factor(
    samples: Sequence[Sample], overhead: float, roofline: Callable[[Sample], float]
) -> float:
    """How much slower (> 1) or faster than its class's fit a kind's samples ran: the
    geometric mean of (measured − overhead) / ``roofline`` time (the class's prediction
    without overhead), the overhead held at the class's (never more than 90% of a sample)."""
    logs = []
    for sample in samples:
        base = roofline(sample)
        if base <= 0:
            continue
        logs.append(math.log(max(sample.seconds - overhead, 0.1 * sample.seconds) / base))
    return math.exp(sum(logs) / len(logs)) if logs else 1.0
