"""``leaky_relu``, ``prelu`` and ``elu`` (convcost/layers/rectifiers.py) against PyTorch.

Shapes and parameter counts against ``torch.nn`` modules on hypothesis-drawn inputs of rank 1 to
3 and on flat features; the NumPy forward pass against ``torch.nn.functional`` in float64 (1e-12)
and float32 (1e-6), in place and not; ops, explain, and the one-line errors of bad fields.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convcost
from convcost.errors import SpecError
from convcost.executor import execute
from convcost.executor.kernels import to_channels_first, to_channels_last
from convcost.executor.ops.base import Initializer
from convcost.explain import explain
from convcost.layers.base import Layer
from convcost.layers.rectifiers import Elu, LeakyRelu, Prelu
from tests.test_explain import check_against_report, leaf_items

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch
SETTINGS = settings(max_examples=150, deadline=None, database=None)


@st.composite
def shapes(draw: st.DrawFn) -> list[int]:
    """[C, *spatial] with 1 to 3 spatial axes."""
    rank = draw(st.integers(1, 3))
    return [draw(st.integers(1, 8)), *(draw(st.integers(1, 6)) for _ in range(rank))]


def modules(layer: dict[str, Any], channels: int) -> Any:
    """The torch module of one convcost layer entry on ``channels`` channels (or features)."""
    match layer:
        case {"leaky_relu": {"slope": slope}}:
            return torch.nn.LeakyReLU(slope)
        case {"prelu": {"shared": shared}}:
            return torch.nn.PReLU(1 if shared else channels)
        case {"elu": {"alpha": alpha}}:
            return torch.nn.ELU(alpha)
    raise AssertionError(layer)


HUNDREDTHS = st.integers(-200, 300).map(lambda n: n / 100)
"""Numbers that JSON writes as YAML 1.1 reads them (``1e-05`` would be a string)."""
LAYERS = st.one_of(
    st.builds(lambda s: {"leaky_relu": {"slope": s}}, HUNDREDTHS),
    st.builds(lambda s: {"prelu": {"shared": s}}, st.booleans()),
    st.builds(lambda a: {"elu": {"alpha": a}}, HUNDREDTHS),
)


@SETTINGS
@given(shape=shapes(), layer=LAYERS, flat=st.booleans())
def test_shape_and_parameters_equal_torch(
    shape: list[int], layer: dict[str, Any], flat: bool
) -> None:
    layers = [{"flatten": {}}, layer] if flat else [layer]
    report = convcost.analyze(convcost.parse_spec(json.dumps({"input": shape, "layers": layers})))
    features = int(np.prod(shape)) if flat else shape[0]
    module = torch.nn.Sequential(*([torch.nn.Flatten()] if flat else []), modules(layer, features))
    out = module(torch.zeros(1, *shape))
    assert report.output_shape == tuple(out.shape[1:])
    assert report.totals.params == sum(p.numel() for p in module.parameters())
    assert report.totals.macs == 0


def test_ops_are_one_per_element() -> None:
    spec = convcost.parse_spec(
        "input: [16, 6, 6]\nlayers:\n  - leaky_relu: {}\n  - prelu: {}\n  - elu: {}\n"
    )
    # 16·6·6 = 576 elements, one op each (docs/cost-model.md: every activation)
    assert [layer.cost.ops for layer in convcost.analyze(spec).layers] == [576, 576, 576]


def test_defaults_are_pytorchs_except_prelus_sharing() -> None:
    spec = convcost.parse_spec(
        "input: [16, 6, 6]\nlayers:\n  - leaky_relu: {}\n  - prelu: {}\n  - elu: {}\n"
    )
    network = convcost.build(spec, spec.variants[0])
    layers = [node.layer for node in network.nodes]  # type: ignore[attr-defined]
    assert layers == [LeakyRelu(slope=0.01), Prelu(shared=False), Elu(alpha=1.0)]
    # nn.LeakyReLU's negative_slope and nn.ELU's alpha defaults; nn.PReLU() shares one slope
    assert torch.nn.LeakyReLU().negative_slope == 0.01
    assert torch.nn.ELU().alpha == 1.0
    assert torch.nn.PReLU().weight.numel() == 1


@st.composite
def tensors(draw: st.DrawFn) -> tuple[Any, str]:
    """(N, C, *spatial) or flat (N, F), standard normal times a drawn scale, float32 or 64."""
    rank = draw(st.integers(0, 3))
    shape = (
        draw(st.integers(1, 2)),
        draw(st.integers(1, 5)),
        *(draw(st.integers(1, 5)) for _ in range(rank)),
    )
    dtype = draw(st.sampled_from(["float32", "float64"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    scale = draw(st.sampled_from([1.0, 4.0, 30.0]))
    return (rng.standard_normal(shape) * scale).astype(dtype), dtype


def run(layer: Layer, x: Any, owned: bool, slopes: Any = None) -> Any:
    """The layer's executor op on channels-first ``x``; returns channels-first output."""
    sample = (x.shape[1], *x.shape[2:])
    prepared = layer.op().prepare(sample, Initializer(np.random.default_rng(0), x.dtype))
    if slopes is not None:
        (array,) = prepared.arrays
        array[...] = slopes  # the op reads its own slopes: set random ones (layout matters)
    source = to_channels_last(x).copy()
    y, y_owned = prepared.forward(source, owned)
    assert y_owned
    assert y.dtype == x.dtype
    assert (y is source) == owned  # in place exactly when the runner owns the input
    return to_channels_first(y)


def close(got: Any, expected: Any, dtype: str) -> None:
    want = expected.detach().numpy()
    tolerance = 1e-12 if dtype == "float64" else 1e-6
    np.testing.assert_allclose(got, want, rtol=tolerance, atol=tolerance)


@SETTINGS
@given(case=tensors(), slope=st.floats(-2, 2), owned=st.booleans())
def test_leaky_relu_matches_torch(case: tuple[Any, str], slope: float, owned: bool) -> None:
    x, dtype = case
    got = run(LeakyRelu(slope=slope), x, owned)
    close(got, F.leaky_relu(torch.from_numpy(x), slope), dtype)


@SETTINGS
@given(case=tensors(), shared=st.booleans(), owned=st.booleans(), seed=st.integers(0, 99))
def test_prelu_matches_torch(case: tuple[Any, str], shared: bool, owned: bool, seed: int) -> None:
    x, dtype = case
    slopes = np.random.default_rng(seed).uniform(-1, 1, 1 if shared else x.shape[1]).astype(dtype)
    got = run(Prelu(shared=shared), x, owned, slopes)
    close(got, F.prelu(torch.from_numpy(x), torch.from_numpy(slopes)), dtype)


def test_prelu_starts_at_pytorchs_slope() -> None:
    prepared = (
        Prelu(shared=False)
        .op()
        .prepare((3, 4, 4), Initializer(np.random.default_rng(0), np.dtype("float64")))
    )
    (slopes,) = prepared.arrays
    np.testing.assert_array_equal(slopes, torch.nn.PReLU(3).weight.detach().numpy())


@SETTINGS
@given(case=tensors(), alpha=st.floats(0, 3), owned=st.booleans())
def test_elu_matches_torch(case: tuple[Any, str], alpha: float, owned: bool) -> None:
    x, dtype = case
    got = run(Elu(alpha=alpha), x, owned)
    close(got, F.elu(torch.from_numpy(x), alpha), dtype)


SPEC = """
input: [8, 6, 5]
layers:
  - conv: {out: 16, kernel: 3, padding: 1}
  - leaky_relu: {slope: 0.2}
  - prelu: {}
  - prelu: {shared: true}
  - elu: {alpha: 0.5}
  - global_avgpool: {}
  - flatten: {}
  - prelu: {}
  - leaky_relu: {}
  - elu: {}
"""


def test_execute_confirms_every_shape_and_parameter_count() -> None:
    spec = convcost.parse_spec(SPEC)
    run_ = execute(convcost.build(spec, spec.variants[0]), batch=2, dtype="float64")
    assert len(run_.layers) == 10


def test_explain_values_are_the_engines() -> None:
    items = leaf_items(explain(convcost.parse_spec(SPEC)))
    for item in items:
        check_against_report(item)
    texts = {item.path: [s.formula for s in item.steps] for item in items}
    assert texts["prelu1"][0] == "C"  # a slope per channel
    assert texts["prelu2"][0] == "1"  # shared
    assert texts["prelu3"][0] == "F"  # per feature on a flat input


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "leaky_relu: {slope: .inf}",
            "<string>:3:25: layer leaky_relu1, field leaky_relu.slope: "
            "must be a number from -1000.0 to 1000.0, got .inf",
        ),
        (
            "leaky_relu: {negative_slope: 0.1}",
            "<string>:3:18: layer leaky_relu1, field leaky_relu.negative_slope: "
            "unknown field 'negative_slope' for leaky_relu; allowed: slope",
        ),
        (
            "prelu: {shared: 1}",
            "<string>:3:21: layer prelu1, field prelu.shared: must be true or false, got 1",
        ),
        (
            "elu: {alpha: -2000}",
            "<string>:3:18: layer elu1, field elu.alpha: "
            "must be a number from -1000.0 to 1000.0, got -2000",
        ),
    ],
)
def test_bad_fields_are_one_line_errors(entry: str, message: str) -> None:
    with pytest.raises(SpecError, match=f"^{re.escape(message)}$"):
        convcost.analyze(convcost.parse_spec(f"input: [4, 8, 8]\nlayers:\n  - {entry}\n"))
