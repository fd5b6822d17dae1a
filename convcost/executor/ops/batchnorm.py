"""``batchnorm`` at inference: a per-channel scale and shift, in place when it may be."""

from __future__ import annotations

import numpy as np

from convcost.executor.ops.base import Array, Initializer, Op, PreparedLayer
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
    """Inference form: y = (x − mean) · γ / √(var + ε) + β, per channel (the last axis)."""
    scale = (gamma / np.sqrt(var + eps)).astype(x.dtype)
    shift = (beta - mean * scale).astype(x.dtype)
    y = np.multiply(x, scale, out=x if inplace else None)
    y += shift
    result: Array = y
    return result


class BatchNormOp(Op[BatchNorm]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        # a freshly initialised layer: γ = 1, β = 0, running mean 0 and variance 1
        channels, eps = shape[0], self.layer.eps
        gamma, beta = init.ones(channels), init.zeros(channels)
        mean, var = init.zeros(channels), init.ones(channels)
        return PreparedLayer(
            lambda x, owned: (batch_norm(x, gamma, beta, mean, var, eps, inplace=owned), True),
            (gamma, beta),
        )

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        return 0

    def allocates(self, shape: Shape, owned: bool) -> bool:
        return not owned  # in place when the runner owns the input

    def buffers(self, shape: Shape) -> int:
        return 2 * shape[0]  # the running mean and variance
