"""``batchnorm``: batch normalisation at inference (BatchNorm1d/2d/3d)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from convcost.fields import Args
from convcost.layers.base import Layer, Shape, elements
from convcost.layers.kind import Kind, NumberField
from convcost.valueclasses import dataclass, made

if TYPE_CHECKING:
    from convcost.executor.ops.batchnorm import BatchNormOp
    from convcost.explain.steps import Step
    from convcost.receptive import ReceptiveField


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
                formula="2·C",
                substituted=f"2·{shape[0]}",
                value=self.weights(shape) + self.biases(shape),
                note="scale γ and shift β per channel; running mean and variance are buffers",
            ),
            Step(
                quantity=Quantity.OPS,
                formula=product(["2", *shape_symbols(out)]),
                substituted=numbers((2, *out)),
                value=self.ops(shape, out),
                note="inference form y = a·x + b: a multiply and an add per element",
            ),
            activations(out),
            unchanged_field(field),
        ]
        return steps, field

    def op(self) -> BatchNormOp:
        from convcost.executor.ops.batchnorm import BatchNormOp

        return BatchNormOp(self)


EPS = NumberField("eps", "added to the variance", 1e-5, minimum=0.0, maximum=1.0)


def _batchnorm(args: Args, shape: Shape) -> BatchNorm:
    return made(BatchNorm, eps=EPS.read(args))


KINDS = (
    Kind(
        "batchnorm", "batch normalisation (BatchNorm1d/2d/3d): 2·C parameters", (EPS,), _batchnorm
    ),
)
