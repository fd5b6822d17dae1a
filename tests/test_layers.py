"""Every layer kind's shape, parameter, MAC and ops formula against hand-computed values."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from convcost.layers.geometry import widest_window, window_total
from convcost.receptive import Coverage
from tests.conftest import one_layer

# Columns: input shape, layer, output shape, weights, biases, MACs, ops. Each row's figures are
# computed by hand in its comment (C_in, C_out, k, output elements).
CASES = [
    # conv: out 4, 3x3 on 3x8x8, pad 0 -> 6x6; weights 4*3*9=108; MACs 4*36*3*9=3888; bias adds 144
    ([3, 8, 8], "conv: {out: 4, kernel: 3}", (4, 6, 6), 108, 4, 3888, 144),
    # conv stride 2 pad 1 on 7x7: floor((7+2-3)/2)+1 = 4; MACs 4*4*8*3*9 = 3456
    (
        [3, 7, 7],
        "conv: {out: 8, kernel: 3, stride: 2, padding: 1, bias: false}",
        (8, 4, 4),
        216,
        0,
        3456,
        0,
    ),
    # dilation 2: k_eff 5, 10x10 -> 6x6; weights 2*2*9=36; MACs 72*2*9=1296
    ([2, 10, 10], "conv: {out: 2, kernel: 3, dilation: 2, bias: false}", (2, 6, 6), 36, 0, 1296, 0),
    # groups 2: weights 8*(4/2)*9=144; MACs 8*16*2*9=2304
    (
        [4, 4, 4],
        "conv: {out: 8, kernel: 3, padding: 1, groups: 2, bias: false}",
        (8, 4, 4),
        144,
        0,
        2304,
        0,
    ),
    # asymmetric kernel [1, 7] with padding [0, 3]: 5x9 stays 5x9; weights 2*1*7=14; MACs 90*7=630
    (
        [1, 5, 9],
        "conv: {out: 2, kernel: [1, 7], padding: [0, 3], bias: false}",
        (2, 5, 9),
        14,
        0,
        630,
        0,
    ),
    # padding same, even kernel 4: total 3 = 1 before + 2 after, size kept; MACs 1*25*1*16=400
    ([1, 5, 5], "conv: {out: 1, kernel: 4, padding: same, bias: false}", (1, 5, 5), 16, 0, 400, 0),
    # padding valid = 0
    ([1, 5, 5], "conv: {out: 1, kernel: 3, padding: valid, bias: false}", (1, 3, 3), 9, 0, 81, 0),
    # per-axis [before, after] padding pairs: H 4+1+0-3+1 = 3, W 4+0+2-3+1 = 4
    (
        [1, 4, 4],
        "conv: {out: 1, kernel: 3, padding: [[1, 0], [0, 2]], bias: false}",
        (1, 3, 4),
        9,
        0,
        108,
        0,
    ),
    # 1-D conv: L 10, k 3 -> 8; weights 3*2*3=18; MACs 24*2*3=144
    ([2, 10], "conv: {out: 3, kernel: 3, bias: false}", (3, 8), 18, 0, 144, 0),
    # 3-D conv: 4x4x4, k 3 -> 2x2x2; weights 2*1*27=54; MACs 16*27=432
    ([1, 4, 4, 4], "conv: {out: 2, kernel: 3, bias: false}", (2, 2, 2, 2), 54, 0, 432, 0),
    # depthwise multiplier 2 on 3 channels: out 6, groups 3, weights 6*1*9=54; MACs 6*16*9=864
    ([3, 4, 4], "depthwise: {kernel: 3, padding: 1, multiplier: 2}", (6, 4, 4), 54, 6, 864, 96),
    # pointwise 8 -> 16 on 5x5: weights 128; MACs 25*16*8 = 3200
    ([8, 5, 5], "pointwise: {out: 16}", (16, 5, 5), 128, 16, 3200, 400),
    # conv_transpose stride 2 k 4 pad 1 on 4x4: (4-1)*2-2+3+1 = 8; weights 3*5*16=240;
    # MACs = input elements 3*16=48 * C_out 5 * 16 = 3840
    (
        [3, 4, 4],
        "conv_transpose: {out: 5, kernel: 4, stride: 2, padding: 1}",
        (5, 8, 8),
        240,
        5,
        3840,
        320,
    ),
    # conv_transpose output_padding 1: (3-1)*2 + 2 + 1 + 1 = 8... k3: (3-1)*2-0+2+1+1 = 8
    (
        [1, 3, 3],
        "conv_transpose: {out: 1, kernel: 3, stride: 2, output_padding: 1, bias: false}",
        (1, 8, 8),
        9,
        0,
        81,
        0,
    ),
    # maxpool 3 s2 on 7x7: floor(4/2)+1 = 3; ops 2*9*9 = 162 (one compare per window element)
    ([2, 7, 7], "maxpool: {kernel: 3, stride: 2}", (2, 3, 3), 0, 0, 0, 162),
    # maxpool ceil mode on 6x6, k3 s2: ceil(3/2)+1 = 3 (torchvision GoogLeNet's pools)
    ([1, 6, 6], "maxpool: {kernel: 3, stride: 2, ceil_mode: true}", (1, 3, 3), 0, 0, 0, 81),
    # maxpool ceil mode where the last window would start in the padding: 5x5, k2 s2 p1:
    # ceil((5+2-2)/2)+1 = 4, (4-1)*2 = 6 >= 5+1 so dropped -> 3 (PyTorch's rule)
    (
        [1, 5, 5],
        "maxpool: {kernel: 2, stride: 2, padding: 1, ceil_mode: true}",
        (1, 3, 3),
        0,
        0,
        0,
        36,
    ),
    # maxpool dilation 2: k_eff 5 on 9 -> 5
    ([1, 9, 9], "maxpool: {kernel: 3, stride: 1, dilation: 2}", (1, 5, 5), 0, 0, 0, 225),
    # avgpool, stride defaults to kernel: 8 -> 4
    ([3, 8, 8], "avgpool: {kernel: 2}", (3, 4, 4), 0, 0, 0, 192),
    # global pools: rank kept, ops = input elements
    ([4, 5, 6], "global_avgpool: {}", (4, 1, 1), 0, 0, 0, 120),
    ([4, 3, 3, 3], "global_maxpool: {}", (4, 1, 1, 1), 0, 0, 0, 108),
    # adaptive avg 7 -> 3: windows [0,3) [2,5) [4,7) -> 3 long each, sum 9 per axis; ops 2*9*9 = 162
    ([2, 7, 7], "adaptive_avgpool: {size: 3}", (2, 3, 3), 0, 0, 0, 162),
    # batchnorm: 2*C params, 2 ops per element
    ([6, 2, 2], "batchnorm: {}", (6, 2, 2), 6, 6, 0, 48),
    # BatchNorm1d on a flat input (after flatten): C = 6 features
    ([6, 1], "flatten: {}\n  - batchnorm: {}", (6,), 6, 6, 0, 12),
    ([5, 3, 3], "relu: {}", (5, 3, 3), 0, 0, 0, 45),
    ([5, 3, 3], "relu6: {}", (5, 3, 3), 0, 0, 0, 45),
    ([5, 3, 3], "sigmoid: {}", (5, 3, 3), 0, 0, 0, 45),
    ([5, 3, 3], "swish: {}", (5, 3, 3), 0, 0, 0, 45),
    ([5, 3, 3], "silu: {}", (5, 3, 3), 0, 0, 0, 45),
    ([5, 3, 3], "gelu: {}", (5, 3, 3), 0, 0, 0, 45),
    ([5, 3, 3], "tanh: {}", (5, 3, 3), 0, 0, 0, 45),
    ([5, 3, 3], "hardswish: {}", (5, 3, 3), 0, 0, 0, 45),
    ([5, 3, 3], "hardsigmoid: {}", (5, 3, 3), 0, 0, 0, 45),
    ([5, 3, 3], "identity: {}", (5, 3, 3), 0, 0, 0, 0),
    ([5, 3, 3], "dropout: {p: 0.2}", (5, 3, 3), 0, 0, 0, 0),
    ([5, 3, 3], "dropout: {p: 0.2, mode: spatial}", (5, 3, 3), 0, 0, 0, 0),
    ([5, 3, 3], "flatten: {}", (45,), 0, 0, 0, 0),
    ([4, 6, 6], "channel_shuffle: {groups: 2}", (4, 6, 6), 0, 0, 0, 0),
    ([6, 2, 2], "split: {parts: 2, index: 1}", (3, 2, 2), 0, 0, 0, 0),
]


@pytest.mark.parametrize(
    ("shape", "layer", "out", "weights", "biases", "macs", "ops"), CASES, ids=[c[1] for c in CASES]
)
def test_layer_formulas(
    shape: list[int],
    layer: str,
    out: tuple[int, ...],
    weights: int,
    biases: int,
    macs: int,
    ops: int,
) -> None:
    row = one_layer(shape, layer).layers[-1]
    assert row.output_shape == out
    assert (row.cost.weights, row.cost.biases, row.cost.macs, row.cost.ops) == (
        weights,
        biases,
        macs,
        ops,
    )
    assert row.cost.activation_elements == math.prod(out)


def test_linear() -> None:
    # 45 -> 10: weights 45*10 = 450, MACs 450, 10 bias adds
    report = one_layer([45, 1], "flatten: {}\n  - linear: {out: 10}")
    linear = report.layers[-1]
    assert (
        linear.output_shape,
        linear.cost.weights,
        linear.cost.biases,
        linear.cost.macs,
        linear.cost.ops,
    ) == (
        (10,),
        450,
        10,
        450,
        10,
    )


def test_separable_expands_to_two_rows() -> None:
    # 32 -> 64 on 8x8, k3 p1: depthwise 32*9 = 288 weights, MACs 64*32*9 = 18432;
    # pointwise 64*32 = 2048 weights, MACs 64*64*32 = 131072; bias on both rows, as two PyTorch convs
    report = one_layer([32, 8, 8], "separable: {out: 64, kernel: 3, padding: 1}")
    depthwise, pointwise = report.layers
    assert (depthwise.path, depthwise.kind, depthwise.cost.weights, depthwise.cost.biases) == (
        "separable1.depthwise",
        "depthwise",
        288,
        32,
    )
    assert (pointwise.path, pointwise.kind, pointwise.cost.weights, pointwise.cost.biases) == (
        "separable1.pointwise",
        "pointwise",
        2048,
        64,
    )
    assert (depthwise.cost.macs, pointwise.cost.macs) == (18432, 131072)
    (block,) = report.blocks
    assert (block.path, block.kind, block.cost.params) == (
        "separable1",
        "separable",
        288 + 32 + 2048 + 64,
    )


@pytest.mark.parametrize(
    ("layer", "size", "jump"),
    [
        # r = 1 + (k_eff - 1)*1; j = s
        ("conv: {out: 1, kernel: 3}", (3, 3), (1, 1)),
        ("conv: {out: 1, kernel: 3, dilation: 4}", (9, 9), (1, 1)),
        ("conv: {out: 1, kernel: [1, 7], stride: [1, 2]}", (1, 7), (1, 2)),
        ("maxpool: {kernel: 2}", (2, 2), (2, 2)),
        ("avgpool: {kernel: 3, stride: 2}", (3, 3), (2, 2)),
        # transposed: one output is reached from ceil(k_eff/s) = 2 inputs; outputs 1/2 apart
        (
            "conv_transpose: {out: 1, kernel: 4, stride: 2}",
            (2, 2),
            (Fraction(1, 2), Fraction(1, 2)),
        ),
        ("relu: {}", (1, 1), (1, 1)),
    ],
)
def test_receptive_field_of_one_layer(
    layer: str, size: tuple[int, ...], jump: tuple[Fraction, ...]
) -> None:
    field = one_layer([1, 16, 16], layer).receptive_field
    assert field.coverage is Coverage.LOCAL
    assert (field.size, field.jump) == (size, jump)


@pytest.mark.parametrize(
    "layer", ["global_avgpool: {}", "global_maxpool: {}", "adaptive_avgpool: {size: 1}"]
)
def test_global_layers_make_the_field_global(layer: str) -> None:
    assert one_layer([2, 9, 9], layer).receptive_field.coverage is Coverage.GLOBAL


def test_adaptive_window_closed_forms_against_every_window() -> None:
    # PyTorch's adaptive window i of `out` over `size`: [⌊i·size/out⌋, ⌈(i+1)·size/out⌉)
    # (aten/src/ATen/native/AdaptiveAveragePooling.cpp, start_index/end_index): brute force
    for size in range(1, 70):
        for out in range(1, 70):
            lengths = [-(-((i + 1) * size) // out) - (i * size) // out for i in range(out)]
            assert window_total(size, out) == sum(lengths), (size, out)
            assert widest_window(size, out) == max(lengths), (size, out)


def test_a_huge_adaptive_pool_is_counted_at_once() -> None:
    # the counts used to sum 10⁹ windows one by one (a hang found by the fuzz)
    report = one_layer([1, 7, 7], "adaptive_avgpool: {size: 1000000000}")
    # one channel, each axis: Σ window lengths = 7 + 10⁹ − gcd(7, 10⁹) = 10⁹ + 6
    assert report.layers[0].cost.ops == (10**9 + 6) ** 2


def test_a_layer_made_through_its_slots_is_the_one_its_class_makes() -> None:
    from convcost.layers import Activation, BatchNorm, Conv  # noqa: PLC0415
    from convcost.layers.activation import Function  # noqa: PLC0415
    from convcost.valueclasses import made  # noqa: PLC0415

    values = {
        "out": 8,
        "kernel": (3, 3),
        "stride": (2, 1),
        "padding": ((1, 0), (1, 1)),
        "dilation": (1, 2),
        "bias": False,
    }
    for kind, given in ((Conv, values), (BatchNorm, {}), (Activation, {"function": Function.RELU})):
        layer = made(kind, **given)
        expected = kind(**given)
        assert layer == expected
        assert hash(layer) == hash(expected)
        assert repr(layer) == repr(expected)  # the defaults too (groups, label, padding_mode)
    with pytest.raises(TypeError, match=r"^Conv needs out$"):
        made(Conv, **{name: value for name, value in values.items() if name != "out"})
    with pytest.raises(TypeError, match=r"^BatchNorm has no momentum$"):
        made(BatchNorm, momentum=0.1)
