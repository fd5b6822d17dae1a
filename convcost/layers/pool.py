"""Pooling: windowed max/avg, global and adaptive pools."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from convcost.fields import Args
from convcost.layers import geometry
from convcost.layers.base import (
    Drop,
    Layer,
    LayerShapeError,
    Shape,
    axes_text,
    axis_names,
    elements,
    require_spatial,
    spatial,
)
from convcost.layers.geometry import window_total
from convcost.layers.kind import DILATION, KERNEL, FlagField, Kind, Parser, PerAxisField
from convcost.valueclasses import dataclass

if TYPE_CHECKING:
    from convcost.executor.ops.pool import AdaptivePoolOp, GlobalPoolOp, WindowPoolOp
    from convcost.explain.steps import Step
    from convcost.receptive import ReceptiveField
from convcost.layers.window import Global, Untracked, Window, adaptive_axis, kernel_window


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowPool(Layer):
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    ceil_mode: bool = False

    reads: ClassVar[str]
    """What one window element costs, for ``explain``: a comparison or an addition."""

    def spans(self) -> tuple[int, ...]:
        return geometry.spans(self.kernel, self.dilation)

    def output_shape(self, shape: Shape) -> Shape:
        require_spatial(self.kind, shape)
        for p, k in zip(self.padding, self.kernel, strict=True):
            # PyTorch checks kernel_size // 2 >= padding, also for a dilated maxpool
            if 2 * p > k:
                raise LayerShapeError(
                    "padding", f"padding ({p}) must be at most half the kernel ({k}), as in PyTorch"
                )
        sizes = geometry.pool_sizes(
            spatial(shape),
            self.kernel,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
        )
        return (shape[0], *sizes)

    def ops(self, shape: Shape, out: Shape) -> int:
        """One comparison or addition per window element and output."""
        return elements(out) * math.prod(self.kernel)

    def window(self, shape: Shape) -> Window:
        """Output o reads o·s − p + t·d for each tap t (taps in the padding only left out)."""
        sizes = spatial(shape)
        outs = self.output_shape(shape)[1:]
        return kernel_window(sizes, outs, self.kernel, self.stride, self.padding, self.dilation)

    def dropped(self, shape: Shape) -> tuple[Drop, ...]:
        if self.ceil_mode:
            return ()
        padding = tuple((p, p) for p in self.padding)
        return geometry.dropped_pixels(spatial(shape), self.spans(), self.stride, padding)

    def settings(self) -> str:
        return (
            f"kernel {'×'.join(map(str, self.kernel))}, stride {axes_text(self.stride)}, "
            f"padding {axes_text(self.padding)}, dilation {axes_text(self.dilation)}"
            + (", ceil mode" if self.ceil_mode else "")
        )

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        from convcost.explain.field import field_steps, span_steps
        from convcost.explain.steps import (
            Number,
            Quantity,
            Step,
            activations,
            kernel_symbols,
            no_params,
            numbers,
            out_symbols,
            per_axis,
            product,
        )

        rank = len(shape) - 1
        rounding = "⌈⌉" if self.ceil_mode else "⌊⌋"
        formula = f"{rounding[0]}({{A}}_in + 2·p − d·(k − 1) − 1) / s{rounding[1]} + 1"
        cases: list[tuple[str, Number]] = []
        notes = []
        for axis, (name, size, k, s, p, d) in enumerate(
            zip(
                axis_names(rank),
                shape[1:],
                self.kernel,
                self.stride,
                self.padding,
                self.dilation,
                strict=True,
            )
        ):
            text = f"{rounding[0]}({size} + {2 * p} − {d * (k - 1)} − 1) / {s}{rounding[1]} + 1"
            if self.ceil_mode and -(-(size + 2 * p - d * (k - 1) - 1) // s) * s >= size + p:
                text += " − 1"
                notes.append(
                    f"{name}: − 1 because the last window would start in the right padding "
                    "(PyTorch drops it)"
                )
            cases.append((text, out[axis + 1]))
        steps = [
            *per_axis(Quantity.OUTPUT_SIZE, "{A}_out", formula, cases, rank, note="; ".join(notes)),
            no_params(),
            Step(
                quantity=Quantity.OPS,
                formula=product(["C", *out_symbols(rank), *kernel_symbols(rank)]),
                substituted=numbers((*out, *self.kernel)),
                value=self.ops(shape, out),
                note=f"one {self.reads} per window element",
            ),
            activations(out),
            *span_steps(self.kernel, self.dilation),
        ]
        rf_steps, after = field_steps(field, self.window(shape))
        return steps + rf_steps, after

    def op(self) -> WindowPoolOp:
        from convcost.executor.ops.pool import WindowPoolOp

        return WindowPoolOp(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxPool(WindowPool):
    reads: ClassVar[str] = "comparison"

    @property
    def kind(self) -> str:
        return "maxpool"


@dataclass(frozen=True, slots=True, kw_only=True)
class AvgPool(WindowPool):
    reads: ClassVar[str] = "addition"

    @property
    def kind(self) -> str:
        return "avgpool"

    def output_shape(self, shape: Shape) -> Shape:
        if len(shape) == 4:
            # PyTorch's AvgPool3d (only the 3-D one) checks the input without its padding
            for axis, size, k in zip(("D", "H", "W"), shape[1:], self.kernel, strict=True):
                if size < k:
                    raise LayerShapeError(
                        "kernel",
                        f"a 3-D avgpool needs every input size >= the kernel, as PyTorch's "
                        f"AvgPool3d checks before padding: axis {axis} has {size} < {k}",
                    )
        return WindowPool.output_shape(self, shape)  # (zero-argument super() fails with slots)


@dataclass(frozen=True, slots=True, kw_only=True)
class GlobalPool(Layer):
    """``global_avgpool`` / ``global_maxpool``: every spatial axis to 1, rank kept."""

    reduction: str
    """``avg`` or ``max``."""

    @property
    def kind(self) -> str:
        return f"global_{self.reduction}pool"

    def output_shape(self, shape: Shape) -> Shape:
        require_spatial(self.kind, shape)
        return (shape[0],) + (1,) * (len(shape) - 1)

    def ops(self, shape: Shape, out: Shape) -> int:
        return elements(shape)

    def window(self, shape: Shape) -> Global:
        return Global()

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        from convcost.explain.field import global_field
        from convcost.explain.steps import (
            Quantity,
            Step,
            activations,
            in_symbols,
            no_params,
            numbers,
            out_symbols,
            product,
        )

        rank = len(shape) - 1
        steps = [
            Step(
                quantity=Quantity.OUTPUT_SIZE,
                symbol=product(out_symbols(rank)),
                substituted="",
                value=math.prod(out[1:]),
                axes=tuple(range(rank)),
                note="one value per channel",
            ),
            no_params(),
            Step(
                quantity=Quantity.OPS,
                formula=product(["C", *in_symbols(rank)]),
                substituted=numbers(shape),
                value=self.ops(shape, out),
                note=f"every input element read once (global {self.reduction} pool)",
            ),
            activations(out),
        ]
        rf_steps, after = global_field()
        return steps + rf_steps, after

    def op(self) -> GlobalPoolOp:
        from convcost.executor.ops.pool import GlobalPoolOp

        return GlobalPoolOp(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class AdaptivePool(Layer):
    reduction: str
    """``avg`` or ``max``."""
    size: tuple[int, ...]

    @property
    def kind(self) -> str:
        return f"adaptive_{self.reduction}pool"

    def output_shape(self, shape: Shape) -> Shape:
        require_spatial(self.kind, shape)
        return (shape[0], *self.size)

    def _window_sums(self, shape: Shape) -> list[int]:
        return [
            window_total(size, out) for size, out in zip(spatial(shape), self.size, strict=True)
        ]

    def ops(self, shape: Shape, out: Shape) -> int:
        """Exactly the window elements read: ∏ over axes of Σ window lengths, times C."""
        return shape[0] * math.prod(self._window_sums(shape))

    def window(self, shape: Shape) -> Window | Global | Untracked:
        """Window i: [⌊i·in/out⌋, ⌈(i+1)·in/out⌉), repeating every out/gcd(in, out) outputs."""
        if all(out == 1 for out in self.size):
            return Global()
        axes = []
        for size, out in zip(spatial(shape), self.size, strict=True):
            axis = adaptive_axis(size, out)
            if isinstance(axis, Untracked):
                return axis
            axes.append(axis)
        return Window(tuple(axes))

    def settings(self) -> str:
        return f"output size {'×'.join(map(str, self.size))}"

    def steps(
        self, shape: Shape, out: Shape, field: ReceptiveField
    ) -> tuple[Sequence[Step], ReceptiveField]:
        from convcost.explain.field import field_steps
        from convcost.explain.steps import (
            Quantity,
            Step,
            activations,
            no_params,
            per_axis,
        )

        rank = len(shape) - 1
        # PyTorch's window i: [⌊i·in/out⌋, ⌈(i+1)·in/out⌉); its lengths in closed form
        names = axis_names(rank)
        steps = [
            *per_axis(
                Quantity.OUTPUT_SIZE,
                "{A}_out",
                "",
                [("", n) for n in out[1:]],
                rank,
                note="as given",
            ),
            no_params(),
            Step(
                quantity=Quantity.OPS,
                formula="C·" + "·".join(f"Σ window_{name}" for name in names),
                substituted=f"{shape[0]}·" + "·".join(str(s) for s in self._window_sums(shape)),
                value=self.ops(shape, out),
                note="window i spans [⌊i·in/out⌋, ⌈(i+1)·in/out⌉): one read per window element",
            ),
            activations(out),
        ]
        rf_steps, after = field_steps(field, self.window(shape))
        return steps + rf_steps, after

    def op(self) -> AdaptivePoolOp:
        from convcost.executor.ops.pool import AdaptivePoolOp

        return AdaptivePoolOp(self)


POOL_STRIDE = PerAxisField("stride", "stride", default_note="the kernel size, as PyTorch")
POOL_PADDING = PerAxisField("padding", "implicit padding, at most half the kernel", 0, minimum=0)
CEIL_MODE = FlagField("ceil_mode", "round the output size up instead of down", False)
SIZE = PerAxisField("size", "output size, one value or one per axis")


def _maxpool(args: Args, shape: Shape) -> MaxPool:
    require_spatial(args.kind, shape)
    kernel = KERNEL.read(args)
    return MaxPool(
        kernel=kernel,
        stride=POOL_STRIDE.read_or(args, kernel),
        padding=POOL_PADDING.read(args),
        dilation=DILATION.read(args),
        ceil_mode=CEIL_MODE.read(args),
    )


def _avgpool(args: Args, shape: Shape) -> AvgPool:
    require_spatial(args.kind, shape)
    kernel = KERNEL.read(args)
    return AvgPool(
        kernel=kernel,
        stride=POOL_STRIDE.read_or(args, kernel),
        padding=POOL_PADDING.read(args),
        dilation=(1,) * args.rank,
        ceil_mode=CEIL_MODE.read(args),
    )


def _global(reduction: str) -> Parser:
    def parse(args: Args, shape: Shape) -> GlobalPool:
        require_spatial(args.kind, shape)
        return GlobalPool(reduction=reduction)

    return parse


def _adaptive(reduction: str) -> Parser:
    def parse(args: Args, shape: Shape) -> AdaptivePool:
        require_spatial(args.kind, shape)
        return AdaptivePool(reduction=reduction, size=SIZE.read(args))

    return parse


KINDS = (
    Kind(
        "maxpool", "max pooling", (KERNEL, POOL_STRIDE, POOL_PADDING, DILATION, CEIL_MODE), _maxpool
    ),
    Kind(
        "avgpool",
        "average pooling (count_include_pad, as PyTorch's default)",
        (KERNEL, POOL_STRIDE, POOL_PADDING, CEIL_MODE),
        _avgpool,
    ),
    Kind("global_avgpool", "average over every spatial axis → [C, 1, …]", (), _global("avg")),
    Kind("global_maxpool", "maximum over every spatial axis → [C, 1, …]", (), _global("max")),
    Kind("adaptive_avgpool", "average pooling to a fixed output size", (SIZE,), _adaptive("avg")),
    Kind("adaptive_maxpool", "max pooling to a fixed output size", (SIZE,), _adaptive("max")),
)
