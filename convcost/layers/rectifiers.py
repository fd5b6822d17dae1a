"""Rectifiers with a negative part of their own: ``leaky_relu`` (a fixed slope), ``prelu`` (a
learned slope per channel, or one shared) and ``elu`` (α·(eˣ − 1) below zero).

Each costs one op per element, as every activation (docs/cost-model.md, *Ops*), and maps each
position to itself (no window).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from convcost.fields import Args
from convcost.layers.base import Layer, Shape, elements
from convcost.layers.kind import FlagField, Kind, NumberField
from convcost.valueclasses import dataclass

if TYPE_CHECKING:
    from convcost.executor.ops.rectifiers import EluOp, LeakyReluOp, PreluOp
    from convcost.explain.steps import Step
    from convcost.receptive import ReceptiveField


class _Rectifier(Layer):
    """What the three share: one op per element, no window, and ``explain``'s steps (their
    parameters from :meth:`params_step`, none unless a kind has some)."""

    __slots__ = ()

    def ops(self, shape: Shape, out: Shape) -> int:
        """One op per element, as every activation."""
        return elements(out)

    def params_step(self, shape: Shape) -> Step | None:
        return None

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        from convcost.explain.field import unchanged_field
        from convcost.explain.steps import (
            Quantity,
            Step,
            activations,
            no_params,
            numbers,
            product,
            shape_symbols,
        )

        ops = Step(
            quantity=Quantity.OPS,
            formula=product(shape_symbols(out)),
            substituted=numbers(out),
            value=self.ops(shape, out),
            note=f"one {self.kind} per element",
        )
        params = self.params_step(shape) or no_params()
        return [params, ops, activations(out), unchanged_field(field)], field


@dataclass(frozen=True, slots=True, kw_only=True)
class LeakyRelu(_Rectifier):
    """x for x ≥ 0, slope·x below (``nn.LeakyReLU(negative_slope)``)."""

    slope: float

    @property
    def kind(self) -> str:
        return "leaky_relu"

    def settings(self) -> str:
        return f"slope {self.slope:g}"

    def op(self) -> LeakyReluOp:
        from convcost.executor.ops.rectifiers import LeakyReluOp

        return LeakyReluOp(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Prelu(_Rectifier):
    """x for x ≥ 0, a·x below with a learned slope ``a`` per channel (per feature on a flat
    input), or one slope for all with ``shared`` (``nn.PReLU(num_parameters=C)`` /
    ``nn.PReLU()``)."""

    shared: bool

    @property
    def kind(self) -> str:
        return "prelu"

    def settings(self) -> str:
        return "one slope shared by all channels" if self.shared else "a slope per channel"

    def weights(self, shape: Shape) -> int:
        return 1 if self.shared else shape[0]

    def params_step(self, shape: Shape) -> Step:
        from convcost.explain.steps import Quantity, Step

        symbol = "F" if len(shape) == 1 else "C"
        return Step(
            quantity=Quantity.PARAMS,
            formula="1" if self.shared else symbol,
            substituted="" if self.shared else str(shape[0]),
            value=self.weights(shape) + self.biases(shape),
            note="one slope shared by all channels" if self.shared else "a slope per channel",
        )

    def op(self) -> PreluOp:
        from convcost.executor.ops.rectifiers import PreluOp

        return PreluOp(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Elu(_Rectifier):
    """x for x > 0, α·(eˣ − 1) below (``nn.ELU(alpha)``)."""

    alpha: float

    @property
    def kind(self) -> str:
        return "elu"

    def settings(self) -> str:
        return f"alpha {self.alpha:g}"

    def op(self) -> EluOp:
        from convcost.executor.ops.rectifiers import EluOp

        return EluOp(self)


LIMIT = 1000.0
"""Slopes and α are finite numbers within ±1000 (PyTorch takes any float; this rejects
``.inf`` and ``.nan``, which would make every output NaN)."""
SLOPE = NumberField(
    "slope", "the slope for negative inputs (PyTorch's negative_slope)", 0.01, -LIMIT, LIMIT
)
SHARED = FlagField(
    "shared", "one learned slope for all channels (nn.PReLU()) instead of one per channel", False
)
ALPHA = NumberField("alpha", "the scale α of α·(eˣ − 1) for negative inputs", 1.0, -LIMIT, LIMIT)


def _leaky_relu(args: Args, shape: Shape) -> LeakyRelu:
    return LeakyRelu(slope=SLOPE.read(args))


def _prelu(args: Args, shape: Shape) -> Prelu:
    return Prelu(shared=SHARED.read(args))


def _elu(args: Args, shape: Shape) -> Elu:
    return Elu(alpha=ALPHA.read(args))


KINDS = (
    Kind("leaky_relu", "leaky ReLU: slope·x for negative x", (SLOPE,), _leaky_relu),
    Kind(
        "prelu", "parametric ReLU: a learned slope per channel (or one shared)", (SHARED,), _prelu
    ),
    Kind("elu", "ELU: α·(eˣ − 1) for negative x", (ALPHA,), _elu),
)
