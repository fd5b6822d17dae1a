"""``pixel_shuffle`` / ``pixel_unshuffle``: shapes and outputs against ``nn.PixelShuffle`` and
``nn.PixelUnshuffle``, errors by exact message."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

import convcost
from convcost.errors import SpecError
from convcost.executor.run import prepare
from convcost.explain import explain
from tests.conftest import require
from tests.test_explain import check_against_report, leaf_items


def _spec(shape: list[int], layers: list[dict[str, Any]]) -> convcost.Spec:
    return convcost.parse_spec(json.dumps({"input": shape, "layers": layers}))


@pytest.mark.parametrize(
    ("shape", "layer", "out"),
    [
        ([36, 5, 7], {"pixel_shuffle": {"factor": 3}}, (4, 15, 21)),  # 36 / 3² = 4; 5·3, 7·3
        ([3, 8, 12], {"pixel_unshuffle": {"factor": 4}}, (48, 2, 3)),  # 3·4² = 48; 8/4, 12/4
        ([5, 6, 6], {"pixel_shuffle": {"factor": 1}}, (5, 6, 6)),
    ],
)
def test_shapes_by_hand_and_no_cost(
    shape: list[int], layer: dict[str, Any], out: tuple[int, ...]
) -> None:
    report = convcost.analyze(_spec(shape, [layer]))
    assert report.output_shape == out
    assert (report.totals.params, report.totals.macs, report.totals.ops) == (0, 0, 0)


def test_receptive_field_of_unshuffle_is_a_stride_r_window() -> None:
    """pixel_unshuffle r gathers r×r blocks r apart: the field of a k=r, s=r conv (r = 2, j = 2),
    and pixel_shuffle then divides the jump by r again."""
    spec = _spec([4, 8, 8], [{"pixel_unshuffle": {"factor": 2}}, {"pixel_shuffle": {"factor": 2}}])
    first, second = convcost.analyze(spec).layers
    assert (first.receptive_field.size, first.receptive_field.jump) == ((2, 2), (2, 2))
    assert (second.receptive_field.size, second.receptive_field.jump) == ((2, 2), (1, 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "input: [6, 4, 4]\nlayers:\n  - pixel_shuffle: {factor: 2}\n",
            "net.yaml:3:5: layer pixel_shuffle1, field pixel_shuffle.factor: channels (6) must be divisible by factor² (2² = 4)",
        ),
        (
            "input: [8, 4, 6]\nlayers:\n  - pixel_unshuffle: {factor: 4}\n",
            "net.yaml:3:5: layer pixel_unshuffle1, field pixel_unshuffle.factor: size on axis W (6) must be divisible by factor (4)",
        ),
        (
            "input: [8, 4, 4, 4]\nlayers:\n  - pixel_shuffle: {factor: 2}\n",
            "net.yaml:3:5: layer pixel_shuffle1: pixel_shuffle needs a 2-D input [C, H, W], as PyTorch's, got [8, 4, 4, 4]",
        ),
        (
            "input: [8, 4, 4]\nlayers:\n  - pixel_shuffle: {factor: 0}\n",
            "net.yaml:3:29: layer pixel_shuffle1, field pixel_shuffle.factor: must be an integer >= 1, got 0",
        ),
        (
            "input: [8, 4, 4]\nlayers:\n  - pixel_unshuffle: {}\n",
            "net.yaml:3:5: layer pixel_unshuffle1, field pixel_unshuffle.factor: `factor` is required (an integer >= 1)",
        ),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        convcost.analyze_all(convcost.parse_spec(text, source="net.yaml"))
    assert str(caught.value) == message


def test_explain_values_are_the_engines() -> None:
    spec = _spec(
        [3, 8, 8],
        [
            {"conv": {"out": 12, "kernel": 3, "padding": 1}},
            {"pixel_shuffle": {"factor": 2}},
            {"pixel_unshuffle": {"factor": 4}},
        ],
    )
    assert sum(check_against_report(item) for item in leaf_items(explain(spec))) > 0


torch = require("torch")
require("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def configs(draw: Any) -> tuple[str, list[int], int]:
    kind = draw(st.sampled_from(["pixel_shuffle", "pixel_unshuffle"]))
    factor = draw(st.integers(1, 4))
    if kind == "pixel_shuffle":
        shape = [
            draw(st.integers(1, 3)) * factor**2,
            draw(st.integers(1, 6)),
            draw(st.integers(1, 6)),
        ]
    else:
        shape = [draw(st.integers(1, 5)), *(draw(st.integers(1, 4)) * factor for _ in range(2))]
    return kind, shape, factor


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(configs())
def test_shape_and_output_equal_torch(config: tuple[str, list[int], int]) -> None:
    """A permutation: the executor's output equals torch's bit for bit, every shape checked."""
    kind, shape, factor = config
    spec = _spec(shape, [{kind: {"factor": factor}}])
    module = (
        torch.nn.PixelShuffle(factor)
        if kind == "pixel_shuffle"
        else torch.nn.PixelUnshuffle(factor)
    )
    x = np.random.default_rng(factor).standard_normal((2, *shape))
    expected = module(torch.from_numpy(x)).numpy()
    assert convcost.analyze(spec).output_shape == expected.shape[1:]
    got = prepare(convcost.build(spec, spec.variants[0]), dtype="float64").output(x)
    np.testing.assert_array_equal(got, expected)


def test_espcn_against_torch() -> None:
    """ESPCN (Shi et al. 2016, r = 3): conv 5×5 64, tanh, conv 3×3 32, tanh, conv 3×3 r²·C,
    pixel_shuffle; parameters and output against the torch module."""
    spec = _spec(
        [1, 17, 17],
        [
            {"conv": {"out": 64, "kernel": 5, "padding": 2}},
            {"tanh": {}},
            {"conv": {"out": 32, "kernel": 3, "padding": 1}},
            {"tanh": {}},
            {"conv": {"out": 9, "kernel": 3, "padding": 1}},
            {"pixel_shuffle": {"factor": 3}},
        ],
    )
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 64, 5, padding=2),
        torch.nn.Tanh(),
        torch.nn.Conv2d(64, 32, 3, padding=1),
        torch.nn.Tanh(),
        torch.nn.Conv2d(32, 9, 3, padding=1),
        torch.nn.PixelShuffle(3),
    )
    report = convcost.analyze(spec)
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.output_shape == tuple(model(torch.zeros(1, 1, 17, 17)).shape[1:])
