"""``pixel_shuffle`` and ``pixel_unshuffle``: channels to space and back (ESPCN, PixelShuffle)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from convcost.fields import Args
from convcost.layers.base import Layer, LayerShapeError, Shape, axis_names, spatial
from convcost.layers.kind import IntegerField, Kind
from convcost.layers.window import AxisWindow, Window, strided
from convcost.valueclasses import dataclass

if TYPE_CHECKING:
    from convcost.executor.ops.pixel_shuffle import PixelShuffleOp, PixelUnshuffleOp
    from convcost.explain.steps import Step
    from convcost.receptive import ReceptiveField


def _require_2d(kind: str, shape: Shape) -> None:
    if len(shape) != 3:
        raise LayerShapeError(
            None, f"{kind} needs a 2-D input [C, H, W], as PyTorch's, got {list(shape)}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PixelShuffle(Layer):
    """``nn.PixelShuffle(r)``: [C·r², H, W] → [C, H·r, W·r]. Free: a permutation."""

    factor: int

    @property
    def kind(self) -> str:
        return "pixel_shuffle"

    def output_shape(self, shape: Shape) -> Shape:
        _require_2d(self.kind, shape)
        square = self.factor**2
        if shape[0] % square:
            raise LayerShapeError(
                "factor",
                f"channels ({shape[0]}) must be divisible by factor² ({self.factor}² = {square})",
            )
        return (shape[0] // square, *(n * self.factor for n in spatial(shape)))

    def window(self, shape: Shape) -> Window:
        """Output o reads input ⌊o/r⌋: r phases advancing one input."""
        r = self.factor
        axis = AxisWindow(r, 1, (0,) * r, (0,) * r, (1,) * r)
        return Window((axis, axis))

    def settings(self) -> str:
        return f"factor {self.factor}"

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        from convcost.explain.field import field_steps
        from convcost.explain.steps import Quantity, Step, activations, no_ops, no_params, per_axis

        r = self.factor
        channels = Step(
            quantity=Quantity.OUTPUT_SIZE,
            symbol="C_out",
            formula="C_in / r²",
            substituted=f"{shape[0]} / {r}²",
            value=out[0],
        )
        cases = [(f"{n}·{r}", m) for n, m in zip(spatial(shape), spatial(out), strict=True)]
        sizes = per_axis(Quantity.OUTPUT_SIZE, "{A}_out", "{A}_in·r", cases, 2)
        reach, after = field_steps(field, self.window(shape))
        ops = no_ops("a permutation of channels into space")
        return [channels, *sizes, no_params(), ops, activations(out), *reach], after

    def op(self) -> PixelShuffleOp:
        from convcost.executor.ops.pixel_shuffle import PixelShuffleOp

        return PixelShuffleOp(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class PixelUnshuffle(Layer):
    """``nn.PixelUnshuffle(r)``: [C, H·r, W·r] → [C·r², H, W]. Free: a permutation."""

    factor: int

    @property
    def kind(self) -> str:
        return "pixel_unshuffle"

    def output_shape(self, shape: Shape) -> Shape:
        _require_2d(self.kind, shape)
        for name, n in zip(axis_names(2), spatial(shape), strict=True):
            if n % self.factor:
                raise LayerShapeError(
                    "factor",
                    f"size on axis {name} ({n}) must be divisible by factor ({self.factor})",
                )
        return (shape[0] * self.factor**2, *(n // self.factor for n in spatial(shape)))

    def window(self, shape: Shape) -> Window:
        """An output position gathers an r×r block of input positions, blocks r apart."""
        axis = strided(0, self.factor - 1, self.factor)
        return Window((axis, axis))

    def settings(self) -> str:
        return f"factor {self.factor}"

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        from convcost.explain.field import field_steps
        from convcost.explain.steps import Quantity, Step, activations, no_ops, no_params, per_axis

        r = self.factor
        channels = Step(
            quantity=Quantity.OUTPUT_SIZE,
            symbol="C_out",
            formula="C_in·r²",
            substituted=f"{shape[0]}·{r}²",
            value=out[0],
        )
        cases = [(f"{n} / {r}", m) for n, m in zip(spatial(shape), spatial(out), strict=True)]
        sizes = per_axis(Quantity.OUTPUT_SIZE, "{A}_out", "{A}_in / r", cases, 2)
        reach, after = field_steps(field, self.window(shape))
        ops = no_ops("a permutation of space into channels")
        return [channels, *sizes, no_params(), ops, activations(out), *reach], after

    def op(self) -> PixelUnshuffleOp:
        from convcost.executor.ops.pixel_shuffle import PixelUnshuffleOp

        return PixelUnshuffleOp(self)


FACTOR = IntegerField("factor", "the upscale (shuffle) or downscale (unshuffle) factor r")


def _pixel_shuffle(args: Args, shape: Shape) -> PixelShuffle:
    return PixelShuffle(factor=FACTOR.read(args))


def _pixel_unshuffle(args: Args, shape: Shape) -> PixelUnshuffle:
    return PixelUnshuffle(factor=FACTOR.read(args))


KINDS = (
    Kind(
        "pixel_shuffle",
        "channels to space: [C·r², H, W] → [C, H·r, W·r], as nn.PixelShuffle",
        (FACTOR,),
        _pixel_shuffle,
    ),
    Kind(
        "pixel_unshuffle",
        "space to channels: [C, H·r, W·r] → [C·r², H, W], as nn.PixelUnshuffle",
        (FACTOR,),
        _pixel_unshuffle,
    ),
)
