"""Plain-torch references of the model families in specs/, written after torchvision's code.

torchvision is not installable here: these follow torchvision.models.mobilenetv2 (MobileNetV2
with ``width_mult``) and torchvision.models.efficientnet (``_efficientnet_conf`` for B0 to B3,
``MBConvConfig``, ``MBConv``, ``EfficientNet``) module for module, with their arithmetic
written out in Python, independent of convcost's expressions: ``_make_divisible`` below is
torchvision's own function, ``math.ceil(n * depth_mult)`` its ``adjust_depth``. Stochastic
depth and dropout do not change counts and are left out. Import only where torch is importable.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """torchvision.models._utils._make_divisible, verbatim in behaviour."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:  # make sure that rounding down does not go down by more than 10 %
        new_v += divisor
    return new_v


def _conv_norm_act(
    cin: int,
    cout: int,
    kernel: int = 3,
    stride: int = 1,
    groups: int = 1,
    activation: type[nn.Module] | None = nn.ReLU6,
    eps: float = 1e-5,
) -> nn.Sequential:
    """torchvision.ops.Conv2dNormActivation: a conv without bias, batchnorm, an activation."""
    layers: list[nn.Module] = [
        nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout, eps=eps),
    ]
    if activation is not None:
        layers.append(activation())
    return nn.Sequential(*layers)


# -- MobileNetV2 ------------------------------------------------------------------------------


class InvertedResidual(nn.Module):
    """torchvision.models.mobilenetv2.InvertedResidual."""

    def __init__(self, inp: int, oup: int, stride: int, expand_ratio: int) -> None:
        super().__init__()
        hidden_dim = int(round(inp * expand_ratio))  # noqa: RUF046 (torchvision writes it so)
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand_ratio != 1:
            layers.append(_conv_norm_act(inp, hidden_dim, kernel=1))
        layers += [
            _conv_norm_act(hidden_dim, hidden_dim, stride=stride, groups=hidden_dim),
            nn.Conv2d(hidden_dim, oup, 1, 1, 0, bias=False),
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


MOBILENET_V2_SETTING = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
]
"""t, c, n, s of torchvision's ``inverted_residual_setting``."""


def mobilenet_v2(width_mult: float = 1.0) -> nn.Module:
    """torchvision.models.mobilenet_v2(width_mult=…), round_nearest 8."""
    input_channel = _make_divisible(32 * width_mult, 8)
    last_channel = _make_divisible(1280 * max(1.0, width_mult), 8)
    features: list[nn.Module] = [_conv_norm_act(3, input_channel, stride=2)]
    for t, c, n, s in MOBILENET_V2_SETTING:
        output_channel = _make_divisible(c * width_mult, 8)
        for i in range(n):
            stride = s if i == 0 else 1
            features.append(InvertedResidual(input_channel, output_channel, stride, t))
            input_channel = output_channel
    features.append(_conv_norm_act(input_channel, last_channel, kernel=1))
    return nn.Sequential(
        *features,
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(last_channel, 1000),
    )


# -- EfficientNet -----------------------------------------------------------------------------


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation with EfficientNet's SiLU and sigmoid gate."""

    def __init__(self, input_channels: int, squeeze_channels: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(input_channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, input_channels, 1)
        self.activation = nn.SiLU()
        self.scale_activation = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return scale * x


class MBConvConfig:
    """torchvision.models.efficientnet.MBConvConfig: widths and depth adjusted at creation."""

    def __init__(
        self,
        expand_ratio: float,
        kernel: int,
        stride: int,
        input_channels: int,
        out_channels: int,
        num_layers: int,
        width_mult: float,
        depth_mult: float,
    ) -> None:
        self.expand_ratio = expand_ratio
        self.kernel = kernel
        self.stride = stride
        self.input_channels = _make_divisible(input_channels * width_mult, 8)
        self.out_channels = _make_divisible(out_channels * width_mult, 8)
        self.num_layers = int(math.ceil(num_layers * depth_mult))  # noqa: RUF046 (torchvision writes it so)


class MBConv(nn.Module):
    """torchvision.models.efficientnet.MBConv (stochastic depth is the identity here)."""

    def __init__(self, cnf: MBConvConfig) -> None:
        super().__init__()
        self.use_res_connect = cnf.stride == 1 and cnf.input_channels == cnf.out_channels
        layers: list[nn.Module] = []
        expanded = _make_divisible(cnf.input_channels * cnf.expand_ratio, 8)
        if expanded != cnf.input_channels:
            layers.append(
                _conv_norm_act(cnf.input_channels, expanded, 1, activation=nn.SiLU, eps=1e-3)
            )
        layers.append(
            _conv_norm_act(
                expanded,
                expanded,
                cnf.kernel,
                cnf.stride,
                groups=expanded,
                activation=nn.SiLU,
                eps=1e-3,
            )
        )
        squeeze_channels = max(1, cnf.input_channels // 4)
        layers.append(SqueezeExcitation(expanded, squeeze_channels))
        layers.append(_conv_norm_act(expanded, cnf.out_channels, 1, activation=None, eps=1e-3))
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x) if self.use_res_connect else self.block(x)


EFFICIENTNET_SETTING = [
    (1, 3, 1, 32, 16, 1),
    (6, 3, 2, 16, 24, 2),
    (6, 5, 2, 24, 40, 2),
    (6, 3, 2, 40, 80, 3),
    (6, 5, 1, 80, 112, 3),
    (6, 5, 2, 112, 192, 4),
    (6, 3, 1, 192, 320, 1),
]
"""expand ratio, kernel, stride, input channels, out channels, layers: ``_efficientnet_conf``'s
``bneck_conf`` rows for the B variants."""

EFFICIENTNET_B = {
    "b0": (1.0, 1.0, 224),
    "b1": (1.0, 1.1, 240),
    "b2": (1.1, 1.2, 260),
    "b3": (1.2, 1.4, 300),
}
"""width_mult, depth_mult of torchvision's efficientnet_b0…b3, and the paper's resolution."""


def efficientnet(width_mult: float, depth_mult: float) -> nn.Module:
    """torchvision.models.efficientnet.EfficientNet for ``_efficientnet_conf(width_mult,
    depth_mult)``."""
    setting = [MBConvConfig(*row, width_mult, depth_mult) for row in EFFICIENTNET_SETTING]
    first = setting[0].input_channels
    layers: list[nn.Module] = [_conv_norm_act(3, first, 3, 2, activation=nn.SiLU, eps=1e-3)]
    for cnf in setting:
        for index in range(cnf.num_layers):
            block = MBConvConfig.__new__(MBConvConfig)
            block.__dict__.update(cnf.__dict__)  # copy.copy(cnf)
            if index:
                block.input_channels = block.out_channels
                block.stride = 1
            layers.append(MBConv(block))
    last_in = setting[-1].out_channels
    last_out = 4 * last_in
    layers.append(_conv_norm_act(last_in, last_out, 1, activation=nn.SiLU, eps=1e-3))
    return nn.Sequential(
        *layers,
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(last_out, 1000),
    )
