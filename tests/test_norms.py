"""The normalisation kinds (``layernorm``, ``groupnorm``, ``instancenorm``) and ``layer_scale``:
shapes, parameters and ops against hand-computed values and torch modules, ``explain`` against
the engine, ``--execute`` against torch on random configurations, and their one-line errors."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convcost
from convcost.build import build
from convcost.explain import explain
from tests.conftest import one_layer
from tests.test_explain import check_against_report, leaf_items
from tests.test_spec import api_error, cli_error

SETTINGS = settings(max_examples=150, deadline=None)

# Columns: input shape, layer, output shape, weights, biases, MACs, ops; each row's figures are
# computed by hand in its comment (E = elements of the map, C channels).
CASES = [
    # layer_scale on 8×5×5: γ per channel, 8 weights; one multiply per element, 8·25 = 200
    ([8, 5, 5], "layer_scale: {init: 1.0e-6}", (8, 5, 5), 8, 0, 0, 200),
    # on a flat [12] input (after flatten): 12 weights, 12 multiplies
    ([12, 1], "flatten: {}\n  - layer_scale: {}", (12,), 12, 0, 0, 12),
    # 1-D and 3-D: 3 weights; 3·7 = 21 and 3·2·3·4 = 72 multiplies
    ([3, 7], "layer_scale: {init: 0.5}", (3, 7), 3, 0, 0, 21),
    ([3, 2, 3, 4], "layer_scale: {}", (3, 2, 3, 4), 3, 0, 0, 72),
]


@pytest.mark.parametrize(
    ("shape", "layer", "out", "weights", "biases", "macs", "ops"), CASES, ids=[c[1] for c in CASES]
)
def test_layer_formulas(
    shape: list[int],
    layer: str,
    out: tuple[int, ...],
    weights: int,
    biases: int,
    macs: int,
    ops: int,
) -> None:
    row = one_layer(shape, layer).layers[-1]
    assert row.output_shape == out
    cost = row.cost
    assert (cost.weights, cost.biases, cost.macs, cost.ops) == (weights, biases, macs, ops)
    assert cost.activation_elements == math.prod(out)


EXPLAINED = """\
input: [6, 9, 10]
layers:
  - layer_scale: {init: 1.0e-6}
  - flatten: {}
  - layer_scale: {}
"""


def test_explain_values_are_the_engines() -> None:
    spec = convcost.parse_spec(EXPLAINED)
    items = leaf_items(explain(spec))
    kinds = {item.kind for item in items}
    assert {"layer_scale"} <= kinds
    assert all(check_against_report(item) for item in items)


ERRORS = [
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - layer_scale: {init: -1}\n",
        "net.yaml:3:25: layer layer_scale1, field layer_scale.init: must be a number from 0.0 "
        "to inf, got -1",
        id="layer-scale-negative-init",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - layer_scale: {scale: 2}\n",
        "net.yaml:3:19: layer layer_scale1, field layer_scale.scale: unknown field 'scale' for "
        "layer_scale; allowed: init",
        id="layer-scale-unknown-field",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ERRORS)
def test_errors_are_one_line(
    text: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli_error(text) == expected
    assert str(api_error(text)) == expected


# ---- torch ----------------------------------------------------------------------------------


def _torch() -> Any:
    return pytest.importorskip("torch")


@st.composite
def maps(draw: st.DrawFn, flat: bool = True) -> tuple[int, ...]:
    """A per-sample shape: [C] (when ``flat``) or [C, *spatial] of rank 1 to 3."""
    rank = draw(st.integers(0 if flat else 1, 3))
    channels = draw(st.integers(1, 12))
    return (channels, *(draw(st.integers(1, 6)) for _ in range(rank)))


def _run(text: str, x: Any, params: dict[str, list[Any]]) -> Any:
    """Run a one-layer spec through ``--execute``'s runner on ``x`` (channels first, float64)
    with the layer's parameter arrays overwritten by ``params`` (kernels' layout)."""
    from convcost.executor import prepare  # noqa: PLC0415 (numpy only where a test needs it)

    spec = convcost.parse_spec(text)
    network = build(spec, spec.variants[0])
    prepared = prepare(network, dtype="float64")
    for path, arrays in params.items():
        for array, value in zip(prepared.steps[path].arrays, arrays, strict=True):
            array[...] = value
    return network, prepared.output(x)


def _spec(shape: tuple[int, ...], layer: str) -> str:
    """One layer named ``norm`` on ``shape``; a flat [F] is written as [F, 1] and a flatten."""
    if len(shape) == 1:
        return f"input: [{shape[0]}, 1]\nlayers:\n  - flatten: {{}}\n  - {layer}\n    name: norm\n"
    return f"input: {list(shape)}\nlayers:\n  - {layer}\n    name: norm\n"


def _input(rng: np.random.Generator, shape: tuple[int, ...]) -> Any:
    """A batch of 2 on the spec's input: [2, F, 1] for a flat shape (see :func:`_spec`)."""
    return rng.standard_normal((2, *shape, 1) if len(shape) == 1 else (2, *shape))


@SETTINGS
@given(maps(), st.integers(0, 16).map(lambda i: i / 4), st.integers(0, 2**32 - 1))
def test_layer_scale_matches_torch(shape: tuple[int, ...], init: float, seed: int) -> None:
    torch = _torch()
    rng = np.random.default_rng(seed)
    x = _input(rng, shape)
    gamma = rng.standard_normal(shape[0])
    # torchvision's CNBlock: nn.Parameter(torch.ones(dim, 1, 1) * layer_scale), y = γ·x
    module_gamma = torch.nn.Parameter(torch.ones(shape[0], *([1] * (len(shape) - 1))) * init)
    assert (
        module_gamma.numel()
        == convcost.analyze(convcost.parse_spec(_spec(shape, "layer_scale: {}"))).totals.params
    )
    expected = torch.from_numpy(gamma).reshape(module_gamma.shape) * torch.from_numpy(x).reshape(
        2, *shape
    )
    network, got = _run(_spec(shape, f"layer_scale: {{init: {init!r}}}"), x, {"norm": [gamma]})
    assert network.output_shape == tuple(expected.shape[1:])
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-12, atol=1e-12)


def test_layer_scale_starts_at_its_init() -> None:
    # γ is not drawn: every one is `init` (0.25 here), so the output is a quarter of the input
    x = np.random.default_rng(0).standard_normal((1, 4, 3, 3))
    _, got = _run(_spec((4, 3, 3), "layer_scale: {init: 0.25}"), x, {})
    np.testing.assert_allclose(got, x / 4, rtol=1e-15)
