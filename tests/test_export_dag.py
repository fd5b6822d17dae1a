"""Both exporters on DAG forms (named tensors: ``from:``, merge inputs written as names),
against the same DAG written by hand in plain torch as the independent oracle.

One spec holds the forms the specs/ files do not: a DAG inside a block (its body concatenates
two of its own named outputs and adds its ``input`` back), ``from:`` on a layer and on a
``repeat``, a merge mixing a layer branch, an identity branch and named inputs, and a name that
steps into a repetition (``stage.0``). The exported PyTorch file and ONNX model get the same
weights (``--execute``'s, seed 5), copied in order of appearance into the hand-written model;
the outputs must agree, and so must NumPy's executor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import require

from convcost.build import build
from convcost.engine import analyze, analyze_all
from convcost.errors import SpecError
from convcost.executor import prepare
from convcost.export.onnx_model import network_model
from convcost.export.pytorch import pytorch_source
from convcost.importer import load_model
from convcost.spec import parse_spec

torch = require("torch")
nn = torch.nn

pytestmark = pytest.mark.torch

DAG = """
name: dag-forms
input: [4, 8, 8]
blocks:
  res:
    layers:
      - conv: {out: 6, kernel: 3, padding: 1}
        name: a
      - relu: {}
      - conv: {out: 4, kernel: 1}
        name: b
      - concat: [a, b]
      - conv: {out: 4, kernel: 1}
      - add: {body: [{conv: {out: 4, kernel: 3, padding: 1}}], skip: input}
layers:
  - conv: {out: 4, kernel: 3, padding: 1}
    name: stem
  - res: {}
    name: r1
  - maxpool: {kernel: 2}
  - conv: {out: 4, kernel: 1}
    from: stem
    name: side
  - res: {}
    repeat: 2
    from: r1
    name: stage
  - add: {main: [{conv: {out: 4, kernel: 1}}], other: side, first: stage.0}
  - concat: {sum: [], stem: stem, image: input}
  - conv: {out: 3, kernel: 1}
"""

BLOCKS = DAG.partition("layers:\n  - conv: {out: 4, kernel: 3")[0]
"""DAG's ``blocks:`` alone, for other networks of the same block."""


class Res(nn.Module):  # type: ignore[misc]
    """Block ``res`` by hand: a = conv3(x); b = conv1(relu(a)); y = conv1([a, b]);
    out = conv3(y) + x."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(4, 6, 3, padding=1)
        self.b = nn.Conv2d(6, 4, 1)
        self.mix = nn.Conv2d(10, 4, 1)
        self.body = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x: Any) -> Any:
        a = self.a(x)
        b = self.b(torch.relu(a))
        y = self.mix(torch.cat([a, b], 1))
        return self.body(y) + x


class Hand(nn.Module):  # type: ignore[misc]
    """The spec's network by hand, parameters created in the spec's order."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(4, 4, 3, padding=1)
        self.r1 = Res()
        self.side = nn.Conv2d(4, 4, 1)
        self.stage0 = Res()
        self.stage1 = Res()
        self.main = nn.Conv2d(4, 4, 1)
        self.head = nn.Conv2d(12, 3, 1)

    def forward(self, x: Any) -> Any:
        stem = self.stem(x)
        r1 = self.r1(stem)
        side = self.side(stem)  # from: stem (the maxpool's output is read by nothing)
        stage0 = self.stage0(r1)  # from: r1 on the repeat
        stage1 = self.stage1(stage0)
        total = self.main(stage1) + side + stage0
        return self.head(torch.cat([total, stem, x], 1))


def _weights(network: Any) -> list[np.ndarray]:
    """The ONNX initializers of ``network`` with seed 5's weights (PyTorch's layout), in the
    order the nodes are written."""
    onnx = require("onnx")
    prepared = prepare(network, seed=5)
    arrays = {path: step.arrays for path, step in prepared.steps.items()}
    model = network_model(onnx, network, arrays, name="dag")
    return [onnx.numpy_helper.to_array(t) for t in model.graph.initializer]


def _load(module: Any, weights: list[np.ndarray]) -> Any:
    params = list(module.parameters())
    assert [tuple(p.shape) for p in params] == [w.shape for w in weights]
    with torch.no_grad():
        for param, weight in zip(params, weights, strict=True):
            param.copy_(torch.from_numpy(weight.copy()))
    return module.eval()


def _hand_output(x: np.ndarray, weights: list[np.ndarray]) -> np.ndarray:
    with torch.no_grad():
        result: np.ndarray = _load(Hand(), weights)(torch.from_numpy(x)).numpy()
    return result


def _close(got: np.ndarray, expected: np.ndarray) -> None:
    """Equal up to float32 rounding: rtol 1e-4 and 1e-4 of the largest magnitude (as
    tests/test_export_onnx.py's ``_agree``: sums taken in another order); a tensor wired to
    the wrong input moves outputs by O(1) of that scale."""
    assert got.shape == expected.shape
    scale = float(np.abs(expected).max())
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * scale)


def _input(shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(7).standard_normal((2, *shape)).astype(np.float32)


def test_pytorch_export_of_a_dag_computes_the_hand_written_network() -> None:
    spec = parse_spec(DAG)
    network = build(spec, spec.variants[0])
    source = pytorch_source(spec)
    namespace: dict[str, Any] = {"__name__": "exported"}
    exec(compile(source, "<exported>", "exec"), namespace)
    model = namespace["DagForms"]()
    report = analyze(spec)
    # parameters: hand count per conv (weights + biases)
    res = (4 * 6 * 9 + 6) + (6 * 4 + 4) + (10 * 4 + 4) + (4 * 4 * 9 + 4)
    expected = (4 * 4 * 9 + 4) + 3 * res + (4 * 4 + 4) + (4 * 4 + 4) + (12 * 3 + 3)
    assert sum(p.numel() for p in model.parameters()) == expected
    assert report.totals.weights + report.totals.biases == expected
    weights = _weights(network)
    x = _input(network.input_shape)
    with torch.no_grad():
        got = _load(model, weights)(torch.from_numpy(x)).numpy()
    expected_out = _hand_output(x, weights)
    assert got.shape == (2, *report.output_shape)
    _close(got, expected_out)
    # the forward reads the named tensors by name, as written
    assert "side = self.side(stem)" in source
    assert "stage_0 = self.stage_0(r1)" in source
    assert "add1 = main + side + stage_0" in source
    assert "torch.cat([add1, stem, x], dim=1)" in source  # `input` is forward's argument


def test_onnx_export_of_a_dag_computes_the_hand_written_network(tmp_path: Path) -> None:
    onnx = require("onnx")
    ort = require("onnxruntime")
    spec = parse_spec(DAG)
    network = build(spec, spec.variants[0])
    prepared = prepare(network, seed=5)
    arrays = {path: step.arrays for path, step in prepared.steps.items()}
    model = network_model(onnx, network, arrays, name="dag")
    file = tmp_path / "dag.onnx"
    file.write_bytes(model.SerializeToString())
    onnx.checker.check_model(str(file), full_check=True)
    session = ort.InferenceSession(str(file), providers=["CPUExecutionProvider"])
    x = _input(network.input_shape)
    (got,) = session.run(None, {"input": x})
    weights = [onnx.numpy_helper.to_array(t) for t in model.graph.initializer]
    _close(got, _hand_output(x, weights))
    _close(got, prepared.output(x))


SERIES_PARALLEL = BLOCKS + "layers:\n  - res: {}\n  - res: {}\n  - concat: [res1, res2]\n"
"""Block ``res``'s DAG twice and a concat of both: every named read meets its producer's
other readers in one merge, so ``convcost import`` can read it back as nested blocks. (The
importer refuses a graph that is not series-parallel, as DAG above is: ``stage.0`` is read
past ``stage.1``.)"""


def test_onnx_round_trip_of_named_forms_gives_the_same_totals(tmp_path: Path) -> None:
    onnx = require("onnx")
    spec = parse_spec(SERIES_PARALLEL)
    network = build(spec, spec.variants[0])
    prepared = prepare(network, zeros=True)
    arrays = {path: step.arrays for path, step in prepared.steps.items()}
    file = tmp_path / "sp.onnx"
    file.write_bytes(network_model(onnx, network, arrays, name="sp").SerializeToString())
    onnx.checker.check_model(str(file), full_check=True)
    back = analyze_all(load_model(file))[0]  # nested merge blocks, not names
    report = analyze(spec)
    # hand count: res = (4·6·9+6) + (6·4+4) + (10·4+4) + (4·4·9+4) = 222+28+44+148 = 442, twice
    assert report.totals.params == 2 * 442
    for field in ("params", "macs", "flops", "ops"):
        assert getattr(back.totals, field) == getattr(report.totals, field), field
    assert back.output_shape == report.output_shape


def test_pytorch_refuses_a_tensor_inside_a_block_use_in_one_line() -> None:
    """`down.a` is computed inside block use down's forward, which returns only its output."""
    text = BLOCKS + "layers:\n  - res: {}\n    name: down\n  - concat: [down, down.a]\n"
    spec = parse_spec(text, source="d.yaml")
    with pytest.raises(SpecError) as caught:
        pytorch_source(spec)
    assert "down.a" in str(caught.value)
    assert "concat1" in str(caught.value)


MORE_FORMS = """
name: more-forms
input: [3, 8, 8]
blocks:
  cb:
    params: {w: 4}
    layers:
      - conv: {out: $w, kernel: 3, padding: 1}
        name: first
      - relu: {}
      - conv: {out: $w, kernel: 1}
        repeat: 2
        from: first
      - separable: {out: 6, kernel: 3, padding: 1}
        from: first
        name: sep
      - add: {a: [{conv: {out: 6, kernel: 1}, from: first}], b: []}
        from: sep
      - conv: {out: 2, kernel: 1}
      - add: [first, first]
      - conv: {out: 4, kernel: 1}
layers:
  - conv: {out: 4, kernel: 1}
    name: stem
  - cb: {w: 4}
    repeat: 2
    from: stem
    name: blocks
  - conv: {out: 4, kernel: 1}
    from: stem
    name: side
  - add: {main: [], side: side, deep: [{relu: {}, from: stem}, {conv: {out: 4, kernel: 1}}]}
    from: blocks
  - maxpool: {kernel: 2}
    repeat: 2
    from: add1
    name: pools
  - concat: [pools.1, pools]
    from: input
"""
"""Forms DAG does not hold: ``from:`` on a repeat inside a block (its class's loop), on a
separable, on a merge and inside a merge's branch; a block's ``add`` of names only (its
channels are the names', not the layer's before it); a repeat of block uses read from a name
(an ``nn.Sequential``); repetitions read by name at the network level."""


def test_more_dag_forms_agree_on_torch_onnxruntime_and_numpy() -> None:
    """No hand-written network here: PyTorch running the exported file, ONNX Runtime running
    the exported model and NumPy's executor (three implementations sharing only the weights)
    agree."""
    onnx = require("onnx")
    ort = require("onnxruntime")
    spec = parse_spec(MORE_FORMS)
    network = build(spec, spec.variants[0])
    prepared = prepare(network, seed=2)
    arrays = {path: step.arrays for path, step in prepared.steps.items()}
    model = network_model(onnx, network, arrays, name="more")
    onnx.checker.check_model(model, full_check=True)
    weights = [onnx.numpy_helper.to_array(t) for t in model.graph.initializer]
    namespace: dict[str, Any] = {"__name__": "exported"}
    exec(compile(pytorch_source(spec), "<exported>", "exec"), namespace)
    module = _load(namespace["MoreForms"](), weights)
    x = _input(network.input_shape)
    with torch.no_grad():
        exported = module(torch.from_numpy(x)).numpy()
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (ran,) = session.run(None, {"input": x})
    expected = prepared.output(x)
    # concat of pools.1 and pools (the same tensor: add1's 4 channels, 8 halved
    # twice): 8×2×2
    assert expected.shape == (2, 8, 2, 2)
    _close(exported, expected)
    _close(ran, expected)
