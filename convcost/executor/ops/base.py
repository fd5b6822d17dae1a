"""The executor's side of a layer kind: its weights, its forward pass and its memory model.

A kind's :meth:`~convcost.layers.base.Layer.op` returns an :class:`Op` bound to the layer.
:func:`convcost.executor.prepared.prepare` calls :meth:`Op.prepare` once per layer (weights drawn
straight into the kernels' layout), and :mod:`convcost.executor.memory` calls the memory
methods to bound what a run allocates, simulating the runner without running anything.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

from convcost.executor.stages import Epilogue, StageFactory
from convcost.layers.base import Layer, Shape
from convcost.valueclasses import dataclass

Array = npt.NDArray[Any]
Forward = Callable[[Array, bool], tuple[Array, bool]]
"""A prepared layer: (input, may overwrite it) → (output, the caller owns it)."""
Fused = Callable[[Array, bool, Epilogue], tuple[Array, bool]]
"""A prepared layer that applies an epilogue (the elementwise layers after it) to each band of
its output as it computes it."""
WEIGHT_CHUNK = 2**16
"""Weights drawn per step of :meth:`Initializer.uniform` (256 KiB in float32)."""

L = TypeVar("L", bound=Layer)


class Initializer:
    """Draws a run's parameter arrays from its seeded generator, in its dtype."""

    def __init__(self, rng: np.random.Generator, dtype: np.dtype[Any]) -> None:
        self.rng = rng
        self.dtype = dtype

    def uniform(self, shape: tuple[int, ...], fan_in: int) -> Array:
        """He-uniform (Kaiming, fan-in mode, for ReLU): U(−b, b) with b = √(6 / fan_in), the
        variance 2 / fan_in of He-normal. Uniform draws cost a fifth of normal ones (VGG-16's
        138 M weights: 0.36 s against 1.8 s); they are drawn and scaled in chunks that stay in
        the CPU cache, straight into the array the kernels read (i.i.d., so any layout is the
        same distribution: no second copy of any weight exists, even briefly)."""
        bound = math.sqrt(6.0 / max(fan_in, 1))
        values = np.empty(shape, dtype=self.dtype)
        flat = values.reshape(-1)
        for start in range(0, flat.size, WEIGHT_CHUNK):
            chunk = flat[start : start + WEIGHT_CHUNK]
            self.rng.random(out=chunk, dtype=self.dtype)
            chunk *= self.dtype.type(2 * bound)
            chunk -= self.dtype.type(bound)
        return values

    def bias(self, out: int, present: bool) -> Array | None:
        """A zero bias of ``out`` elements, or ``None`` without one."""
        return np.zeros(out, self.dtype) if present else None

    def zeros(self, size: int) -> Array:
        return np.zeros(size, self.dtype)

    def ones(self, size: int) -> Array:
        return np.ones(size, self.dtype)


class ZeroInitializer(Initializer):
    """Every parameter 0 (``convcost export --zeros``): nothing is drawn, and the arrays are
    the allocator's zero pages until something writes them."""

    def uniform(self, shape: tuple[int, ...], fan_in: int) -> Array:
        return np.zeros(shape, self.dtype)

    def ones(self, size: int) -> Array:
        return np.zeros(size, self.dtype)


@dataclass(frozen=True, slots=True)
class PreparedLayer:
    """One layer ready to run."""

    forward: Forward
    arrays: tuple[Array, ...] = ()
    """The layer's parameter arrays as allocated, in the kernels' layout (a batchnorm's γ and
    β; its running statistics are buffers, as in PyTorch)."""
    stage: StageFactory | None = None
    """The layer as an elementwise stage on its input, in place (batchnorm, ReLU…): it may then
    run fused into the layer before it (:attr:`fused`)."""
    fused: Fused | None = None
    """The forward pass with the following layers' stages fused into it (a conv's)."""
    prologue: bool = False
    """Whether :attr:`fused` also applies the stages of the layers right before it to each band
    of its input (:attr:`~convcost.executor.stages.Epilogue.before`: a 1×1 conv's)."""

    @property
    def params(self) -> int:
        """Elements of the parameter arrays really allocated."""
        return sum(array.size for array in self.arrays)


def present(*arrays: Array | None) -> tuple[Array, ...]:
    """The arrays that exist (a conv without bias has ``None`` for it)."""
    return tuple(array for array in arrays if array is not None)


class Op(ABC, Generic[L]):
    """How ``--execute`` runs one layer, and what running it allocates.

    The memory methods count elements of one run's dtype (``width`` bytes each); ``owned``
    says whether the layer may overwrite its input (the runner's flag, as :data:`Forward`).
    Only :meth:`prepare` and :meth:`workspace` have no default.
    """

    __slots__ = ("layer",)

    def __init__(self, layer: L) -> None:
        self.layer = layer

    @abstractmethod
    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        """Allocate the parameter arrays for input ``shape`` (``init``) in the kernels' layout
        and return the forward callable with them. The forward pass computes its output shape
        from the arrays, never from the layer's ``output_shape``: the runner compares the two."""

    @abstractmethod
    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        """Elements of one sample's temporaries while the layer runs, beyond its input and
        output (tests/test_memory_bound.py measures every kind against it)."""

    def columns(self, shape: Shape, out: Shape, batch: int, width: int) -> int:
        """Elements of a buffer reused for the whole batch (a conv's im2col band)."""
        return 0

    def allocates(self, shape: Shape, owned: bool) -> bool:
        """Whether the forward pass returns a new array (not its input overwritten, not a view)."""
        return True

    def owns_output(self, owned: bool) -> bool:
        """The runner's ``owned`` flag after the layer: false for a view of a borrowed input."""
        return True

    def products(self, shape: Shape, out: Shape, batch: int) -> tuple[int, int, int]:
        """(rows, depth, columns) of the layer's largest matrix product (BLAS buffer sizing),
        or zeros without any."""
        return 0, 0, 0

    def buffers(self, shape: Shape) -> int:
        """Elements allocated before the run beyond the parameters (batchnorm's running
        statistics)."""
        return 0
