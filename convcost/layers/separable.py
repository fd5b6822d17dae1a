"""The conv shorthands: ``depthwise`` and ``pointwise`` (a :class:`Conv` with its groups and
kernel set) and ``separable`` (the two in a row, shown as two rows)."""

from __future__ import annotations

from dataclasses import dataclass

from convcost.fields import Args
from convcost.layers.base import Shape, require_spatial
from convcost.layers.conv import CONV_PADDING, Conv, read_padding
from convcost.layers.kind import BIAS, DILATION, GROUPS, KERNEL, OUT, STRIDE, IntegerField, Kind


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
