"""``upsample``: PyTorch's ``F.interpolate`` (nearest, linear, bilinear, trilinear, bicubic)."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING

from convcost.fields import Args
from convcost.layers.base import (
    Exact,
    Layer,
    LayerShapeError,
    Shape,
    elements,
    exact,
    require_spatial,
    spatial,
)
from convcost.layers.kind import ChoiceField, FlagField, Kind, PerAxisField
from convcost.layers.window import Untracked, Window, upsample_axis
from convcost.valueclasses import dataclass

if TYPE_CHECKING:
    from convcost.executor.ops.upsample import UpsampleOp
    from convcost.explain.steps import Step
    from convcost.receptive import ReceptiveField

MODE_RANKS = {
    "nearest": (1, 2, 3),
    "linear": (1,),
    "bilinear": (2,),
    "trilinear": (3,),
    "bicubic": (2,),
}
"""The spatial ranks each mode takes, as ``F.interpolate`` (3-D, 4-D and 5-D tensors)."""
TAPS = {"nearest": 1, "linear": 2, "bilinear": 2, "trilinear": 2, "bicubic": 4}
"""Input positions one output reads per axis."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Upsample(Layer):
    """Resample the spatial axes to ``size``, or by an integer ``scale`` per axis."""

    scale: tuple[int, ...] = ()
    """Per axis; empty when ``size`` is given."""
    size: tuple[int, ...] = ()
    """Per axis; empty when ``scale`` is given."""
    mode: str = "nearest"
    align_corners: bool = False

    @property
    def kind(self) -> str:
        return "upsample"

    def output_shape(self, shape: Shape) -> Shape:
        require_spatial("upsample", shape)
        rank = len(shape) - 1
        if rank not in MODE_RANKS[self.mode]:
            wanted = " or ".join(f"{r}-D" for r in MODE_RANKS[self.mode])
            raise LayerShapeError(
                "mode",
                f"mode {self.mode} needs a {wanted} input, got the {rank}-D shape {list(shape)}",
            )
        if self.size:
            return (shape[0], *self.size)
        return (shape[0], *(n * s for n, s in zip(spatial(shape), self.scale, strict=True)))

    def taps(self, rank: int) -> int:
        """Input elements weighted into each output element: 0 for nearest (a copy), else the
        interpolation's taps (2 per axis for the linear modes, 4 per axis for bicubic)."""
        return 0 if self.mode == "nearest" else TAPS[self.mode] ** rank

    def ops(self, shape: Shape, out: Shape) -> int:
        """One multiply-add per tap of every output element (see docs/cost-model.md)."""
        return self.taps(len(out) - 1) * elements(out)

    def ratios(self, shape: Shape, out: Shape) -> tuple[Exact, ...]:
        """Input positions between neighbouring outputs, per axis: ``(in − 1)/(out − 1)`` with
        ``align_corners`` (``in/out`` when the output has one position), else ``in/out``."""
        ratios: list[Exact] = []
        for n, m in zip(spatial(shape), spatial(out), strict=True):
            if self.align_corners and m > 1:
                ratios.append(exact(Fraction(n - 1, m - 1)))
            else:
                ratios.append(exact(Fraction(n, m)))
        return tuple(ratios)

    def window(self, shape: Shape) -> Window | Untracked:
        """Per axis the taps with a nonzero weight at each output position (a period of
        out/gcd(in, out) phases, :func:`~convcost.layers.window.upsample_axis`)."""
        out = self.output_shape(shape)
        family = {"nearest": "nearest", "bicubic": "cubic"}.get(self.mode, "linear")
        axes = []
        for a, (n, m) in enumerate(zip(spatial(shape), spatial(out), strict=True)):
            scale = self.scale[a] if self.scale else None
            axis = upsample_axis(n, m, family, align_corners=self.align_corners, scale=scale)
            if isinstance(axis, Untracked):
                return axis
            axes.append(axis)
        return Window(tuple(axes))

    def settings(self) -> str:
        how = f"size {list(self.size)}" if self.size else f"scale {_axes(self.scale)}"
        corners = ", align_corners" if self.align_corners else ""
        return f"{how}, {self.mode}{corners}"

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        from convcost.explain.field import field_steps
        from convcost.explain.steps import (
            Quantity,
            Step,
            activations,
            no_ops,
            no_params,
            numbers,
            per_axis,
            product,
            shape_symbols,
        )

        rank = len(shape) - 1
        if self.size:
            cases = [(str(m), m) for m in spatial(out)]
            sizes = per_axis(Quantity.OUTPUT_SIZE, "{A}_out", "size", cases, rank)
        else:
            cases = [
                (f"{n}·{s}", m)
                for n, s, m in zip(spatial(shape), self.scale, spatial(out), strict=True)
            ]
            sizes = per_axis(Quantity.OUTPUT_SIZE, "{A}_out", "{A}_in·scale", cases, rank)
        taps = self.taps(rank)
        if taps:
            ops = Step(
                quantity=Quantity.OPS,
                formula=f"{taps}·{product(shape_symbols(out))}",
                substituted=f"{taps}·{numbers(out)}",
                value=self.ops(shape, out),
                note=f"a multiply-add per tap: {TAPS[self.mode]} per axis, {taps} per output",
            )
        else:
            ops = no_ops("nearest copies one input per output")
        reach, after = field_steps(field, self.window(shape))
        return [*sizes, no_params(), ops, activations(out), *reach], after

    def op(self) -> UpsampleOp:
        from convcost.executor.ops.upsample import UpsampleOp

        return UpsampleOp(self)


def _axes(values: tuple[int, ...]) -> str:
    return str(values[0]) if len(set(values)) == 1 else str(list(values))


SCALE = PerAxisField(
    "scale",
    "integer scale factor, one value or one per spatial axis (exactly one of scale and size)",
    default_note="exactly one of scale and size",
)
SIZE = PerAxisField(
    "size",
    "output size, one value or one per spatial axis (exactly one of scale and size)",
    default_note="exactly one of scale and size",
)
MODE = ChoiceField(
    "mode",
    "interpolation as F.interpolate: nearest (1-3-D), linear (1-D), bilinear (2-D), "
    "trilinear (3-D), bicubic (2-D)",
    "nearest",
    choices=tuple(MODE_RANKS),
)
ALIGN_CORNERS = FlagField(
    "align_corners",
    "the corner pixels of input and output are aligned (interpolating modes only)",
    False,
)


def _upsample(args: Args, shape: Shape) -> Upsample:
    scale = SCALE.read_or(args, ())
    size = SIZE.read_or(args, ())
    mode = MODE.read(args)
    align_corners = ALIGN_CORNERS.read(args)
    if scale and size:
        raise args.error("size", "give exactly one of scale and size, not both")
    if not scale and not size and len(shape) > 1:  # a flat input: output_shape says why
        raise args.error("scale", "give exactly one of scale (a factor) and size (the output size)")
    if align_corners and mode == "nearest":
        raise args.error(
            "align_corners", "only the interpolating modes take align_corners (not nearest)"
        )
    return Upsample(scale=scale, size=size, mode=mode, align_corners=align_corners)


KINDS = (
    Kind(
        "upsample",
        "resample by an integer scale or to a size, as F.interpolate",
        (SCALE, SIZE, MODE, ALIGN_CORNERS),
        _upsample,
    ),
)
