"""``leaky_relu``, ``prelu`` and ``elu`` on channels-last arrays, in place when the runner owns
the input.

Each changes only the negative elements: the kernel copies the input unless it may overwrite it,
then rewrites the elements under a sign mask (``where=``), so its one temporary is that mask.
"""

from __future__ import annotations

import math
from typing import TypeVar

import numpy as np

from convcost.executor.ops.activation import mask
from convcost.executor.ops.base import Array, Initializer, Op, PreparedLayer
from convcost.layers.base import Layer, Shape
from convcost.layers.rectifiers import Elu, LeakyRelu, Prelu

L = TypeVar("L", bound=Layer)
PRELU_INIT = 0.25
"""PReLU's initial slope, as PyTorch's ``nn.PReLU(init=0.25)``."""


def _writable(x: Array, inplace: bool) -> Array:
    return x if inplace else x.copy()


def leaky_relu(x: Array, slope: float | Array, *, inplace: bool = False) -> Array:
    """x for x ≥ 0, slope·x below; ``slope`` is a number or one per channel (the last axis)."""
    y = _writable(x, inplace)
    np.multiply(y, slope, out=y, where=y < 0)
    return y


def elu(x: Array, alpha: float, *, inplace: bool = False) -> Array:
    """x for x > 0, α·(eˣ − 1) below (``expm1``: exact near zero, as PyTorch)."""
    y = _writable(x, inplace)
    negative = y < 0
    np.expm1(y, out=y, where=negative)
    np.multiply(y, alpha, out=y, where=negative)
    return y


class _SignMasked(Op[L]):
    """The memory model the three share: in place when owned, else a copy; one sign mask."""

    def allocates(self, shape: Shape, owned: bool) -> bool:
        return not owned

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        return mask(math.prod(out), width)


class LeakyReluOp(_SignMasked[LeakyRelu]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        slope = self.layer.slope
        return PreparedLayer(lambda x, owned: (leaky_relu(x, slope, inplace=owned), True))


class PreluOp(_SignMasked[Prelu]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        slopes = init.ones(1 if self.layer.shared else shape[0])  # the channels: the last axis
        slopes *= PRELU_INIT
        return PreparedLayer(
            lambda x, owned: (leaky_relu(x, slopes, inplace=owned), True), arrays=(slopes,)
        )


class EluOp(_SignMasked[Elu]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        alpha = self.layer.alpha
        return PreparedLayer(lambda x, owned: (elu(x, alpha, inplace=owned), True))
