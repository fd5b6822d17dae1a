"""Elementwise layers fused into the conv before them, and run in bands on every thread,
against PyTorch on the weights the executor drew (float64, 1e-10)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import convcost
from convcost.build import build
from convcost.executor import blas, kernels_conv, prepare, stages
from convcost.executor.fusion import fusions
from convcost.executor.ops import pool

torch = pytest.importorskip("torch")
F = torch.nn.functional

SPEC = """\
input: [6, 19, 17]
layers:
  - conv: {out: 8, kernel: 3, padding: 1}
    name: a
  - batchnorm: {}
  - relu: {}
  - conv: {out: 8, kernel: 3, groups: 8, stride: 2, padding: 1, bias: false}
    name: dw
  - batchnorm: {eps: 0.001}
  - relu6: {}
  - conv: {out: 12, kernel: 1}
    name: pw
  - batchnorm: {}
  - add:
      a: [{conv: {out: 12, kernel: 3, padding: 1}, name: c}, {relu: {}}]
      b: []
  - batchnorm: {}
  - hardsigmoid: {}
  - maxpool: {kernel: 3, stride: 2, padding: 1}
  - concat: {a: [{relu: {}}], b: []}
  - avgpool: {kernel: 2, ceil_mode: true}
  - concat:
      a: [{batchnorm: {}}, {relu: {}}, {conv: {out: 4, kernel: 1}, name: d}]
      b: []
  - batchnorm: {}
  - relu: {}
  - conv: {out: 5, kernel: 1, stride: 2}
    name: e
"""


def _conv_weight(matrix: Any, kernel: tuple[int, int], depthwise: bool) -> Any:
    """The kernels' layout back to PyTorch's (C_out, C_in/g, *kernel)."""
    if depthwise:  # (∏k, C, 1)
        return torch.tensor(matrix.reshape(*kernel, -1).transpose(2, 0, 1)[:, None])
    depth, out = matrix.shape[1:]
    grid = matrix[0].reshape(*kernel, depth // (kernel[0] * kernel[1]), out)
    return torch.tensor(grid.transpose(3, 2, 0, 1))


def _bn(t: Any, eps: float = 1e-5) -> Any:
    # a freshly initialised batchnorm in inference form: γ 1, β 0, mean 0, variance 1
    channels = t.shape[1]
    zeros, ones = torch.zeros(channels, dtype=t.dtype), torch.ones(channels, dtype=t.dtype)
    return F.batch_norm(t, zeros, ones, ones, zeros, False, 0.0, eps)


@pytest.fixture(params=[1, 2], ids=["1-thread", "2-threads"])
def small_bands(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Bands of a few rows, so that every kernel runs many bands (on 1 and on 2 threads): the
    merges and the standalone batchnorm and activations too."""
    monkeypatch.setattr(kernels_conv, "COLUMN_BAND_BYTES", 1)
    monkeypatch.setattr(kernels_conv, "MIN_BAND_ROWS", 7)
    monkeypatch.setattr(kernels_conv, "POINTWISE_BAND_BYTES", 1)
    monkeypatch.setattr(kernels_conv, "DEPTHWISE_BAND_ROWS", 2)
    monkeypatch.setattr(blas, "SPLIT_MACS", 1)
    monkeypatch.setattr(stages, "PARALLEL_BYTES", 1)
    monkeypatch.setattr(stages, "BAND_BYTES", 64)
    monkeypatch.setattr(pool, "POOL_BAND_ROWS", 1)
    blas.use_threads(request.param)
    yield request.param
    blas.use_threads(None)


def test_fused_and_banded_layers_match_torch(small_bands: int) -> None:
    spec = convcost.parse_spec(SPEC)
    network = build(spec, spec.variants[0])
    prepared = prepare(network, dtype="float64", seed=2)
    # conv a takes its batchnorm and relu, the depthwise its batchnorm and relu6, the 1×1 its
    # batchnorm; conv c its relu inside the add's branch; the add's batchnorm runs alone
    assert {path: [n.path for n in chain] for path, chain in prepared.fusions.items()} == {
        "a": ["batchnorm1", "relu1"],
        "dw": ["batchnorm2", "relu61"],
        "pw": ["batchnorm3"],
        "add1.a.c": ["add1.a.relu1"],
    }
    # before a 1×1 conv: a branch's batchnorm and relu on the block input, as in DenseNet, and
    # the same on the concatenation
    assert {
        path: ([n.path for n in run], conv.path) for path, (run, conv) in prepared.prologues.items()
    } == {
        "concat2.a.batchnorm1": (["concat2.a.batchnorm1", "concat2.a.relu1"], "concat2.a.d"),
        "batchnorm5": (["batchnorm5", "relu2"], "e"),
    }
    x = np.random.default_rng(1).standard_normal((3, 6, 19, 17))

    def weight(path: str, kernel: tuple[int, int], depthwise: bool = False) -> Any:
        return _conv_weight(prepared.steps[path].arrays[0], kernel, depthwise)

    t = torch.tensor(x)
    t = F.relu(_bn(F.conv2d(t, weight("a", (3, 3)), padding=1)))
    t = F.relu6(_bn(F.conv2d(t, weight("dw", (3, 3), True), stride=2, padding=1, groups=8), 1e-3))
    t = _bn(F.conv2d(t, weight("pw", (1, 1))))
    t = F.relu(F.conv2d(t, weight("add1.a.c", (3, 3)), padding=1)) + t
    t = F.max_pool2d(F.hardsigmoid(_bn(t)), 3, 2, 1)
    t = F.avg_pool2d(torch.cat([F.relu(t), t], 1), 2, ceil_mode=True)
    t = torch.cat([F.conv2d(F.relu(_bn(t)), weight("concat2.a.d", (1, 1))), t], 1)
    t = F.conv2d(F.relu(_bn(t)), weight("e", (1, 1)), bias=None, stride=2)
    np.testing.assert_allclose(prepared.output(x), t.numpy(), rtol=1e-10, atol=1e-10)
    # the same values unfused: the stages are the layers' own
    unfused = prepare(network, dtype="float64", seed=2, fuse=False)
    assert unfused.fusions == unfused.prologues == {}
    np.testing.assert_allclose(unfused.output(x), t.numpy(), rtol=1e-10, atol=1e-10)


def test_fused_layers_are_each_reported_with_their_shape() -> None:
    """Every layer still has its own row (path, shape, time), in the unfused order; the fused
    layers' times are shares of their conv's wall time, so the rows still add up to it."""
    spec = convcost.parse_spec(SPEC)
    network = build(spec, spec.variants[0])
    fused = prepare(network).forward(batch=2)
    plain = prepare(network, fuse=False).forward(batch=2)
    assert [(r.path, r.shape, r.macs) for r in fused.layers] == [
        (r.path, r.shape, r.macs) for r in plain.layers
    ]
    assert all(r.seconds >= 0 for r in fused.layers)
    # conv a: 8·19·17 positions · 6·9 deep · 8 outputs per sample
    assert fused.layers[0].macs == 2 * 19 * 17 * 54 * 8
    assert sum(r.seconds for r in fused.layers) <= fused.seconds


def test_a_conv_output_read_by_name_is_not_fused() -> None:
    """A named tensor read later must keep the conv's own output: nothing fuses into it."""
    spec = convcost.parse_spec(
        "input: [3, 8, 8]\nlayers:\n"
        "  - conv: {out: 4, kernel: 3, padding: 1}\n    name: stem\n"
        "  - relu: {}\n"
        "  - add: {a: [{relu: {}}], b: [], from: stem}\n"
    )
    network = build(spec, spec.variants[0])
    prepared = prepare(network, dtype="float64")
    assert "stem" not in fusions(network, prepared.steps)


def test_the_output_does_not_depend_on_the_thread_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bands are cut the same way on any number of threads (only who runs them changes): the
    float32 output is bit for bit the same on 1, 2 and 3 threads."""
    monkeypatch.setattr(kernels_conv, "COLUMN_BAND_BYTES", 1)
    monkeypatch.setattr(kernels_conv, "MIN_BAND_ROWS", 7)
    monkeypatch.setattr(kernels_conv, "DEPTHWISE_BAND_ROWS", 2)
    monkeypatch.setattr(stages, "PARALLEL_BYTES", 1)
    spec = convcost.parse_spec(SPEC)
    network = build(spec, spec.variants[0])
    x = np.random.default_rng(3).standard_normal((4, 6, 19, 17)).astype(np.float32)
    outputs = []
    try:
        for threads in (1, 2, 3):
            blas.use_threads(threads)
            outputs.append(prepare(network, seed=4).output(x))
    finally:
        blas.use_threads(None)
    assert all(np.array_equal(outputs[0], other) for other in outputs[1:])
