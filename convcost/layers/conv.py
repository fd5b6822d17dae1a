"""Convolutions: ``conv`` (also ``depthwise`` and ``pointwise``), ``conv_transpose``, ``separable``."""

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
from convcost.layers.window import Untracked, Window, kernel_axis, transposed_axis


def _check_groups(in_channels: int, out: int, groups: int) -> None:
    if in_channels % groups:
        raise LayerShapeError(
            "groups", f"input channels ({in_channels}) must be divisible by groups ({groups})"
        )
    if out % groups:
        raise LayerShapeError("groups", f"out ({out}) must be divisible by groups ({groups})")


@dataclass(frozen=True, slots=True, kw_only=True)
class Conv(Layer):
    """A convolution; ``depthwise`` and ``pointwise`` are convs with their groups and kernel set."""

    out: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    """(before, after) per spatial axis; ``same`` is already resolved here."""
    dilation: tuple[int, ...]
    groups: int = 1
    bias: bool = True
    label: str = "conv"
    """The spec kind it was written as: ``conv``, ``depthwise`` or ``pointwise`` (display only)."""
    padding_mode: str = "explicit"
    """``same``, ``valid`` or ``explicit``: how padding was given (for ``explain``)."""

    @property
    def kind(self) -> str:
        return self.label

    def output_shape(self, shape: Shape) -> Shape:
        require_spatial(self.label, shape)
        _check_groups(shape[0], self.out, self.groups)
        sizes = geometry.conv_sizes(
            spatial(shape), self.kernel, self.stride, self.padding, self.dilation
        )
        return (self.out, *sizes)

    def weights(self, shape: Shape) -> int:
        return self.out * (shape[0] // self.groups) * math.prod(self.kernel)

    def biases(self, shape: Shape) -> int:
        return self.out if self.bias else 0

    def macs(self, shape: Shape, out: Shape) -> int:
        return elements(out) * (shape[0] // self.groups) * math.prod(self.kernel)

    def ops(self, shape: Shape, out: Shape) -> int:
        return elements(out) if self.bias else 0

    def spans(self) -> tuple[int, ...]:
        return geometry.spans(self.kernel, self.dilation)

    def window(self, shape: Shape) -> Window:
        """Output o reads o·s − p_before + t·d for each tap t (taps that read only padding at
        every output left out)."""
        sizes = spatial(shape)
        outs = geometry.conv_sizes(sizes, self.kernel, self.stride, self.padding, self.dilation)
        return Window(
            tuple(
                kernel_axis(size, out, k, s, lo, d)
                for size, out, k, s, (lo, _), d in zip(
                    sizes, outs, self.kernel, self.stride, self.padding, self.dilation, strict=True
                )
            )
        )

    def dropped(self, shape: Shape) -> tuple[Drop, ...]:
        return geometry.dropped_pixels(spatial(shape), self.spans(), self.stride, self.padding)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConvTranspose(Layer):
    out: int
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int = 1
    bias: bool = True

    @property
    def kind(self) -> str:
        return "conv_transpose"

    def output_shape(self, shape: Shape) -> Shape:
        require_spatial(self.kind, shape)
        _check_groups(shape[0], self.out, self.groups)
        for op, s, d in zip(self.output_padding, self.stride, self.dilation, strict=True):
            if op >= max(s, d):
                raise LayerShapeError(
                    "output_padding",
                    f"output_padding ({op}) must be smaller than stride or dilation (max {max(s, d)}), "
                    "as in PyTorch",
                )
        sizes = geometry.transposed_sizes(
            spatial(shape),
            self.kernel,
            self.stride,
            self.padding,
            self.output_padding,
            self.dilation,
        )
        return (self.out, *sizes)

    def weights(self, shape: Shape) -> int:
        return shape[0] * (self.out // self.groups) * math.prod(self.kernel)

    def biases(self, shape: Shape) -> int:
        return self.out if self.bias else 0

    def macs(self, shape: Shape, out: Shape) -> int:
        """Every input element is multiplied into C_out/g·∏k outputs."""
        return elements(shape) * (self.out // self.groups) * math.prod(self.kernel)

    def ops(self, shape: Shape, out: Shape) -> int:
        return elements(out) if self.bias else 0

    def window(self, shape: Shape) -> Window | Untracked:
        """Output o reads every input i with o + p − i·s a multiple of d below k·d: s phases."""
        axes = []
        for k, s, p, d in zip(self.kernel, self.stride, self.padding, self.dilation, strict=True):
            axis = transposed_axis(k, s, p, d)
            if isinstance(axis, Untracked):
                return axis
            axes.append(axis)
        return Window(tuple(axes))


@dataclass(frozen=True, slots=True, kw_only=True)
class Separable:
    """``separable``: a depthwise conv then a pointwise conv, shown as two rows."""

    depthwise: Conv
    pointwise: Conv
