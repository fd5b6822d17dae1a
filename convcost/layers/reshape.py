"""Layers that leave the values alone: ``identity``, ``dropout`` (at inference), ``flatten``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from convcost.fields import Args
from convcost.layers.base import Layer, Shape, elements
from convcost.layers.kind import ChoiceField, Kind, NumberField
from convcost.valueclasses import dataclass

if TYPE_CHECKING:
    from convcost.executor.ops.reshape import FlattenOp, PassThroughOp
    from convcost.explain.steps import Step
    from convcost.receptive import ReceptiveField


def _unchanged(
    why: str, out: Shape, field: ReceptiveField
) -> tuple[Sequence[Step], ReceptiveField]:
    """The steps of a layer that neither computes nor changes the shape."""
    from convcost.explain.field import unchanged_field
    from convcost.explain.steps import activations, no_ops, no_params

    return [no_params(), no_ops(why), activations(out), unchanged_field(field)], field


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity(Layer):
    view: ClassVar[bool] = True

    @property
    def kind(self) -> str:
        return "identity"

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        return _unchanged("passes its input through", out, field)

    def op(self) -> PassThroughOp:
        from convcost.executor.ops.reshape import PassThroughOp

        return PassThroughOp(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Dropout(Layer):
    """Identity at inference; ``spatial`` drops whole channels (Dropout2d) when training."""

    p: float
    mode: str = "standard"

    view: ClassVar[bool] = True

    @property
    def kind(self) -> str:
        return "dropout"

    def settings(self) -> str:
        return f"p {self.p}"

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        return _unchanged("identity at inference", out, field)

    def op(self) -> PassThroughOp:
        from convcost.executor.ops.reshape import PassThroughOp

        return PassThroughOp(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Flatten(Layer):
    view: ClassVar[bool] = True

    @property
    def kind(self) -> str:
        return "flatten"

    def output_shape(self, shape: Shape) -> Shape:
        return (elements(shape),)

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        from convcost.explain.field import unchanged_field
        from convcost.explain.steps import (
            Quantity,
            Step,
            activations,
            no_ops,
            no_params,
            numbers,
            product,
            shape_symbols,
        )

        steps = [
            Step(
                quantity=Quantity.OUTPUT_SIZE,
                symbol="F",
                formula=product(shape_symbols(shape, output=False)),
                substituted=numbers(shape),
                value=out[0],
            ),
            no_params(),
            no_ops("a reshape"),
            activations(out),
            unchanged_field(field),
        ]
        return steps, field

    def op(self) -> FlattenOp:
        from convcost.executor.ops.reshape import FlattenOp

        return FlattenOp(self)


P = NumberField("p", "drop probability", 0.5, minimum=0.0, maximum=1.0)
MODE = ChoiceField(
    "mode",
    "standard drops elements; spatial whole channels (Dropout2d)",
    "standard",
    choices=("standard", "spatial"),
)


def _identity(args: Args, shape: Shape) -> Identity:
    return Identity()


def _dropout(args: Args, shape: Shape) -> Dropout:
    return Dropout(p=P.read(args), mode=MODE.read(args))


def _flatten(args: Args, shape: Shape) -> Flatten:
    return Flatten()


KINDS = (
    Kind("identity", "passes its input through", (), _identity),
    Kind("dropout", "dropout: identity at inference", (P, MODE), _dropout),
    Kind("flatten", "flattens [C, …] to [C·…] (needed before linear)", (), _flatten),
)
