"""``softmax`` over channels: at each position, eˣ / Σ eˣ over the C values (``nn.Softmax(dim=1)``);
on a flat input over the features.

Not elementwise (each output reads every channel at its position) but position-wise: the
receptive field is unchanged. Three ops per element: an exponential, an add into the sum and a
divide (docs/cost-model.md, *Ops*).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from convcost.fields import Args
from convcost.layers.base import Layer, Shape, elements
from convcost.layers.kind import Kind
from convcost.valueclasses import dataclass

if TYPE_CHECKING:
    from convcost.executor.ops.softmax import SoftmaxOp
    from convcost.explain.steps import Step
    from convcost.receptive import ReceptiveField

OPS_PER_ELEMENT = 3
"""eˣ, the add of eˣ into its position's sum, and the divide by that sum (the max subtracted
first for stability is an implementation detail, not counted)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Softmax(Layer):
    @property
    def kind(self) -> str:
        return "softmax"

    def settings(self) -> str:
        return "over channels"

    def ops(self, shape: Shape, out: Shape) -> int:
        return OPS_PER_ELEMENT * elements(out)

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
            formula=product([str(OPS_PER_ELEMENT), *shape_symbols(out)]),
            substituted=numbers((OPS_PER_ELEMENT, *out)),
            value=self.ops(shape, out),
            note="an exp, an add into its position's sum and a divide per element",
        )
        return [no_params(), ops, activations(out), unchanged_field(field)], field

    def op(self) -> SoftmaxOp:
        from convcost.executor.ops.softmax import SoftmaxOp

        return SoftmaxOp(self)


def _softmax(args: Args, shape: Shape) -> Softmax:
    return Softmax()


KINDS = (Kind("softmax", "softmax over channels (over features on a flat input)", (), _softmax),)
