"""Layers without windows: normalisation, activations, dropout, reshapes and ``linear``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from convcost.layers.base import Global, LayerShapeError, Shape, elements
from convcost.layers.legacy import Legacy


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity(Legacy):
    view: ClassVar[bool] = True

    @property
    def kind(self) -> str:
        return "identity"


@dataclass(frozen=True, slots=True, kw_only=True)
class Dropout(Legacy):
    """Identity at inference; ``spatial`` drops whole channels (Dropout2d) when training."""

    p: float
    mode: str = "standard"

    view: ClassVar[bool] = True

    @property
    def kind(self) -> str:
        return "dropout"


@dataclass(frozen=True, slots=True, kw_only=True)
class Flatten(Legacy):
    view: ClassVar[bool] = True

    @property
    def kind(self) -> str:
        return "flatten"

    def output_shape(self, shape: Shape) -> Shape:
        return (elements(shape),)


@dataclass(frozen=True, slots=True, kw_only=True)
class Linear(Legacy):
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
