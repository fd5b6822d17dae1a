"""What every layer kind shares: shapes, the base class and its defaults."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from convcost.valueclasses import dataclass

if TYPE_CHECKING:
    from fractions import Fraction

    from convcost.executor.ops.base import Op
    from convcost.explain.steps import Step
    from convcost.receptive import ReceptiveField

from convcost.layers.window import Context, Global, Untracked, Window

Shape = tuple[int, ...]
"""A per-sample shape, channels first: ``(C, *spatial)``; ``(F,)`` is a flat feature vector."""


Exact: TypeAlias = "int | Fraction"
"""An exact rational as the receptive field's jump is kept: an ``int`` while it is a whole
number, else a ``Fraction`` (see :mod:`convcost.receptive`).

The jump stays an integer (the fast path) until a transposed convolution, a resize or an
adaptive pool whose output size does not divide its input makes it fractional; a jump that is
whole again (1/2 · 2) returns to ``int``. Both are exact, and an ``int`` is equal (``==``,
``hash``) to the ``Fraction`` of the same value. (A name for annotations: :mod:`fractions` is
imported only where a jump is not whole.)"""


def exact(value: Exact) -> Exact:
    """``value`` as an ``int`` when it is a whole number."""
    if not isinstance(value, int) and value.denominator == 1:  # a whole Fraction
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


def axes_text(values: Sequence[int]) -> str:
    """``3`` when every axis has the same value, else ``3×5`` (``explain``'s settings)."""
    shown = [str(v) for v in values]
    return shown[0] if len(set(shown)) == 1 else "×".join(shown)


def spatial(shape: Shape) -> Shape:
    return shape[1:]


def elements(shape: Shape) -> int:
    return math.prod(shape)


def require_spatial(kind: str, shape: Shape) -> None:
    if len(shape) < 2:
        raise LayerShapeError(
            None, f"{kind} needs a spatial input [C, ...], got the flat shape {list(shape)}"
        )


class Layer(ABC):
    """Base of the layer kinds: defaults for layers with no parameters or work.

    A kind must say how ``explain`` shows it (:meth:`steps`) and how ``--execute`` runs it
    (:meth:`op`): both are abstract, so a kind without them fails type checking ("Cannot
    instantiate abstract class").
    """

    __slots__ = ()

    view: ClassVar[bool] = False
    """The output is a view of the input buffer at inference (``identity``, ``split``):
    the peak-memory model keeps the input alive instead of allocating (:mod:`convcost.peak`)."""

    @property
    def kind(self) -> str:
        raise NotImplementedError

    @abstractmethod
    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        """``explain``'s worked steps on input ``shape`` (output ``out``) and the receptive
        field after the layer. Values come from the methods the engine calls
        (``value=self.macs(shape, out)``); import the step helpers inside the method
        (:mod:`convcost.explain.steps`, :mod:`convcost.explain.field`) so that ``analyze``
        never loads them."""

    @abstractmethod
    def op(self) -> Op[Any]:
        """The kind's executor op; import it inside the method (its module imports numpy,
        which ``analyze`` never loads)."""

    def settings(self) -> str:
        """The fields that enter the formulas, in words (``explain``'s heading); empty if none."""
        return ""

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

    def window(self, shape: Shape) -> Window | Global | Context | Untracked | None:
        """Which input positions each output position reads (:mod:`convcost.layers.window`);
        ``None`` for layers that map each position to itself."""
        return None

    def dropped(self, shape: Shape) -> tuple[Drop, ...]:
        return ()

    def placeholder(self) -> str | None:
        """The label of a placeholder whose cost is unknown (``custom: {unknown: true}``, an
        imported operator convcost has no layer for); ``None`` for a layer that is counted."""
        return None
