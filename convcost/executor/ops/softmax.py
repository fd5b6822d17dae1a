"""``softmax`` over the last axis of a channels-last array (the channels; a flat input's
features), in place when the runner owns the input."""

from __future__ import annotations

import math

import numpy as np

from convcost.executor.ops.base import Array, Initializer, Op, PreparedLayer
from convcost.layers.base import Shape
from convcost.layers.softmax import Softmax


def softmax(x: Array, *, inplace: bool = False) -> Array:
    """e^(x − max) / Σ e^(x − max) over the last axis; the one temporary holds a value per
    position (the max, then the sum)."""
    per_position = np.max(x, axis=-1, keepdims=True)
    y = np.subtract(x, per_position, out=x if inplace else None)
    np.exp(y, out=y)
    np.sum(y, axis=-1, keepdims=True, out=per_position)
    y /= per_position
    result: Array = y
    return result


class SoftmaxOp(Op[Softmax]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        return PreparedLayer(lambda x, owned: (softmax(x, inplace=owned), True))

    def allocates(self, shape: Shape, owned: bool) -> bool:
        return not owned

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        return math.prod(out[1:])  # a value per position (1 on a flat input)
