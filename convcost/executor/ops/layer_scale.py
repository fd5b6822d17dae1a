"""``layer_scale`` on channels-last arrays: a per-channel multiply (the last axis)."""

from __future__ import annotations

import numpy as np

from convcost.executor.ops.base import Array, Initializer, Op, PreparedLayer
from convcost.layers.base import Shape
from convcost.layers.layer_scale import LayerScale


def layer_scale(x: Array, gamma: Array, *, inplace: bool = False) -> Array:
    """y = γ·x per channel (the last axis), written into ``x`` when ``inplace``."""
    y: Array = np.multiply(x, gamma, out=x if inplace else None)
    return y


class LayerScaleOp(Op[LayerScale]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        gamma = init.ones(shape[0])
        gamma *= self.layer.init
        return PreparedLayer(
            lambda x, owned: (layer_scale(x, gamma, inplace=owned), True), (gamma,)
        )

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        return 0

    def allocates(self, shape: Shape, owned: bool) -> bool:
        return not owned  # an owned input is scaled in place
