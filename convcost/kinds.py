"""The spec's layer kinds: each name maps to a parser from :class:`Args` to a layer."""

from __future__ import annotations

import enum
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


class FieldType(enum.Enum):
    """How a layer field is written; ``convcost schema`` turns each into a JSON Schema."""

    INT = "int"
    PER_AXIS = "per_axis"
    """An integer for every spatial axis, or a list with one per axis."""
    PADDING = "padding"
    """``same``, ``valid``, an integer, or per axis an integer or a [before, after] pair."""
    FLAG = "flag"
    NUMBER = "number"
    CHOICE = "choice"


REQUIRED = None
"""The ``default`` of a field that must be given."""


@dataclass(frozen=True, slots=True)
class Field:
    """A field a layer kind reads: documentation for the schema, checked against the parser
    by tests/test_schema.py (the names it reads and the defaults it applies)."""

    name: str
    type: FieldType
    description: str
    default: int | float | bool | str | None = REQUIRED
    minimum: int | float = 1
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    default_note: str = ""
    """Describes a default that is not a constant (a pool's stride defaults to its kernel)."""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED and not self.default_note


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    parse: Parser
    summary: str
    fields: tuple[Field, ...] = ()


OUT = Field("out", FieldType.INT, "output channels (features for linear)")
KERNEL = Field("kernel", FieldType.PER_AXIS, "kernel size, one value or one per spatial axis")
STRIDE = Field("stride", FieldType.PER_AXIS, "stride, one value or one per spatial axis", 1)
DILATION = Field("dilation", FieldType.PER_AXIS, "dilation (spacing of kernel taps)", 1)
CONV_PADDING = Field(
    "padding",
    FieldType.PADDING,
    "zero padding: an integer, one per axis (each an integer or [before, after]), "
    "'same' (stride 1, as PyTorch) or 'valid'",
    0,
    minimum=0,
)
GROUPS = Field("groups", FieldType.INT, "groups: in and out channels must both divide by it", 1)
BIAS = Field("bias", FieldType.FLAG, "learnable bias per output channel", True)
MULTIPLIER = Field(
    "multiplier", FieldType.INT, "depth multiplier: out channels = in · multiplier", 1
)
POOL_PADDING = Field(
    "padding", FieldType.PER_AXIS, "implicit padding, at most half the kernel", 0, minimum=0
)
POOL_STRIDE = Field(
    "stride", FieldType.PER_AXIS, "stride", default_note="the kernel size, as PyTorch"
)
CEIL_MODE = Field("ceil_mode", FieldType.FLAG, "round the output size up instead of down", False)


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
    Kind(
        "conv",
        _conv,
        "convolution (1-D, 2-D or 3-D from the input rank)",
        (OUT, KERNEL, STRIDE, DILATION, CONV_PADDING, GROUPS, BIAS),
    ),
    Kind(
        "depthwise",
        _depthwise,
        "depthwise convolution: groups = in channels, out = in·multiplier",
        (KERNEL, STRIDE, DILATION, CONV_PADDING, MULTIPLIER, BIAS),
    ),
    Kind("pointwise", _pointwise, "1×1 convolution", (OUT, BIAS, GROUPS)),
    Kind(
        "separable",
        _separable,
        "depthwise then pointwise convolution, shown as two rows",
        (KERNEL, STRIDE, DILATION, CONV_PADDING, MULTIPLIER, BIAS, OUT),
    ),
    Kind(
        "conv_transpose",
        _conv_transpose,
        "transposed convolution (PyTorch's ConvTranspose)",
        (
            OUT,
            KERNEL,
            STRIDE,
            Field("padding", FieldType.PER_AXIS, "padding removed from the output", 0, minimum=0),
            Field(
                "output_padding",
                FieldType.PER_AXIS,
                "extra size added to one side of the output",
                0,
                minimum=0,
            ),
            DILATION,
            GROUPS,
            BIAS,
        ),
    ),
    Kind(
        "maxpool",
        _maxpool,
        "max pooling",
        (KERNEL, POOL_STRIDE, POOL_PADDING, DILATION, CEIL_MODE),
    ),
    Kind(
        "avgpool",
        _avgpool,
        "average pooling (count_include_pad, as PyTorch's default)",
        (KERNEL, POOL_STRIDE, POOL_PADDING, CEIL_MODE),
    ),
    Kind("global_avgpool", _global("avg"), "average over every spatial axis → [C, 1, …]"),
    Kind("global_maxpool", _global("max"), "maximum over every spatial axis → [C, 1, …]"),
    Kind(
        "adaptive_avgpool",
        _adaptive("avg"),
        "average pooling to a fixed output size",
        (SIZE := Field("size", FieldType.PER_AXIS, "output size, one value or one per axis"),),
    ),
    Kind("adaptive_maxpool", _adaptive("max"), "max pooling to a fixed output size", (SIZE,)),
    Kind(
        "batchnorm",
        _batchnorm,
        "batch normalisation (BatchNorm1d/2d/3d): 2·C parameters",
        (Field("eps", FieldType.NUMBER, "added to the variance", 1e-5, minimum=0.0, maximum=1.0),),
    ),
    *(Kind(f.value, _activation(f), f"{f.value} activation") for f in Function),
    Kind("identity", _identity, "passes its input through"),
    Kind(
        "dropout",
        _dropout,
        "dropout: identity at inference",
        (
            Field("p", FieldType.NUMBER, "drop probability", 0.5, minimum=0.0, maximum=1.0),
            Field(
                "mode",
                FieldType.CHOICE,
                "standard drops elements; spatial whole channels (Dropout2d)",
                "standard",
                choices=("standard", "spatial"),
            ),
        ),
    ),
    Kind("flatten", _flatten, "flattens [C, …] to [C·…] (needed before linear)"),
    Kind("linear", _linear, "fully connected layer on a flat input", (OUT, BIAS)),
    Kind(
        "channel_shuffle",
        _channel_shuffle,
        "ShuffleNet channel shuffle",
        (Field("groups", FieldType.INT, "number of groups; channels must divide by it"),),
    ),
    Kind(
        "split",
        _split,
        "ShuffleNet v2 channel split: the index-th of `parts` equal chunks",
        (
            Field("parts", FieldType.INT, "number of equal chunks", 2),
            Field("index", FieldType.INT, "which chunk to keep, from 0", minimum=0),
        ),
    ),
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
