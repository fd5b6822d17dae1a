"""``layernorm``, ``groupnorm`` and ``instancenorm`` on channels-last arrays: standardise groups by their own
statistics, then the affine γ·x̂ + β.

Each op says which axes of a view of the batch one group's statistics span
(:meth:`NormalizationOp.grouped`) and the layout of γ and β; :func:`normalize` standardises.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import TypeVar

import numpy as np

from convcost.executor.ops.base import Array, Initializer, Op, PreparedLayer
from convcost.layers.base import Shape
from convcost.layers.normalization import GroupNorm, InstanceNorm, LayerNorm, Normalization

N = TypeVar("N", bound=Normalization)


def normalize(x: Array, axes: tuple[int, ...], eps: float, *, inplace: bool = False) -> Array:
    """(x − mean) / √(var + ε) over ``axes`` (the biased variance, as PyTorch), written into
    ``x`` when ``inplace``. Temporaries: the squares (one array of ``x``'s size) and the
    statistics."""
    mean = x.mean(axis=axes, keepdims=True)
    y: Array = np.subtract(x, mean, out=x if inplace else None)
    del mean
    scale = np.square(y).mean(axis=axes, keepdims=True)
    scale += eps
    np.sqrt(scale, out=scale)
    y /= scale
    return y


class NormalizationOp(Op[N]):
    """The shared forward pass and memory model; subclasses give the grouping and γ's layout."""

    @abstractmethod
    def grouped(self, x: Array) -> tuple[Array, tuple[int, ...]]:
        """A view of the channels-last batch ``x`` and the axes one group's statistics span."""

    def affine_shape(self, shape: Shape) -> tuple[int, ...]:
        """γ's and β's shape in the channels-last layout: one per channel (the last axis)."""
        return (shape[0],)

    def prepare(self, shape: Shape, init: Initializer) -> PreparedLayer:
        layer = self.layer
        gamma = beta = None
        if layer.affine:  # a fresh layer: γ = 1, β = 0, as PyTorch initialises them
            size = self.affine_shape(shape)
            gamma = init.ones(math.prod(size)).reshape(size)
            beta = init.zeros(math.prod(size)).reshape(size)

        def forward(x: Array, owned: bool) -> tuple[Array, bool]:
            view, axes = self.grouped(x)
            y = normalize(view, axes, layer.eps, inplace=owned)
            y = y.reshape(x.shape)
            if gamma is not None and beta is not None:
                y *= gamma
                y += beta
            return y, True

        arrays = () if gamma is None or beta is None else (gamma, beta)
        return PreparedLayer(forward, arrays)

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        # the squares, and a mean and a variance per group
        return math.prod(out) + 2 * self.layer.statistics(shape)

    def allocates(self, shape: Shape, owned: bool) -> bool:
        return not owned  # an owned input is normalised in place


class LayerNormOp(NormalizationOp[LayerNorm]):
    def grouped(self, x: Array) -> tuple[Array, tuple[int, ...]]:
        if self.layer.over == "channels":
            return x, (x.ndim - 1,)
        return x, tuple(range(1, x.ndim))

    def affine_shape(self, shape: Shape) -> tuple[int, ...]:
        if self.layer.over == "channels":
            return (shape[0],)
        return (*shape[1:], shape[0])  # the map's shape, channels last


class GroupNormOp(NormalizationOp[GroupNorm]):
    def grouped(self, x: Array) -> tuple[Array, tuple[int, ...]]:
        groups = self.layer.groups
        view = x.reshape(*x.shape[:-1], groups, x.shape[-1] // groups)
        return view, (*range(1, x.ndim - 1), x.ndim)  # the positions and the group's channels


class InstanceNormOp(NormalizationOp[InstanceNorm]):
    def grouped(self, x: Array) -> tuple[Array, tuple[int, ...]]:
        return x, tuple(range(1, x.ndim - 1))  # each channel over its positions
