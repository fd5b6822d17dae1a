"""The spec's layer kinds: each name maps to a parser from :class:`Args` to a layer."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from convcost.errors import Location
from convcost.fields import Args, Scope
from convcost.layers import (
    Activation,
    AdaptivePool,
    AnyLayer,
    AvgPool,
    BatchNorm,
    ChannelShuffle,
    Conv,
    ConvTranspose,
    Dropout,
    Flatten,
    Function,
    GlobalPool,
    Identity,
    Linear,
    MaxPool,
    Separable,
    Shape,
    Split,
)
from convcost.layers.base import require_spatial
from convcost.layers.geometry import same_padding

Parser = Callable[[Args, Shape], AnyLayer | Separable]


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    parse: Parser
    summary: str


def _padding(
    a: Args, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...]
) -> tuple[tuple[tuple[int, int], ...], str]:
    padding = a.padding(pairs=True)
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
    out = a.integer("out")
    kernel = a.per_axis("kernel")
    stride = a.per_axis("stride", 1)
    dilation = a.per_axis("dilation", 1)
    padding, mode = _padding(a, kernel, stride, dilation)
    return Conv(
        out=out,
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=a.integer("groups", 1),
        bias=a.flag("bias", True),
        padding_mode=mode,
    )


def _depthwise_conv(a: Args, shape: Shape, *, label: str) -> Conv:
    require_spatial(a.kind, shape)
    kernel = a.per_axis("kernel")
    stride = a.per_axis("stride", 1)
    dilation = a.per_axis("dilation", 1)
    padding, mode = _padding(a, kernel, stride, dilation)
    multiplier = a.integer("multiplier", 1)
    return Conv(
        out=shape[0] * multiplier,
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=shape[0],
        bias=a.flag("bias", True),
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
    out = a.integer("out")
    return _pointwise_conv(out, a.flag("bias", True), a.integer("groups", 1), a.rank)


def _separable(a: Args, shape: Shape) -> Separable:
    depthwise = _depthwise_conv(a, shape, label="depthwise")
    out = a.integer("out")
    return Separable(depthwise=depthwise, pointwise=_pointwise_conv(out, depthwise.bias, 1, a.rank))


def _conv_transpose(a: Args, shape: Shape) -> ConvTranspose:
    require_spatial(a.kind, shape)
    return ConvTranspose(
        out=a.integer("out"),
        kernel=a.per_axis("kernel"),
        stride=a.per_axis("stride", 1),
        padding=a.per_axis("padding", 0, minimum=0),
        output_padding=a.per_axis("output_padding", 0, minimum=0),
        dilation=a.per_axis("dilation", 1),
        groups=a.integer("groups", 1),
        bias=a.flag("bias", True),
    )


def _maxpool(a: Args, shape: Shape) -> MaxPool:
    require_spatial(a.kind, shape)
    kernel = a.per_axis("kernel")
    return MaxPool(
        kernel=kernel,
        stride=a.per_axis_or("stride", kernel),
        padding=a.per_axis("padding", 0, minimum=0),
        dilation=a.per_axis("dilation", 1),
        ceil_mode=a.flag("ceil_mode", False),
    )


def _avgpool(a: Args, shape: Shape) -> AvgPool:
    require_spatial(a.kind, shape)
    kernel = a.per_axis("kernel")
    return AvgPool(
        kernel=kernel,
        stride=a.per_axis_or("stride", kernel),
        padding=a.per_axis("padding", 0, minimum=0),
        dilation=(1,) * a.rank,
        ceil_mode=a.flag("ceil_mode", False),
    )


def _global(op: str) -> Parser:
    def parse(a: Args, shape: Shape) -> GlobalPool:
        require_spatial(a.kind, shape)
        return GlobalPool(op=op)

    return parse


def _adaptive(op: str) -> Parser:
    def parse(a: Args, shape: Shape) -> AdaptivePool:
        require_spatial(a.kind, shape)
        return AdaptivePool(op=op, size=a.per_axis("size"))

    return parse


def _batchnorm(a: Args, shape: Shape) -> BatchNorm:
    return BatchNorm(eps=a.number("eps", 1e-5, low=0.0, high=1.0))


def _activation(function: Function) -> Parser:
    def parse(a: Args, shape: Shape) -> Activation:
        return Activation(function=function)

    return parse


def _identity(a: Args, shape: Shape) -> Identity:
    return Identity()


def _dropout(a: Args, shape: Shape) -> Dropout:
    return Dropout(
        p=a.number("p", 0.5, low=0.0, high=1.0),
        mode=a.choice("mode", ("standard", "spatial"), "standard"),
    )


def _flatten(a: Args, shape: Shape) -> Flatten:
    return Flatten()


def _linear(a: Args, shape: Shape) -> Linear:
    return Linear(out=a.integer("out"), bias=a.flag("bias", True))


def _channel_shuffle(a: Args, shape: Shape) -> ChannelShuffle:
    return ChannelShuffle(groups=a.integer("groups"))


def _split(a: Args, shape: Shape) -> Split:
    return Split(parts=a.integer("parts", 2), index=a.integer("index", minimum=0))


_KINDS = (
    Kind("conv", _conv, "convolution (1-D, 2-D or 3-D from the input rank)"),
    Kind(
        "depthwise", _depthwise, "depthwise convolution: groups = in channels, out = in·multiplier"
    ),
    Kind("pointwise", _pointwise, "1×1 convolution"),
    Kind("separable", _separable, "depthwise then pointwise convolution, shown as two rows"),
    Kind("conv_transpose", _conv_transpose, "transposed convolution (PyTorch's ConvTranspose)"),
    Kind("maxpool", _maxpool, "max pooling"),
    Kind("avgpool", _avgpool, "average pooling (count_include_pad, as PyTorch's default)"),
    Kind("global_avgpool", _global("avg"), "average over every spatial axis → [C, 1, …]"),
    Kind("global_maxpool", _global("max"), "maximum over every spatial axis → [C, 1, …]"),
    Kind("adaptive_avgpool", _adaptive("avg"), "average pooling to a fixed output size"),
    Kind("adaptive_maxpool", _adaptive("max"), "max pooling to a fixed output size"),
    Kind("batchnorm", _batchnorm, "batch normalisation (BatchNorm1d/2d/3d): 2·C parameters"),
    *(Kind(f.value, _activation(f), f"{f.value} activation") for f in Function),
    Kind("identity", _identity, "passes its input through"),
    Kind("dropout", _dropout, "dropout: identity at inference"),
    Kind("flatten", _flatten, "flattens [C, …] to [C·…] (needed before linear)"),
    Kind("linear", _linear, "fully connected layer on a flat input"),
    Kind("channel_shuffle", _channel_shuffle, "ShuffleNet channel shuffle"),
    Kind("split", _split, "ShuffleNet v2 channel split: the index-th of `parts` equal chunks"),
)

KINDS: dict[str, Kind] = {kind.name: kind for kind in _KINDS}


class _Probe(Args):
    """Reads no spec: every field takes its default, required ones a placeholder."""

    def required(self, name: str, allowed: str, placeholder: int) -> int:
        return placeholder

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self._read)


@functools.cache
def field_names(kind: str) -> tuple[str, ...]:
    """Every field ``kind`` reads, in reading order (for unknown-field messages)."""
    probe = _Probe(
        None, kind=kind, scope=Scope(in_channels=1), layer=kind, location=Location("", 1, 1), rank=2
    )
    KINDS[kind].parse(probe, (1, 1, 1))
    return probe.fields


MERGE_KINDS = ("concat", "add", "multiply")
KIND_NAMES = frozenset(KINDS) | frozenset(MERGE_KINDS)
