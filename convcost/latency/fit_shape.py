"""Fit a shaped kernel class (GEMM, depthwise): its shares, overhead and half sizes.

The model (:mod:`convcost.latency.estimate`, :mod:`convcost.latency.shape`) predicts

    t̂ = o + max(W · (1 + h_m/M + h_n/N + h_k/K + h_i/N') / (P · c), B / (BW · m))

:func:`fit_shaped` finds c, m > 0 and o, h_m, h_n, h_k, h_i ≥ 0 minimising Σ (ln t̂ − ln t)²:
a pattern search in log space over all seven (a parameter below its floor steps to 0, and
back) from three starts. Pure Python.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from convcost.latency.fit import Fit, Sample
from convcost.latency.shape import Dims, slowdown
from convcost.valueclasses import dataclass

Params = tuple[float, float, float, float, float, float, float]
"""(compute, memory, overhead, half_m, half_n, half_k, half_im2col)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ShapedFit(Fit):
    half_m: float = 0.0
    half_n: float = 0.0
    half_k: float = 0.0
    half_im2col: float = 0.0

    @property
    def half(self) -> Dims:
        return self.half_m, self.half_n, self.half_k, self.half_im2col


def predict_shaped(sample: Sample, peak: float, bandwidth: float, params: Params) -> float:
    c, m, o, *half = params
    compute = sample.work * slowdown((half[0], half[1], half[2], half[3]), sample.dims) / (peak * c)
    return o + max(compute, sample.traffic / (bandwidth * m))


Terms = tuple[tuple[float, float, float, float, float, float, float], ...]
"""Per sample: W / P, B / BW, 1/M, 1/N, 1/K, 1/N' (0 without dims) and ln t."""


def _terms(samples: Sequence[Sample], peak: float, bandwidth: float) -> Terms:
    return tuple(
        (
            s.work / peak,
            s.traffic / bandwidth,
            *((1 / s.dims[0], 1 / s.dims[1], 1 / s.dims[2], 1 / s.dims[3]) if s.dims else _NONE),
            math.log(s.seconds),
        )
        for s in samples
    )


_NONE = (0.0, 0.0, 0.0, 0.0)
_WIDE = (256.0, 64.0, 64.0, 16.0)


def _loss(terms: Terms, params: Params) -> float:
    c, m, o, hm, hn, hk, hi = params
    log = math.log
    return sum(
        (log(o + max(w * (1 + hm * im + hn * in_ + hk * ik + hi * ii) / c, b / m)) - lt) ** 2
        for w, b, im, in_, ik, ii, lt in terms
    )


def fit_shaped(samples: Sequence[Sample], peak: float, bandwidth: float) -> ShapedFit:
    """The class's (compute, memory, overhead) and half sizes from its samples."""
    if not samples:
        return ShapedFit(compute=1.0, memory=1.0, overhead=0.0, residuals=())
    quickest = min(sample.seconds for sample in samples)
    floors: Params = (0.0, 0.0, quickest * 1e-4, 0.1, 0.1, 0.1, 0.1)
    """A parameter below its floor is 0 (shares never are); a floor of 0 on a parameter at 0
    keeps it there."""
    terms = _terms(samples, peak, bandwidth)
    # starts: the median sample's shares of peak and bandwidth, no shape, then wider shapes
    c = _median([term[0] / math.exp(term[-1]) for term in terms])
    m = _median([term[1] / math.exp(term[-1]) for term in terms])
    # a dimension no sample has (a depthwise conv never copies its windows) stays at 0
    used = [any(term[2 + d] for term in terms) for d in range(4)]
    starts: list[Params] = [
        _params([c, m, quickest / 4, *(0.0 for _ in used)]),
        _params([2 * c, m, quickest / 4, *(16.0 if u else 0.0 for u in used)]),
        _params(
            [4 * c, m, quickest / 4, *(h if u else 0.0 for h, u in zip(_WIDE, used, strict=True))]
        ),
    ]
    floors = _params(
        [*floors[:3], *(f if u else 0.0 for f, u in zip(floors[3:], used, strict=True))]
    )
    best = min(
        (_search(terms, start, floors) for start in starts),
        key=lambda found: found[0],
    )
    params = best[1]
    residuals = tuple(
        (predict_shaped(s, peak, bandwidth, params) - s.seconds) / s.seconds for s in samples
    )
    c, m, o, hm, hn, hk, hi = params
    return ShapedFit(
        compute=c,
        memory=m,
        overhead=o,
        residuals=residuals,
        half_m=hm,
        half_n=hn,
        half_k=hk,
        half_im2col=hi,
    )


def _search(terms: Terms, start: Params, floors: Params) -> tuple[float, Params]:
    point = list(start)
    loss = _loss(terms, start)
    step = 1.0
    while step > 1e-4:
        improved = False
        for index in range(len(point)):
            for sign in (1, -1):
                trial = list(point)
                trial[index] = _moved(point[index], sign * step, floors[index])
                if trial[index] == point[index]:
                    continue
                found = _loss(terms, _params(trial))
                if found < loss:
                    loss, point, improved = found, trial, True
        if not improved:
            step /= 2
    return loss, _params(point)


def _median(values: list[float]) -> float:
    positive = sorted(v for v in values if v > 0)
    return positive[len(positive) // 2] if positive else 1.0


def _moved(value: float, step: float, floor: float) -> float:
    """``value`` times e^step; from 0 up to its floor, or below the floor down to 0."""
    if value <= 0:
        return floor if step > 0 and floor > 0 else value
    moved = value * math.exp(step)
    return 0.0 if floor > 0 and moved < floor else moved


def _params(point: list[float]) -> Params:
    return point[0], point[1], point[2], point[3], point[4], point[5], point[6]
