"""``pad`` and ``crop`` on channels-last arrays."""

from __future__ import annotations

import numpy as np

from convcost.executor import kernels
from convcost.executor.ops.base import Array, Initializer, Op, PreparedLayer
from convcost.layers.base import Shape
from convcost.layers.border import Crop, Pad, Sides

NUMPY_MODES = {"reflect": "reflect", "replicate": "edge"}
"""PyTorch's padding modes as ``np.pad``'s (numpy's ``reflect`` also leaves the edge out)."""


def pad(x: Array, sides: Sides, mode: str, value: float) -> Array:
    """``F.pad`` of the spatial axes of ``(N, *spatial, C)``: always a new array."""
    if mode == "constant":
        y = kernels.pad(x, sides, value)
        return x.copy() if y is x else y
    widths = [(0, 0), *sides, (0, 0)]
    padded: Array = np.pad(x, widths, mode=NUMPY_MODES[mode])  # type: ignore[call-overload]
    return padded


def crop(x: Array, sides: Sides) -> Array:
    """A view without ``before`` and ``after`` positions at the ends of each spatial axis."""
    inner = tuple(slice(lo, n - hi) for n, (lo, hi) in zip(x.shape[1:-1], sides, strict=True))
    return x[(slice(None), *inner)]


class PadOp(Op[Pad]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        sides, mode, value = self.layer.padding, self.layer.mode, self.layer.value
        return PreparedLayer(lambda x, owned: (pad(x, sides, mode, value), True))

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        return 0  # filled in place: the output itself


class CropOp(Op[Crop]):
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        layer = self.layer
        # the offsets of a centre crop follow from the array's own sizes
        return PreparedLayer(
            lambda x, owned: (crop(x, layer.sides(kernels.sample_shape(x))), owned)
        )

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        return 0

    def allocates(self, shape: Shape, owned: bool) -> bool:
        return False  # a view of the input

    def owns_output(self, owned: bool) -> bool:
        return owned
