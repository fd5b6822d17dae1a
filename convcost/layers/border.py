"""``pad`` and ``crop``: add or remove positions at the ends of the spatial axes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from convcost.fields import Args
from convcost.layers.base import Layer, LayerShapeError, Shape, axis_names, require_spatial
from convcost.layers.kind import ChoiceField, Kind, NumberField, PaddingField, PerAxisField
from convcost.layers.window import Window, strided
from convcost.valueclasses import dataclass

if TYPE_CHECKING:
    from convcost.executor.ops.border import CropOp, PadOp
    from convcost.explain.steps import Step
    from convcost.receptive import ReceptiveField

Sides = tuple[tuple[int, int], ...]
"""(before, after) per spatial axis."""


def _side_cases(shape: Shape, sides: Sides, out: Shape, sign: str) -> list[tuple[str, int]]:
    return [
        (f"{n} {sign} {before} {sign} {after}", m)
        for n, (before, after), m in zip(shape[1:], sides, out[1:], strict=True)
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class Pad(Layer):
    """``F.pad`` of the spatial axes: constant, reflect or replicate."""

    padding: Sides
    mode: str = "constant"
    value: float = 0.0

    @property
    def kind(self) -> str:
        return "pad"

    def output_shape(self, shape: Shape) -> Shape:
        require_spatial("pad", shape)
        if self.mode == "reflect":
            for name, n, (before, after) in zip(
                axis_names(len(shape) - 1), shape[1:], self.padding, strict=True
            ):
                if max(before, after) >= n:
                    raise LayerShapeError(
                        "padding",
                        f"reflect padding ({before}, {after}) on axis {name} must be smaller "
                        f"than the input ({n}), as PyTorch's",
                    )
        return (
            shape[0],
            *(n + lo + hi for n, (lo, hi) in zip(shape[1:], self.padding, strict=True)),
        )

    def window(self, shape: Shape) -> Window:
        """Output o reads input o − p_before (reflect and replicate borders read a mirrored or
        repeated position instead: the map holds in the interior)."""
        return Window(tuple(strided(-before, -before, 1) for before, _ in self.padding))

    def settings(self) -> str:
        value = f" {self.value:g}" if self.mode == "constant" else ""
        return f"padding {[list(side) for side in self.padding]}, {self.mode}{value}"

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        from convcost.explain.field import field_steps
        from convcost.explain.steps import Quantity, activations, no_ops, no_params, per_axis

        cases = _side_cases(shape, self.padding, out, "+")
        sizes = per_axis(
            Quantity.OUTPUT_SIZE, "{A}_out", "{A}_in + p_before + p_after", cases, len(out) - 1
        )
        reach, after = field_steps(field, self.window(shape))
        return [*sizes, no_params(), no_ops("a copy"), activations(out), *reach], after

    def op(self) -> PadOp:
        from convcost.executor.ops.border import PadOp

        return PadOp(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Crop(Layer):
    """Remove positions at the ends of the spatial axes: per side, or a centre crop to ``size``
    (torchvision's ``center_crop`` offsets: ⌊(in − size)/2⌉, ties to even, as Python's round)."""

    crop: Sides = ()
    """(before, after) per axis; empty for a centre crop."""
    size: tuple[int, ...] = ()
    """The centre crop's output size per axis; empty for a crop per side."""
    view: ClassVar[bool] = True

    @property
    def kind(self) -> str:
        return "crop"

    def sides(self, shape: Shape) -> Sides:
        """(before, after) per axis; a centre crop's from its size."""
        if not self.size:
            return self.crop
        return tuple(
            (round((n - m) / 2), n - m - round((n - m) / 2))
            for n, m in zip(shape[1:], self.size, strict=True)
        )

    def output_shape(self, shape: Shape) -> Shape:
        require_spatial("crop", shape)
        names = axis_names(len(shape) - 1)
        if self.size:
            for name, n, m in zip(names, shape[1:], self.size, strict=True):
                if m > n:
                    raise LayerShapeError(
                        "size", f"size on axis {name} ({m}) is larger than the input ({n})"
                    )
            return (shape[0], *self.size)
        for name, n, (before, after) in zip(names, shape[1:], self.crop, strict=True):
            if before + after >= n:
                raise LayerShapeError(
                    "crop",
                    f"cropping {before} + {after} leaves nothing of axis {name} ({n})",
                )
        return (shape[0], *(n - lo - hi for n, (lo, hi) in zip(shape[1:], self.crop, strict=True)))

    def window(self, shape: Shape) -> Window:
        """Output o reads input o + c_before."""
        return Window(tuple(strided(before, before, 1) for before, _ in self.sides(shape)))

    def settings(self) -> str:
        if self.size:
            return f"centre to {list(self.size)}"
        return f"crop {[list(side) for side in self.crop]}"

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        from convcost.explain.field import field_steps
        from convcost.explain.steps import Quantity, activations, no_ops, no_params, per_axis

        rank = len(out) - 1
        if self.size:
            cases = [
                (f"{m}, offset round(({n} − {m}) / 2) = {before}", m)
                for n, m, (before, _) in zip(shape[1:], out[1:], self.sides(shape), strict=True)
            ]
            sizes = per_axis(Quantity.OUTPUT_SIZE, "{A}_out", "size", cases, rank)
        else:
            cases = _side_cases(shape, self.crop, out, "−")
            sizes = per_axis(
                Quantity.OUTPUT_SIZE, "{A}_out", "{A}_in − c_before − c_after", cases, rank
            )
        reach, after = field_steps(field, self.window(shape))
        return [*sizes, no_params(), no_ops("a view"), activations(out), *reach], after

    def op(self) -> CropOp:
        from convcost.executor.ops.border import CropOp

        return CropOp(self)


PADDING = PaddingField(
    "padding", "positions added: one integer, one per axis, or [before, after] per axis"
)
PAD_MODE = ChoiceField(
    "mode",
    "constant (the value), reflect (mirrored, the edge not repeated) or replicate (the edge)",
    "constant",
    choices=("constant", "reflect", "replicate"),
)
VALUE = NumberField("value", "the constant mode's fill value", 0.0, minimum=-1e38, maximum=1e38)
CROP = PaddingField(
    "crop",
    "positions removed: one integer, one per axis, or [before, after] per axis "
    "(exactly one of crop and size)",
    default_note="exactly one of crop and size",
)
CROP_SIZE = PerAxisField(
    "size",
    "centre crop to this size, one value or one per axis (exactly one of crop and size)",
    default_note="exactly one of crop and size",
)


def _sides(args: Args, name: str, value: str | Sides) -> Sides:
    if isinstance(value, str):
        raise args.error(
            name, f"takes integers (one, per axis, or [before, after] pairs), got '{value}'"
        )
    return value


def _pad(args: Args, shape: Shape) -> Pad:
    given = args.has("padding")
    padding = _sides(args, "padding", PADDING.read(args))
    mode = PAD_MODE.read(args)
    has_value = args.has("value")
    value = VALUE.read(args)
    if not given:
        raise args.error("padding", "`padding` is required (an integer >= 0, or one per axis)")
    if has_value and mode != "constant":
        raise args.error("value", f"only constant padding takes a value (mode is {mode})")
    return Pad(padding=padding, mode=mode, value=value)


def _crop(args: Args, shape: Shape) -> Crop:
    given = args.has("crop")
    crop = _sides(args, "crop", CROP.read(args))
    size = CROP_SIZE.read_or(args, ())
    if given and size:
        raise args.error("size", "give exactly one of crop and size, not both")
    if not given and not size and len(shape) > 1:  # a flat input: output_shape says why
        raise args.error("crop", "give exactly one of crop (per side) and size (a centre crop)")
    return Crop(crop=() if size else crop, size=size)


KINDS = (
    Kind(
        "pad",
        "pad the spatial axes (constant, reflect or replicate), as F.pad",
        (PADDING, PAD_MODE, VALUE),
        _pad,
    ),
    Kind(
        "crop",
        "remove positions per side, or a centre crop to a size",
        (CROP, CROP_SIZE),
        _crop,
    ),
)
