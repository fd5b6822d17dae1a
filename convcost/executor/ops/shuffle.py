"""``channel_shuffle`` and ``split`` on channels-last arrays."""

from __future__ import annotations

import numpy as np

from convcost.executor.ops.base import Array, Initializer, Op, PreparedLayer
from convcost.layers.base import Shape
from convcost.layers.shuffle import ChannelShuffle, Split


def channel_shuffle(x: Array, groups: int) -> Array:
    """View channels as (g, C/g), transpose to (C/g, g), flatten."""
    channels = x.shape[-1]
    shuffled = x.reshape(*x.shape[:-1], groups, channels // groups).swapaxes(-1, -2)
    return np.ascontiguousarray(shuffled).reshape(x.shape)


def split(x: Array, parts: int, index: int) -> Array:
    """The ``index``-th of ``parts`` equal channel chunks (a view)."""
    size = x.shape[-1] // parts
    return x[..., index * size : (index + 1) * size]


class ChannelShuffleOp(Op[ChannelShuffle]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        groups = self.layer.groups
        return PreparedLayer(lambda x, owned: (channel_shuffle(x, groups), True))

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        return 0  # one contiguous copy: the output itself


class SplitOp(Op[Split]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        parts, index = self.layer.parts, self.layer.index
        return PreparedLayer(lambda x, owned: (split(x, parts, index), owned))

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        return 0

    def allocates(self, shape: Shape, owned: bool) -> bool:
        return False  # a view of the input

    def owns_output(self, owned: bool) -> bool:
        return owned
