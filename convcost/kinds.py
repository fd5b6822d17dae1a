"""Transitional: the declarations of the kinds not yet moved to their own modules."""

from __future__ import annotations

from convcost.fields import Args
from convcost.layers import (
    Conv,
    ConvTranspose,
    Separable,
    Shape,
)
from convcost.layers.base import require_spatial
from convcost.layers.geometry import same_padding
from convcost.layers.kind import (
    BIAS,
    DILATION,
    GROUPS,
    KERNEL,
    OUT,
    STRIDE,
    IntegerField,
    Kind,
    PaddingField,
    PerAxisField,
)

CONV_PADDING = PaddingField(
    "padding",
    "zero padding: an integer, one per axis (each an integer or [before, after]), "
    "'same' (stride 1, as PyTorch) or 'valid'",
    0,
    minimum=0,
)
MULTIPLIER = IntegerField("multiplier", "depth multiplier: out channels = in · multiplier", 1)
TRANSPOSE_PADDING = PerAxisField("padding", "padding removed from the output", 0, minimum=0)
OUTPUT_PADDING = PerAxisField(
    "output_padding", "extra size added to one side of the output", 0, minimum=0
)


def _padding(
    a: Args, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]
) -> tuple[tuple[tuple[int, int], ...], str]:
    padding = CONV_PADDING.read(a)
    if padding == "valid":
        return ((0, 0),) * a.rank, "valid"
    if padding == "same":
        if any(s != 1 for s in stride):
            raise a.error(
                "padding",
                f"padding 'same' needs stride 1 (as in PyTorch), got stride {list(stride)}: "
                "give explicit padding instead",
            )
        return tuple(same_padding(k, d) for k, d in zip(kernel, dilation, strict=True)), "same"
    assert not isinstance(padding, str)
    return padding, "explicit"


def _conv(a: Args, shape: Shape) -> Conv:
    require_spatial(a.kind, shape)
    out = OUT.read(a)
    kernel = KERNEL.read(a)
    stride = STRIDE.read(a)
    dilation = DILATION.read(a)
    padding, mode = _padding(a, kernel, stride, dilation)
    return Conv(
        out=out,
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=GROUPS.read(a),
        bias=BIAS.read(a),
        padding_mode=mode,
    )


def _depthwise_conv(a: Args, shape: Shape, *, label: str) -> Conv:
    require_spatial(a.kind, shape)
    kernel = KERNEL.read(a)
    stride = STRIDE.read(a)
    dilation = DILATION.read(a)
    padding, mode = _padding(a, kernel, stride, dilation)
    multiplier = MULTIPLIER.read(a)
    return Conv(
        out=shape[0] * multiplier,
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=shape[0],
        bias=BIAS.read(a),
        label=label,
        padding_mode=mode,
    )


def _depthwise(a: Args, shape: Shape) -> Conv:
    return _depthwise_conv(a, shape, label="depthwise")


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


def _pointwise(a: Args, shape: Shape) -> Conv:
    require_spatial(a.kind, shape)
    out = OUT.read(a)
    return _pointwise_conv(out, BIAS.read(a), GROUPS.read(a), a.rank)


def _separable(a: Args, shape: Shape) -> Separable:
    depthwise = _depthwise_conv(a, shape, label="depthwise")
    out = OUT.read(a)
    return Separable(depthwise=depthwise, pointwise=_pointwise_conv(out, depthwise.bias, 1, a.rank))


def _conv_transpose(a: Args, shape: Shape) -> ConvTranspose:
    require_spatial(a.kind, shape)
    return ConvTranspose(
        out=OUT.read(a),
        kernel=KERNEL.read(a),
        stride=STRIDE.read(a),
        padding=TRANSPOSE_PADDING.read(a),
        output_padding=OUTPUT_PADDING.read(a),
        dilation=DILATION.read(a),
        groups=GROUPS.read(a),
        bias=BIAS.read(a),
    )


LEGACY_CONV_KINDS = (
    Kind(
        "conv",
        "convolution (1-D, 2-D or 3-D from the input rank)",
        (OUT, KERNEL, STRIDE, DILATION, CONV_PADDING, GROUPS, BIAS),
        _conv,
    ),
    Kind(
        "depthwise",
        "depthwise convolution: groups = in channels, out = in·multiplier",
        (KERNEL, STRIDE, DILATION, CONV_PADDING, MULTIPLIER, BIAS),
        _depthwise,
    ),
    Kind("pointwise", "1×1 convolution", (OUT, BIAS, GROUPS), _pointwise),
    Kind(
        "separable",
        "depthwise then pointwise convolution, shown as two rows",
        (KERNEL, STRIDE, DILATION, CONV_PADDING, MULTIPLIER, BIAS, OUT),
        _separable,
    ),
    Kind(
        "conv_transpose",
        "transposed convolution (PyTorch's ConvTranspose)",
        (OUT, KERNEL, STRIDE, TRANSPOSE_PADDING, OUTPUT_PADDING, DILATION, GROUPS, BIAS),
        _conv_transpose,
    ),
)
