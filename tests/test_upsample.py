"""``upsample``: shapes and outputs against ``torch.nn.functional.interpolate``, counts by hand."""

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

MODES = {
    1: ("nearest", "linear"),
    2: ("nearest", "bilinear", "bicubic"),
    3: ("nearest", "trilinear"),
}


def _spec(shape: list[int], upsample: dict[str, Any]) -> convcost.Spec:
    return convcost.parse_spec(json.dumps({"input": shape, "layers": [{"upsample": upsample}]}))


def _analyze(shape: list[int], upsample: dict[str, Any]) -> convcost.Report:
    return convcost.analyze(_spec(shape, upsample))


# ops per sample = taps per output element · output elements (docs/cost-model.md): nearest 0,
# linear 2, bilinear 2·2 = 4, trilinear 2·2·2 = 8, bicubic 4·4 = 16
@pytest.mark.parametrize(
    ("shape", "upsample", "out", "ops"),
    [
        ([4, 8, 8], {"scale": 2}, (4, 16, 16), 0),
        ([4, 8, 8], {"scale": 2, "mode": "bilinear"}, (4, 16, 16), 4 * 4 * 16 * 16),
        ([4, 8, 8], {"size": [5, 12], "mode": "bicubic"}, (4, 5, 12), 16 * 4 * 5 * 12),
        ([3, 10], {"scale": 3, "mode": "linear", "align_corners": True}, (3, 30), 2 * 3 * 30),
        (
            [2, 3, 4, 5],
            {"scale": [1, 2, 3], "mode": "trilinear"},
            (2, 3, 8, 15),
            8 * 2 * 3 * 8 * 15,
        ),
        ([2, 3, 4, 5], {"size": 6}, (2, 6, 6, 6), 0),
    ],
)
def test_shape_and_ops_by_hand(
    shape: list[int], upsample: dict[str, Any], out: tuple[int, ...], ops: int
) -> None:
    report = _analyze(shape, upsample)
    assert report.output_shape == out
    assert (report.totals.params, report.totals.macs, report.totals.ops) == (0, 0, ops)


@pytest.mark.parametrize(
    ("shape", "upsample", "message"),
    [
        (
            [4, 8, 8],
            "{scale: 2, size: [4, 4]}",
            "net.yaml:3:32: layer upsample1, field upsample.size: give exactly one of scale and size, not both",
        ),
        (
            [4, 8, 8],
            "{mode: bilinear}",
            "net.yaml:3:5: layer upsample1, field upsample.scale: give exactly one of scale (a factor) and size (the output size)",
        ),
        (
            [4, 8, 8],
            "{scale: 2, align_corners: true}",
            "net.yaml:3:41: layer upsample1, field upsample.align_corners: only the interpolating modes take align_corners (not nearest)",
        ),
        (
            [4, 8, 8],
            "{scale: 2, mode: trilinear}",
            "net.yaml:3:5: layer upsample1, field upsample.mode: mode trilinear needs a 3-D input, got the 2-D shape [4, 8, 8]",
        ),
        (
            [4, 8],
            "{scale: 2, mode: bicubic}",
            "net.yaml:3:5: layer upsample1, field upsample.mode: mode bicubic needs a 2-D input, got the 1-D shape [4, 8]",
        ),
        (
            [4, 8, 8],
            "{scale: 2, mode: bilinar}",
            "net.yaml:3:32: layer upsample1, field upsample.mode: must be one of nearest, linear, bilinear, trilinear, bicubic, got 'bilinar'; did you mean 'bilinear'?",
        ),
        (
            [4, 8, 8],
            "{scale: 0}",
            "net.yaml:3:23: layer upsample1, field upsample.scale: must be an integer >= 1, got 0",
        ),
        (
            [4, 8, 8],
            "{size: [4, 4, 4]}",
            "net.yaml:3:22: layer upsample1, field upsample.size: needs one value per spatial axis (2 for a 2-D input), got 3",
        ),
        (
            [4, 2, 2],
            "{scale: 2}\n  - flatten: {}\n  - upsample: {scale: 2}",
            "net.yaml:5:5: layer upsample2: upsample needs a spatial input [C, ...], got the flat shape [64]",  # 4·(2·2)·(2·2)
        ),
    ],
)
def test_errors_name_the_field(shape: list[int], upsample: str, message: str) -> None:
    text = f"input: {shape}\nlayers:\n  - upsample: {upsample}\n"
    with pytest.raises(SpecError) as caught:
        convcost.analyze_all(convcost.parse_spec(text, source="net.yaml"))
    assert str(caught.value) == message


def test_explain_values_are_the_engines() -> None:
    spec = convcost.parse_spec(
        "input: [3, 8, 8]\nlayers:\n"
        "  - conv: {out: 4, kernel: 3, padding: 1}\n"
        "  - upsample: {scale: 2, mode: bilinear}\n"
        "  - upsample: {size: [20, 30], mode: bicubic, align_corners: true}\n"
        "  - upsample: {scale: [1, 2]}\n"
    )
    items = leaf_items(explain(spec))
    assert sum(check_against_report(item) for item in items) > 0


# ----- against PyTorch (hypothesis) ---------------------------------------------------------

torch = require("torch")
require("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

F = torch.nn.functional


@st.composite
def configs(draw: Any) -> tuple[list[int], dict[str, Any]]:
    rank = draw(st.integers(1, 3))
    shape = [
        draw(st.integers(1, 4)),
        *draw(st.lists(st.integers(1, 9), min_size=rank, max_size=rank)),
    ]
    mode = draw(st.sampled_from(MODES[rank]))
    upsample: dict[str, Any] = {"mode": mode}
    if draw(st.booleans()):
        upsample["scale"] = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    else:
        upsample["size"] = draw(st.lists(st.integers(1, 19), min_size=rank, max_size=rank))
    if mode != "nearest":
        upsample["align_corners"] = draw(st.booleans())
    return shape, upsample


def _torch(x: Any, upsample: dict[str, Any]) -> Any:
    scale = upsample.get("scale")
    return F.interpolate(
        x,
        size=upsample.get("size"),
        scale_factor=[float(s) for s in scale] if scale else None,
        mode=upsample["mode"],
        align_corners=upsample.get("align_corners"),
    )


@settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(configs())
def test_shape_and_output_equal_torch(config: tuple[list[int], dict[str, Any]]) -> None:
    """The engine's shape and the executor's float64 output (every shape checked by the runner)
    against F.interpolate; nearest must be bit-identical (a gather)."""
    shape, upsample = config
    spec = _spec(shape, upsample)
    report = convcost.analyze(spec)
    x = np.random.default_rng(len(shape)).standard_normal((2, *shape))
    expected = _torch(torch.from_numpy(x), upsample).numpy()
    assert report.output_shape == expected.shape[1:]
    got = prepare(convcost.build(spec, spec.variants[0]), dtype="float64").output(x)
    tolerance = 0.0 if upsample["mode"] == "nearest" else 1e-12
    np.testing.assert_allclose(got, expected, rtol=0, atol=tolerance)


@settings(
    max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(configs())
def test_float32_output_is_within_float32_rounding_of_torch(
    config: tuple[list[int], dict[str, Any]],
) -> None:
    """In float32 the tables are computed in float32 as PyTorch's opmath: nearest equal, the
    rest within rounding."""
    shape, upsample = config
    spec = _spec(shape, upsample)
    x = np.random.default_rng(1).standard_normal((2, *shape)).astype(np.float32)
    expected = _torch(torch.from_numpy(x), upsample).numpy()
    got = prepare(convcost.build(spec, spec.variants[0]), dtype="float32").output(x)
    tolerance = 0.0 if upsample["mode"] == "nearest" else 1e-5
    np.testing.assert_allclose(got, expected, rtol=0, atol=tolerance)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nearest_on_sizes_where_rounding_decides(dtype: str) -> None:
    """PyTorch's nearest computes ⌊o·(in/out)⌋ in the tensor's float type: for 2 → 82, output 41
    reads input 0 in float32 (41·float32(2/82) < 1) and input 1 in float64; both are followed."""
    x = np.random.default_rng(0).standard_normal((1, 1, 2)).astype(dtype)
    spec = _spec([1, 2], {"size": [82]})
    got = prepare(convcost.build(spec, spec.variants[0]), dtype=dtype).output(x)
    expected = F.interpolate(torch.from_numpy(x), size=82).numpy()
    assert expected[0, 0, 41] == x[0, 0, 0 if dtype == "float32" else 1]
    np.testing.assert_array_equal(got, expected)
