"""``layer_scale``: ConvNeXt's learned per-channel multiply (its γ, ``1e-6`` at initialisation)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from convcost.fields import Args
from convcost.layers.base import Layer, Shape, elements
from convcost.layers.kind import Kind, NumberField
from convcost.valueclasses import dataclass

if TYPE_CHECKING:
    from convcost.executor.ops.layer_scale import LayerScaleOp
    from convcost.explain.steps import Step
    from convcost.receptive import ReceptiveField


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerScale(Layer):
    """y = γ · x with one learned γ per channel (C parameters, no bias), as ConvNeXt's
    ``layer_scale`` (torchvision's ``CNBlock``) and CaiT's LayerScale."""

    init: float = 1e-6
    """Every γ at initialisation; ``--execute`` draws nothing and uses it."""

    @property
    def kind(self) -> str:
        return "layer_scale"

    def settings(self) -> str:
        return f"init {self.init:g}"

    def weights(self, shape: Shape) -> int:
        return shape[0]

    def ops(self, shape: Shape, out: Shape) -> int:
        """One multiply per element."""
        return elements(out)

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        from convcost.explain.field import unchanged_field
        from convcost.explain.steps import (
            Quantity,
            Step,
            activations,
            numbers,
            product,
            shape_symbols,
        )

        steps = [
            Step(
                quantity=Quantity.PARAMS,
                formula=shape_symbols(shape)[0],
                substituted=str(shape[0]),
                value=self.weights(shape) + self.biases(shape),
                note="one scale γ per channel, no shift",
            ),
            Step(
                quantity=Quantity.OPS,
                formula=product(shape_symbols(out)),
                substituted=numbers(out),
                value=self.ops(shape, out),
                note="one multiply per element",
            ),
            activations(out),
            unchanged_field(field),
        ]
        return steps, field

    def op(self) -> LayerScaleOp:
        from convcost.executor.ops.layer_scale import LayerScaleOp

        return LayerScaleOp(self)


INIT = NumberField(
    "init", "every scale γ at initialisation (used by --execute only)", 1e-6, minimum=0.0
)


def _layer_scale(args: Args, shape: Shape) -> LayerScale:
    return LayerScale(init=INIT.read(args))


KINDS = (
    Kind(
        "layer_scale",
        "ConvNeXt's layer scale: a learned per-channel multiply, C parameters",
        (INIT,),
        _layer_scale,
    ),
)
