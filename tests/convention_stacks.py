"""Random stacks of layers as a convcost spec and as the PyTorch model a peer tool would see.

:func:`stacks` draws a few layers at a time on a tiny 2-D input (so a tool runs in
milliseconds); each drawn layer is a :class:`Drawn`: its spec entry and its PyTorch module on
the current shape. The PyTorch side is written from PyTorch's documentation of each module,
independently of convcost's formulas; the one realization choice the presets document (a
``layernorm`` over channels that feeds a pointwise layer runs channels-last as ConvNeXt's
block, ``nn.LayerNorm`` then ``nn.Linear``; elsewhere torchvision's ``LayerNorm2d``) is
applied here the same way, in :func:`torch_model`. Import only where torch and hypothesis are
importable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from hypothesis import strategies as st
from torch import nn
from torch.nn import functional as F

from tests.torch_models import Permute
from tests.torch_models_modern import LayerNorm2d

Shape = tuple[int, int, int]


@dataclass(frozen=True)
class Drawn:
    kind: str
    entry: str
    """The spec entry in YAML flow style, e.g. ``conv: {out: 4, kernel: 3}``."""
    make: Callable[[], nn.Module]
    """The plain PyTorch module (a fresh one each call)."""
    out: Shape
    """The output shape per sample."""
    channels: int = 0
    """For ``pointwise``: its input channels (to build ``nn.Linear`` in a channels-last run)."""
    bias: bool = True


class Interpolate(nn.Module):
    """``F.interpolate(x, size=…, mode=…)``, as torchvision's segmentation heads call it."""

    def __init__(self, size: tuple[int, int], mode: str) -> None:
        super().__init__()
        self.size = size
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        align = False if self.mode == "bilinear" else None
        return F.interpolate(x, size=self.size, mode=self.mode, align_corners=align)


class Crop(nn.Module):
    """``x[..., 1:-1, 1:-1]``: one pixel off every side, as slicing does it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[..., 1:-1, 1:-1]


def _out(size: int, kernel: int, stride: int, padding: int) -> int:
    """PyTorch's conv / pool output size (dilation 1, floor mode)."""
    return (size + 2 * padding - kernel) // stride + 1


def _flag(value: bool) -> str:
    return "true" if value else "false"


ACTIVATIONS: dict[str, Callable[[int], nn.Module]] = {
    "relu": lambda c: nn.ReLU(),
    "relu6": lambda c: nn.ReLU6(),
    "sigmoid": lambda c: nn.Sigmoid(),
    "silu": lambda c: nn.SiLU(),
    "swish": lambda c: nn.SiLU(),
    "gelu": lambda c: nn.GELU(),
    "tanh": lambda c: nn.Tanh(),
    "hardswish": lambda c: nn.Hardswish(),
    "hardsigmoid": lambda c: nn.Hardsigmoid(),
    "mish": lambda c: nn.Mish(),
    "leaky_relu": lambda c: nn.LeakyReLU(),
    "prelu": nn.PReLU,
    "elu": lambda c: nn.ELU(),
    "softmax": lambda c: nn.Softmax(dim=1),
    "identity": lambda c: nn.Identity(),
    "dropout": lambda c: nn.Dropout(),
}
"""Kinds whose module keeps the shape and needs at most the channel count."""

KINDS = (
    "conv",
    "depthwise",
    "pointwise",
    "conv_transpose",
    "maxpool",
    "avgpool",
    "global_avgpool",
    "global_maxpool",
    "adaptive_avgpool",
    "adaptive_maxpool",
    "batchnorm",
    "layernorm",
    "groupnorm",
    "instancenorm",
    "upsample",
    "pad",
    "crop",
    "pixel_shuffle",
    "pixel_unshuffle",
    "separable",
    *ACTIVATIONS,
)
"""The kinds :func:`layer` draws (and, at the end of a stack, ``flatten`` and ``linear``)."""


@st.composite
def layer(draw: st.DrawFn, shape: Shape) -> Drawn:  # noqa: PLR0915 (a branch per kind)
    c, h, w = shape
    kind = draw(st.sampled_from(KINDS))
    small = min(h, w)
    if kind == "conv":
        out = draw(st.integers(1, 6))
        kernel = draw(st.integers(1, min(3, small)))
        stride = draw(st.integers(1, 2))
        padding = draw(st.integers(0, kernel // 2))
        groups = draw(st.sampled_from([g for g in (1, 2, 3) if c % g == 0 and out % g == 0]))
        bias = draw(st.booleans())
        return Drawn(
            kind,
            f"conv: {{out: {out}, kernel: {kernel}, stride: {stride}, padding: {padding}, "
            f"groups: {groups}, bias: {_flag(bias)}}}",
            lambda: nn.Conv2d(c, out, kernel, stride, padding, groups=groups, bias=bias),
            (out, _out(h, kernel, stride, padding), _out(w, kernel, stride, padding)),
        )
    if kind == "depthwise":
        bias = draw(st.booleans())
        return Drawn(
            kind,
            f"depthwise: {{kernel: 3, padding: 1, bias: {_flag(bias)}}}",
            lambda: nn.Conv2d(c, c, 3, padding=1, groups=c, bias=bias),
            shape,
        )
    if kind == "separable":
        out = draw(st.integers(1, 6))
        bias = draw(st.booleans())
        return Drawn(
            kind,
            f"separable: {{out: {out}, kernel: 3, padding: 1, bias: {_flag(bias)}}}",
            lambda: nn.Sequential(
                nn.Conv2d(c, c, 3, padding=1, groups=c, bias=bias), nn.Conv2d(c, out, 1, bias=bias)
            ),
            (out, h, w),
        )
    if kind == "pointwise":
        out = draw(st.integers(1, 6))
        bias = draw(st.booleans())
        return Drawn(
            kind,
            f"pointwise: {{out: {out}, bias: {_flag(bias)}}}",
            lambda: nn.Conv2d(c, out, 1, bias=bias),
            (out, h, w),
            channels=c,
            bias=bias,
        )
    if kind == "conv_transpose":
        out = draw(st.integers(1, 4))
        kernel = draw(st.integers(1, 3))
        stride = draw(st.integers(1, 2))
        padding = draw(st.integers(0, (kernel - 1) // 2))
        bias = draw(st.booleans())
        size = [(n - 1) * stride - 2 * padding + kernel for n in (h, w)]
        return Drawn(
            kind,
            f"conv_transpose: {{out: {out}, kernel: {kernel}, stride: {stride}, "
            f"padding: {padding}, bias: {_flag(bias)}}}",
            lambda: nn.ConvTranspose2d(c, out, kernel, stride, padding, bias=bias),
            (out, size[0], size[1]),
        )
    if kind in ("maxpool", "avgpool"):
        kernel = draw(st.integers(1, min(3, small)))
        stride = draw(st.integers(1, kernel))
        padding = draw(st.integers(0, kernel // 2))
        pool = nn.MaxPool2d if kind == "maxpool" else nn.AvgPool2d
        return Drawn(
            kind,
            f"{kind}: {{kernel: {kernel}, stride: {stride}, padding: {padding}}}",
            lambda: pool(kernel, stride, padding),
            (c, _out(h, kernel, stride, padding), _out(w, kernel, stride, padding)),
        )
    if kind in ("global_avgpool", "global_maxpool"):
        pool = nn.AdaptiveAvgPool2d if kind == "global_avgpool" else nn.AdaptiveMaxPool2d
        return Drawn(kind, f"{kind}: {{}}", lambda: pool(1), (c, 1, 1))
    if kind in ("adaptive_avgpool", "adaptive_maxpool"):
        size = (draw(st.integers(1, h)), draw(st.integers(1, w)))
        pool = nn.AdaptiveAvgPool2d if kind == "adaptive_avgpool" else nn.AdaptiveMaxPool2d
        return Drawn(
            kind,
            f"{kind}: {{size: [{size[0]}, {size[1]}]}}",
            lambda: pool(size),
            (c, *size),
        )
    if kind == "batchnorm":
        return Drawn(kind, "batchnorm: {}", lambda: nn.BatchNorm2d(c), shape)
    if kind == "layernorm":
        over_all = draw(st.booleans())
        if over_all:
            return Drawn(kind, "layernorm: {over: all}", lambda: nn.LayerNorm([c, h, w]), shape)
        return Drawn(kind, "layernorm: {over: channels}", lambda: LayerNorm2d(c), shape)
    if kind == "groupnorm":
        # PyTorch refuses a group of one value ("Expected more than 1 value per channel")
        choices = [g for g in (1, 2, 3) if c % g == 0 and c // g * h * w > 1]
        if not choices:
            return Drawn("identity", "identity: {}", nn.Identity, shape)
        groups = draw(st.sampled_from(choices))
        affine = draw(st.booleans())
        return Drawn(
            kind,
            f"groupnorm: {{groups: {groups}, affine: {_flag(affine)}}}",
            lambda: nn.GroupNorm(groups, c, affine=affine),
            shape,
        )
    if kind == "instancenorm":
        if h * w == 1:
            return Drawn("identity", "identity: {}", nn.Identity, shape)
        affine = draw(st.booleans())
        return Drawn(
            kind,
            f"instancenorm: {{affine: {_flag(affine)}}}",
            lambda: nn.InstanceNorm2d(c, affine=affine),
            shape,
        )
    if kind == "upsample":
        mode = draw(st.sampled_from(["nearest", "bilinear"]))
        size = (2 * h, 2 * w)
        return Drawn(
            kind,
            f"upsample: {{size: [{size[0]}, {size[1]}], mode: {mode}}}",
            lambda: Interpolate(size, mode),
            (c, *size),
        )
    if kind == "pad":
        return Drawn(kind, "pad: {padding: 1}", lambda: nn.ZeroPad2d(1), (c, h + 2, w + 2))
    if kind == "crop":
        if small < 3:
            return Drawn("identity", "identity: {}", nn.Identity, shape)
        return Drawn(kind, "crop: {crop: 1}", Crop, (c, h - 2, w - 2))
    if kind == "pixel_unshuffle":
        if h % 2 or w % 2:
            return Drawn("identity", "identity: {}", nn.Identity, shape)
        return Drawn(
            kind,
            "pixel_unshuffle: {factor: 2}",
            lambda: nn.PixelUnshuffle(2),
            (4 * c, h // 2, w // 2),
        )
    if kind == "pixel_shuffle":
        if c % 4:
            return Drawn("identity", "identity: {}", nn.Identity, shape)
        return Drawn(
            kind, "pixel_shuffle: {factor: 2}", lambda: nn.PixelShuffle(2), (c // 4, 2 * h, 2 * w)
        )
    make = ACTIVATIONS[kind]
    return Drawn(kind, f"{kind}: {{}}", lambda: make(c), shape)


@st.composite
def stacks(draw: st.DrawFn) -> tuple[Shape, list[Drawn]]:
    """An input shape and 1-5 layers, sometimes ending in ``flatten`` and ``linear``."""
    shape: Shape = (draw(st.integers(1, 6)), draw(st.integers(2, 7)), draw(st.integers(2, 7)))
    drawn: list[Drawn] = []
    current = shape
    for _ in range(draw(st.integers(1, 5))):
        if current[1] * current[2] > 400:  # keep the maps tiny
            break
        item = draw(layer(current))
        drawn.append(item)
        current = item.out
    if draw(st.booleans()):
        features = current[0] * current[1] * current[2]
        out = draw(st.integers(1, 5))
        bias = draw(st.booleans())
        drawn.append(Drawn("flatten", "flatten: {}", nn.Flatten, (features, 1, 1)))
        drawn.append(
            Drawn(
                "linear",
                f"linear: {{out: {out}, bias: {_flag(bias)}}}",
                lambda: nn.Linear(features, out, bias=bias),
                (out, 1, 1),
            )
        )
    return shape, drawn


def spec_text(shape: Shape, drawn: list[Drawn]) -> str:
    entries = "".join(f"  - {item.entry}\n" for item in drawn)
    return f"input: [{shape[0]}, {shape[1]}, {shape[2]}]\nlayers:\n{entries}"


CHANNELS_LAST_RUN = (
    "pointwise",
    "identity",
    "dropout",
    "relu",
    "relu6",
    "sigmoid",
    "silu",
    "swish",
    "gelu",
    "tanh",
    "hardswish",
    "hardsigmoid",
    "mish",
    "leaky_relu",
    "elu",
)
"""What a channels-last run (ConvNeXt's block) holds after its layernorm: pointwise layers
(``nn.Linear``) and modules that work on any layout (not softmax or PReLU, which take dim 1)."""


def torch_model(drawn: list[Drawn]) -> nn.Module:
    """The stack as ``nn.Sequential``. A ``layernorm: {over: channels}`` directly followed by a
    ``pointwise`` is ConvNeXt's channels-last run: Permute, ``nn.LayerNorm``, then each
    pointwise as ``nn.Linear`` (activations between them as usual) until the run ends."""
    modules: list[nn.Module] = []
    index = 0
    while index < len(drawn):
        item = drawn[index]
        following = drawn[index + 1] if index + 1 < len(drawn) else None
        run_starts = (
            item.kind == "layernorm"
            and item.entry == "layernorm: {over: channels}"
            and following is not None
            and following.kind == "pointwise"
        )
        if not run_starts:
            modules.append(item.make())
            index += 1
            continue
        modules.extend([Permute([0, 2, 3, 1]), nn.LayerNorm(item.out[0])])
        index += 1
        while index < len(drawn) and drawn[index].kind in CHANNELS_LAST_RUN:
            part = drawn[index]
            if part.kind == "pointwise":
                modules.append(nn.Linear(part.channels, part.out[0], bias=part.bias))
            else:
                modules.append(part.make())
            index += 1
        modules.append(Permute([0, 3, 1, 2]))
    return nn.Sequential(*modules).eval()
