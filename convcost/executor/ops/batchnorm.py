"""``batchnorm`` at inference: a per-channel scale and shift, in place when it may be."""

from __future__ import annotations

from typing import Any

import numpy as np

from convcost.executor.ops.base import Array, Initializer, Op, PreparedLayer
from convcost.executor.stages import Stage, elementwise
from convcost.layers.base import Shape
from convcost.layers.batchnorm import BatchNorm


def batch_norm(
    x: Array,
    gamma: Array,
    beta: Array,
    mean: Array,
    var: Array,
    eps: float,
    *,
    inplace: bool = False,
) -> Array:
    """Inference form: y = (x − mean) · γ / √(var + ε) + β, per channel (the last axis); in
    bands on every thread when ``x`` is contiguous."""
    stage = batch_norm_stage(gamma, beta, mean, var, eps, x.dtype)
    if not x.flags.c_contiguous:
        y = np.empty(x.shape, dtype=x.dtype) if not inplace else x
        stage(x, y)
        return y
    y = x if inplace else np.empty(x.shape, dtype=x.dtype)
    elementwise(x, y, (stage,))
    return y


def batch_norm_stage(
    gamma: Array, beta: Array, mean: Array, var: Array, eps: float, dtype: np.dtype[Any]
) -> Stage:
    """Batchnorm as a :data:`~convcost.executor.stages.Stage`: the statistics folded into one
    scale and one shift per channel. A scale the same for every channel multiplies as one
    number (a loop over the whole band rather than one per position), and a shift of zero is
    not added (``--execute``'s freshly initialised layers: one pass instead of two, the same
    values)."""
    scale = (gamma / np.sqrt(var + eps)).astype(dtype)
    shift = (beta - mean * scale).astype(dtype)
    factor: Array | np.generic = scale
    if scale.size and bool(np.all(scale == scale[0])):
        factor = scale[0]
    if not shift.any():

        def scaled(source: Array, target: Array) -> None:
            np.multiply(source, factor, out=target)

        return scaled

    def stage(source: Array, target: Array) -> None:
        np.multiply(source, factor, out=target)
        target += shift

    return stage


class BatchNormOp(Op[BatchNorm]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        # a freshly initialised layer: γ = 1, β = 0, running mean 0 and variance 1
        channels, eps = shape[0], self.layer.eps
        gamma, beta = init.ones(channels), init.zeros(channels)
        mean, var = init.zeros(channels), init.ones(channels)
        return PreparedLayer(
            lambda x, owned: (batch_norm(x, gamma, beta, mean, var, eps, inplace=owned), True),
            (gamma, beta),
            stage=lambda: batch_norm_stage(gamma, beta, mean, var, eps, gamma.dtype),
        )

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        return 0

    def allocates(self, shape: Shape, owned: bool) -> bool:
        return not owned  # in place when the runner owns the input

    def buffers(self, shape: Shape) -> int:
        return 2 * shape[0]  # the running mean and variance
