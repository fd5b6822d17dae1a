"""What every layer kind shares: shapes, the base class and its defaults."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from convcost.layers.window import Global, Untracked, Window

Shape = tuple[int, ...]
"""A per-sample shape, channels first: ``(C, *spatial)``; ``(F,)`` is a flat feature vector."""


Exact = int | Fraction
"""An exact rational as the receptive field's jump is kept: an ``int`` while it is a whole
number, else a ``Fraction`` (see :mod:`convcost.receptive`).

The jump stays an integer (the fast path) until a transposed convolution, a resize or an
adaptive pool whose output size does not divide its input makes it fractional; a jump that is
whole again (1/2 · 2) returns to ``int``. Both are exact, and an ``int`` is equal (``==``,
``hash``) to the ``Fraction`` of the same value."""


def exact(value: Exact) -> Exact:
    """``value`` as an ``int`` when it is a whole number."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value


class LayerShapeError(ValueError):
    """A layer cannot take its input; the builder adds the file, line and layer path."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Drop:
    """Input pixels that floor division leaves unread at the end of an axis."""

    axis: str
    pixels: int


def axis_names(rank: int) -> tuple[str, ...]:
    return {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}.get(rank, ())


def spatial(shape: Shape) -> Shape:
    return shape[1:]


def elements(shape: Shape) -> int:
    return math.prod(shape)


def require_spatial(kind: str, shape: Shape) -> None:
    if len(shape) < 2:
        raise LayerShapeError(
            None, f"{kind} needs a spatial input [C, ...], got the flat shape {list(shape)}"
        )


class Layer:
    """Base of the layer kinds: defaults for layers with no parameters or work."""

    __slots__ = ()

    @property
    def kind(self) -> str:
        raise NotImplementedError

    def output_shape(self, shape: Shape) -> Shape:
        return shape

    def weights(self, shape: Shape) -> int:
        return 0

    def biases(self, shape: Shape) -> int:
        return 0

    def macs(self, shape: Shape, out: Shape) -> int:
        return 0

    def ops(self, shape: Shape, out: Shape) -> int:
        """Elementwise work that is not a multiply-accumulate (see docs/cost-model.md)."""
        return 0

    def window(self, shape: Shape) -> Window | Global | Untracked | None:
        """Which input positions each output position reads (:mod:`convcost.layers.window`);
        ``None`` for layers that map each position to itself."""
        return None

    def dropped(self, shape: Shape) -> tuple[Drop, ...]:
        return ()
