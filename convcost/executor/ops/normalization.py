"""``layernorm``, ``groupnorm`` and ``instancenorm`` on channels-last arrays: standardise groups by their own
statistics, then the affine γ·x̂ + β.

Each op standardises its groups (:meth:`NormalizationOp.standardize`, with :func:`normalize`
or :func:`group_normalize`) and gives the layout of γ and β; the affine is shared.
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


def group_normalize(x: Array, groups: int, eps: float, *, inplace: bool = False) -> Array:
    """:func:`normalize` over each group of ``groups`` equal channel groups at every position
    of the channels-last batch ``x``. Sums per channel over the positions come first (a
    reduction over outer axes, which NumPy runs along the contiguous channels), then per group:
    reducing a (N, …, G, C/G) view directly walks 3-element rows (13–60× slower measured,
    docs/benchmarks.md)."""
    n, channels = x.shape[0], x.shape[-1]
    flat = x.reshape(n, -1, channels)
    per_group = channels // groups
    count = flat.shape[1] * per_group

    def group_mean(values: Array) -> Array:
        """Each group's mean, repeated for its channels: (N, 1, C)."""
        means = values.sum(axis=1).reshape(n, groups, per_group).sum(axis=2) / count
        repeated: Array = np.repeat(means, per_group, axis=1)[:, None, :]
        return repeated

    y: Array = np.subtract(flat, group_mean(flat), out=flat if inplace else None)
    scale = group_mean(np.square(y))
    scale += eps
    np.sqrt(scale, out=scale)
    y /= scale
    return y.reshape(x.shape)


class NormalizationOp(Op[N]):
    """The shared forward pass and memory model; subclasses give the grouping and γ's layout."""

    @abstractmethod
    def standardize(self, x: Array, *, inplace: bool) -> Array:
        """Each group of the channels-last batch ``x`` standardised by its own statistics."""

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
            # calloc maps zeros lazily: write them, so that β is resident as trained values
            # would be (a layernorm over a whole map has a β as large as the map)
            beta.fill(0)

        def forward(x: Array, owned: bool) -> tuple[Array, bool]:
            y = self.standardize(x, inplace=owned)
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
    def standardize(self, x: Array, *, inplace: bool) -> Array:
        axes = (x.ndim - 1,) if self.layer.over == "channels" else tuple(range(1, x.ndim))
        return normalize(x, axes, self.layer.eps, inplace=inplace)

    def affine_shape(self, shape: Shape) -> tuple[int, ...]:
        if self.layer.over == "channels":
            return (shape[0],)
        return (*shape[1:], shape[0])  # the map's shape, channels last


class GroupNormOp(NormalizationOp[GroupNorm]):
    def standardize(self, x: Array, *, inplace: bool) -> Array:
        return group_normalize(x, self.layer.groups, self.layer.eps, inplace=inplace)

    def workspace(self, shape: Shape, out: Shape, width: int, owned: bool) -> int:
        # the squares, the per-channel sums and the group means repeated per channel, the means
        return math.prod(out) + 2 * shape[0] + self.layer.groups


class InstanceNormOp(NormalizationOp[InstanceNorm]):
    def standardize(self, x: Array, *, inplace: bool) -> Array:
        # each channel over its positions
        return normalize(x, tuple(range(1, x.ndim - 1)), self.layer.eps, inplace=inplace)
