"""``mish`` and ``gelu: {approximate: tanh}`` (convcost/layers/activation.py) against PyTorch.

Shapes on hypothesis-drawn inputs of rank 1 to 3 and flat; the NumPy kernels against
``torch.nn.functional.mish`` / ``gelu(approximate='tanh')`` in float64 (1e-12) and float32
(1e-5 relative, 1e-6 absolute), in place and not; today's ``gelu`` unchanged; explain; errors.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import convcost
from convcost.cli import app
from convcost.errors import SpecError
from convcost.executor import execute
from convcost.executor.kernels import to_channels_first, to_channels_last
from convcost.executor.ops.activation import ACTIVATIONS
from convcost.explain import explain
from convcost.layers.activation import Activation, Function
from tests.test_explain import check_against_report, leaf_items
from tests.test_rectifiers import shapes, tensors

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch
SETTINGS = settings(max_examples=150, deadline=None, database=None)

LAYERS = {
    "mish": ({"mish": {}}, torch.nn.Mish()),
    "gelu tanh": ({"gelu": {"approximate": "tanh"}}, torch.nn.GELU(approximate="tanh")),
    "gelu none": ({"gelu": {"approximate": "none"}}, torch.nn.GELU()),
}


@pytest.mark.parametrize("name", list(LAYERS))
@SETTINGS
@given(shape=shapes(), flat=st.booleans())
def test_shape_equals_torch(name: str, shape: list[int], flat: bool) -> None:
    layer, module = LAYERS[name]
    layers = [{"flatten": {}}, layer] if flat else [layer]
    report = convcost.analyze(convcost.parse_spec(json.dumps({"input": shape, "layers": layers})))
    out = torch.nn.Sequential(*([torch.nn.Flatten()] if flat else []), module)(
        torch.zeros(1, *shape)
    )
    assert report.output_shape == tuple(out.shape[1:])
    assert (report.totals.params, report.totals.macs) == (0, 0)


def test_gelu_reads_approximate_and_keeps_its_default() -> None:
    spec = convcost.parse_spec(
        "input: [16, 6, 6]\nlayers:\n  - gelu: {}\n  - gelu: {approximate: none}\n"
        "  - gelu: {approximate: tanh}\n  - mish: {}\n"
    )
    network = convcost.build(spec, spec.variants[0])
    functions = [node.layer.function for node in network.nodes]  # type: ignore[attr-defined]
    assert functions == [Function.GELU, Function.GELU, Function.GELU_TANH, Function.MISH]
    report = convcost.analyze(spec)
    # the spec kind stays `gelu`; 16·6·6 = 576 elements, one op each (docs/cost-model.md)
    assert [layer.kind for layer in report.layers] == ["gelu", "gelu", "gelu", "mish"]
    assert [layer.cost.ops for layer in report.layers] == [576] * 4


KERNELS = {
    Function.MISH: F.mish,
    Function.GELU_TANH: lambda x: F.gelu(x, approximate="tanh"),
}


@pytest.mark.parametrize("function", list(KERNELS), ids=lambda f: f.value)
@SETTINGS
@given(case=tensors(), inplace=st.booleans())
def test_kernel_matches_torch(function: Function, case: tuple[Any, str], inplace: bool) -> None:
    x, dtype = case
    source = to_channels_last(x).copy()
    got = ACTIVATIONS[function](source, inplace=inplace)
    assert got.dtype == x.dtype
    assert (got is source) == inplace
    expected = KERNELS[function](torch.from_numpy(x)).numpy()
    if dtype == "float64":
        np.testing.assert_allclose(to_channels_first(got), expected, rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_allclose(to_channels_first(got), expected, rtol=1e-5, atol=1e-6)


def test_kernels_keep_special_values() -> None:
    # as PyTorch: ±1e4 saturate, 0 stays 0, NaN propagates, and −inf·0 is NaN for both
    x = np.array([-np.inf, -1e4, 0.0, 1e4, np.inf, np.nan])
    for function, theirs in KERNELS.items():
        with np.errstate(invalid="ignore"):
            got = ACTIVATIONS[function](x.copy())
        np.testing.assert_array_equal(got, theirs(torch.from_numpy(x)).numpy())


SPEC = """
input: [8, 6, 5]
layers:
  - conv: {out: 16, kernel: 3, padding: 1}
  - gelu: {approximate: tanh}
  - mish: {}
  - gelu: {}
  - global_avgpool: {}
  - flatten: {}
  - mish: {}
  - gelu: {approximate: tanh}
"""


def test_execute_confirms_every_shape() -> None:
    spec = convcost.parse_spec(SPEC)
    run = execute(convcost.build(spec, spec.variants[0]), batch=2, dtype="float64")
    assert len(run.layers) == 8


def test_explain_values_are_the_engines_and_name_the_form() -> None:
    items = leaf_items(explain(convcost.parse_spec(SPEC)))
    assert sum(check_against_report(item) for item in items) > 0
    assert [item.settings for item in items[1:4]] == ["approximate tanh", "", ""]
    assert Activation(function=Function.GELU_TANH).kind == "gelu"


def test_bad_approximate_is_a_one_line_error() -> None:
    message = (
        "<string>:3:25: layer gelu1, field gelu.approximate: "
        "must be one of none, tanh, got 'tan'; did you mean 'tanh'?"
    )
    with pytest.raises(SpecError, match=f"^{re.escape(message)}$"):
        convcost.analyze(
            convcost.parse_spec("input: [4, 8, 8]\nlayers:\n  - gelu: {approximate: tan}\n")
        )


DOCS = Path(__file__).parent.parent / "docs" / "spec-format.md"


def test_the_documented_seg_head_example_is_real_output() -> None:
    """docs/spec-format.md, *Activations*: the spec, its table rows and its explain output."""
    section = DOCS.read_text(encoding="utf-8").split("### Activations\n", 1)[1].split("\n### ")[0]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, flags=re.DOTALL)
    (spec_text,) = [text for lang, text in blocks if lang == "yaml"]
    table, explained = [text for lang, text in blocks if lang == "text"]
    spec = convcost.parse_spec(spec_text)
    report = convcost.analyze(spec)
    # prelu: C = 32 slopes; softmax: 3·10·32·32 = 30,720 ops (hand-computed, docs/cost-model.md)
    assert [layer.cost.params for layer in report.layers][1] == 32
    assert report.layers[-1].cost.ops == 30_720
    rendered = CliRunner().invoke(app, ["analyze", "-"], input=spec_text, env={"COLUMNS": "100"})
    assert rendered.exit_code == 0, rendered.output
    lines = {line.strip() for line in rendered.output.splitlines()}
    assert all(line.strip() in lines for line in table.splitlines() if line.strip())
    explained_now = CliRunner().invoke(
        app, ["explain", "-", "--layer", "softmax1"], input=spec_text, env={"COLUMNS": "200"}
    )
    assert explained_now.exit_code == 0, explained_now.output
    assert explained.strip() in explained_now.output
