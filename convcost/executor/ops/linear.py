"""``linear``: one matrix product on ``(N, F)``."""

from __future__ import annotations

import numpy as np

from convcost.executor.kernels import matmul
from convcost.executor.ops.base import Array, Initializer, Op, PreparedLayer, present
from convcost.layers.base import Shape
from convcost.layers.linear import Linear


def linear_weights(weight: Array) -> Array:
    """From PyTorch's ``(out, in)`` to ``(in, out)``."""
    return np.ascontiguousarray(weight.T)


def linear(x: Array, weight: Array, bias: Array | None) -> Array:
    y = matmul(x, weight)
    if bias is not None:
        y += bias
    result: Array = y
    return result


class LinearOp(Op[Linear]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        # (in, out): the transpose of PyTorch's (out, in)
        channels, out = shape[0], self.layer.out
        matrix = init.uniform((channels, out), channels)
        bias = init.bias(out, self.layer.bias)
        return PreparedLayer(
            lambda x, owned: (linear(x, matrix, bias), True), present(matrix, bias)
        )

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        return 0

    def products(self, shape: Shape, out: Shape, batch: int) -> tuple[int, int, int]:
        return batch, shape[0], self.layer.out
