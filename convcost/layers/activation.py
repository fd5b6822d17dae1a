"""Elementwise activations: ``relu``, ``relu6``, ``sigmoid``, ``swish``/``silu``, ``gelu``,
``tanh``, ``hardswish``, ``hardsigmoid``."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from convcost.fields import Args
from convcost.layers.base import Layer, Shape, elements
from convcost.layers.kind import Kind, Parser

if TYPE_CHECKING:
    from convcost.executor.ops.activation import ActivationOp
    from convcost.explain.steps import Step
    from convcost.receptive import ReceptiveField


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
        return Activation(function=function)

    return parse


KINDS = tuple(Kind(f.value, f"{f.value} activation", (), _activation(f)) for f in Function)
