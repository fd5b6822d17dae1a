"""The ``--execute`` kernels against ``torch.nn.functional`` on the same inputs and weights.

Property tests (hypothesis, 300 examples per kind) over odd sizes, asymmetric kernels and
padding, dilation with stride, groups, ceil mode, 1-D/2-D/3-D. Tolerances: rtol 1e-4 in float32,
1e-10 in float64 (atol sized for outputs of order 1). Skipped cleanly without torch.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import convcost
from convcost.build import build
from convcost.cli import app
from convcost.errors import ExitStatus
from convcost.executor import kernels, kernels_conv, prepare
from convcost.executor.ops import activation, pool
from convcost.executor.ops.batchnorm import batch_norm
from convcost.executor.ops.linear import linear, linear_weights
from convcost.executor.ops.reshape import flatten
from convcost.executor.ops.shuffle import channel_shuffle, split

torch = pytest.importorskip("torch")
F = torch.nn.functional

pytestmark = pytest.mark.torch
SETTINGS = settings(max_examples=300, deadline=None)
DTYPES = st.sampled_from(["float32", "float64"])


def close(actual: Any, expected: Any, dtype: str) -> None:
    """Compare a channels-last kernel output with PyTorch's channels-first one."""
    got = kernels.to_channels_first(actual)
    want = expected.detach().numpy()
    assert got.shape == want.shape
    if dtype == "float32":
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def tensor(array: Any) -> Any:
    return torch.from_numpy(np.ascontiguousarray(array))


def inputs(draw: st.DrawFn, shape: tuple[int, ...], dtype: str, scale: float = 1.0) -> Any:
    seed = draw(st.integers(0, 2**32 - 1))
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


@st.composite
def conv_cases(draw: st.DrawFn) -> dict[str, Any]:
    rank = draw(st.integers(1, 3))
    small = 2 if rank == 3 else 3
    depthwise = draw(st.booleans())
    groups = draw(st.integers(1, 3))
    per_group = 1 if depthwise else draw(st.integers(1, 3))
    out_per_group = draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, small)) for _ in range(rank))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    padding = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(rank))
    sizes = tuple(
        max(1, d * (k - 1) + 1 - lo - hi) + draw(st.integers(0, 5 if rank < 3 else 3))
        for k, d, (lo, hi) in zip(kernel, dilation, padding, strict=True)
    )
    dtype = draw(DTYPES)
    batch = draw(st.integers(1, 2))
    channels = groups * per_group
    x = inputs(draw, (batch, channels, *sizes), dtype)
    weight = inputs(
        draw,
        (groups * out_per_group, per_group, *kernel),
        dtype,
        1 / math.sqrt(per_group * math.prod(kernel)),
    )
    bias = inputs(draw, (groups * out_per_group,), dtype) if draw(st.booleans()) else None
    return {
        "x": x,
        "weight": weight,
        "bias": bias,
        "groups": groups,
        "stride": stride,
        "dilation": dilation,
        "padding": padding,
        "dtype": dtype,
    }


@SETTINGS
@given(conv_cases())
def test_conv_matches_torch(case: dict[str, Any]) -> None:
    rank = case["x"].ndim - 2
    weights = kernels_conv.conv_weights(case["weight"], case["groups"])
    got = kernels_conv.conv(
        kernels.to_channels_last(case["x"]),
        weights,
        case["bias"],
        stride=case["stride"],
        padding=case["padding"],
        dilation=case["dilation"],
    )
    # F.pad takes (lo, hi) pairs from the last axis backwards: asymmetric padding as the engine's `same`
    pads = [p for pair in reversed(case["padding"]) for p in pair]
    expected = getattr(F, f"conv{rank}d")(
        F.pad(tensor(case["x"]), pads),
        tensor(case["weight"]),
        None if case["bias"] is None else tensor(case["bias"]),
        stride=case["stride"],
        dilation=case["dilation"],
        groups=case["groups"],
    )
    close(got, expected, case["dtype"])


@pytest.mark.parametrize("channels", [6, 80])
@pytest.mark.parametrize("rows", [1, 2, 5, 32])
@pytest.mark.parametrize(
    ("kernel", "stride", "dilation", "padding"),
    [
        ((3, 3), (1, 1), (1, 1), ((1, 1), (1, 1))),
        ((2, 3), (2, 1), (1, 2), ((3, 2), (0, 4))),  # bands that read only padding
        ((3, 1), (3, 2), (2, 1), ((0, 4), (2, 0))),
    ],
)
def test_depthwise_on_padded_slabs_matches_torch(
    monkeypatch: pytest.MonkeyPatch,
    channels: int,
    rows: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    padding: tuple[tuple[int, int], ...],
) -> None:
    """A depthwise conv by bands of 1, 2, 5 or 32 output rows, each band's input rows copied
    into its thread's padded slab (kernels.PaddedBands), against F.conv2d on the padded input:
    rows above, below and beside the input, bands wholly in the padding, stride and dilation;
    6 channels run a product per kernel offset, 80 one einsum (PER_OFFSET_CHANNELS = 64)."""
    monkeypatch.setattr(kernels_conv, "DEPTHWISE_BAND_ROWS", rows)
    assert kernels_conv.per_offset(channels, (9, 7)) == (channels == 6)
    rng = np.random.default_rng(rows)
    x = rng.standard_normal((2, channels, 9, 7))
    weight = rng.standard_normal((channels, 1, *kernel))
    got = kernels_conv.conv(
        kernels.to_channels_last(x),
        kernels_conv.conv_weights(weight, channels),
        None,
        stride=stride,
        padding=padding,
        dilation=dilation,
    )
    pads = [p for pair in reversed(padding) for p in pair]
    want = F.conv2d(
        F.pad(tensor(x), pads), tensor(weight), stride=stride, dilation=dilation, groups=channels
    )
    close(got, want, "float64")


@pytest.mark.parametrize("rows", [1, 3])
@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "dilation", "ceil_mode"),
    [
        ((3, 3), (2, 2), (1, 1), (1, 1), False),  # ResNet-50's and DenseNet-121's stem pool
        ((3, 2), (2, 3), (1, 1), (2, 1), True),  # the last window past the right padding
        ((2, 2), (2, 2), (0, 0), (1, 1), True),  # padded only by ceil mode
    ],
)
def test_pools_on_padded_slabs_match_torch(
    monkeypatch: pytest.MonkeyPatch,
    rows: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
    ceil_mode: bool,
) -> None:
    """Max and average pools by bands of 1 or 3 output rows, each band's input rows copied
    into its thread's slab padded with −∞ or 0 (kernels.PaddedBands), against F.max_pool2d
    and F.avg_pool2d (count_include_pad, the divisor not counting ceil mode's overhang)."""
    monkeypatch.setattr(pool, "POOL_BAND_ROWS", rows)
    x = np.random.default_rng(rows).standard_normal((2, 5, 11, 9))
    channels_last = kernels.to_channels_last(x)
    got = pool.max_pool(
        channels_last,
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        ceil_mode=ceil_mode,
    )
    want = F.max_pool2d(tensor(x), kernel, stride, padding, dilation, ceil_mode=ceil_mode)
    close(got, want, "float64")
    if dilation == (1, 1):
        got = pool.avg_pool(
            channels_last, kernel=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode
        )
        want = F.avg_pool2d(tensor(x), kernel, stride, padding, ceil_mode=ceil_mode)
        close(got, want, "float64")


@st.composite
def shifted_cases(draw: st.DrawFn) -> dict[str, Any]:
    """2-D convs of stride 1 (the only ones :func:`kernels_conv.shifted_product` takes): any
    channels, kernel, dilation and padding, odd sizes, and product bands from one output row
    (1 byte) to the whole sample."""
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple((draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in range(2))
    sizes = tuple(
        max(1, d * (k - 1) + 1 - lo - hi) + draw(st.integers(0, 7))
        for k, d, (lo, hi) in zip(kernel, dilation, padding, strict=True)
    )
    dtype = draw(DTYPES)
    channels, out = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    x = inputs(draw, (draw(st.integers(1, 3)), channels, *sizes), dtype)
    weight = inputs(draw, (out, channels, *kernel), dtype, 1 / math.sqrt(channels))
    bias = inputs(draw, (out,), dtype) if draw(st.booleans()) else None
    band = draw(st.sampled_from([1, 200, 3000, 2**20]))
    return {
        "x": x,
        "weight": weight,
        "bias": bias,
        "dilation": dilation,
        "padding": padding,
        "dtype": dtype,
        "band": band,
    }


@settings(max_examples=200, deadline=None)
@given(shifted_cases())
def test_shifted_conv_matches_torch(case: dict[str, Any]) -> None:
    """The shifted product (one product per band of input rows, then shifted slices summed)
    against F.conv2d, including bands whose rows read only padding."""
    saved = kernels_conv.SHIFT_BAND_BYTES
    kernels_conv.SHIFT_BAND_BYTES = case["band"]
    try:
        got = kernels_conv.conv(
            kernels.to_channels_last(case["x"]),
            kernels_conv.conv_weights(case["weight"], 1, shifted=True),
            case["bias"],
            stride=(1, 1),
            padding=case["padding"],
            dilation=case["dilation"],
        )
    finally:
        kernels_conv.SHIFT_BAND_BYTES = saved
    pads = [p for pair in reversed(case["padding"]) for p in pair]
    expected = F.conv2d(
        F.pad(tensor(case["x"]), pads),
        tensor(case["weight"]),
        None if case["bias"] is None else tensor(case["bias"]),
        dilation=case["dilation"],
    )
    close(got, expected, case["dtype"])


def test_shifted_weights_are_refused_with_stride_or_groups() -> None:
    weight = np.ones((2, 4, 3, 3))
    shifted = kernels_conv.conv_weights(weight, 1, shifted=True)
    x = np.ones((1, 5, 5, 4))
    with pytest.raises(ValueError, match="stride 1"):
        kernels_conv.conv(x, shifted, None, stride=(2, 1), padding=((0, 0),) * 2, dilation=(1, 1))
    with pytest.raises(ValueError, match="ungrouped"):
        kernels_conv.conv_weights(np.ones((4, 2, 3, 3)), 2, shifted=True)


def test_densenet_bottleneck_runs_shifted() -> None:
    """The layout is chosen when the weights are drawn: a 3×3 conv of stride 1 from 128
    channels into 32 (DenseNet's) is shifted; into 64 (half: still), into 65, strided, grouped
    or 1-D it is not."""
    assert kernels_conv.shifts(128, 32, (3, 3), (1, 1), 1)
    assert kernels_conv.shifts(128, 64, (3, 3), (1, 1), 1)
    assert not kernels_conv.shifts(128, 65, (3, 3), (1, 1), 1)
    assert not kernels_conv.shifts(128, 32, (3, 3), (2, 2), 1)
    assert not kernels_conv.shifts(128, 32, (3, 3), (1, 1), 2)
    assert not kernels_conv.shifts(128, 32, (3,), (1,), 1)
    assert not kernels_conv.shifts(128, 32, (1, 1), (1, 1), 1)


@st.composite
def transpose_cases(draw: st.DrawFn) -> dict[str, Any]:
    rank = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 3))
    per_group = draw(st.integers(1, 3))
    out_per_group = draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(rank))
    output_padding = tuple(
        draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True)
    )
    sizes = tuple(draw(st.integers(1, 4 if rank < 3 else 3)) for _ in range(rank))
    full = [
        (n - 1) * s - 2 * p + d * (k - 1) + op + 1
        for n, s, p, d, k, op in zip(
            sizes, stride, padding, dilation, kernel, output_padding, strict=True
        )
    ]
    assume(all(f >= 1 for f in full))
    dtype = draw(DTYPES)
    x = inputs(draw, (draw(st.integers(1, 2)), groups * per_group, *sizes), dtype)
    weight = inputs(draw, (groups * per_group, out_per_group, *kernel), dtype)
    bias = inputs(draw, (groups * out_per_group,), dtype) if draw(st.booleans()) else None
    return {
        "x": x,
        "weight": weight,
        "bias": bias,
        "groups": groups,
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
        "dtype": dtype,
    }


@SETTINGS
@given(transpose_cases())
def test_conv_transpose_matches_torch(case: dict[str, Any]) -> None:
    rank = case["x"].ndim - 2
    got = kernels_conv.conv_transpose(
        kernels.to_channels_last(case["x"]),
        kernels_conv.transpose_weights(case["weight"], case["groups"]),
        case["bias"],
        stride=case["stride"],
        padding=case["padding"],
        output_padding=case["output_padding"],
        dilation=case["dilation"],
    )
    expected = getattr(F, f"conv_transpose{rank}d")(
        tensor(case["x"]),
        tensor(case["weight"]),
        None if case["bias"] is None else tensor(case["bias"]),
        stride=case["stride"],
        padding=case["padding"],
        output_padding=case["output_padding"],
        groups=case["groups"],
        dilation=case["dilation"],
    )
    close(got, expected, case["dtype"])


@st.composite
def pool_cases(draw: st.DrawFn, dilated: bool) -> dict[str, Any]:
    rank = draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    dilation = tuple(draw(st.integers(1, 3)) if dilated else 1 for _ in range(rank))
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    # PyTorch 2.13 (1-D, 2-D and 3-D, max and avg): padding at most half the kernel size
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    ceil_mode = draw(st.booleans())
    # PyTorch's 3-D pools also want the input itself at least as large as the kernel; in ceil
    # mode 1-D and 2-D windows may be wider than the input (PyTorch then either clips them or
    # refuses an empty output, and so must the kernel)
    sizes = tuple(
        (1 if ceil_mode and rank < 3 else max(1, span - 2 * p if rank < 3 else span))
        + draw(st.integers(0, 5 if rank < 3 else 3))
        for span, p in zip(spans, padding, strict=True)
    )
    dtype = draw(DTYPES)
    return {
        "x": inputs(draw, (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *sizes), dtype),
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "dilation": dilation,
        "ceil_mode": ceil_mode,
        "dtype": dtype,
    }


def pooled(ours: Any, theirs: Any, dtype: str) -> None:
    """Equal outputs, or both refusing an empty output: PyTorch with "Output size is too
    small" (max_pool1d: "Invalid computed output size: 0" or a negative size), the kernel with
    a ValueError."""
    refusal = None
    try:
        expected = theirs()
    except RuntimeError as error:
        refusal = str(error)
    if refusal is None:
        close(ours(), expected, dtype)
        return
    assert re.search(r"Output size is too small|Invalid computed output size: (0|-\d+)", refusal)
    with pytest.raises(ValueError, match=r"pooling window \d+ exceeds input \d+ \+ padding"):
        ours()


@SETTINGS
@given(pool_cases(dilated=True))
def test_max_pool_matches_torch(case: dict[str, Any]) -> None:
    rank = case["x"].ndim - 2
    pooled(
        lambda: pool.max_pool(
            kernels.to_channels_last(case["x"]),
            kernel=case["kernel"],
            stride=case["stride"],
            padding=case["padding"],
            dilation=case["dilation"],
            ceil_mode=case["ceil_mode"],
        ),
        lambda: getattr(F, f"max_pool{rank}d")(
            tensor(case["x"]),
            case["kernel"],
            case["stride"],
            case["padding"],
            case["dilation"],
            ceil_mode=case["ceil_mode"],
        ),
        case["dtype"],
    )


@SETTINGS
@given(pool_cases(dilated=False))
def test_avg_pool_matches_torch(case: dict[str, Any]) -> None:
    """count_include_pad=True, PyTorch's default (and what nn.AvgPool2d() builds)."""
    rank = case["x"].ndim - 2
    pooled(
        lambda: pool.avg_pool(
            kernels.to_channels_last(case["x"]),
            kernel=case["kernel"],
            stride=case["stride"],
            padding=case["padding"],
            ceil_mode=case["ceil_mode"],
        ),
        lambda: getattr(F, f"avg_pool{rank}d")(
            tensor(case["x"]),
            case["kernel"],
            case["stride"],
            case["padding"],
            ceil_mode=case["ceil_mode"],
        ),
        case["dtype"],
    )


@st.composite
def adaptive_cases(draw: st.DrawFn) -> dict[str, Any]:
    rank = draw(st.integers(1, 3))
    sizes = tuple(draw(st.integers(1, 9 if rank < 3 else 5)) for _ in range(rank))
    # adaptive pools may also enlarge an axis (overlapping windows)
    size = tuple(draw(st.integers(1, n + 2)) for n in sizes)
    dtype = draw(DTYPES)
    return {
        "x": inputs(draw, (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *sizes), dtype),
        "size": size,
        "op": draw(st.sampled_from(["avg", "max"])),
        "dtype": dtype,
    }


@SETTINGS
@given(adaptive_cases())
def test_adaptive_pool_matches_torch(case: dict[str, Any]) -> None:
    rank = case["x"].ndim - 2
    x = kernels.to_channels_last(case["x"])
    if case["op"] == "avg":
        got = pool.adaptive_avg_pool(x, case["size"])
    else:
        got = pool.adaptive_max_pool(x, case["size"])
    expected = getattr(F, f"adaptive_{case['op']}_pool{rank}d")(tensor(case["x"]), case["size"])
    close(got, expected, case["dtype"])


@SETTINGS
@given(adaptive_cases())
def test_global_pool_matches_torch(case: dict[str, Any]) -> None:
    rank = case["x"].ndim - 2
    x = kernels.to_channels_last(case["x"])
    got = pool.global_avg_pool(x) if case["op"] == "avg" else pool.global_max_pool(x)
    expected = getattr(F, f"adaptive_{case['op']}_pool{rank}d")(tensor(case["x"]), 1)
    close(got, expected, case["dtype"])


@st.composite
def tensors(draw: st.DrawFn, scale: float = 1.0) -> tuple[Any, str]:
    rank = draw(st.integers(0, 3))
    dtype = draw(DTYPES)
    shape = (
        draw(st.integers(1, 2)),
        draw(st.integers(1, 5)),
        *(draw(st.integers(1, 6)) for _ in range(rank)),
    )
    return inputs(draw, shape, dtype, draw(st.sampled_from([scale, 4 * scale, 30 * scale]))), dtype


@SETTINGS
@given(tensors(), st.floats(1e-6, 1e-2), st.booleans())
def test_batch_norm_matches_torch(case: tuple[Any, str], eps: float, inplace: bool) -> None:
    x, dtype = case
    rng = np.random.default_rng(x.size)
    channels = x.shape[1]
    gamma, beta, mean = (rng.standard_normal(channels).astype(dtype) for _ in range(3))
    var = rng.uniform(0.1, 2, channels).astype(dtype)
    expected = F.batch_norm(
        tensor(x), tensor(mean), tensor(var), tensor(gamma), tensor(beta), training=False, eps=eps
    )
    got = batch_norm(kernels.to_channels_last(x), gamma, beta, mean, var, eps, inplace=inplace)
    close(got, expected, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("statistics", ["fresh", "one scale, shifts", "scales, no shift"])
def test_batch_norm_fast_paths_match_torch(statistics: str, dtype: str) -> None:
    """The stage's special cases against F.batch_norm: a freshly initialised layer (γ = 1,
    β = 0, mean 0, variance 1: one scale for every channel, no shift), one scale with shifts,
    and scales per channel with no shift; on a 2×7×5×3 input, large enough for bands."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 7, 5, 3)).astype(dtype)
    ones, zeros = np.ones(7, dtype=dtype), np.zeros(7, dtype=dtype)
    gamma, beta, mean, var = ones, zeros, zeros, ones
    if statistics == "one scale, shifts":
        gamma, beta = 2 * ones, rng.standard_normal(7).astype(dtype)
    elif statistics == "scales, no shift":
        gamma = rng.standard_normal(7).astype(dtype)
    expected = F.batch_norm(
        tensor(x), tensor(mean), tensor(var), tensor(gamma), tensor(beta), training=False, eps=1e-5
    )
    got = batch_norm(kernels.to_channels_last(x), gamma, beta, mean, var, 1e-5)
    close(got, expected, dtype)


ACTIVATIONS = {
    "relu": (activation.relu, F.relu),
    "relu6": (activation.relu6, F.relu6),
    "sigmoid": (activation.sigmoid, torch.sigmoid),
    "silu": (activation.silu, F.silu),
    "gelu": (activation.gelu, F.gelu),
    "tanh": (activation.tanh, torch.tanh),
    "hardswish": (activation.hardswish, F.hardswish),
    "hardsigmoid": (activation.hardsigmoid, F.hardsigmoid),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@SETTINGS
@given(case=tensors(), inplace=st.booleans())
def test_activation_matches_torch(name: str, case: tuple[Any, str], inplace: bool) -> None:
    x, dtype = case
    ours, theirs = ACTIVATIONS[name]
    expected = theirs(tensor(x))
    got = ours(kernels.to_channels_last(x), inplace=inplace)
    assert got.dtype == x.dtype
    close(got, expected, dtype)


@SETTINGS
@given(tensors())
def test_flatten_matches_torch(case: tuple[Any, str]) -> None:
    x, _ = case
    got = flatten(kernels.to_channels_last(x))
    np.testing.assert_array_equal(got, torch.flatten(tensor(x), 1).numpy())


@SETTINGS
@given(
    st.integers(1, 3),
    st.integers(1, 6),
    st.integers(1, 7),
    st.booleans(),
    DTYPES,
    st.integers(0, 2**32 - 1),
)
def test_linear_matches_torch(
    batch: int, features: int, out: int, bias: bool, dtype: str, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, features)).astype(dtype)
    weight = rng.standard_normal((out, features)).astype(dtype)
    b = rng.standard_normal(out).astype(dtype) if bias else None
    got = linear(x, linear_weights(weight), b)
    close(got, F.linear(tensor(x), tensor(weight), None if b is None else tensor(b)), dtype)


@SETTINGS
@given(tensors(), st.integers(1, 4))
def test_channel_shuffle_matches_torch(case: tuple[Any, str], groups: int) -> None:
    x, _ = case
    x = np.concatenate([x] * groups, axis=1)  # channels divisible by groups
    got = channel_shuffle(kernels.to_channels_last(x), groups)
    expected = torch.nn.ChannelShuffle(groups)(tensor(x)) if x.ndim > 2 else None
    if expected is None:  # ChannelShuffle needs a spatial input: the same reshape by hand
        n, c = x.shape
        expected = tensor(x.reshape(n, groups, c // groups).transpose(0, 2, 1).reshape(n, c))
    np.testing.assert_array_equal(kernels.to_channels_first(got), expected.numpy())


@SETTINGS
@given(tensors(), st.integers(1, 4), st.data())
def test_split_matches_torch(case: tuple[Any, str], parts: int, data: st.DataObject) -> None:
    x, _ = case
    x = np.concatenate([x] * parts, axis=1)
    index = data.draw(st.integers(0, parts - 1))
    got = split(kernels.to_channels_last(x), parts, index)
    expected = torch.chunk(tensor(x), parts, dim=1)[index]
    np.testing.assert_array_equal(kernels.to_channels_first(got), expected.numpy())


# --- windows wider than the input (ceil mode) and broadcasting merges, end to end -------------

CEIL_CASES = [
    # (input size, kernel, stride, padding): every window is clipped at the input's end
    (2, 3, 3, 0),  # docs/spec-format.md's example: a 3-wide window over 2 pixels → 1 output
    (2, 3, 3, 1),  # starts in the left padding, ends past the input
    (2, 4, 4, 0),
    (2, 3, 2, 1),  # two windows, both clipped on one side
    (1, 2, 2, 0),
    (3, 5, 4, 2),
]


@pytest.mark.parametrize(("size", "kernel", "stride", "padding"), CEIL_CASES)
@pytest.mark.parametrize("kind", ["avgpool", "maxpool"])
def test_ceil_mode_window_wider_than_the_input(
    kind: str, size: int, kernel: int, stride: int, padding: int
) -> None:
    """Through the spec, the engine and the executor, against F.avg_pool2d/max_pool2d; the
    average divides by the window clipped at input + right padding (count_include_pad=True)."""
    text = (
        f"input: [2, {size}, {size + 1}]\nlayers:\n"
        f"  - {kind}: {{kernel: {kernel}, stride: {stride}, padding: {padding}, ceil_mode: true}}\n"
    )
    spec = convcost.parse_spec(text)
    network = build(spec, spec.variants[0])
    x = np.random.default_rng(size + kernel).standard_normal((2, 2, size, size + 1))
    pool = F.avg_pool2d if kind == "avgpool" else F.max_pool2d
    expected = pool(tensor(x), kernel, stride, padding, ceil_mode=True).numpy()
    got = prepare(network, dtype="float64").output(x)
    assert network.output_shape == expected.shape[1:]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_ceil_mode_average_divisor_at_clipped_windows() -> None:
    """kernel 3, stride 2, padding 1 on [1, 2, 3, 4] (1-D): windows [-1, 2) and [1, 4) clipped to
    [1, 3) at input + right padding = 3, so divisors 3 (one padded zero counted) and 2."""
    x = np.array([[[1.0], [2.0]]])  # (N, L, C) channels last: the values 1, 2
    got = pool.avg_pool(x, kernel=(3,), stride=(2,), padding=(1,), ceil_mode=True)
    # window 1: (0 + 1 + 2) / 3 = 1; window 2 starts at 1: (2 + 0) / 2 = 1, as torch prints
    expected = F.avg_pool1d(tensor(np.array([[[1.0, 2.0]]])), 3, 2, 1, ceil_mode=True)
    np.testing.assert_allclose(got[0, :, 0], [1.0, 1.0])
    np.testing.assert_allclose(got[0, :, 0], expected.numpy()[0, 0])


@pytest.mark.parametrize("identity", [False, True])
def test_multiply_of_branches_that_broadcast(identity: bool) -> None:
    """[2,1,1], [2,1,4] and [2,4,1] branches (and the [2,4,4] input itself, borrowed, not owned):
    the merged shape [2,4,4] is reached only by growing broadcasts."""
    spec = convcost.parse_spec(
        "input: [2, 4, 4]\nlayers:\n  - multiply:\n"
        "      a: [{adaptive_avgpool: {size: [1, 1]}}]\n"
        "      b: [{adaptive_avgpool: {size: [1, 4]}}]\n"
        "      c: [{adaptive_avgpool: {size: [4, 1]}}]\n" + ("      d: []\n" if identity else "")
    )
    network = build(spec, spec.variants[0])
    x = np.random.default_rng(7).standard_normal((3, 2, 4, 4))
    t = tensor(x)
    branches = [F.adaptive_avg_pool2d(t, size) for size in ((1, 1), (1, 4), (4, 1))]
    expected = branches[0]
    for other in branches[1:] + ([t] if identity else []):
        expected = expected * other
    got = prepare(network, dtype="float64").output(x)
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-12, atol=1e-12)


def test_gelu_matches_torch_on_a_dense_grid() -> None:
    """float32: rtol 1e-6 where PyTorch itself is accurate; in the negative half PyTorch computes
    1 + erf(x/√2) in float32 with its vectorised erf (absolute error ~1.5e-7), so there it is
    right only to ~3e-7·|x| absolute (measured: 3.05e-7·|x| on [-5, 0]). float64: 1e-12 relative
    and the same cancellation at double precision."""
    x = np.concatenate([np.linspace(-16, 16, 400_001), np.logspace(-20, 1, 500)])
    for dtype, rtol, atol_per_x in (("float32", 1e-6, 4e-7), ("float64", 1e-12, 1e-15)):
        values = x.astype(dtype)
        expected = F.gelu(tensor(values)).numpy().astype(np.float64)
        error = np.abs(activation.gelu(values).astype(np.float64) - expected)
        assert np.all(error <= rtol * np.abs(expected) + atol_per_x * np.abs(values)), dtype


TRANSPOSE_SPEC = """\
input: [4, 5, 6]
layers:
  - conv_transpose: {out: 6, kernel: 3, stride: 2, padding: 1, output_padding: 1, groups: 2}
    name: up
  - relu: {}
  - conv_transpose: {out: 3, kernel: [2, 3], stride: [1, 2], dilation: 2, bias: false}
    name: up2
"""


def test_conv_transpose_end_to_end(tmp_path: Any) -> None:
    """Through `analyze --execute` (shapes confirmed, exit 0), then the values of the whole
    network against F.conv_transpose2d with the weights the executor drew."""
    path = tmp_path / "transpose.yaml"
    path.write_text(TRANSPOSE_SPEC)
    result = CliRunner().invoke(app, ["analyze", str(path), "--execute", "-f", "json"])
    assert result.exit_code == ExitStatus.OK, result.stderr
    layers = json.loads(result.stdout)["execution"]["layers"]
    # (5 − 1)·2 − 2 + 3 + 1 = 10 and (6 − 1)·2 − 2 + 3 + 1 = 12; then (10 − 1) + 2·1 + 1 = 12
    # and (12 − 1)·2 + 2·2 + 1 = 27
    assert [layer["output_shape"] for layer in layers] == [[6, 10, 12], [6, 10, 12], [3, 12, 27]]

    spec = convcost.parse_spec(TRANSPOSE_SPEC)
    prepared = prepare(build(spec, spec.variants[0]), dtype="float64", seed=3)

    def torch_weight(path: str, groups: int, kernel: tuple[int, int]) -> Any:
        # the kernels' (g, C_in/g, ∏k·C_out/g), columns ordered (kernel offset, channel), back
        # to PyTorch's (C_in, C_out/g, *kernel)
        matrix = prepared.steps[path].arrays[0]
        g, per_group, _ = matrix.shape
        grouped = matrix.reshape(g, per_group, *kernel, -1)
        return tensor(np.moveaxis(grouped, -1, 2).reshape(g * per_group, -1, *kernel))

    x = np.random.default_rng(0).standard_normal((2, 4, 5, 6))
    t = F.conv_transpose2d(
        tensor(x), torch_weight("up", 2, (3, 3)), stride=2, padding=1, output_padding=1, groups=2
    )
    t = F.conv_transpose2d(F.relu(t), torch_weight("up2", 1, (2, 3)), stride=(1, 2), dilation=2)
    np.testing.assert_allclose(prepared.output(x), t.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("band", [1, 6000, 60000, 10**9])
@pytest.mark.parametrize(
    ("shape", "kernel", "stride", "dilation"),
    [((3, 4, 11, 9), (3, 3), (1, 1), (1, 1)), ((2, 3, 13, 10), (3, 2), (2, 1), (2, 1))],
)
def test_conv_in_column_bands_matches_torch(
    monkeypatch: pytest.MonkeyPatch,
    band: int,
    shape: tuple[int, ...],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
) -> None:
    """im2col by bands of every size, against F.conv2d: one output row per band (1 byte); rows
    of 9·36·8 = 2,592 and 10·18·8 = 1,440 bytes two and four at a time, the last band shorter
    (6,000); samples of 10·9·36·8 = 25,920 bytes two at a time, then one (60,000); the whole
    batch at once."""
    monkeypatch.setattr(kernels_conv, "COLUMN_BAND_BYTES", band)
    monkeypatch.setattr(kernels_conv, "MIN_BAND_ROWS", 1)
    rng = np.random.default_rng(band)
    x = rng.standard_normal(shape)
    weight = rng.standard_normal((5, shape[1], *kernel))
    got = kernels_conv.conv(
        kernels.to_channels_last(x),
        kernels_conv.conv_weights(weight, 1),
        None,
        stride=stride,
        padding=((1, 0), (0, 2)),
        dilation=dilation,
    )
    padded = F.pad(tensor(x), (0, 2, 1, 0))
    want = F.conv2d(padded, tensor(weight), stride=stride, dilation=dilation)
    close(got, want, "float64")


@pytest.mark.parametrize(
    ("out", "channels", "kernel", "stride", "groups"),
    [
        (8, 8, (3, 3), (1, 1), 8),  # depthwise
        (16, 8, (3, 3), (2, 2), 8),  # depthwise, multiplier 2
        (4, 16, (3, 3), (1, 1), 1),  # shifted: 2-D, stride 1, out ≤ C/2
        (6, 4, (3, 3), (1, 1), 1),  # im2col
        (6, 4, (1, 3), (1, 1), 2),  # grouped
        (5, 3, (3,), (1,), 1),  # 1-D
        (4, 2, (3, 2, 2), (1, 1, 1), 1),  # 3-D
    ],
)
def test_torch_weight_undoes_the_kernel_layout(
    out: int, channels: int, kernel: tuple[int, ...], stride: tuple[int, ...], groups: int
) -> None:
    """The ONNX exporter writes the executor's weights back in PyTorch's layout: a random
    PyTorch weight, laid out for the kernel the executor picks and back, is itself."""
    weight = np.random.default_rng(0).standard_normal((out, channels // groups, *kernel))
    shifted = kernels_conv.shifts(channels, out, kernel, stride, groups)
    matrix = kernels_conv.conv_weights(weight, groups, shifted=shifted).matrix
    back = kernels_conv.torch_weight(matrix, channels, out, kernel, stride, groups)
    np.testing.assert_array_equal(back, weight)
