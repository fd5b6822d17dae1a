"""``attention`` against plain PyTorch: shapes, parameters, MACs per matmul and the forward pass.

Oracles: ``nn.MultiheadAttention`` on the flattened positions (parameters, and MACs from
``torch.utils.flop_counter.FlopCounterMode``: FLOPs / 2 of its matrix products); for key/value
dims, no output projection and relative positions, a plain-torch module written here as BoTNet
writes its MHSA (lucidrains' bottleneck-transformer ``rel_to_abs``: the relative logits by the
pad-and-reshape trick, independent of the executor's gather); hand-computed values with their
arithmetic in comments.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

import convcost
from convcost.build import build
from convcost.cli import app
from convcost.errors import ExitStatus, ShapeError, SpecError
from convcost.explain import explain
from tests.conftest import require
from tests.test_explain import check_against_report, leaf_items

torch = require("torch")
require("hypothesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from convcost.executor import execute, prepare  # noqa: E402

FlopCounterMode = require("torch.utils.flop_counter").FlopCounterMode

pytestmark = pytest.mark.torch
torch.set_num_threads(1)
EXAMPLES = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def analyzed(text: str) -> convcost.LayerReport:
    report = convcost.analyze(convcost.parse_spec(text))
    return report.layers[0]


def spec(shape: tuple[int, ...], fields: str) -> str:
    return f"input: {list(shape)}\nlayers:\n  - attention: {{{fields}}}\n"


def torch_macs(module: Any, x: Any) -> int:
    """MACs of the module's forward: FlopCounterMode's FLOPs (2 per multiply-accumulate of
    every mm, addmm, bmm, baddbmm) / 2."""
    with FlopCounterMode(display=False) as counter:
        module(x)
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2


class TorchMHA(torch.nn.Module):  # type: ignore[misc]
    """nn.MultiheadAttention on the flattened positions of a [N, C, *spatial] map."""

    def __init__(self, channels: int, heads: int, bias: bool) -> None:
        super().__init__()
        self.mha = torch.nn.MultiheadAttention(channels, heads, bias=bias, batch_first=True)

    def forward(self, x: Any) -> Any:
        tokens = x.flatten(2).transpose(1, 2)
        # need_weights=True takes the math path (counted); the fused one is not
        y, _ = self.mha(tokens, tokens, tokens, need_weights=True)
        return y.transpose(1, 2).reshape(x.shape[0], -1, *x.shape[2:])


def rel_to_abs(x: Any) -> Any:
    """lucidrains/bottleneck-transformer-pytorch: (b, l, 2l − 1) relative → (b, l, l) absolute."""
    b, length, _ = x.shape
    x = torch.cat([x, x.new_zeros(b, length, 1)], dim=2)
    flat = torch.cat([x.reshape(b, length * 2 * length), x.new_zeros(b, length - 1)], dim=1)
    return flat.reshape(b, length + 1, 2 * length - 1)[:, :length, length - 1 :]


class Reference(torch.nn.Module):  # type: ignore[misc]
    """A BoTNet-style MHSA written with plain torch: linear q, k, v; q scaled by 1/√d_k;
    relative logits (2-D: rel_h, rel_w as in BoTNet) added to q·kᵀ; softmax; ·v; heads
    concatenated; optional output projection."""

    def __init__(
        self,
        channels: int,
        heads: int,
        key_dim: int,
        value_dim: int,
        out: int | None,
        bias: bool,
        sizes: tuple[int, ...] | None,
    ) -> None:
        super().__init__()
        self.heads, self.key_dim, self.value_dim = heads, key_dim, value_dim
        self.q = torch.nn.Linear(channels, heads * key_dim, bias=bias)
        self.k = torch.nn.Linear(channels, heads * key_dim, bias=bias)
        self.v = torch.nn.Linear(channels, heads * value_dim, bias=bias)
        self.tables = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.randn(2 * n - 1, key_dim)) for n in sizes or ()]
        )
        self.o = None if out is None else torch.nn.Linear(heads * value_dim, out, bias=bias)

    def split(self, t: Any, width: int) -> Any:
        n, positions, _ = t.shape
        return t.reshape(n, positions, self.heads, width).transpose(1, 2)

    def forward(self, x: Any) -> Any:
        n, sizes = x.shape[0], tuple(x.shape[2:])
        tokens = x.flatten(2).transpose(1, 2)
        q = self.split(self.q(tokens), self.key_dim) / math.sqrt(self.key_dim)
        k = self.split(self.k(tokens), self.key_dim)
        v = self.split(self.v(tokens), self.value_dim)
        logits = q @ k.transpose(-1, -2)
        if len(self.tables):
            logits = logits + self.relative(q, sizes)
        weights = logits.softmax(dim=-1)
        y = (weights @ v).transpose(1, 2).reshape(n, math.prod(sizes), -1)
        if self.o is not None:
            y = self.o(y)
        return y.transpose(1, 2).reshape(n, -1, *sizes)

    def relative(self, q: Any, sizes: tuple[int, ...]) -> Any:
        n, h, positions, d = q.shape
        if len(sizes) == 2:  # BoTNet's RelPosEmb, by the pad-and-reshape trick
            height, width = sizes
            rel_h, rel_w = self.tables
            grid = q.reshape(n, h, height, width, d)
            w_logits = rel_to_abs((grid @ rel_w.T).reshape(-1, width, 2 * width - 1))
            w_logits = w_logits.reshape(n, h, height, width, 1, width)  # [x, y, ·, j]
            h_grid = grid.transpose(2, 3)  # [y, x]
            h_logits = rel_to_abs((h_grid @ rel_h.T).reshape(-1, height, 2 * height - 1))
            h_logits = h_logits.reshape(n, h, width, height, height, 1).transpose(
                2, 3
            )  # [x, y, i, ·]
            both = w_logits.expand(n, h, height, width, height, width) + h_logits
            return both.reshape(n, h, positions, positions)
        # other ranks: logit[query, key] += q·e_a[key_a − query_a + n_a − 1], by gathering
        coords = torch.stack(
            torch.meshgrid(*(torch.arange(s) for s in sizes), indexing="ij"), -1
        ).reshape(positions, len(sizes))
        total = 0
        for axis, (size, table) in enumerate(zip(sizes, self.tables, strict=True)):
            scores = q @ table.T
            index = coords[None, :, axis] - coords[:, None, axis] + size - 1
            total = total + torch.gather(scores, -1, index.expand(n, h, positions, positions))
        return total


# --- parameters and MACs --------------------------------------------------------------------


@st.composite
def mha_cases(draw: st.DrawFn) -> tuple[tuple[int, ...], int, bool]:
    heads = draw(st.integers(1, 4))
    channels = heads * draw(st.integers(1, 4))
    rank = draw(st.integers(1, 3))
    sizes = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    return (channels, *sizes), heads, draw(st.booleans())


@EXAMPLES
@given(mha_cases())
def test_defaults_equal_nn_multihead_attention(case: tuple[tuple[int, ...], int, bool]) -> None:
    shape, heads, bias = case
    layer = analyzed(spec(shape, f"heads: {heads}, bias: {'true' if bias else 'false'}"))
    module = TorchMHA(shape[0], heads, bias).double().eval()
    x = torch.zeros(1, *shape, dtype=torch.float64)
    assert layer.output_shape == tuple(module(x).shape[1:])
    assert layer.cost.params == sum(p.numel() for p in module.parameters())
    assert layer.cost.macs == torch_macs(module, x)


@st.composite
def general_cases(draw: st.DrawFn) -> dict[str, Any]:
    rank = draw(st.integers(1, 3))
    return {
        "shape": (draw(st.integers(1, 6)), *(draw(st.integers(1, 4)) for _ in range(rank))),
        "heads": draw(st.integers(1, 3)),
        "key_dim": draw(st.integers(1, 4)),
        "value_dim": draw(st.integers(1, 4)),
        "out": draw(st.none() | st.integers(1, 5)),
        "bias": draw(st.booleans()),
        "relative": draw(st.booleans()),
    }


def fields(case: dict[str, Any]) -> str:
    text = (
        f"heads: {case['heads']}, key_dim: {case['key_dim']}, value_dim: {case['value_dim']}, "
        f"bias: {str(case['bias']).lower()}, relative_position: {str(case['relative']).lower()}"
    )
    return text + (", projection: false" if case["out"] is None else f", out: {case['out']}")


def reference(case: dict[str, Any]) -> Any:
    shape = case["shape"]
    return Reference(
        shape[0],
        case["heads"],
        case["key_dim"],
        case["value_dim"],
        case["out"],
        case["bias"],
        shape[1:] if case["relative"] else None,
    ).double()


@EXAMPLES
@given(general_cases())
def test_key_value_dims_projection_and_relative_equal_plain_torch(case: dict[str, Any]) -> None:
    layer = analyzed(spec(case["shape"], fields(case)))
    module = reference(case)
    x = torch.zeros(1, *case["shape"], dtype=torch.float64)
    assert layer.output_shape == tuple(module(x).shape[1:])
    assert layer.cost.params == sum(p.numel() for p in module.parameters())
    assert layer.cost.macs == torch_macs(module, x)


def test_botnet_mhsa_by_hand() -> None:
    """BoTNet-50's c5 MHSA: 512 channels at 14×14 (224 input), 4 heads of 128, relative
    position, no biases, no output projection (timm's BottleneckAttn / the paper's fig. 4)."""
    layer = analyzed(
        spec((512, 14, 14), "heads: 4, key_dim: 128, relative_position: true, bias: false, "
             "projection: false")
    )  # fmt: skip
    # q, k, v 1×1 projections: 512·(3·4·128) = 786,432; rel_h and rel_w: (27 + 27)·128 = 6,912
    assert layer.cost.params == 786_432 + 6_912 == 793_344
    # projections 196·512·1536 = 154,140,672; q·kᵀ and softmax·v 4·196²·128 = 19,668,992 each;
    # relative logits 4·196·(27 + 27)·128 = 5,419,008
    assert layer.cost.macs == 154_140_672 + 2 * 19_668_992 + 5_419_008 == 198_897_664
    # ops: scale 4·196·128 = 100,352; softmax 3·4·196·196 = 460,992 (3 per logit, as the
    # softmax kind); relative adds 2·4·196² = 307,328
    assert layer.cost.ops == 100_352 + 460_992 + 307_328
    assert layer.output_shape == (512, 14, 14)


def test_the_field_is_global_and_marks_global_context() -> None:
    report = convcost.analyze(
        convcost.parse_spec(
            "input: [8, 6, 6]\nlayers:\n  - conv: {out: 8, kernel: 3, padding: 1}\n"
            "  - attention: {heads: 2}\n"
        )
    )
    assert [layer.receptive_field.coverage.value for layer in report.layers] == ["local", "global"]


# --- the forward pass -----------------------------------------------------------------------


def load(module: Any, arrays: tuple[Any, ...], case: dict[str, Any]) -> None:
    """The executor's arrays into the reference: qkv (C, h·(2·d_k + d_v)) columns [q | k | v],
    its bias, the relative tables, the output projection (h·d_v, out) and its bias."""
    items = list(arrays)
    qkv = items.pop(0)
    qkv_bias = items.pop(0) if case["bias"] else None
    tables = [items.pop(0) for _ in case["shape"][1:]] if case["relative"] else []
    projection = items.pop(0) if case["out"] is not None else None
    projection_bias = items.pop(0) if case["out"] is not None and case["bias"] else None
    assert items == []
    for bias in (qkv_bias, projection_bias):
        if bias is not None:  # zero when drawn: make them matter (the forward reads these arrays)
            np.add(bias, np.linspace(-1, 1, bias.size), out=bias)
    cut = case["heads"] * case["key_dim"]
    bounds = [(0, cut), (cut, 2 * cut), (2 * cut, qkv.shape[1])]

    def tensor(array: Any) -> Any:
        return torch.from_numpy(np.ascontiguousarray(array))

    with torch.no_grad():
        for (lo, hi), linear in zip(bounds, (module.q, module.k, module.v), strict=True):
            linear.weight.copy_(tensor(qkv[:, lo:hi].T))
            if qkv_bias is not None:
                linear.bias.copy_(tensor(qkv_bias[lo:hi]))
        for parameter, table in zip(module.tables, tables, strict=True):
            parameter.copy_(tensor(table))
        if projection is not None:
            module.o.weight.copy_(tensor(projection.T))
        if projection_bias is not None:
            module.o.bias.copy_(tensor(projection_bias))


@EXAMPLES
@given(
    general_cases(),
    st.integers(1, 3),
    st.integers(0, 2**32 - 1),
    st.sampled_from(["float32", "float64"]),
)
def test_execute_matches_plain_torch(
    case: dict[str, Any], batch: int, seed: int, dtype: str
) -> None:
    """Tolerances as tests/test_execute_kernels.py: 1e-4 in float32, 1e-10 in float64."""
    text = spec(case["shape"], fields(case))
    parsed = convcost.parse_spec(text)
    prepared = prepare(build(parsed, parsed.variants[0]), dtype=dtype, seed=seed % 1000)
    module = reference(case).to(getattr(torch, dtype))
    load(module, prepared.steps["attention1"].arrays, case)
    x = np.random.default_rng(seed).standard_normal((batch, *case["shape"])).astype(dtype)
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    tolerance = 1e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(prepared.output(x), expected, rtol=tolerance, atol=tolerance)


def test_execute_counts_the_engines_macs() -> None:
    """The kernels count every product's rows × inner × columns as they multiply."""
    parsed = convcost.parse_spec(
        spec((6, 3, 5), "heads: 3, key_dim: 2, value_dim: 3, out: 4, relative_position: true")
    )
    network = build(parsed, parsed.variants[0])
    (run,) = execute(network, batch=2, warm_up=False).layers
    # P = 15: projections 15·6·3·(2·2 + 3) = 1,890; q·kᵀ 3·15·15·2 = 1,350; relative
    # 3·15·(5 + 9)·2 = 1,260; softmax·v 3·15·15·3 = 2,025; output 15·3·3·4 = 540; batch 2
    assert run.macs == 2 * (1_890 + 1_350 + 1_260 + 2_025 + 540)
    assert run.macs == 2 * convcost.analyze(parsed).layers[0].cost.macs
    assert run.shape == (4, 3, 5)


def test_analyze_execute_exits_0(tmp_path: Any) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(spec((8, 4, 4), "heads: 2, relative_position: true"))
    result = CliRunner().invoke(app, ["analyze", str(path), "--execute"])
    assert result.exit_code == ExitStatus.OK, result.stderr
    assert "every shape confirmed" in result.stdout


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ("heads: 3", SpecError,
         r"^<string>:3:24: layer attention1, field attention\.heads: channels \(8\) must be "
         r"divisible by heads \(3\) when key_dim is not given$"),
        ("heads: 2, projection: false, out: 4", SpecError,
         r"^<string>:3:51: layer attention1, field attention\.out: without a projection the "
         r"output has heads·value_dim = 8 channels: drop `out` or set `projection: true`$"),
        ("heads: 0", SpecError,
         r"field attention\.heads: must be an integer >= 1, got 0$"),
        ("key_dim: 4", SpecError,
         r"field attention\.heads: `heads` is required \(an integer >= 1\)$"),
    ],
    ids=["heads do not divide", "out without projection", "zero heads", "no heads"],
)  # fmt: skip
def test_bad_fields(fields: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        convcost.analyze(convcost.parse_spec(spec((8, 4, 4), fields)))


def test_a_flat_input_is_refused() -> None:
    text = "input: [8, 4, 4]\nlayers:\n  - flatten: {}\n  - attention: {heads: 2}\n"
    with pytest.raises(
        ShapeError,
        match=r"layer attention1: attention needs a spatial input \[C, \.\.\.\], got the flat "
        r"shape \[128\]$",
    ):
        convcost.analyze(convcost.parse_spec(text))


def test_explain_values_equal_the_engine() -> None:
    text = (
        "input: [8, 3, 4]\nlayers:\n  - attention: {heads: 2, relative_position: true}\n"
        "  - attention: {heads: 4, key_dim: 3, value_dim: 2, projection: false, bias: false}\n"
    )
    items = leaf_items(explain(convcost.parse_spec(text)))
    assert [item.settings for item in items] == [
        "2 heads, d_k 4, d_v 4, out 8, bias, relative position",
        "4 heads, d_k 3, d_v 2, no output projection, no bias",
    ]
    assert sum(check_against_report(item) for item in items) >= 10


BOT_BLOCK = """
name: bot-block
input: [64, 8, 8]
layers:
  - add:
      body:
        - conv: {out: 16, kernel: 1, bias: false}
        - batchnorm: {}
        - relu: {}
        - attention: {heads: 4, relative_position: true, bias: false, projection: false}
        - batchnorm: {}
        - relu: {}
        - conv: {out: 64, kernel: 1, bias: false}
        - batchnorm: {}
      shortcut: []
  - relu: {}
"""


def test_a_botnet_bottleneck_equals_plain_torch() -> None:
    """BoTNet's bottleneck (1×1 conv, MHSA with relative positions in place of the 3×3 conv,
    1×1 conv, identity shortcut) against the same block in plain torch: parameters, and the
    MACs of every conv and product under FlopCounterMode."""
    report = convcost.analyze(convcost.parse_spec(BOT_BLOCK))
    nn = torch.nn
    mhsa = Reference(16, 4, 4, 4, None, False, (8, 8))
    body = nn.Sequential(
        nn.Conv2d(64, 16, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        mhsa, nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 64, 1, bias=False), nn.BatchNorm2d(64),
    ).double().eval()  # fmt: skip
    x = torch.zeros(1, 64, 8, 8, dtype=torch.float64)
    assert report.totals.params == sum(p.numel() for p in body.parameters())
    assert report.totals.macs == torch_macs(body, x)
    assert report.output_shape == tuple(body(x).shape[1:])
