"""``softmax`` over channels (convcost/layers/softmax.py) against PyTorch's ``nn.Softmax(dim=1)``.

Shapes on hypothesis-drawn inputs of rank 1 to 3 and on flat features; the NumPy forward pass
against ``torch.nn.functional.softmax`` in float64 (1e-12) and float32 (1e-6), in place and not,
including large inputs that overflow a naive eˣ; ops, explain, and errors.
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
from convcost.layers.softmax import Softmax
from tests.test_explain import check_against_report, leaf_items
from tests.test_rectifiers import shapes, tensors

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch
SETTINGS = settings(max_examples=150, deadline=None, database=None)


@SETTINGS
@given(shape=shapes(), flat=st.booleans())
def test_shape_and_parameters_equal_torch(shape: list[int], flat: bool) -> None:
    layers = [{"flatten": {}}, {"softmax": {}}] if flat else [{"softmax": {}}]
    report = convcost.analyze(convcost.parse_spec(json.dumps({"input": shape, "layers": layers})))
    module = torch.nn.Sequential(*([torch.nn.Flatten()] if flat else []), torch.nn.Softmax(1))
    out = module(torch.zeros(1, *shape))
    assert report.output_shape == tuple(out.shape[1:])
    assert (report.totals.params, report.totals.macs) == (0, 0)


def test_ops_are_three_per_element() -> None:
    spec = convcost.parse_spec(
        "input: [16, 6, 5]\nlayers:\n  - softmax: {}\n  - flatten: {}\n  - softmax: {}\n"
    )
    # 16·6·5 = 480 elements: an exp, an add into the sum and a divide each, 1,440 (twice:
    # flattening keeps the 480 elements)
    assert [layer.cost.ops for layer in convcost.analyze(spec).layers] == [1440, 0, 1440]


@SETTINGS
@given(case=tensors(), owned=st.booleans(), shift=st.sampled_from([0.0, 1000.0, -1000.0]))
def test_forward_matches_torch(case: tuple[Any, str], owned: bool, shift: float) -> None:
    x, dtype = case
    x = x + np.asarray(shift, dtype)  # e^1000 overflows: the kernel must subtract the max
    sample = (x.shape[1], *x.shape[2:])
    prepared = Softmax().op().prepare(sample, Initializer(np.random.default_rng(0), x.dtype))
    assert prepared.arrays == ()
    source = to_channels_last(x).copy()
    y, y_owned = prepared.forward(source, owned)
    assert y_owned
    assert (y is source) == owned
    assert y.dtype == x.dtype
    expected = torch.nn.functional.softmax(torch.from_numpy(x), dim=1).numpy()
    tolerance = 1e-12 if dtype == "float64" else 1e-6
    np.testing.assert_allclose(to_channels_first(y), expected, rtol=tolerance, atol=tolerance)


SPEC = """
input: [8, 6, 5]
layers:
  - conv: {out: 16, kernel: 3, padding: 1}
  - softmax: {}
  - global_avgpool: {}
  - flatten: {}
  - softmax: {}
"""


def test_execute_confirms_every_shape() -> None:
    spec = convcost.parse_spec(SPEC)
    run = execute(convcost.build(spec, spec.variants[0]), batch=2, dtype="float64")
    assert len(run.layers) == 5


def test_explain_values_are_the_engines() -> None:
    items = leaf_items(explain(convcost.parse_spec(SPEC)))
    assert sum(check_against_report(item) for item in items) > 0
    (ops,) = [s for s in items[1].steps if s.quantity.value == "ops"]
    assert (ops.formula, ops.substituted) == ("3·C·H_out·W_out", "3·16·6·5")


def test_unknown_field_is_a_one_line_error() -> None:
    message = (
        "<string>:3:15: layer softmax1, field softmax.dim: "
        "unknown field 'dim' for softmax; allowed: none"
    )
    with pytest.raises(SpecError, match=f"^{re.escape(message)}$"):
        convcost.analyze(convcost.parse_spec("input: [4, 8, 8]\nlayers:\n  - softmax: {dim: 1}\n"))
