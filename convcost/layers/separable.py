"""The conv shorthands: ``depthwise`` and ``pointwise`` (a :class:`Conv` with its groups and
kernel set) and ``separable`` (the two in a row, shown as two rows)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from convcost.fields import Args
from convcost.layers.base import Shape, require_spatial
from convcost.layers.conv import CONV_PADDING, Conv, read_padding
from convcost.layers.kind import BIAS, DILATION, GROUPS, KERNEL, OUT, STRIDE, IntegerField, Kind
from convcost.valueclasses import dataclass

if TYPE_CHECKING:
    from convcost.explain.steps import LayerExplanation
    from convcost.network import GroupNode


@dataclass(frozen=True, slots=True, kw_only=True)
class Separable:
    """``separable``: a depthwise conv then a pointwise conv, shown as two rows."""

    depthwise: Conv
    pointwise: Conv


MULTIPLIER = IntegerField("multiplier", "depth multiplier: out channels = in · multiplier", 1)


def _depthwise_conv(args: Args, shape: Shape) -> Conv:
    require_spatial(args.kind, shape)
    kernel = KERNEL.read(args)
    stride = STRIDE.read(args)
    dilation = DILATION.read(args)
    padding, mode = read_padding(args, kernel, stride, dilation)
    multiplier = MULTIPLIER.read(args)
    return Conv(
        out=shape[0] * multiplier,
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=shape[0],
        bias=BIAS.read(args),
        label="depthwise",
        padding_mode=mode,
    )


def _pointwise_conv(out: int, bias: bool, groups: int, rank: int) -> Conv:
    return Conv(
        out=out,
        kernel=(1,) * rank,
        stride=(1,) * rank,
        padding=((0, 0),) * rank,
        dilation=(1,) * rank,
        groups=groups,
        bias=bias,
        label="pointwise",
    )


def _pointwise(args: Args, shape: Shape) -> Conv:
    require_spatial(args.kind, shape)
    out = OUT.read(args)
    return _pointwise_conv(out, BIAS.read(args), GROUPS.read(args), args.rank)


def _separable(args: Args, shape: Shape) -> Separable:
    depthwise = _depthwise_conv(args, shape)
    out = OUT.read(args)
    return Separable(
        depthwise=depthwise, pointwise=_pointwise_conv(out, depthwise.bias, 1, args.rank)
    )


KINDS = (
    Kind(
        "depthwise",
        "depthwise convolution: groups = in channels, out = in·multiplier",
        (KERNEL, STRIDE, DILATION, CONV_PADDING, MULTIPLIER, BIAS),
        _depthwise_conv,
    ),
    Kind("pointwise", "1×1 convolution", (OUT, BIAS, GROUPS), _pointwise),
    Kind(
        "separable",
        "depthwise then pointwise convolution, shown as two rows",
        (KERNEL, STRIDE, DILATION, CONV_PADDING, MULTIPLIER, BIAS, OUT),
        _separable,
    ),
)


def separable_summary(node: GroupNode) -> LayerExplanation:
    """``explain``'s summary of a separable conv (the group of its two rows) against the
    standard conv it replaces (same C_in, C_out, k, stride)."""
    from fractions import Fraction

    from convcost.explain.steps import (
        LayerExplanation,
        Quantity,
        Step,
        inline,
        kernel_symbols,
        number,
        numbers,
        out_symbols,
        product,
    )
    from convcost.network import LayerNode

    depthwise, pointwise = node.children
    assert isinstance(depthwise, LayerNode)
    assert isinstance(pointwise, LayerNode)
    dw, pw = depthwise.layer, pointwise.layer
    assert isinstance(dw, Conv)
    assert isinstance(pw, Conv)
    shape, out = node.input_shape, node.output_shape
    rank = len(shape) - 1
    c_in, c_out, m = shape[0], pw.out, dw.out // shape[0]
    area = math.prod(out[1:])
    k = math.prod(dw.kernel)
    kernel = product(kernel_symbols(rank))
    outs = product(out_symbols(rank))
    standard = area * c_out * c_in * k
    separable = area * c_in * m * k + area * c_in * m * c_out
    ratio = Fraction(separable, standard)
    mult = "m·" if m != 1 else ""
    expected = m * (Fraction(1, c_out) + Fraction(1, k))
    assert ratio == expected
    std_params = k * c_in * c_out
    sep_params = k * c_in * m + c_in * m * c_out
    steps = (
        Step(
            quantity=Quantity.MACS,
            symbol="standard",
            formula=f"{outs}·C_out·C_in·{kernel}",
            substituted=f"{numbers(out[1:])}·{c_out}·{c_in}·{numbers(dw.kernel)}",
            value=standard,
            note="the standard conv it replaces",
        ),
        Step(
            quantity=Quantity.MACS,
            symbol="separable",
            formula=f"{outs}·C_in·{mult}{kernel} + {outs}·C_in·{mult}C_out",
            substituted=f"{number(area * c_in * m * k)} + {number(area * c_in * m * c_out)}",
            value=separable,
            note="depthwise + pointwise",
        ),
        Step(
            quantity=Quantity.RELATIVE_COST,
            symbol="separable / standard",
            formula=f"{mult}(1/C_out + 1/({kernel}))",
            substituted=f"{inline(m) + '·' if m != 1 else ''}(1/{c_out} + 1/{k})",
            value=ratio,
            note=f"{number(separable)} / {number(standard)} ≈ {float(ratio):.4f} in MACs; "
            f"weights {number(sep_params)} / {number(std_params)} ≈ {float(Fraction(sep_params, std_params)):.4f}",
        ),
    )
    return LayerExplanation(
        path=node.path,
        kind="separable",
        settings=f"depthwise {'×'.join(map(str, dw.kernel))} + pointwise 1×1 against a standard "
        f"{'×'.join(map(str, dw.kernel))} conv, {c_in} → {c_out}",
        input_shape=shape,
        output_shape=out,
        steps=steps,
        report=None,
    )
