"""Pooling: windowed max/avg, global and adaptive pools."""

from __future__ import annotations

import math
from dataclasses import dataclass

from convcost.layers import geometry
from convcost.layers.base import (
    Drop,
    Layer,
    LayerShapeError,
    Shape,
    elements,
    require_spatial,
    spatial,
)
from convcost.layers.window import Global, Untracked, Window, adaptive_axis, kernel_axis


@dataclass(frozen=True, slots=True, kw_only=True)
class _WindowPool(Layer):
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    ceil_mode: bool = False

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
        return Window(
            tuple(
                kernel_axis(size, out, k, s, p, d)
                for size, out, k, s, p, d in zip(
                    sizes, outs, self.kernel, self.stride, self.padding, self.dilation, strict=True
                )
            )
        )

    def dropped(self, shape: Shape) -> tuple[Drop, ...]:
        if self.ceil_mode:
            return ()
        padding = tuple((p, p) for p in self.padding)
        return geometry.dropped_pixels(spatial(shape), self.spans(), self.stride, padding)


@dataclass(frozen=True, slots=True, kw_only=True)
class MaxPool(_WindowPool):
    @property
    def kind(self) -> str:
        return "maxpool"


@dataclass(frozen=True, slots=True, kw_only=True)
class AvgPool(_WindowPool):
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
        return _WindowPool.output_shape(self, shape)  # (zero-argument super() fails with slots)


@dataclass(frozen=True, slots=True, kw_only=True)
class GlobalPool(Layer):
    """``global_avgpool`` / ``global_maxpool``: every spatial axis to 1, rank kept."""

    op: str
    """``avg`` or ``max``."""

    @property
    def kind(self) -> str:
        return f"global_{self.op}pool"

    def output_shape(self, shape: Shape) -> Shape:
        require_spatial(self.kind, shape)
        return (shape[0],) + (1,) * (len(shape) - 1)

    def ops(self, shape: Shape, out: Shape) -> int:
        return elements(shape)

    def window(self, shape: Shape) -> Global:
        return Global()


def window_total(size: int, out: int) -> int:
    """Σ over the ``out`` adaptive windows of their lengths: ``size + out − gcd(size, out)``.

    Window ``i`` has length ``⌈(r + size)/out⌉`` with ``r = i·size mod out`` (write
    ``i·size = q·out + r``: it starts at ``q`` and ends at ``q + ⌈(r + size)/out⌉``); summing
    over ``i`` telescopes to ``size`` plus one for each window whose end is not a whole
    multiple, of which there are ``out − gcd(size, out)``. Closed form: a size of 10⁹ costs
    nothing to count (tests compare it with the window-by-window sum).
    """
    return size + out - math.gcd(size, out)


def widest_window(size: int, out: int) -> int:
    """The longest adaptive window, ``⌈(size + out − gcd(size, out))/out⌉``: the residues
    ``i·size mod out`` are the multiples of the gcd up to ``out − gcd``."""
    return -(-(size + out - math.gcd(size, out)) // out)


@dataclass(frozen=True, slots=True, kw_only=True)
class AdaptivePool(Layer):
    op: str
    size: tuple[int, ...]

    @property
    def kind(self) -> str:
        return f"adaptive_{self.op}pool"

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
