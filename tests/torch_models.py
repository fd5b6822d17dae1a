"""Plain-torch references of the bundled models, written after torchvision's model code.

torchvision is not installable here, so each builder follows torchvision.models' definitions
layer for layer (same module order, same bias and batchnorm settings). Import only where torch
is importable (tests skip otherwise).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from tests.model_settings import MOBILENET_V3_SMALL


def alexnet() -> nn.Module:
    """torchvision.models.alexnet."""
    return nn.Sequential(
        nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(64, 192, kernel_size=5, padding=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(192, 384, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.AdaptiveAvgPool2d((6, 6)),
        nn.Flatten(),
        nn.Dropout(p=0.5),
        nn.Linear(256 * 6 * 6, 4096),
        nn.ReLU(inplace=True),
        nn.Dropout(p=0.5),
        nn.Linear(4096, 4096),
        nn.ReLU(inplace=True),
        nn.Linear(4096, 1000),
    )


def vgg16() -> nn.Module:
    """torchvision.models.vgg16 (configuration D, no batchnorm)."""
    layers: list[nn.Module] = []
    channels = 3
    for width in (
        64,
        64,
        "M",
        128,
        128,
        "M",
        256,
        256,
        256,
        "M",
        512,
        512,
        512,
        "M",
        512,
        512,
        512,
        "M",
    ):
        if width == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            assert isinstance(width, int)
            layers += [nn.Conv2d(channels, width, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            channels = width
    return nn.Sequential(
        *layers,
        nn.AdaptiveAvgPool2d((7, 7)),
        nn.Flatten(),
        nn.Linear(512 * 7 * 7, 4096),
        nn.ReLU(True),
        nn.Dropout(),
        nn.Linear(4096, 4096),
        nn.ReLU(True),
        nn.Dropout(),
        nn.Linear(4096, 1000),
    )


class BasicBlock(nn.Module):
    """torchvision's BasicBlock (body first, then the shortcut, as its forward runs them)."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = _projection(inplanes, planes, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """torchvision's Bottleneck; ``v1=True`` moves the stride to the first 1×1 (the paper's);
    ``dilation`` dilates (and pads by as much) the 3×3, as torchvision's conv3x3 does under
    ``replace_stride_with_dilation``."""

    expansion = 4

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, v1: bool = False, dilation: int = 1
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, stride if v1 else 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(
            planes, planes, 3, 1 if v1 else stride, dilation, dilation=dilation, bias=False
        )
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _projection(inplanes, planes * 4, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


def _projection(inplanes: int, outplanes: int, stride: int) -> nn.Module | None:
    if stride == 1 and inplanes == outplanes:
        return None
    return nn.Sequential(
        nn.Conv2d(inplanes, outplanes, 1, stride, bias=False), nn.BatchNorm2d(outplanes)
    )


def _resnet(
    block: Callable[..., nn.Module], expansion: int, depths: list[int], **extra: bool
) -> nn.Module:
    """torchvision's ResNet: stem, four stages, global average pool, fc."""
    layers: list[nn.Module] = [
        nn.Conv2d(3, 64, 7, 2, 3, bias=False),
        nn.BatchNorm2d(64),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2, 1),
    ]
    inplanes = 64
    for index, (planes, depth) in enumerate(zip((64, 128, 256, 512), depths, strict=True)):
        stride = 1 if index == 0 else 2
        for i in range(depth):
            layers.append(block(inplanes, planes, stride if i == 0 else 1, **extra))
            inplanes = planes * expansion
    return nn.Sequential(
        *layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512 * expansion, 1000)
    )


class ResNet(nn.Module):
    """torchvision's ResNet class itself, with its attribute names (``conv1``, ``bn1``,
    ``relu``, ``maxpool``, ``layer1`` … ``layer4``, ``avgpool``, ``fc``) and forward: an ONNX
    export names its nodes after them, as it does for ``torchvision.models.resnet50()``."""

    def __init__(self, block: Callable[..., nn.Module], expansion: int, depths: list[int]) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = 64
        for index, (planes, depth) in enumerate(zip((64, 128, 256, 512), depths, strict=True)):
            stride = 1 if index == 0 else 2
            blocks = []
            for i in range(depth):
                blocks.append(block(inplanes, planes, stride if i == 0 else 1))
                inplanes = planes * expansion
            setattr(self, f"layer{index + 1}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512 * expansion, 1000)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def torchvision_resnet50() -> nn.Module:
    """torchvision.models.resnet50, with torchvision's module names (see :class:`ResNet`)."""
    return ResNet(Bottleneck, 4, [3, 4, 6, 3])


def torchvision_resnet18() -> nn.Module:
    """torchvision.models.resnet18, with torchvision's module names (see :class:`ResNet`)."""
    return ResNet(BasicBlock, 1, [2, 2, 2, 2])


def resnet18() -> nn.Module:
    return _resnet(BasicBlock, 1, [2, 2, 2, 2])


def resnet50() -> nn.Module:
    return _resnet(Bottleneck, 4, [3, 4, 6, 3])


def resnet50_v1() -> nn.Module:
    return _resnet(Bottleneck, 4, [3, 4, 6, 3], v1=True)


def _conv_bn_relu6(
    inp: int, out: int, kernel: int = 1, stride: int = 1, groups: int = 1
) -> list[nn.Module]:
    return [
        nn.Conv2d(inp, out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out),
        nn.ReLU6(inplace=True),
    ]


class InvertedResidual(nn.Module):
    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        hidden = inp * expand_ratio
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers += _conv_bn_relu6(inp, hidden)
        layers += [
            *_conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),
            nn.Conv2d(hidden, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


def mobilenet_v2() -> nn.Module:
    """torchvision.models.mobilenet_v2 (width 1.0)."""
    layers: list[nn.Module] = _conv_bn_relu6(3, 32, 3, 2)
    channels = 32
    for t, c, n, s in (
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ):
        for i in range(n):
            layers.append(InvertedResidual(channels, c, s if i == 0 else 1, t))
            channels = c
    layers += _conv_bn_relu6(channels, 1280)
    return nn.Sequential(
        *layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(1280, 1000)
    )


def _basic_conv(
    inp: int, out: int, kernel: int = 1, stride: int = 1, padding: int = 0
) -> nn.Module:
    """torchvision's BasicConv2d."""
    return nn.Sequential(
        nn.Conv2d(inp, out, kernel, stride, padding, bias=False),
        nn.BatchNorm2d(out, eps=0.001),
        nn.ReLU(inplace=True),
    )


class Inception(nn.Module):
    def __init__(
        self, inp: int, b1: int, b2red: int, b2: int, b3red: int, b3: int, pool: int
    ) -> None:
        super().__init__()
        self.branch1 = _basic_conv(inp, b1)
        self.branch2 = nn.Sequential(_basic_conv(inp, b2red), _basic_conv(b2red, b2, 3, padding=1))
        # torchvision's "5×5" branch uses a 3×3 kernel (pytorch/vision#906)
        self.branch3 = nn.Sequential(_basic_conv(inp, b3red), _basic_conv(b3red, b3, 3, padding=1))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), _basic_conv(inp, pool))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


def googlenet() -> nn.Module:
    """torchvision.models.googlenet(aux_logits=False, init_weights=False)."""
    return nn.Sequential(
        _basic_conv(3, 64, 7, 2, 3),
        nn.MaxPool2d(3, 2, ceil_mode=True),
        _basic_conv(64, 64),
        _basic_conv(64, 192, 3, padding=1),
        nn.MaxPool2d(3, 2, ceil_mode=True),
        Inception(192, 64, 96, 128, 16, 32, 32),
        Inception(256, 128, 128, 192, 32, 96, 64),
        nn.MaxPool2d(3, 2, ceil_mode=True),
        Inception(480, 192, 96, 208, 16, 48, 64),
        Inception(512, 160, 112, 224, 24, 64, 64),
        Inception(512, 128, 128, 256, 24, 64, 64),
        Inception(512, 112, 144, 288, 32, 64, 64),
        Inception(528, 256, 160, 320, 32, 128, 128),
        nn.MaxPool2d(2, 2, ceil_mode=True),
        Inception(832, 256, 160, 320, 32, 128, 128),
        Inception(832, 384, 192, 384, 48, 128, 128),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(1024, 1000),
    )


class Fire(nn.Module):
    def __init__(self, inplanes: int, squeeze: int, expand: int) -> None:
        super().__init__()
        self.squeeze = nn.Sequential(nn.Conv2d(inplanes, squeeze, 1), nn.ReLU(inplace=True))
        self.expand1x1 = nn.Sequential(nn.Conv2d(squeeze, expand, 1), nn.ReLU(inplace=True))
        self.expand3x3 = nn.Sequential(
            nn.Conv2d(squeeze, expand, 3, padding=1), nn.ReLU(inplace=True)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze(x)
        return torch.cat([self.expand1x1(x), self.expand3x3(x)], 1)


def squeezenet1_0() -> nn.Module:
    """torchvision.models.squeezenet1_0."""
    return nn.Sequential(
        nn.Conv2d(3, 96, kernel_size=7, stride=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        Fire(96, 16, 64),
        Fire(128, 16, 64),
        Fire(128, 32, 128),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        Fire(256, 32, 128),
        Fire(256, 48, 192),
        Fire(384, 48, 192),
        Fire(384, 64, 256),
        nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
        Fire(512, 64, 256),
        nn.Dropout(p=0.5),
        nn.Conv2d(512, 1000, kernel_size=1),
        nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
    )


def _depthwise_bn(channels: int, stride: int) -> list[nn.Module]:
    return [
        nn.Conv2d(channels, channels, 3, stride, 1, groups=channels, bias=False),
        nn.BatchNorm2d(channels),
    ]


def _pointwise_bn_relu(inp: int, out: int) -> list[nn.Module]:
    return [nn.Conv2d(inp, out, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]


class ShuffleUnit(nn.Module):
    """torchvision's shufflenetv2.InvertedResidual."""

    def __init__(self, inp: int, oup: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        half = oup // 2
        self.branch1 = (
            nn.Sequential(*_depthwise_bn(inp, stride), *_pointwise_bn_relu(inp, half))
            if stride > 1
            else nn.Sequential()
        )
        self.branch2 = nn.Sequential(
            *_pointwise_bn_relu(inp if stride > 1 else half, half),
            *_depthwise_bn(half, stride),
            *_pointwise_bn_relu(half, half),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            x1, x2 = x.chunk(2, dim=1)
            out = torch.cat((x1, self.branch2(x2)), dim=1)
        else:
            out = torch.cat((self.branch1(x), self.branch2(x)), dim=1)
        batch, channels, height, width = out.shape
        out = out.view(batch, 2, channels // 2, height, width).transpose(1, 2).contiguous()
        return out.view(batch, channels, height, width)


def shufflenet_v2_x1_0() -> nn.Module:
    """torchvision.models.shufflenet_v2_x1_0."""
    layers: list[nn.Module] = [
        nn.Conv2d(3, 24, 3, 2, 1, bias=False),
        nn.BatchNorm2d(24),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    ]
    channels = 24
    for units, out in ((4, 116), (8, 232), (4, 464)):
        layers.append(ShuffleUnit(channels, out, 2))
        layers += [ShuffleUnit(out, out, 1) for _ in range(units - 1)]
        channels = out
    return nn.Sequential(
        *layers,
        *_pointwise_bn_relu(464, 1024),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(1024, 1000),
    )


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation with MobileNetV3's hard-sigmoid gate."""

    def __init__(self, channels: int, squeeze: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.gate = nn.Hardsigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(self.fc2(self.relu(self.fc1(self.avgpool(x)))))


def _make_divisible(value: float, divisor: int = 8) -> int:
    """torchvision's _make_divisible: round to a multiple of 8, never down by more than 10 %."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class MobileBlock(nn.Module):
    """torchvision's mobilenetv3.InvertedResidual."""

    def __init__(
        self, inp: int, kernel: int, expanded: int, out: int, se: bool, hs: bool, stride: int
    ) -> None:
        super().__init__()
        self.use_res_connect = stride == 1 and inp == out
        activation: type[nn.Module] = nn.Hardswish if hs else nn.ReLU

        def conv_bn(cin: int, cout: int, k: int, s: int, groups: int) -> list[nn.Module]:
            conv = nn.Conv2d(cin, cout, k, s, (k - 1) // 2, groups=groups, bias=False)
            return [conv, nn.BatchNorm2d(cout, eps=0.001)]

        layers: list[nn.Module] = []
        if expanded != inp:
            layers += [*conv_bn(inp, expanded, 1, 1, 1), activation()]
        layers += [*conv_bn(expanded, expanded, kernel, stride, expanded), activation()]
        if se:
            layers.append(SqueezeExcitation(expanded, _make_divisible(expanded // 4)))
        layers += conv_bn(expanded, out, 1, 1, 1)
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.use_res_connect else self.block(x)


def mobilenet_v3_small() -> nn.Module:
    """torchvision.models.mobilenet_v3_small."""
    settings = MOBILENET_V3_SMALL  # input, kernel, expanded, out, SE, hard-swish, stride
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, 2, 1, bias=False),
        nn.BatchNorm2d(16, eps=0.001),
        nn.Hardswish(),
        *(MobileBlock(*setting) for setting in settings),
        nn.Conv2d(96, 576, 1, bias=False),
        nn.BatchNorm2d(576, eps=0.001),
        nn.Hardswish(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(576, 1024),
        nn.Hardswish(),
        nn.Dropout(0.2),
        nn.Linear(1024, 1000),
    )


class DenseLayer(nn.Module):
    """torchvision's densenet._DenseLayer (no dropout, no checkpointing)."""

    def __init__(self, inp: int, growth: int = 32, width: int = 4) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.BatchNorm2d(inp),
            nn.ReLU(inplace=True),
            nn.Conv2d(inp, width * growth, 1, bias=False),
            nn.BatchNorm2d(width * growth),
            nn.ReLU(inplace=True),
            nn.Conv2d(width * growth, growth, 3, padding=1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.layers(x)], 1)


def densenet121() -> nn.Module:
    """torchvision.models.densenet121."""
    layers: list[nn.Module] = [
        nn.Conv2d(3, 64, 7, 2, 3, bias=False),
        nn.BatchNorm2d(64),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2, 1),
    ]
    channels = 64
    for index, count in enumerate((6, 12, 24, 16)):
        for _ in range(count):
            layers.append(DenseLayer(channels))
            channels += 32
        if index < 3:
            layers += [
                nn.BatchNorm2d(channels),
                nn.ReLU(inplace=True),
                nn.Conv2d(channels, channels // 2, 1, bias=False),
                nn.AvgPool2d(2, 2),
            ]
            channels //= 2
    return nn.Sequential(
        *layers,
        nn.BatchNorm2d(channels),
        nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(channels, 1000),
    )


MODELS: dict[str, Callable[[], nn.Module]] = {
    "alexnet": alexnet,
    "vgg16": vgg16,
    "resnet18": resnet18,
    "resnet50": resnet50,
    "resnet50_v1": resnet50_v1,
    "mobilenet_v2": mobilenet_v2,
    "googlenet": googlenet,
    "squeezenet1_0": squeezenet1_0,
    "shufflenet_v2_x1_0": shufflenet_v2_x1_0,
    "mobilenet_v3_small": mobilenet_v3_small,
    "densenet121": densenet121,
}
"""Every bundled model (convcost/zoo/NAME.yaml) and its plain-torch reference."""


class Permute(nn.Module):
    """torchvision.ops.misc.Permute: ConvNeXt's blocks run their norm and linears channels-last."""

    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.permute(x, self.dims)


CHANNELS_LAST = [0, 2, 3, 1]
"""The dims of the :class:`Permute` into channels-last (the one back is ``[0, 3, 1, 2]``)."""


FUNCTIONS = {"add": "add", "mul": "mul", "cat": "cat", "interpolate": "interpolate"}
"""The functions the references' ``forward`` methods merge and resize with (``x + y``, ``a * b``,
``torch.cat``, ``F.interpolate``), by the name PyTorch's function mode reports, and the name
:attr:`Counted.steps` gives them."""


class _Functions(TorchFunctionMode):
    """Records each call of one of :data:`FUNCTIONS` (calls inside them are not seen: a mode is
    off while its own handler runs)."""

    def __init__(self, steps: list[tuple[str, tuple[int, ...]]]) -> None:
        super().__init__()
        self.steps = steps

    def __torch_function__(
        self,
        func: Callable[..., Any],
        types: object,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        out = func(*args, **(kwargs or {}))
        name = FUNCTIONS.get(getattr(func, "__name__", ""))
        if name is not None:
            self.steps.append((name, tuple(out.shape[1:])))
        return out


@dataclass(frozen=True, slots=True)
class Counted:
    """What PyTorch's forward pass shows of a model's convolutions and linear layers."""

    macs: int
    """Conv, transposed conv and linear MACs, convcost's convention: conv MACs = output elements
    · (C_in / groups) · ∏kernel, transposed conv MACs = input elements · (C_out / groups) ·
    ∏kernel, linear MACs = in · out at each position it runs on (one position on a flat input);
    bias adds are not MACs."""
    shapes: list[tuple[int, ...]]
    """Each conv, transposed conv and linear output's shape without the batch axis, in execution
    order (channels first)."""
    output_shape: tuple[int, ...]
    steps: list[tuple[str, tuple[int, ...]]]
    """Every call of a module without children (but :class:`Permute`) and of :data:`FUNCTIONS`,
    in execution order: the module's class name or the function's name, and the output shape
    without the batch axis, channels first (a module's output between a :class:`Permute` into
    channels-last and the one back is permuted back)."""


def count_conv_linear(
    model: nn.Module, input_shape: tuple[int, ...], *, device: str = "cpu"
) -> Counted:
    """Run ``model`` on a zero batch of one and count with forward hooks on every module without
    children: an oracle independent of convcost's formulas. ``device="meta"`` (with a model
    made on the meta device) propagates shapes only: the same counts, without the arithmetic."""
    shapes: list[tuple[int, ...]] = []
    steps: list[tuple[str, tuple[int, ...]]] = []
    macs = 0
    channels_last = False

    def record(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
        nonlocal macs, channels_last
        assert isinstance(output, torch.Tensor)
        if isinstance(module, Permute):
            channels_last = module.dims == CHANNELS_LAST
            return
        shape = tuple(output.shape[1:])
        if channels_last:
            shape = (shape[-1], *shape[:-1])
        steps.append((type(module).__name__, shape))
        if isinstance(module, nn.Linear):
            macs += output.numel() * module.in_features  # batch 1: positions · out · in
        elif isinstance(module, nn.Conv2d):
            per_output = module.in_channels // module.groups * math.prod(module.kernel_size)
            macs += output.numel() * per_output
        elif isinstance(module, nn.ConvTranspose2d):
            per_input = module.out_channels // module.groups * math.prod(module.kernel_size)
            macs += inputs[0].numel() * per_input
        else:
            return
        shapes.append(shape)

    hooks = [
        module.register_forward_hook(record)
        for module in model.modules()
        if next(module.children(), None) is None
    ]
    batch = torch.zeros(1, *input_shape, device=device)
    try:
        with torch.no_grad(), _Functions(steps):
            output = model(batch)
    finally:
        for hook in hooks:
            hook.remove()
    return Counted(macs=macs, shapes=shapes, output_shape=tuple(output.shape[1:]), steps=steps)
