"""``pixel_shuffle`` and ``pixel_unshuffle`` on channels-last arrays: one reshape-transpose copy."""

from __future__ import annotations

import numpy as np

from convcost.executor.ops.base import Array, Initializer, Op, PreparedLayer
from convcost.layers.base import Shape
from convcost.layers.pixel_shuffle import PixelShuffle, PixelUnshuffle


def pixel_shuffle(x: Array, factor: int) -> Array:
    """(N, H, W, C·r²) → (N, H·r, W·r, C), with output (c, h·r + i, w·r + j) = input channel
    c·r² + i·r + j at (h, w), PyTorch's order."""
    n, h, w, channels = x.shape
    c = channels // (factor * factor)
    blocks = x.reshape(n, h, w, c, factor, factor).transpose(0, 1, 4, 2, 5, 3)
    return np.ascontiguousarray(blocks).reshape(n, h * factor, w * factor, c)


def pixel_unshuffle(x: Array, factor: int) -> Array:
    """The inverse of :func:`pixel_shuffle`: (N, H·r, W·r, C) → (N, H, W, C·r²)."""
    n, rows, cols, c = x.shape
    h, w = rows // factor, cols // factor
    blocks = x.reshape(n, h, factor, w, factor, c).transpose(0, 1, 3, 5, 2, 4)
    return np.ascontiguousarray(blocks).reshape(n, h, w, c * factor * factor)


class PixelShuffleOp(Op[PixelShuffle]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        factor = self.layer.factor
        return PreparedLayer(lambda x, owned: (pixel_shuffle(x, factor), True))

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        return 0  # one contiguous copy: the output itself


class PixelUnshuffleOp(Op[PixelUnshuffle]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        factor = self.layer.factor
        return PreparedLayer(lambda x, owned: (pixel_unshuffle(x, factor), True))

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        return 0  # one contiguous copy: the output itself
