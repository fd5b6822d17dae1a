"""``identity`` and ``dropout`` (the input itself: --execute runs the network as deployed) and
``flatten``."""

from __future__ import annotations

import numpy as np

from convcost.executor.kernels import to_channels_first
from convcost.executor.ops.base import Array, Initializer, Op, PreparedLayer
from convcost.layers.base import Shape
from convcost.layers.reshape import Dropout, Flatten, Identity


def flatten(x: Array) -> Array:
    """PyTorch order: channels, then spatial axes."""
    if x.ndim <= 2:
        return x
    if all(s == 1 for s in x.shape[1:-1]):
        return x.reshape(x.shape[0], -1)
    return np.ascontiguousarray(to_channels_first(x)).reshape(x.shape[0], -1)


class PassThroughOp(Op[Identity | Dropout]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        return PreparedLayer(lambda x, owned: (x, owned))

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        return 0

    def allocates(self, shape: Shape, owned: bool) -> bool:
        return False

    def owns_output(self, owned: bool) -> bool:
        return owned


class FlattenOp(Op[Flatten]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        return PreparedLayer(lambda x, owned: (flatten(x), owned))

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        return 0

    def allocates(self, shape: Shape, owned: bool) -> bool:
        return not all(s == 1 for s in shape[1:])  # channels-last to channels-first copy

    def owns_output(self, owned: bool) -> bool:
        return owned
