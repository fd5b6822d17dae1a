"""Shapes, parameters and MACs against PyTorch, on random configurations (hypothesis).

Each example builds a one-layer spec and the equivalent ``torch.nn`` module, runs the module on
a zero tensor and compares: the output shape, ``sum(p.numel() for p in module.parameters())``
and the MACs (conv: output elements · C_in/g · ∏k; conv_transpose: input elements · C_out/g ·
∏k, the convention of docs/cost-model.md; linear: in · out; pools: 0). Configurations are drawn
a little beyond the valid range (kernels wider than the input, output_padding up to the limit,
padding above half the kernel, groups that do not divide) so that both sides must also agree on
what they reject: PyTorch raising ⇔ convcost raising a SpecError (exit 2 from the CLI).

Examples in total: 500 conv + 300 conv_transpose + 200 depthwise/pointwise/separable + 350
windowed pools + 100 adaptive/global pools + 50 linear = 1,500, of which about 1,200 are valid
configurations (measured with a counting wrapper around ``measure``; the rest are rejections
that both sides must agree on).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import require

torch = require("torch")
require("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import convcost  # noqa: E402
from convcost.errors import SpecError  # noqa: E402

pytestmark = [
    pytest.mark.torch,
    # PyTorch's note that 'same' with an even kernel copies the input: not our concern
    pytest.mark.filterwarnings("ignore:Using padding='same'"),
]

torch.set_num_threads(1)


def examples(n: int) -> Any:
    return settings(
        max_examples=n,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


@dataclass(frozen=True)
class Outcome:
    shape: tuple[int, ...]
    params: int
    macs: int


def predict(input_shape: list[int], layers: list[dict[str, Any]]) -> Outcome | None:
    """convcost's prediction, or ``None`` when it rejects the spec (with a SpecError)."""
    text = json.dumps({"input": input_shape, "layers": layers})  # JSON is YAML flow style
    try:
        report = convcost.analyze(convcost.parse_spec(text))
    except SpecError:
        return None
    return Outcome(report.output_shape, report.totals.params, report.totals.macs)


def measure(input_shape: list[int], make: Any, macs: Any) -> Outcome | None:
    """PyTorch's answer, or ``None`` when it rejects the configuration (construction or forward)."""
    try:
        module = make()
        with torch.no_grad():
            out = module(torch.zeros(1, *input_shape))
    except (RuntimeError, ValueError):
        return None
    shape = tuple(out.shape[1:])
    if 0 in shape:
        # ConvTranspose returns an empty tensor for a computed size of 0 where other layers
        # raise; convcost rejects every output size below 1 (docs/spec-format.md, Errors)
        return None
    params = sum(p.numel() for p in module.parameters())
    return Outcome(shape, params, macs(shape))


def agree(input_shape: list[int], layers: list[dict[str, Any]], make: Any, macs: Any) -> None:
    expected = measure(input_shape, make, macs)
    got = predict(input_shape, layers)
    assert got == expected, f"input {input_shape}, layers {layers}"


NN = {
    "conv": (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d),
    "conv_transpose": (
        torch.nn.ConvTranspose1d,
        torch.nn.ConvTranspose2d,
        torch.nn.ConvTranspose3d,
    ),
    "maxpool": (torch.nn.MaxPool1d, torch.nn.MaxPool2d, torch.nn.MaxPool3d),
    "avgpool": (torch.nn.AvgPool1d, torch.nn.AvgPool2d, torch.nn.AvgPool3d),
    "adaptive_avgpool": (
        torch.nn.AdaptiveAvgPool1d,
        torch.nn.AdaptiveAvgPool2d,
        torch.nn.AdaptiveAvgPool3d,
    ),
    "adaptive_maxpool": (
        torch.nn.AdaptiveMaxPool1d,
        torch.nn.AdaptiveMaxPool2d,
        torch.nn.AdaptiveMaxPool3d,
    ),
    "pad": (torch.nn.ConstantPad1d, torch.nn.ConstantPad2d, torch.nn.ConstantPad3d),
}


@st.composite
def inputs(draw: Any, *, max_channels: int = 8) -> list[int]:
    """[C, *spatial] with 1 to 3 spatial axes; 3-D inputs stay small to keep torch fast."""
    rank = draw(st.integers(1, 3))
    biggest = {1: 24, 2: 14, 3: 8}[rank]
    # mostly sizes that fit the kernels drawn below; sometimes tiny ones, which may not
    size = st.one_of(st.integers(biggest // 2, biggest), st.integers(1, biggest))
    sizes = draw(st.lists(size, min_size=rank, max_size=rank))
    return [draw(st.integers(1, max_channels)), *sizes]


def per_axis(draw: Any, rank: int, values: Any) -> tuple[Any, list[int]]:
    """A spec value (an int, or a list per axis) and the per-axis list it stands for."""
    if draw(st.booleans()):
        value = draw(values)
        return value, [value] * rank
    listed = draw(st.lists(values, min_size=rank, max_size=rank))
    return listed, listed


def divisor(draw: Any, n: int) -> int:
    return draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))


# ---------------------------------------------------------------------------------------------
# conv


@examples(500)
@given(data=st.data(), shape=inputs())
def test_conv(data: Any, shape: list[int]) -> None:
    draw = data.draw
    rank = len(shape) - 1
    c_in = shape[0]
    # groups usually divide both; sometimes not, and both sides must reject
    groups = divisor(draw, c_in) if draw(st.integers(0, 9)) else draw(st.integers(1, 4))
    out = draw(st.integers(1, 4)) * (groups if draw(st.integers(0, 9)) else 1)
    kernel_spec, kernel = per_axis(draw, rank, st.integers(1, 5))
    stride_spec, stride = per_axis(draw, rank, st.integers(1, 3))
    dilation_spec, dilation = per_axis(draw, rank, st.integers(1, 3))
    bias = draw(st.booleans())
    mode = draw(st.sampled_from(["int", "list", "pairs", "same", "valid"]))
    pad_module: Any = None
    if mode == "int":
        padding_spec: Any = draw(st.integers(0, 3))
        torch_padding: Any = padding_spec
    elif mode == "list":
        padding_spec = draw(st.lists(st.integers(0, 3), min_size=rank, max_size=rank))
        torch_padding = tuple(padding_spec)
    elif mode == "pairs":
        # [before, after] per axis: PyTorch's conv has no such option; pad explicitly first
        padding_spec = draw(
            st.lists(
                st.lists(st.integers(0, 3), min_size=2, max_size=2), min_size=rank, max_size=rank
            )
        )
        # ConstantPadNd takes (last axis before, after, previous axis before, after, …)
        flat = [p for pair in reversed(padding_spec) for p in pair]
        pad_module = NN["pad"][rank - 1](tuple(flat), 0.0)
        torch_padding = 0
    else:
        padding_spec = torch_padding = mode
        if mode == "same" and draw(st.integers(0, 3)):
            stride_spec, stride = 1, [1] * rank  # 'same' needs stride 1: mostly keep to it
    layer = {
        "out": out,
        "kernel": kernel_spec,
        "stride": stride_spec,
        "padding": padding_spec,
        "dilation": dilation_spec,
        "groups": groups,
        "bias": bias,
    }

    def make() -> Any:
        conv = NN["conv"][rank - 1](
            c_in,
            out,
            tuple(kernel),
            stride=tuple(stride),
            padding=torch_padding,
            dilation=tuple(dilation),
            groups=groups,
            bias=bias,
        )
        return conv if pad_module is None else torch.nn.Sequential(pad_module, conv)

    def macs(out_shape: tuple[int, ...]) -> int:
        return math.prod(out_shape) * (c_in // groups) * math.prod(kernel)

    agree(shape, [{"conv": layer}], make, macs)


# ---------------------------------------------------------------------------------------------
# conv_transpose


@examples(300)
@given(data=st.data(), shape=inputs())
def test_conv_transpose(data: Any, shape: list[int]) -> None:
    draw = data.draw
    rank = len(shape) - 1
    c_in = shape[0]
    groups = divisor(draw, c_in) if draw(st.integers(0, 9)) else draw(st.integers(1, 4))
    out = draw(st.integers(1, 3)) * groups
    _, kernel = per_axis(draw, rank, st.integers(1, 4))
    _, stride = per_axis(draw, rank, st.integers(1, 3))
    _, dilation = per_axis(draw, rank, st.integers(1, 3))
    _, padding = per_axis(draw, rank, st.integers(0, 3))
    # PyTorch needs output_padding < max(stride, dilation): sometimes draw the limit itself
    output_padding = [
        draw(st.integers(0, max(s, d) - (1 if draw(st.integers(0, 9)) else 0)))
        for s, d in zip(stride, dilation, strict=True)
    ]
    bias = draw(st.booleans())
    layer = {
        "out": out,
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "output_padding": output_padding,
        "dilation": dilation,
        "groups": groups,
        "bias": bias,
    }

    def make() -> Any:
        return NN["conv_transpose"][rank - 1](
            c_in,
            out,
            tuple(kernel),
            stride=tuple(stride),
            padding=tuple(padding),
            output_padding=tuple(output_padding),
            groups=groups,
            bias=bias,
            dilation=tuple(dilation),
        )

    def macs(out_shape: tuple[int, ...]) -> int:
        return math.prod(shape) * (out // groups) * math.prod(kernel)

    agree(shape, [{"conv_transpose": layer}], make, macs)


# ---------------------------------------------------------------------------------------------
# depthwise, pointwise, separable


@examples(200)
@given(data=st.data(), shape=inputs())
def test_depthwise_pointwise_separable(data: Any, shape: list[int]) -> None:
    draw = data.draw
    rank = len(shape) - 1
    c = shape[0]
    conv = NN["conv"][rank - 1]
    kind = draw(st.sampled_from(["depthwise", "pointwise", "separable"]))
    bias = draw(st.booleans())
    if kind == "pointwise":
        groups = divisor(draw, c)
        out = draw(st.integers(1, 4)) * groups
        layer: dict[str, Any] = {"out": out, "groups": groups, "bias": bias}

        def make() -> Any:
            return conv(c, out, 1, groups=groups, bias=bias)

        def macs(out_shape: tuple[int, ...]) -> int:
            return math.prod(out_shape) * (c // groups)

        agree(shape, [{kind: layer}], make, macs)
        return
    kernel = draw(st.integers(1, 5))
    stride = draw(st.integers(1, 3))
    dilation = draw(st.integers(1, 2))
    padding = draw(st.one_of(st.integers(0, 2), st.just("same")))
    multiplier = draw(st.integers(1, 3))
    mid = c * multiplier
    layer = {
        "kernel": kernel,
        "stride": stride,
        "dilation": dilation,
        "padding": padding,
        "multiplier": multiplier,
        "bias": bias,
    }

    def depthwise() -> Any:
        return conv(
            c, mid, kernel, stride=stride, padding=padding, dilation=dilation, groups=c, bias=bias
        )

    if kind == "depthwise":

        def macs(out_shape: tuple[int, ...]) -> int:
            return math.prod(out_shape) * kernel**rank

        agree(shape, [{kind: layer}], depthwise, macs)
        return
    out = draw(st.integers(1, 6))
    layer["out"] = out

    def make_separable() -> Any:
        return torch.nn.Sequential(depthwise(), conv(mid, out, 1, bias=bias))

    def separable_macs(out_shape: tuple[int, ...]) -> int:
        # depthwise on the same spatial output as the pointwise, then mid -> out per position
        positions = math.prod(out_shape[1:])
        return positions * mid * kernel**rank + positions * mid * out

    agree(shape, [{kind: layer}], make_separable, separable_macs)


# ---------------------------------------------------------------------------------------------
# pools


@examples(350)
@given(data=st.data(), shape=inputs())
def test_windowed_pools(data: Any, shape: list[int]) -> None:
    draw = data.draw
    rank = len(shape) - 1
    kind = draw(st.sampled_from(["maxpool", "avgpool"]))
    kernel_spec, kernel = per_axis(draw, rank, st.integers(1, 5))
    layer: dict[str, Any] = {"kernel": kernel_spec}
    options: dict[str, Any] = {}
    if draw(st.booleans()):
        stride_spec, stride = per_axis(draw, rank, st.integers(1, 3))
        layer["stride"] = stride_spec
        options["stride"] = tuple(stride)
    # at most kernel // 2 (PyTorch's limit); sometimes one more, which both must reject
    padding = [draw(st.integers(0, k // 2 + (0 if draw(st.integers(0, 9)) else 1))) for k in kernel]
    layer["padding"] = padding
    options["padding"] = tuple(padding)
    if kind == "maxpool" and draw(st.booleans()):
        _, dilation = per_axis(draw, rank, st.integers(1, 3))
        layer["dilation"] = dilation
        options["dilation"] = tuple(dilation)
    ceil_mode = draw(st.booleans())
    layer["ceil_mode"] = ceil_mode

    def make() -> Any:
        return NN[kind][rank - 1](tuple(kernel), ceil_mode=ceil_mode, **options)

    agree(shape, [{kind: layer}], make, lambda out_shape: 0)


@examples(100)
@given(data=st.data(), shape=inputs())
def test_adaptive_and_global_pools(data: Any, shape: list[int]) -> None:
    draw = data.draw
    rank = len(shape) - 1
    kind = draw(
        st.sampled_from(
            ["adaptive_avgpool", "adaptive_maxpool", "global_avgpool", "global_maxpool"]
        )
    )
    if kind.startswith("global"):
        size = [1] * rank
        layer: dict[str, Any] = {}
        op = kind.removeprefix("global_")
    else:
        size_spec, size = per_axis(draw, rank, st.integers(1, 8))
        layer = {"size": size_spec}
        op = kind.removeprefix("adaptive_")

    def make() -> Any:
        return NN[f"adaptive_{op}"][rank - 1](tuple(size))

    agree(shape, [{kind: layer}], make, lambda out_shape: 0)


# ---------------------------------------------------------------------------------------------
# linear


@examples(50)
@given(shape=inputs(), out=st.integers(1, 64), bias=st.booleans())
def test_flatten_linear(shape: list[int], out: int, bias: bool) -> None:
    features = math.prod(shape)

    def make() -> Any:
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(features, out, bias=bias))

    layers = [{"flatten": {}}, {"linear": {"out": out, "bias": bias}}]
    agree(shape, layers, make, lambda out_shape: features * out)


def test_linear_without_flatten_is_rejected_where_torch_would_misread_it() -> None:
    # nn.Linear on [C, H, W] silently acts on the last axis only; convcost asks for a flatten
    assert predict([8, 1, 1], [{"linear": {"out": 4}}]) is None


# The rejections the random tests reach by chance, pinned: both sides refuse each one.
REJECTED = [
    # output size below 1: 4 + 0 − 7 < 0
    ([3, 4, 4], {"conv": {"out": 2, "kernel": 7}}, lambda: torch.nn.Conv2d(3, 2, 7)),
    # 'same' with stride 2
    (
        [3, 8, 8],
        {"conv": {"out": 2, "kernel": 3, "stride": 2, "padding": "same"}},
        lambda: torch.nn.Conv2d(3, 2, 3, stride=2, padding="same"),
    ),
    # groups must divide the input channels
    (
        [3, 8, 8],
        {"conv": {"out": 4, "kernel": 3, "groups": 2}},
        lambda: torch.nn.Conv2d(3, 4, 3, groups=2),
    ),
    # pool padding above half the kernel (also for a dilated maxpool)
    ([3, 8, 8], {"maxpool": {"kernel": 2, "padding": 2}}, lambda: torch.nn.MaxPool2d(2, padding=2)),
    (
        [3, 9, 9],
        {"maxpool": {"kernel": 3, "dilation": 2, "padding": 2}},
        lambda: torch.nn.MaxPool2d(3, dilation=2, padding=2),
    ),
    ([3, 8], {"avgpool": {"kernel": 3, "padding": 2}}, lambda: torch.nn.AvgPool1d(3, padding=2)),
    # pool window wider than the input
    ([3, 2, 2], {"maxpool": {"kernel": 3}}, lambda: torch.nn.MaxPool2d(3)),
    # AvgPool3d checks the input against the kernel before padding
    (
        [1, 1, 4, 4],
        {"avgpool": {"kernel": 2, "padding": 1}},
        lambda: torch.nn.AvgPool3d(2, padding=1),
    ),
    # output_padding must be below max(stride, dilation)
    (
        [2, 4, 4],
        {"conv_transpose": {"out": 2, "kernel": 3, "stride": 2, "output_padding": 2}},
        lambda: torch.nn.ConvTranspose2d(2, 2, 3, stride=2, output_padding=2),
    ),
]


@pytest.mark.parametrize(("shape", "layer", "make"), REJECTED)
def test_both_reject(shape: list[int], layer: dict[str, Any], make: Any) -> None:
    assert measure(shape, make, lambda out_shape: 0) is None
    assert predict(shape, [layer]) is None
