"""Elementwise activations without parameters: ``relu``, ``relu6``, ``sigmoid``,
``swish``/``silu``, ``gelu`` (exact, or ``approximate: tanh``), ``tanh``, ``hardswish``,
``hardsigmoid``, ``mish``."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import TYPE_CHECKING

from convcost.fields import Args
from convcost.layers.base import Layer, Shape, elements
from convcost.layers.kind import ChoiceField, Kind, Parser
from convcost.valueclasses import dataclass, made

if TYPE_CHECKING:
    from convcost.executor.ops.activation import ActivationOp
    from convcost.explain.steps import Step
    from convcost.receptive import ReceptiveField


class Function(enum.Enum):
    """Elementwise activation functions; the value is the spec kind, except GELU's tanh
    approximation (the kind ``gelu`` with ``approximate: tanh``)."""

    RELU = "relu"
    RELU6 = "relu6"
    SIGMOID = "sigmoid"
    SWISH = "swish"
    SILU = "silu"
    GELU = "gelu"
    GELU_TANH = "gelu_tanh"
    """0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), PyTorch's ``GELU(approximate='tanh')``."""
    TANH = "tanh"
    HARDSWISH = "hardswish"
    HARDSIGMOID = "hardsigmoid"
    MISH = "mish"
    """x·tanh(softplus(x)), PyTorch's ``nn.Mish``."""

    @property
    def kind(self) -> str:
        return "gelu" if self is Function.GELU_TANH else self.value


@dataclass(frozen=True, slots=True, kw_only=True)
class Activation(Layer):
    function: Function

    @property
    def kind(self) -> str:
        return self.function.kind

    def settings(self) -> str:
        return "approximate tanh" if self.function is Function.GELU_TANH else ""

    def ops(self, shape: Shape, out: Shape) -> int:
        """One op per element, whatever the function (its instruction cost is not modelled)."""
        return elements(out)

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

        steps = [
            no_params(),
            Step(
                quantity=Quantity.OPS,
                formula=product(shape_symbols(out)),
                substituted=numbers(out),
                value=self.ops(shape, out),
                note=f"one {self.kind} per element",
            ),
            activations(out),
            unchanged_field(field),
        ]
        return steps, field

    def op(self) -> ActivationOp:
        from convcost.executor.ops.activation import ActivationOp

        return ActivationOp(self)


def _activation(function: Function) -> Parser:
    def parse(args: Args, shape: Shape) -> Activation:
        return made(Activation, function=function)

    return parse


APPROXIMATE = ChoiceField(
    "approximate",
    "none: the exact GELU (with erf); tanh: its tanh approximation, as PyTorch's approximate",
    "none",
    choices=("none", "tanh"),
)


def _gelu(args: Args, shape: Shape) -> Activation:
    tanh = APPROXIMATE.read(args) == "tanh"
    return Activation(function=Function.GELU_TANH if tanh else Function.GELU)


KINDS = tuple(
    Kind("gelu", "GELU activation (exact, or its tanh approximation)", (APPROXIMATE,), _gelu)
    if f is Function.GELU
    else Kind(f.value, f"{f.value} activation", (), _activation(f))
    for f in Function
    if f is not Function.GELU_TANH
)
