"""What calibration measures (never the zoo's models, which validate the fit): synthetic
chains of every kind of layer (:data:`CHAINS`), and grids of one-layer synthetic networks
whose products span the shapes real networks use.

GEMM: output maps from 7×7 to 224×224 (M = 49 … 50,176 positions), 1×1 and 3×3 convs from 16
to 1,024 input channels (K = 16 … 9,216; VGG-16's deepest is 4,608) to 16 … 4,096 output
channels (N), the stems of 224×224 images (K = 9 … 363, :data:`STEMS`) and linear layers
(M = 1, K·N up to 16,384 · 4,096, :data:`LINEAR`). Depthwise: 3×3 and 5×5 at strides 1 and 2, 16 to 960 channels,
maps from 7×7 to 112×112. Elementwise and pooling: the common kinds alone at four sizes
(:data:`FLOWING`). Bounds keep each layer to what a network at batch 1 has (at most 2 G MACs,
3.3 M output or input elements, 5 M weights), so the grids run in seconds on a quiet machine.
"""

from __future__ import annotations

CHAINS: tuple[tuple[str, str], ...] = (
    (
        "convolutions",
        """
input: [64, 56, 56]
layers:
  - conv: {out: 64, kernel: 3, padding: 1, bias: false}
  - pointwise: {out: 256, bias: false}
  - pointwise: {out: 64, bias: false}
  - conv: {out: 128, kernel: 3, stride: 2, padding: 1, bias: false}
  - conv: {out: 128, kernel: 3, padding: 1, bias: false}
  - pointwise: {out: 512, bias: false}
  - conv: {out: 256, kernel: 3, stride: 2, padding: 1, bias: false}
  - conv: {out: 256, kernel: 3, padding: 1, bias: false}
  - pointwise: {out: 1024, bias: false}
  - conv: {out: 512, kernel: 3, stride: 2, padding: 1, bias: false}
  - conv: {out: 512, kernel: 3, padding: 1, bias: false}
  - conv: {out: 384, kernel: 5, padding: 2, groups: 4}
  - global_avgpool: {}
  - flatten: {}
  - linear: {out: 1000}
""",
    ),
    (
        "stem",
        """
input: [3, 224, 224]
layers:
  - conv: {out: 64, kernel: 7, stride: 2, padding: 3, bias: false}
  - maxpool: {kernel: 3, stride: 2, padding: 1}
  - conv: {out: 192, kernel: 3, padding: 1}
  - conv: {out: 32, kernel: 5, padding: 2}
""",
    ),
    (
        "depthwise",
        """
input: [3, 224, 224]
layers:
  - conv: {out: 32, kernel: 3, stride: 2, padding: 1, bias: false}
  - depthwise: {kernel: 3, padding: 1, bias: false}
  - pointwise: {out: 16, bias: false}
  - pointwise: {out: 96, bias: false}
  - depthwise: {kernel: 3, stride: 2, padding: 1, bias: false}
  - pointwise: {out: 24, bias: false}
  - pointwise: {out: 144, bias: false}
  - depthwise: {kernel: 5, padding: 2, bias: false}
  - depthwise: {kernel: 3, stride: 2, padding: 1, bias: false}
  - pointwise: {out: 384, bias: false}
  - depthwise: {kernel: 3, padding: 1, bias: false}
  - depthwise: {kernel: 3, stride: 2, padding: 1, bias: false}
  - pointwise: {out: 960, bias: false}
  - depthwise: {kernel: 3, padding: 1, bias: false}
  - depthwise: {kernel: 5, padding: 2, bias: false}
""",
    ),
    (
        "elementwise",
        """
input: [64, 112, 112]
layers:
  - batchnorm: {}
  - relu: {}
  - add:
      body: [{sigmoid: {}}]
      shortcut: []
  - hardswish: {}
  - maxpool: {kernel: 3, stride: 2, padding: 1}
  - batchnorm: {}
  - relu6: {}
  - multiply:
      identity: []
      gate: [{global_avgpool: {}}, {sigmoid: {}}]
  - concat:
      a: [{relu: {}}]
      b: []
  - avgpool: {kernel: 2, stride: 2}
  - batchnorm: {}
  - silu: {}
  - maxpool: {kernel: 2, stride: 2}
  - relu: {}
  - global_avgpool: {}
""",
    ),
    (
        "dense",
        """
input: [8192, 1, 1]
layers:
  - flatten: {}
  - linear: {out: 2048}
  - relu: {}
  - linear: {out: 4096}
  - linear: {out: 512}
""",
    ),
    (
        "activations",
        """
input: [96, 56, 56]
layers:
  - layernorm: {over: channels, eps: 1.0e-6}
  - gelu: {}
  - layer_scale: {init: 1.0e-6}
  - hardsigmoid: {}
  - tanh: {}
  - channel_shuffle: {groups: 2}
  - split: {parts: 2, index: 0}
  - swish: {}
  - softmax: {}
  - upsample: {scale: 2, mode: bilinear, align_corners: false}
  - conv_transpose: {out: 32, kernel: 2, stride: 2}
  - pixel_unshuffle: {factor: 2}
  - adaptive_avgpool: {size: 7}
  - leaky_relu: {}
""",
    ),
    (
        "small",
        """
input: [32, 8, 8]
layers:
  - relu: {}
  - batchnorm: {}
  - pointwise: {out: 32}
  - depthwise: {kernel: 3, padding: 1}
  - add:
      body: [{relu: {}}]
      shortcut: []
  - maxpool: {kernel: 2, stride: 2}
  - dropout: {}
  - flatten: {}
  - linear: {out: 10}
""",
    ),
)
"""Synthetic chains, named; their layers are the calibration's samples."""

FUSION_CHAINS: tuple[tuple[str, str], ...] = (
    (
        "fusion",
        """
input: [32, 56, 56]
layers:
  - conv: {out: 64, kernel: 3, padding: 1, bias: false}
  - batchnorm: {}
  - relu: {}
  - depthwise: {kernel: 3, padding: 1, bias: false}
  - batchnorm: {}
  - relu6: {}
  - pointwise: {out: 64, bias: false}
  - batchnorm: {}
  - add:
      body: [{conv: {out: 64, kernel: 3, padding: 1}}, {batchnorm: {}}]
      shortcut: []
  - relu: {}
  - pointwise: {out: 96}
  - hardswish: {}
  - depthwise: {kernel: 5, padding: 2}
  - sigmoid: {}
  - pointwise: {out: 64}
  - silu: {}
  - conv: {out: 64, kernel: 3, padding: 1}
  - leaky_relu: {}
  - pointwise: {out: 64}
  - hardsigmoid: {}
  - pointwise: {out: 64}
  - tanh: {}
  - pointwise: {out: 64}
  - gelu: {}
""",
    ),
)
"""Convs followed by each common normalisation, activation and a residual add: what
``calibrate --backend onnxruntime`` also measures, to see which kinds its runtime folds into
the conv before them (:mod:`convcost.latency.fusion`)."""

MAX_MACS = 2_000_000_000
MAX_ELEMENTS = 3_300_000
MAX_WEIGHTS = 5_000_000
MIN_MACS = 100_000

_SIZES = (7, 14, 28, 56, 112, 224)
_IN = (16, 64, 256, 512, 1024)
_OUT = (16, 64, 256, 1024, 4096)


LINEAR = (
    (512, 1000),
    (1024, 1000),
    (2048, 2048),
    (4096, 1000),
    (9216, 1024),
    (4096, 4096),
    (9216, 4096),
    (16384, 4096),
)
"""(features, out) of the fully connected layers measured at batch 1: 2 to 268 MB of float32
weights, across any cache's size (AlexNet's fc6 is 151 MB, VGG-16's 411 MB)."""

STEMS = ((1, 3, 2, 32), (3, 3, 1, 64), (3, 3, 2, 32), (3, 7, 2, 64), (3, 11, 4, 64))
"""(channels, kernel, stride, out) of the first convs of 224×224 images measured: K = 9 (one
channel) to 363 (AlexNet's 11×11)."""


def _conv(channels: int, size: int, out: int, kernel: int, stride: int = 1) -> str:
    return (
        f"input: [{channels}, {size}, {size}]\nlayers:\n"
        f"  - conv: {{out: {out}, kernel: {kernel}, stride: {stride}, "
        f"padding: {kernel // 2}, bias: false}}\n"
    )


def _fits(channels: int, size: int, out: int, kernel: int, stride: int = 1) -> bool:
    positions = (size // stride) ** 2
    depth = channels * kernel * kernel
    macs = positions * out * depth
    return (
        MIN_MACS <= macs <= MAX_MACS
        and positions * out <= MAX_ELEMENTS
        and channels * size * size <= MAX_ELEMENTS
        and depth * out <= MAX_WEIGHTS
    )


def gemm_grid() -> tuple[tuple[str, str], ...]:
    """(name, spec text) of every GEMM shape measured."""
    grid = []
    for size in _SIZES:
        for kernel in (1, 3):
            for channels in _IN:
                for out in _OUT:
                    if _fits(channels, size, out, kernel):
                        name = f"gemm{kernel}x{kernel}:{channels}x{size}->{out}"
                        grid.append((name, _conv(channels, size, out, kernel)))
    for channels, kernel, stride, out in STEMS:
        name = f"stem{kernel}x{kernel}/{stride}:{channels}->{out}"
        grid.append((name, _conv(channels, 224, out, kernel, stride)))
    for features, out in LINEAR:
        text = (
            f"input: [{features}, 1, 1]\nlayers:\n  - flatten: {{}}\n"
            f"  - linear: {{out: {out}, bias: false}}\n"
        )
        grid.append((f"linear:{features}->{out}", text))
    return tuple(grid)


def depthwise_grid() -> tuple[tuple[str, str], ...]:
    """(name, spec text) of every depthwise shape measured."""
    grid = []
    for size in (7, 14, 28, 56, 112):
        for channels in (16, 32, 96, 240, 576, 960):
            if channels * size * size > 1_300_000:
                continue
            for kernel, stride in ((3, 1), (3, 2), (5, 1)):
                if kernel == 5 and size > 56:
                    continue
                text = (
                    f"input: [{channels}, {size}, {size}]\nlayers:\n  - depthwise: "
                    f"{{kernel: {kernel}, stride: {stride}, padding: {kernel // 2}, "
                    "bias: false}\n"
                )
                grid.append((f"depthwise{kernel}x{kernel}/{stride}:{channels}x{size}", text))
    return tuple(grid)


FLOWING = (
    "batchnorm: {}",
    "relu: {}",
    "relu6: {}",
    "hardswish: {}",
    "hardsigmoid: {}",
    "sigmoid: {}",
    "silu: {}",
    "channel_shuffle: {groups: 2}",
    "add: {a: [], b: []}",
    "multiply: {a: [], b: []}",
    "concat: {a: [], b: []}",
    "maxpool: {kernel: 3, stride: 2, padding: 1}",
    "avgpool: {kernel: 2, stride: 2}",
    "global_avgpool: {}",
)
"""The elementwise and pooling layers measured alone at each of :data:`FLOWING_SIZES` (the
common ones: each kind is its own NumPy kernel, so each gets its own fitted entry)."""

FLOWING_SIZES = ((512, 7), (128, 28), (256, 56), (32, 112))


def flowing_grid() -> tuple[tuple[str, str], ...]:
    """(name, spec text) of every elementwise or pooling layer measured alone."""
    grid = []
    for layer in FLOWING:
        for channels, size in FLOWING_SIZES:
            text = f"input: [{channels}, {size}, {size}]\nlayers:\n  - {layer}\n"
            grid.append((f"{layer.partition(':')[0]}:{channels}x{size}", text))
    return tuple(grid)


def fusion_grid() -> tuple[tuple[str, str], ...]:
    """(name, spec text) of a 1×1 conv followed by a batchnorm and a relu, and a depthwise
    conv followed by a batchnorm and a relu6, on each of :data:`FLOWING_SIZES`: the layers a
    runtime runs inside the conv before them, at the sizes the standalone ones are measured
    (:mod:`convcost.latency.fusion`)."""
    grid = []
    for channels, size in FLOWING_SIZES:
        for head, tail in (
            (f"pointwise: {{out: {channels}, bias: false}}", "relu: {}"),
            ("depthwise: {kernel: 3, padding: 1, bias: false}", "relu6: {}"),
        ):
            text = (
                f"input: [{channels}, {size}, {size}]\nlayers:\n  - {head}\n"
                f"  - batchnorm: {{}}\n  - {tail}\n"
            )
            grid.append((f"fused-{head.partition(':')[0]}:{channels}x{size}", text))
    return tuple(grid)
