"""ShuffleNet's channel operations: ``channel_shuffle`` and ``split``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from convcost.fields import Args
from convcost.layers.base import Layer, LayerShapeError, Shape
from convcost.layers.kind import IntegerField, Kind
from convcost.valueclasses import dataclass

if TYPE_CHECKING:
    from convcost.executor.ops.shuffle import ChannelShuffleOp, SplitOp
    from convcost.explain.steps import Step
    from convcost.receptive import ReceptiveField


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelShuffle(Layer):
    """ShuffleNet's shuffle: view as (g, C/g), transpose, flatten. Free: a permutation."""

    groups: int

    @property
    def kind(self) -> str:
        return "channel_shuffle"

    def output_shape(self, shape: Shape) -> Shape:
        if shape[0] % self.groups:
            raise LayerShapeError(
                "groups", f"channels ({shape[0]}) must be divisible by groups ({self.groups})"
            )
        return shape

    def settings(self) -> str:
        return f"groups {self.groups}"

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        from convcost.explain.field import unchanged_field
        from convcost.explain.steps import activations, no_ops, no_params

        steps = [
            no_params(),
            no_ops("a permutation of channels"),
            activations(out),
            unchanged_field(field),
        ]
        return steps, field

    def op(self) -> ChannelShuffleOp:
        from convcost.executor.ops.shuffle import ChannelShuffleOp

        return ChannelShuffleOp(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Split(Layer):
    """ShuffleNet v2's channel split: the ``index``-th of ``parts`` equal channel chunks."""

    parts: int
    index: int
    view: ClassVar[bool] = True

    @property
    def kind(self) -> str:
        return "split"

    def output_shape(self, shape: Shape) -> Shape:
        if shape[0] % self.parts:
            raise LayerShapeError(
                "parts", f"channels ({shape[0]}) must divide evenly into {self.parts} parts"
            )
        if self.index >= self.parts:
            raise LayerShapeError(
                "index", f"index ({self.index}) must be below parts ({self.parts})"
            )
        return (shape[0] // self.parts, *shape[1:])

    def settings(self) -> str:
        return f"parts {self.parts}, index {self.index}"

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        from convcost.explain.field import unchanged_field
        from convcost.explain.steps import Quantity, Step, activations, no_ops, no_params

        steps = [
            Step(
                quantity=Quantity.OUTPUT_SIZE,
                symbol="C_out",
                formula="C_in / parts",
                substituted=f"{shape[0]} / {self.parts}",
                value=out[0],
                note=f"part {self.index}",
            ),
            no_params(),
            no_ops("a view of some channels"),
            activations(out),
            unchanged_field(field),
        ]
        return steps, field

    def op(self) -> SplitOp:
        from convcost.executor.ops.shuffle import SplitOp

        return SplitOp(self)


SHUFFLE_GROUPS = IntegerField("groups", "number of groups; channels must divide by it")
PARTS = IntegerField("parts", "number of equal chunks", 2)
INDEX = IntegerField("index", "which chunk to keep, from 0", minimum=0)


def _channel_shuffle(args: Args, shape: Shape) -> ChannelShuffle:
    return ChannelShuffle(groups=SHUFFLE_GROUPS.read(args))


def _split(args: Args, shape: Shape) -> Split:
    return Split(parts=PARTS.read(args), index=INDEX.read(args))


KINDS = (
    Kind("channel_shuffle", "ShuffleNet channel shuffle", (SHUFFLE_GROUPS,), _channel_shuffle),
    Kind(
        "split",
        "ShuffleNet v2 channel split: the index-th of `parts` equal chunks",
        (PARTS, INDEX),
        _split,
    ),
)
