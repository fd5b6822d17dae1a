"""Plain-torch references of the bundled models built from issue 17's kinds (layernorm,
layer_scale, upsample, pixel_shuffle, with conv_transpose): ConvNeXt-Tiny, U-Net, DeepLabV3 with
a ResNet-50 backbone, and ESPCN.

As in tests/torch_models.py, torchvision is not installable here: ConvNeXt and DeepLabV3 follow
torchvision.models' code module for module (same order, bias and norm settings, the same
functional steps in ``forward``); U-Net and ESPCN, which torchvision does not ship, follow their
papers. Import only where torch is importable (tests skip otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from tests.torch_models import Bottleneck, Permute


class LayerNorm2d(nn.LayerNorm):
    """torchvision.models.convnext.LayerNorm2d: LayerNorm over the channels at each position."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class CNBlock(nn.Module):
    """torchvision.models.convnext.CNBlock at inference: its StochasticDepth is the identity in
    eval mode and has no parameters, so it is left out."""

    def __init__(self, dim: int, layer_scale: float = 1e-6) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            Permute([0, 2, 3, 1]),
            nn.LayerNorm(dim, eps=1e-6),
            nn.Linear(in_features=dim, out_features=4 * dim, bias=True),
            nn.GELU(),
            nn.Linear(in_features=4 * dim, out_features=dim, bias=True),
            Permute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer_scale * self.block(x) + x


def convnext_tiny() -> nn.Module:
    """torchvision.models.convnext_tiny: depths 3, 3, 9, 3 at widths 96, 192, 384, 768."""
    norm = partial(LayerNorm2d, eps=1e-6)
    layers: list[nn.Module] = [nn.Sequential(nn.Conv2d(3, 96, 4, 4, 0, bias=True), norm(96))]
    for dim, out, depth in ((96, 192, 3), (192, 384, 3), (384, 768, 9), (768, None, 3)):
        layers.append(nn.Sequential(*(CNBlock(dim) for _ in range(depth))))
        if out is not None:
            layers.append(nn.Sequential(norm(dim), nn.Conv2d(dim, out, kernel_size=2, stride=2)))
    return nn.Sequential(
        nn.Sequential(*layers),
        nn.AdaptiveAvgPool2d(1),
        nn.Sequential(norm(768), nn.Flatten(1), nn.Linear(768, 1000)),
    )


def _double_conv(inp: int, out: int) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(inp, out, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(out, out, 3, padding=1),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """Ronneberger, Fischer & Brox, "U-Net: Convolutional Networks for Biomedical Image
    Segmentation" (MICCAI 2015), Fig. 1: two 3×3 convs with ReLU per level at 64 … 1024
    channels, 2×2 max pools down, 2×2 up-convolutions halving the channels, the skip
    concatenated before the up-convolved map, a final 1×1 conv to the classes. Padded (3×3 with
    padding 1) so that the output has the input's size and the skips need no crop."""

    def __init__(self, channels: int = 1, classes: int = 2) -> None:
        super().__init__()
        widths = (64, 128, 256, 512, 1024)
        self.down = nn.ModuleList(
            _double_conv(inp, out) for inp, out in zip((channels, *widths), widths, strict=False)
        )
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(width, width // 2, kernel_size=2, stride=2)
            for width in reversed(widths[1:])
        )
        self.decode = nn.ModuleList(
            _double_conv(width, width // 2) for width in reversed(widths[1:])
        )
        self.out = nn.Conv2d(64, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for index, down in enumerate(self.down):
            x = down(self.pool(x) if index else x)
            skips.append(x)
        skips.pop()
        for up, decode in zip(self.up, self.decode, strict=True):
            x = decode(torch.cat([skips.pop(), up(x)], dim=1))
        out: torch.Tensor = self.out(x)
        return out


def unet() -> nn.Module:
    return UNet()


def _dilated_resnet50() -> nn.Module:
    """torchvision.models.resnet50(replace_stride_with_dilation=[False, True, True]) up to layer4
    (what DeepLabV3's IntermediateLayerGetter keeps): layer3 and layer4 trade their stride for
    dilation, the first block of each at the previous dilation (1, then 2), the rest at 2 and 4."""
    layers: list[nn.Module] = [
        nn.Conv2d(3, 64, 7, 2, 3, bias=False),
        nn.BatchNorm2d(64),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(3, 2, 1),
    ]
    inplanes, dilation = 64, 1
    for planes, depth, stride, dilate in (
        (64, 3, 1, False),
        (128, 4, 2, False),
        (256, 6, 2, True),
        (512, 3, 2, True),
    ):
        previous = dilation
        if dilate:  # torchvision's _make_layer: the stride becomes dilation
            dilation *= stride
        layers.append(Bottleneck(inplanes, planes, 1 if dilate else stride, dilation=previous))
        inplanes = planes * 4
        layers += [Bottleneck(inplanes, planes, dilation=dilation) for _ in range(depth - 1)]
    return nn.Sequential(*layers)


def _conv_bn_relu(inp: int, out: int, kernel: int = 1, dilation: int = 1) -> list[nn.Module]:
    padding = dilation if kernel == 3 else 0
    return [
        nn.Conv2d(inp, out, kernel, padding=padding, dilation=dilation, bias=False),
        nn.BatchNorm2d(out),
        nn.ReLU(),
    ]


class ASPPPooling(nn.Sequential):
    """torchvision.models.segmentation.deeplabv3.ASPPPooling: the image-pooling branch."""

    def __init__(self, inp: int, out: int) -> None:
        super().__init__(nn.AdaptiveAvgPool2d(1), *_conv_bn_relu(inp, out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        for module in self:
            x = module(x)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    """torchvision's ASPP: a 1×1 branch, one 3×3 branch per rate, the pooling branch, then the
    1×1 projection of their concatenation (with dropout 0.5)."""

    def __init__(self, inp: int, rates: tuple[int, ...], out: int = 256) -> None:
        super().__init__()
        branches: list[nn.Module] = [nn.Sequential(*_conv_bn_relu(inp, out))]
        branches += [nn.Sequential(*_conv_bn_relu(inp, out, 3, rate)) for rate in rates]
        branches.append(ASPPPooling(inp, out))
        self.convs = nn.ModuleList(branches)
        self.project = nn.Sequential(*_conv_bn_relu(len(branches) * out, out), nn.Dropout(0.5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.project(torch.cat([conv(x) for conv in self.convs], dim=1))
        return out


class DeepLabV3(nn.Module):
    """torchvision.models.segmentation.deeplabv3_resnet50(num_classes=21, aux_loss=False):
    the dilated ResNet-50 (output stride 8), DeepLabHead (ASPP at rates 12, 24, 36, a 3×3 conv,
    batchnorm, ReLU, a 1×1 classifier) and the bilinear upsampling to the input's size."""

    def __init__(self, classes: int = 21) -> None:
        super().__init__()
        self.backbone = _dilated_resnet50()
        self.classifier = nn.Sequential(
            ASPP(2048, (12, 24, 36)),
            *_conv_bn_relu(256, 256, 3),
            nn.Conv2d(256, classes, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        x = self.classifier(self.backbone(x))
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


def deeplabv3_resnet50() -> nn.Module:
    return DeepLabV3()


def espcn(channels: int = 1, factor: int = 3) -> nn.Module:
    """Shi et al., "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel
    Convolutional Neural Network" (CVPR 2016), §3.2: (f1, n1) = (5, 64), (f2, n2) = (3, 32),
    f3 = 3 with r²·C outputs, tanh after the first two layers, then the periodic shuffle (PyTorch's
    PixelShuffle). Padded so that the low-resolution map keeps its size."""
    return nn.Sequential(
        nn.Conv2d(channels, 64, 5, padding=2),
        nn.Tanh(),
        nn.Conv2d(64, 32, 3, padding=1),
        nn.Tanh(),
        nn.Conv2d(32, channels * factor**2, 3, padding=1),
        nn.PixelShuffle(factor),
    )


MODERN_MODELS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
    "convnext_tiny": (convnext_tiny, (3, 224, 224)),
    "unet": (unet, (1, 512, 512)),
    "deeplabv3_resnet50": (deeplabv3_resnet50, (3, 224, 224)),
    "espcn": (espcn, (1, 224, 224)),
}
"""The bundled models of issue 17 (convcost/zoo/NAME.yaml), their reference and input shape."""
