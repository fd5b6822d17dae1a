"""``pad`` and ``crop``: shapes and outputs against ``F.pad`` and torch slicing, errors by exact
message."""

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


def _shape(shape: list[int], layer: dict[str, Any]) -> tuple[int, ...]:
    report = convcost.analyze(_spec(shape, [layer]))
    assert (report.totals.params, report.totals.macs, report.totals.ops) == (0, 0, 0)
    return report.output_shape


@pytest.mark.parametrize(
    ("shape", "layer", "out"),
    [
        ([3, 8, 8], {"pad": {"padding": 1}}, (3, 10, 10)),
        ([3, 8, 8], {"pad": {"padding": [[0, 1], 2], "mode": "reflect"}}, (3, 9, 12)),
        ([2, 5], {"pad": {"padding": [[3, 0]], "mode": "replicate"}}, (2, 8)),
        ([3, 8, 8], {"crop": {"crop": [[1, 2], 0]}}, (3, 5, 8)),
        ([3, 64, 64], {"crop": {"size": 56}}, (3, 56, 56)),
        ([2, 4, 6, 8], {"crop": {"size": [1, 6, 3]}}, (2, 1, 6, 3)),
    ],
)
def test_shapes_by_hand_and_no_cost(
    shape: list[int], layer: dict[str, Any], out: tuple[int, ...]
) -> None:
    assert _shape(shape, layer) == out


# torchvision's center_crop: crop_top = int(round((image_height - crop_height) / 2.0)), with
# Python's round (ties to even): 7 → 4 is offset round(1.5) = 2, 6 → 3 is round(1.5) = 2, 5 → 4
# is round(0.5) = 0, 9 → 4 is round(2.5) = 2, 64 → 56 is 4 (the original U-Net's skips)
@pytest.mark.parametrize(
    ("size", "target", "offset"), [(7, 4, 2), (6, 3, 2), (5, 4, 0), (9, 4, 2), (64, 56, 4)]
)
def test_centre_crop_offsets_follow_torchvision(size: int, target: int, offset: int) -> None:
    spec = _spec([1, size], [{"crop": {"size": target}}])
    x = np.arange(size, dtype=np.float64).reshape(1, 1, size)
    got = prepare(convcost.build(spec, spec.variants[0]), dtype="float64").output(x)
    np.testing.assert_array_equal(got[0, 0], np.arange(offset, offset + target))


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (
            "pad: {mode: reflect}",
            "net.yaml:3:5: layer pad1, field pad.padding: `padding` is required (an integer >= 0, or one per axis)",
        ),
        (
            "pad: {padding: 4, mode: reflect}",
            "net.yaml:3:5: layer pad1, field pad.padding: reflect padding (4, 4) on axis H must be smaller than the input (4), as PyTorch's",
        ),
        (
            "pad: {padding: 1, mode: replicate, value: 2}",
            "net.yaml:3:47: layer pad1, field pad.value: only constant padding takes a value (mode is replicate)",
        ),
        (
            "pad: {padding: same}",
            "net.yaml:3:20: layer pad1, field pad.padding: takes integers (one, per axis, or [before, after] pairs), got 'same'",
        ),
        (
            "pad: {padding: 1, mode: circular}",
            "net.yaml:3:29: layer pad1, field pad.mode: must be one of constant, reflect, replicate, got 'circular'",
        ),
        (
            "crop: {crop: 1, size: 2}",
            "net.yaml:3:27: layer crop1, field crop.size: give exactly one of crop and size, not both",
        ),
        (
            "crop: {}",
            "net.yaml:3:5: layer crop1, field crop.crop: give exactly one of crop (per side) and size (a centre crop)",
        ),
        (
            "crop: {crop: [[2, 2], 0]}",
            "net.yaml:3:5: layer crop1, field crop.crop: cropping 2 + 2 leaves nothing of axis H (4)",
        ),
        (
            "crop: {size: [4, 5]}",
            "net.yaml:3:5: layer crop1, field crop.size: size on axis W (5) is larger than the input (4)",
        ),
    ],
)
def test_errors(layer: str, message: str) -> None:
    text = f"input: [2, 4, 4]\nlayers:\n  - {layer}\n"
    with pytest.raises(SpecError) as caught:
        convcost.analyze_all(convcost.parse_spec(text, source="net.yaml"))
    assert str(caught.value) == message


def test_explain_values_are_the_engines() -> None:
    spec = _spec(
        [3, 8, 8],
        [
            {"pad": {"padding": [[1, 0], 2], "mode": "reflect"}},
            {"conv": {"out": 4, "kernel": 3}},
            {"crop": {"size": [5, 4]}},
            {"crop": {"crop": [0, [1, 1]]}},
        ],
    )
    assert sum(check_against_report(item) for item in leaf_items(explain(spec))) > 0


def test_crop_is_a_view_in_the_peak_memory_model() -> None:
    """A crop allocates nothing (a view, as torch's slicing): the peak is the input's 3·8·8 = 192
    elements and the relu's 3·6·6 = 108 (the cropped view keeps the input alive)."""
    spec = _spec([3, 8, 8], [{"crop": {"crop": 1}}, {"relu": {}}])
    assert convcost.analyze(spec).peak_activation_elements == 192 + 108


torch = require("torch")
require("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

F = torch.nn.functional


@st.composite
def pads(draw: Any) -> tuple[list[int], dict[str, Any]]:
    rank = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(1, 6), min_size=rank, max_size=rank))
    mode = draw(st.sampled_from(["constant", "reflect", "replicate"]))
    sides = []
    for n in sizes:
        top = n - 1 if mode == "reflect" else 4
        sides.append([draw(st.integers(0, top)), draw(st.integers(0, top))])
    layer: dict[str, Any] = {"padding": sides, "mode": mode}
    if mode == "constant" and draw(st.booleans()):
        layer["value"] = draw(st.sampled_from([-1.5, 0.25, 3.0]))
    return [draw(st.integers(1, 3)), *sizes], layer


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(pads())
def test_pad_equals_torch(config: tuple[list[int], dict[str, Any]]) -> None:
    shape, layer = config
    spec = _spec(shape, [{"pad": layer}])
    x = np.random.default_rng(0).standard_normal((2, *shape))
    flat = [side for pair in reversed(layer["padding"]) for side in pair]  # last axis first
    kwargs = {"value": layer["value"]} if "value" in layer else {}
    expected = F.pad(torch.from_numpy(x), flat, mode=layer["mode"], **kwargs).numpy()
    assert convcost.analyze(spec).output_shape == expected.shape[1:]
    got = prepare(convcost.build(spec, spec.variants[0]), dtype="float64").output(x)
    np.testing.assert_array_equal(got, expected)


@st.composite
def crops(draw: Any) -> tuple[list[int], list[list[int]]]:
    rank = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(1, 8), min_size=rank, max_size=rank))
    sides = []
    for n in sizes:
        before = draw(st.integers(0, n - 1))
        sides.append([before, draw(st.integers(0, n - 1 - before))])
    return [draw(st.integers(1, 3)), *sizes], sides


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(crops())
def test_crop_then_relu_equals_torch(config: tuple[list[int], list[list[int]]]) -> None:
    """A crop (a strided view of the owned input) followed by a relu, which runs in place on it.
    Oracle: torch's narrow of the same sides, then relu."""
    shape, sides = config
    spec = _spec(shape, [{"crop": {"crop": sides}}, {"relu": {}}])
    x = np.random.default_rng(1).standard_normal((2, *shape))
    expected = torch.from_numpy(x)
    for axis, (before, after) in enumerate(sides):
        expected = expected.narrow(2 + axis, before, shape[1 + axis] - before - after)
    expected = torch.relu(expected).numpy()
    assert convcost.analyze(spec).output_shape == expected.shape[1:]
    got = prepare(convcost.build(spec, spec.variants[0]), dtype="float64").output(x)
    np.testing.assert_array_equal(got, expected)


def test_a_unet_stage_runs_with_every_shape_confirmed() -> None:
    """The original U-Net's skip: unpadded convs, a centre crop of the skip to the upsampled
    size, concat; the crop's view feeds a conv, a pad feeds a pool (the runner checks every
    shape against the engine's)."""
    spec = convcost.parse_spec(
        "input: [1, 92, 92]\nlayers:\n"
        "  - conv: {out: 8, kernel: 3}\n"
        "  - concat:\n"
        "      skip: [{crop: {size: 84}}]\n"
        "      down:\n"
        "        - maxpool: {kernel: 2}\n"
        "        - conv: {out: 16, kernel: 3}\n"
        "        - conv_transpose: {out: 8, kernel: 2, stride: 2}\n"
        "        - crop: {crop: [[1, 1], [1, 3]]}\n"
        "        - pad: {padding: [0, [1, 1]], mode: replicate}\n"
        "  - conv: {out: 4, kernel: 3}\n"
        "  - pad: {padding: 1, mode: reflect}\n"
        "  - maxpool: {kernel: 2}\n"
        "  - upsample: {scale: 2, mode: bilinear}\n"
        "  - pixel_unshuffle: {factor: 2}\n"
    )
    network = convcost.build(spec, spec.variants[0])
    x = np.random.default_rng(0).standard_normal((2, 1, 92, 92))
    assert prepare(network, dtype="float64").output(x).shape == (2, 16, 42, 42)
