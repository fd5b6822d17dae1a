"""Layers without windows: normalisation, activations, dropout, reshapes and ``linear``."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from convcost.layers.base import Layer, LayerShapeError, Shape, elements
from convcost.layers.window import Global


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchNorm(Layer):
    """Learnable scale and shift per channel (2·C); running statistics are buffers, not parameters."""

    eps: float = 1e-5
    """Added to the variance; used by ``--execute`` only."""

    @property
    def kind(self) -> str:
        return "batchnorm"

    def weights(self, shape: Shape) -> int:
        return shape[0]

    def biases(self, shape: Shape) -> int:
        return shape[0]

    def ops(self, shape: Shape, out: Shape) -> int:
        """Inference form y = a·x + b: one multiply and one add per element."""
        return 2 * elements(out)


class Function(enum.Enum):
    """Elementwise activation functions; the value is the spec kind."""

    RELU = "relu"
    RELU6 = "relu6"
    SIGMOID = "sigmoid"
    SWISH = "swish"
    SILU = "silu"
    GELU = "gelu"
    TANH = "tanh"
    HARDSWISH = "hardswish"
    HARDSIGMOID = "hardsigmoid"


@dataclass(frozen=True, slots=True, kw_only=True)
class Activation(Layer):
    function: Function

    @property
    def kind(self) -> str:
        return self.function.value

    def ops(self, shape: Shape, out: Shape) -> int:
        """One op per element, whatever the function (its instruction cost is not modelled)."""
        return elements(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity(Layer):
    @property
    def kind(self) -> str:
        return "identity"


@dataclass(frozen=True, slots=True, kw_only=True)
class Dropout(Layer):
    """Identity at inference; ``spatial`` drops whole channels (Dropout2d) when training."""

    p: float
    mode: str = "standard"

    @property
    def kind(self) -> str:
        return "dropout"


@dataclass(frozen=True, slots=True, kw_only=True)
class Flatten(Layer):
    @property
    def kind(self) -> str:
        return "flatten"

    def output_shape(self, shape: Shape) -> Shape:
        return (elements(shape),)


@dataclass(frozen=True, slots=True, kw_only=True)
class Linear(Layer):
    out: int
    bias: bool = True

    @property
    def kind(self) -> str:
        return "linear"

    def output_shape(self, shape: Shape) -> Shape:
        if len(shape) != 1:
            raise LayerShapeError(
                None,
                f"linear needs a flat input [features], got {list(shape)}: "
                "add `- flatten: {}` before it (global pools keep [C, 1, 1])",
            )
        return (self.out,)

    def weights(self, shape: Shape) -> int:
        return shape[0] * self.out

    def biases(self, shape: Shape) -> int:
        return self.out if self.bias else 0

    def macs(self, shape: Shape, out: Shape) -> int:
        return shape[0] * self.out

    def ops(self, shape: Shape, out: Shape) -> int:
        return self.out if self.bias else 0

    def window(self, shape: Shape) -> Global:
        return Global()


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelShuffle(Layer):
    """ShuffleNet's shuffle: view as (g, C/g), transpose, flatten. Free: a permutation."""

    groups: int

    @property
    def kind(self) -> str:
        return "channel_shuffle"

    def output_shape(self, shape: Shape) -> Shape:
        if shape[0] % self.groups:
            raise LayerShapeError(
                "groups", f"channels ({shape[0]}) must be divisible by groups ({self.groups})"
            )
        return shape


@dataclass(frozen=True, slots=True, kw_only=True)
class Split(Layer):
    """ShuffleNet v2's channel split: the ``index``-th of ``parts`` equal channel chunks."""

    parts: int
    index: int

    @property
    def kind(self) -> str:
        return "split"

    def output_shape(self, shape: Shape) -> Shape:
        if shape[0] % self.parts:
            raise LayerShapeError(
                "parts", f"channels ({shape[0]}) must divide evenly into {self.parts} parts"
            )
        if self.index >= self.parts:
            raise LayerShapeError(
                "index", f"index ({self.index}) must be below parts ({self.parts})"
            )
        return (shape[0] // self.parts, *shape[1:])
