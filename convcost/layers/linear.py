"""``linear``: a fully connected layer on a flat input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from convcost.fields import Args
from convcost.layers.base import Layer, LayerShapeError, Shape
from convcost.layers.kind import BIAS, OUT, Kind
from convcost.layers.window import Global
from convcost.valueclasses import dataclass

if TYPE_CHECKING:
    from convcost.executor.ops.linear import LinearOp
    from convcost.explain.steps import Step
    from convcost.receptive import ReceptiveField


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

    def settings(self) -> str:
        return f"out {self.out}, {'bias' if self.bias else 'no bias'}"

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        from convcost.explain.field import global_field
        from convcost.explain.steps import Quantity, Step, activations, no_ops

        f_in, f_out = shape[0], self.out
        steps = [
            Step(
                quantity=Quantity.PARAMS,
                formula="F_in·F_out" + (" + F_out" if self.bias else ""),
                substituted=f"{f_in}·{f_out}" + (f" + {f_out}" if self.bias else ""),
                value=self.weights(shape) + self.biases(shape),
                note="" if self.bias else "no bias",
            ),
            Step(
                quantity=Quantity.MACS,
                formula="F_in·F_out",
                substituted=f"{f_in}·{f_out}",
                value=self.macs(shape, out),
            ),
            Step(
                quantity=Quantity.OPS,
                formula="F_out",
                substituted=str(f_out),
                value=self.ops(shape, out),
                note="bias adds",
            )
            if self.bias
            else no_ops("no bias"),
            activations(out),
        ]
        rf_steps, after = global_field()
        return steps + rf_steps, after

    def op(self) -> LinearOp:
        from convcost.executor.ops.linear import LinearOp

        return LinearOp(self)


def _linear(args: Args, shape: Shape) -> Linear:
    return Linear(out=OUT.read(args), bias=BIAS.read(args))


KINDS = (Kind("linear", "fully connected layer on a flat input", (OUT, BIAS), _linear),)
