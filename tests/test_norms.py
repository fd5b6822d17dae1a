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
    # layernorm over the 8 channels of 8×5×6 (E = 240, 30 positions): γ, β 8 each;
    # ops 5·240 (statistics) + 2·30 (ε, rsqrt per position) + 2·240 (affine) = 1,740
    ([8, 5, 6], "layernorm: {eps: 1.0e-6}", (8, 5, 6), 8, 8, 0, 1740),
    # without affine: no parameters, 5·240 + 2·30 = 1,260
    ([8, 5, 6], "layernorm: {affine: false}", (8, 5, 6), 0, 0, 0, 1260),
    # over all: γ, β of the map's shape, 240 each; one group: 7·240 + 2 = 1,682
    ([8, 5, 6], "layernorm: {over: all}", (8, 5, 6), 240, 240, 0, 1682),
    # ConvNeXt's head: nn.LayerNorm(768) on the flat [768]: 768 + 768; 7·768 + 2 = 5,378
    ([768, 1], "flatten: {}\n  - layernorm: {eps: 1.0e-6}", (768,), 768, 768, 0, 5378),
    # 1-D [4, 9]: 9 positions, 7·36 + 2·9 = 270; 3-D [2, 2, 3, 4] over all: 7·48 + 2 = 338
    ([4, 9], "layernorm: {}", (4, 9), 4, 4, 0, 270),
    ([2, 2, 3, 4], "layernorm: {over: all}", (2, 2, 3, 4), 48, 48, 0, 338),
    # groupnorm, 4 groups of 8×5×6 (E = 240): γ, β 8 each; 7·240 + 2·4 = 1,688
    ([8, 5, 6], "groupnorm: {groups: 4}", (8, 5, 6), 8, 8, 0, 1688),
    # without affine: 5·240 + 2·4 = 1,208; one group (as nn.LayerNorm over all, γ per channel)
    ([8, 5, 6], "groupnorm: {groups: 4, affine: false}", (8, 5, 6), 0, 0, 0, 1208),
    ([8, 5, 6], "groupnorm: {groups: 1}", (8, 5, 6), 8, 8, 0, 1682),
    # on a flat [12] (nn.GroupNorm takes (N, C)): 3 groups of 4 features, 7·12 + 2·3 = 90
    ([12, 1], "flatten: {}\n  - groupnorm: {groups: 3}", (12,), 12, 12, 0, 90),
    # instancenorm on 8×5×6: no affine by default (PyTorch's), 5·240 + 2·8 channels = 1,216
    ([8, 5, 6], "instancenorm: {}", (8, 5, 6), 0, 0, 0, 1216),
    # affine: γ, β 8 each, 7·240 + 2·8 = 1,696; 1-D [3, 4]: 5·12 + 2·3 = 66
    ([8, 5, 6], "instancenorm: {affine: true}", (8, 5, 6), 8, 8, 0, 1696),
    ([3, 4], "instancenorm: {eps: 1.0e-3}", (3, 4), 0, 0, 0, 66),
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
  - layernorm: {}
"""

EXPLAINED_MAP = """\
input: [6, 9, 10]
layers:
  - layernorm: {over: channels, eps: 1.0e-6}
  - layernorm: {over: all, affine: false}
  - layernorm: {over: all}
  - groupnorm: {groups: 3}
  - groupnorm: {groups: 6, affine: false}
  - instancenorm: {}
  - instancenorm: {affine: true}
"""


@pytest.mark.parametrize("text", [EXPLAINED, EXPLAINED_MAP])
def test_explain_values_are_the_engines(text: str) -> None:
    items = leaf_items(explain(convcost.parse_spec(text)))
    assert {"layer_scale", "layernorm"} & {item.kind for item in items}
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
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - layernorm: {over: channel}\n",
        "net.yaml:3:23: layer layernorm1, field layernorm.over: must be one of channels, all, "
        "got 'channel'; did you mean 'channels'?",
        id="layernorm-over",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - layernorm: {eps: 2}\n",
        "net.yaml:3:22: layer layernorm1, field layernorm.eps: must be a number from 0.0 to 1.0, "
        "got 2",
        id="layernorm-eps",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - layernorm: {affine: 1}\n",
        "net.yaml:3:25: layer layernorm1, field layernorm.affine: must be true or false, got 1",
        id="layernorm-affine",
    ),
    pytest.param(
        "input: [9, 8, 8]\nlayers:\n  - groupnorm: {groups: 2}\n",
        "net.yaml:3:5: layer groupnorm1, field groupnorm.groups: channels (9) must be divisible "
        "by groups (2)",
        id="groupnorm-indivisible",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - groupnorm: {}\n",
        "net.yaml:3:5: layer groupnorm1, field groupnorm.groups: `groups` is required (an "
        "integer >= 1)",
        id="groupnorm-groups-required",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - groupnorm: {groups: 0}\n",
        "net.yaml:3:25: layer groupnorm1, field groupnorm.groups: must be an integer >= 1, got 0",
        id="groupnorm-groups-zero",
    ),
    pytest.param(
        "input: [8, 1, 1]\nlayers:\n  - instancenorm: {}\n",
        "net.yaml:3:5: layer instancenorm1: instancenorm needs more than one spatial position, "
        "got [8, 1, 1]",
        id="instancenorm-one-position",
    ),
    pytest.param(
        "input: [8, 1]\nlayers:\n  - flatten: {}\n  - instancenorm: {}\n",
        "net.yaml:4:5: layer instancenorm1: instancenorm needs a spatial input [C, ...], got the "
        "flat shape [8]",
        id="instancenorm-flat",
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


def _affine(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[Any, Any]:
    return rng.standard_normal(shape), rng.standard_normal(shape)


def _channels_last(array: Any) -> Any:
    """γ or β of the map's shape [C, *spatial] in the kernels' layout [*spatial, C]."""
    return np.moveaxis(array, 0, -1)


@SETTINGS
@given(
    maps(),
    st.sampled_from(["channels", "all"]),
    st.sampled_from([1e-5, 1e-6, 0.25]),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_layernorm_matches_torch(
    shape: tuple[int, ...], over: str, eps: float, affine: bool, seed: int
) -> None:
    torch = _torch()
    rng = np.random.default_rng(seed)
    x = _input(rng, shape)
    t = torch.from_numpy(x).reshape(2, *shape)
    normalized = (shape[0],) if over == "channels" or len(shape) == 1 else shape
    module = torch.nn.LayerNorm(normalized, eps=eps, elementwise_affine=affine).double()
    text = _spec(
        shape, f"layernorm: {{over: {over}, eps: {eps:.1e}, affine: {str(affine).lower()}}}"
    )
    report = convcost.analyze(convcost.parse_spec(text))
    assert report.totals.params == sum(p.numel() for p in module.parameters())
    params: dict[str, list[Any]] = {}
    if affine:
        gamma, beta = _affine(rng, normalized)
        with torch.no_grad():
            module.weight.copy_(torch.from_numpy(gamma))
            module.bias.copy_(torch.from_numpy(beta))
        layout = _channels_last if len(normalized) > 1 else (lambda a: a)
        params["norm"] = [layout(gamma), layout(beta)]
    if over == "channels" and len(shape) > 1:
        # ConvNeXt's LayerNorm2d: channels last, normalise, back
        expected = module(t.movedim(1, -1)).movedim(-1, 1)
    else:
        expected = module(t)
    network, got = _run(text, x, params)
    assert network.output_shape == tuple(expected.shape[1:])
    np.testing.assert_allclose(got, expected.detach().numpy(), rtol=1e-10, atol=1e-10)


@st.composite
def grouped_maps(draw: st.DrawFn) -> tuple[tuple[int, ...], int]:
    """A shape (flat or of rank 1 to 3) whose channels divide into the drawn groups."""
    shape = draw(maps())
    groups = draw(st.integers(1, 4))
    return (shape[0] * groups, *shape[1:]), groups


@SETTINGS
@given(
    grouped_maps(), st.sampled_from([1e-5, 1e-6, 0.25]), st.booleans(), st.integers(0, 2**32 - 1)
)
def test_groupnorm_matches_torch(
    case: tuple[tuple[int, ...], int], eps: float, affine: bool, seed: int
) -> None:
    torch = _torch()
    shape, groups = case
    rng = np.random.default_rng(seed)
    x = _input(rng, shape)
    module = torch.nn.GroupNorm(groups, shape[0], eps=eps, affine=affine).double()
    text = _spec(
        shape, f"groupnorm: {{groups: {groups}, eps: {eps:.1e}, affine: {str(affine).lower()}}}"
    )
    report = convcost.analyze(convcost.parse_spec(text))
    assert report.totals.params == sum(p.numel() for p in module.parameters())
    params: dict[str, list[Any]] = {}
    if affine:
        gamma, beta = _affine(rng, (shape[0],))
        with torch.no_grad():
            module.weight.copy_(torch.from_numpy(gamma))
            module.bias.copy_(torch.from_numpy(beta))
        params["norm"] = [gamma, beta]
    expected = module(torch.from_numpy(x).reshape(2, *shape))
    network, got = _run(text, x, params)
    assert network.output_shape == tuple(expected.shape[1:])
    np.testing.assert_allclose(got, expected.detach().numpy(), rtol=1e-10, atol=1e-10)


@SETTINGS
@given(
    maps(flat=False), st.sampled_from([1e-5, 1e-6, 0.25]), st.booleans(), st.integers(0, 2**32 - 1)
)
def test_instancenorm_matches_torch(
    shape: tuple[int, ...], eps: float, affine: bool, seed: int
) -> None:
    torch = _torch()
    if math.prod(shape[1:]) == 1:
        shape = (shape[0], *(2 for _ in shape[1:]))  # PyTorch needs two positions or more
    rng = np.random.default_rng(seed)
    x = _input(rng, shape)
    instance = (torch.nn.InstanceNorm1d, torch.nn.InstanceNorm2d, torch.nn.InstanceNorm3d)
    module = instance[len(shape) - 2](shape[0], eps=eps, affine=affine).double().eval()
    text = _spec(shape, f"instancenorm: {{eps: {eps:.1e}, affine: {str(affine).lower()}}}")
    report = convcost.analyze(convcost.parse_spec(text))
    assert report.totals.params == sum(p.numel() for p in module.parameters())
    params: dict[str, list[Any]] = {}
    if affine:
        gamma, beta = _affine(rng, (shape[0],))
        with torch.no_grad():
            module.weight.copy_(torch.from_numpy(gamma))
            module.bias.copy_(torch.from_numpy(beta))
        params["norm"] = [gamma, beta]
    expected = module(torch.from_numpy(x))
    network, got = _run(text, x, params)
    assert network.output_shape == tuple(expected.shape[1:])
    np.testing.assert_allclose(got, expected.detach().numpy(), rtol=1e-10, atol=1e-10)


def test_instancenorm_defaults_are_pytorchs() -> None:
    torch = _torch()
    module = torch.nn.InstanceNorm2d(8)
    # no affine and no running statistics by default: nothing learned, nothing tracked
    assert (module.affine, module.track_running_stats, module.eps) == (False, False, 1e-5)
    assert one_layer([8, 5, 6], "instancenorm: {}").totals.params == 0


# ---- docs/spec-format.md's ConvNeXt block -----------------------------------------------------


def _documented_block() -> tuple[str, str]:
    """The ConvNeXt block of docs/spec-format.md and the `explain` output shown after it."""
    from tests.test_docs import SPEC_FORMAT, fenced_blocks  # noqa: PLC0415

    blocks = [(lang, text) for _, lang, text, _ in fenced_blocks(SPEC_FORMAT)]
    index = next(i for i, (_, text) in enumerate(blocks) if "name: convnext_block" in text)
    (_, spec), (lang, shown) = blocks[index], blocks[index + 1]
    assert lang == "text"
    return spec, shown


def test_documented_explain_output_is_real() -> None:
    from typer.testing import CliRunner  # noqa: PLC0415

    from convcost.cli import app  # noqa: PLC0415

    spec, shown = _documented_block()
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"})
    result = runner.invoke(app, ["explain", "-", "--layer", "add1.block.layernorm1"], input=spec)
    assert result.exit_code == 0, result.stderr
    # the heading line (name and input) and the blank line after it are left out of the docs
    assert result.stdout.split("\n", 2)[2].rstrip("\n") + "\n" == shown


def test_documented_block_has_cnblocks_parameters() -> None:
    torch = _torch()
    nn = torch.nn
    # torchvision's CNBlock(96), module by module: 7×7 depthwise conv, LayerNorm(96), Linear
    # 96→384, GELU, Linear 384→96, and the layer scale γ (a bare parameter of 96)
    modules = [
        nn.Conv2d(96, 96, 7, padding=3, groups=96),
        nn.LayerNorm(96, eps=1e-6),
        nn.Linear(96, 384),
        nn.GELU(),
        nn.Linear(384, 96),
    ]
    expected = sum(p.numel() for m in modules for p in m.parameters()) + 96
    spec, _ = _documented_block()
    assert convcost.analyze(convcost.parse_spec(spec)).totals.params == expected == 79_296


def test_analyze_loads_neither_numpy_nor_the_executor(tmp_path: Path) -> None:
    from tests.test_kinds import _loaded_after  # noqa: PLC0415

    spec, _ = _documented_block()
    path = tmp_path / "block.yaml"
    path.write_text(spec + "  - groupnorm: {groups: 4}\n  - instancenorm: {}\n", encoding="utf-8")
    assert _loaded_after(f"['analyze', {str(path)!r}]") == []


@pytest.mark.parametrize(
    ("layer", "reference"),
    [
        ("groupnorm: {groups: 32}", lambda F, t: F.group_norm(t, 32)),
        ("instancenorm: {}", lambda F, t: F.instance_norm(t)),
        ("layernorm: {over: all}", lambda F, t: F.layer_norm(t, (96, 28, 28))),
        (
            "layernorm: {}",
            lambda F, t: F.layer_norm(t.permute(0, 2, 3, 1), (96,)).permute(0, 3, 1, 2),
        ),
    ],
    ids=["groupnorm", "instancenorm", "layernorm all", "layernorm channels"],
)
def test_float32_runs_agree_with_torch(layer: str, reference: Any) -> None:
    """float32 on a ConvNeXt-sized map, offset and scaled (mean 5, deviation 3), so that the
    statistics are accumulated over 75,264 elements in float32 (torch accumulates in float64)."""
    from convcost.executor import prepare  # noqa: PLC0415

    torch = _torch()
    x = (np.random.default_rng(1).standard_normal((2, 96, 28, 28)) * 3 + 5).astype(np.float32)
    spec = convcost.parse_spec(f"input: [96, 28, 28]\nlayers:\n  - {layer}\n")
    got = prepare(build(spec, spec.variants[0]), dtype="float32").output(x)
    expected = reference(torch.nn.functional, torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("norm", "context"),
    [
        ("groupnorm: {groups: 2}", True),  # a group spans every position of 4 channels
        ("instancenorm: {}", True),  # statistics over each channel's whole map
        ("layernorm: {over: all}", True),
        ("layernorm: {over: channels}", False),  # its own position only: ConvNeXt's LayerNorm2d
        ("layer_scale: {}", False),
    ],
)
def test_statistics_over_the_map_give_global_context_not_a_global_field(
    norm: str, context: bool
) -> None:
    report = convcost.analyze(
        convcost.parse_spec(
            "input: [8, 16, 16]\nlayers:\n"
            "  - conv: {out: 8, kernel: 3, padding: 1}\n"
            f"  - {norm}\n"
            "  - conv: {out: 8, kernel: 3, padding: 1}\n"
        )
    )
    conv, normed, last = (layer.receptive_field for layer in report.layers)
    # by hand: a 3×3 conv sees 3, the norm keeps the local field, the next 3×3 adds 2 → 5
    assert (conv.size, conv.global_context) == ((3, 3), False)
    assert (normed.size, normed.global_context) == ((3, 3), context)
    assert (last.size, last.global_context) == ((5, 5), context)
