"""Convolutions: ``conv`` and ``conv_transpose`` (the shorthands ``depthwise``, ``pointwise``
and ``separable`` are in :mod:`convcost.layers.separable`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from convcost.fields import Args
from convcost.layers import geometry
from convcost.layers.base import (
    Drop,
    Layer,
    LayerShapeError,
    Shape,
    axes_text,
    elements,
    require_spatial,
    spatial,
)
from convcost.layers.geometry import same_padding
from convcost.layers.kind import (
    BIAS,
    DILATION,
    GROUPS,
    KERNEL,
    OUT,
    STRIDE,
    Kind,
    PaddingField,
    PerAxisField,
)
from convcost.valueclasses import dataclass, made

if TYPE_CHECKING:
    from convcost.executor.ops.conv import ConvOp, ConvTransposeOp
    from convcost.explain.steps import Step
    from convcost.receptive import ReceptiveField
from convcost.layers.window import Untracked, Window, kernel_window, transposed_axis


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
        before = tuple(lo for lo, _ in self.padding)
        return kernel_window(sizes, outs, self.kernel, self.stride, before, self.dilation)

    def dropped(self, shape: Shape) -> tuple[Drop, ...]:
        return geometry.dropped_pixels(spatial(shape), self.spans(), self.stride, self.padding)

    def settings(self) -> str:
        if all(lo == hi for lo, hi in self.padding):
            pad = axes_text([lo for lo, _ in self.padding])
        else:
            pad = ", ".join(f"{lo} + {hi}" for lo, hi in self.padding)
        mode = f" ({self.padding_mode})" if self.padding_mode != "explicit" else ""
        return (
            f"kernel {'×'.join(map(str, self.kernel))}, stride {axes_text(self.stride)}, "
            f"padding {pad}{mode}, dilation {axes_text(self.dilation)}, "
            f"groups {self.groups}, {'bias' if self.bias else 'no bias'}"
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
            numbers,
            out_symbols,
            per_axis,
            product,
        )

        rank = len(shape) - 1
        c_in, c_out, g = shape[0], self.out, self.groups
        symmetric = all(lo == hi for lo, hi in self.padding)
        pads = "2·p" if symmetric else "p_begin + p_end"
        formula = f"⌊({{A}}_in + {pads} − d·(k − 1) − 1) / s⌋ + 1"
        cases: list[tuple[str, Number]] = []
        for axis, (size, k, s, (lo, hi), d) in enumerate(
            zip(shape[1:], self.kernel, self.stride, self.padding, self.dilation, strict=True)
        ):
            pad = f"{lo + hi}" if symmetric else f"{lo} + {hi}"
            cases.append((f"⌊({size} + {pad} − {d * (k - 1)} − 1) / {s}⌋ + 1", out[axis + 1]))
        kernel = product(kernel_symbols(rank))
        bias = " + C_out" if self.bias else ""
        bias_numbers = f" + {c_out}" if self.bias else ""
        steps = [
            *per_axis(Quantity.OUTPUT_SIZE, "{A}_out", formula, cases, rank),
            Step(
                quantity=Quantity.PARAMS,
                formula=f"{kernel}·(C_in/g)·C_out{bias}",
                substituted=f"{numbers(self.kernel)}·({c_in}/{g})·{c_out}{bias_numbers}",
                value=self.weights(shape) + self.biases(shape),
                note="" if self.bias else "no bias",
            ),
            Step(
                quantity=Quantity.MACS,
                formula=f"{product(out_symbols(rank))}·C_out·(C_in/g)·{kernel}",
                substituted=f"{numbers(out[1:])}·{c_out}·({c_in}/{g})·{numbers(self.kernel)}",
                value=self.macs(shape, out),
            ),
            _bias_ops(self.bias, out, self.ops(shape, out)),
            activations(out),
            *span_steps(self.kernel, self.dilation),
        ]
        rf_steps, after = field_steps(field, self.window(shape))
        return steps + rf_steps, after

    def op(self) -> ConvOp:
        from convcost.executor.ops.conv import ConvOp

        return ConvOp(self)


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

    def settings(self) -> str:
        return (
            f"kernel {'×'.join(map(str, self.kernel))}, stride {axes_text(self.stride)}, "
            f"padding {axes_text(self.padding)}, output_padding {axes_text(self.output_padding)}, "
            f"dilation {axes_text(self.dilation)}, groups {self.groups}, "
            f"{'bias' if self.bias else 'no bias'}"
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
            in_symbols,
            kernel_symbols,
            numbers,
            per_axis,
            product,
        )

        rank = len(shape) - 1
        c_in, c_out, g = shape[0], self.out, self.groups
        formula = "({A}_in − 1)·s − 2·p + d·(k − 1) + output_padding + 1"
        cases: list[tuple[str, Number]] = [
            (f"({size} − 1)·{s} − {2 * p} + {d * (k - 1)} + {op} + 1", out[axis + 1])
            for axis, (size, k, s, p, op, d) in enumerate(
                zip(
                    shape[1:],
                    self.kernel,
                    self.stride,
                    self.padding,
                    self.output_padding,
                    self.dilation,
                    strict=True,
                )
            )
        ]
        kernel = product(kernel_symbols(rank))
        bias = " + C_out" if self.bias else ""
        bias_numbers = f" + {c_out}" if self.bias else ""
        steps = [
            *per_axis(Quantity.OUTPUT_SIZE, "{A}_out", formula, cases, rank),
            Step(
                quantity=Quantity.PARAMS,
                formula=f"C_in·(C_out/g)·{kernel}{bias}",
                substituted=f"{c_in}·({c_out}/{g})·{numbers(self.kernel)}{bias_numbers}",
                value=self.weights(shape) + self.biases(shape),
                note="" if self.bias else "no bias",
            ),
            Step(
                quantity=Quantity.MACS,
                formula=f"C_in·{product(in_symbols(rank))}·(C_out/g)·{kernel}",
                substituted=f"{numbers(shape)}·({c_out}/{g})·{numbers(self.kernel)}",
                value=self.macs(shape, out),
                note="every input element is multiplied into C_out/g·∏k outputs",
            ),
            _bias_ops(self.bias, out, self.ops(shape, out)),
            activations(out),
            *span_steps(self.kernel, self.dilation),
        ]
        rf_steps, after = field_steps(field, self.window(shape))
        return steps + rf_steps, after

    def op(self) -> ConvTransposeOp:
        from convcost.executor.ops.conv import ConvTransposeOp

        return ConvTransposeOp(self)


def _bias_ops(bias: bool, out: Shape, ops: int) -> Step:
    from convcost.explain.steps import Quantity, Step, no_ops, numbers, out_symbols, product

    if not bias:
        return no_ops("no bias")
    return Step(
        quantity=Quantity.OPS,
        formula=product(["C_out", *out_symbols(len(out) - 1)]),
        substituted=numbers(out),
        value=ops,
        note="one bias add per output",
    )


CONV_PADDING = PaddingField(
    "padding",
    "zero padding: an integer, one per axis (each an integer or [before, after]), "
    "'same' (stride 1, as PyTorch) or 'valid'",
    0,
    minimum=0,
)
TRANSPOSE_PADDING = PerAxisField("padding", "padding removed from the output", 0, minimum=0)
OUTPUT_PADDING = PerAxisField(
    "output_padding", "extra size added to one side of the output", 0, minimum=0
)


def read_padding(
    args: Args, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]
) -> tuple[tuple[tuple[int, int], ...], str]:
    """A conv's padding resolved per axis, and how it was given (``same``, ``valid``,
    ``explicit``)."""
    padding = CONV_PADDING.read(args)
    if padding == "valid":
        return ((0, 0),) * args.rank, "valid"
    if padding == "same":
        if any(s != 1 for s in stride):
            raise args.error(
                "padding",
                f"padding 'same' needs stride 1 (as in PyTorch), got stride {list(stride)}: "
                "give explicit padding instead",
            )
        return tuple(same_padding(k, d) for k, d in zip(kernel, dilation, strict=True)), "same"
    assert not isinstance(padding, str)
    return padding, "explicit"


def _conv(args: Args, shape: Shape) -> Conv:
    require_spatial(args.kind, shape)
    out = OUT.read(args)
    kernel = KERNEL.read(args)
    stride = STRIDE.read(args)
    dilation = DILATION.read(args)
    padding, mode = read_padding(args, kernel, stride, dilation)
    return made(
        Conv,
        out=out,
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=GROUPS.read(args),
        bias=BIAS.read(args),
        padding_mode=mode,
    )


def _conv_transpose(args: Args, shape: Shape) -> ConvTranspose:
    require_spatial(args.kind, shape)
    return ConvTranspose(
        out=OUT.read(args),
        kernel=KERNEL.read(args),
        stride=STRIDE.read(args),
        padding=TRANSPOSE_PADDING.read(args),
        output_padding=OUTPUT_PADDING.read(args),
        dilation=DILATION.read(args),
        groups=GROUPS.read(args),
        bias=BIAS.read(args),
    )


CONV = Kind(
    "conv",
    "convolution (1-D, 2-D or 3-D from the input rank)",
    (OUT, KERNEL, STRIDE, DILATION, CONV_PADDING, GROUPS, BIAS),
    _conv,
)
CONV_TRANSPOSE = Kind(
    "conv_transpose",
    "transposed convolution (PyTorch's ConvTranspose)",
    (OUT, KERNEL, STRIDE, TRANSPOSE_PADDING, OUTPUT_PADDING, DILATION, GROUPS, BIAS),
    _conv_transpose,
)

KINDS = (CONV, CONV_TRANSPOSE)
"""The module's declarations (the registry lists ``separable``'s shorthands between them)."""
