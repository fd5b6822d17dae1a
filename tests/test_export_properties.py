"""Random small specs exported to PyTorch run with convcost's numbers (a hypothesis property).

Each example is a stack of layers drawn from the kinds below, with a use of a block whose
parameters (``$width``, ``$stride``, ``${width * 2}``) are constructor arguments, repeated and
inside a ``concat`` with an identity branch, so the block class's channel tracking and the
loops are exercised with values the zoo never uses. The oracle is tests/test_export_pytorch's:
PyTorch's own parameter count, hooked conv/linear shapes and hook-counted MACs, on a real
forward pass. A drawn spec convcost refuses (an output size below 1) is skipped.
"""

from __future__ import annotations

from typing import Any

import pytest

from convcost.engine import analyze
from convcost.errors import SpecError
from convcost.export.pytorch import pytorch_source
from convcost.spec import parse_spec
from tests.conftest import require

torch = require("torch")
require("hypothesis")

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.test_export_pytorch import check_against, load, networks  # noqa: E402

pytestmark = [pytest.mark.torch, pytest.mark.filterwarnings("ignore:Using padding='same'")]

BLOCKS = """
blocks:
  unit:
    params: {width: 4, stride: 1}
    layers:
      - conv: {out: $width, kernel: 3, stride: $stride, padding: 1, bias: false}
      - batchnorm: {}
      - relu: {}
      - concat:
          wide: [{conv: {out: "${width * 2}", kernel: 1}}]
          same: []
"""


@st.composite
def layer(draw: st.DrawFn) -> str:
    """One layer entry (YAML flow text)."""
    kind = draw(
        st.sampled_from(
            [
                "conv",
                "depthwise",
                "pointwise",
                "conv_transpose",
                "maxpool",
                "avgpool",
                "unit",
                "unit_repeat",
                "batchnorm",
                "relu6",
                "hardswish",
                "groupnorm",
                "layernorm",
                "pad",
                "upsample",
                "prelu",
                "channel_shuffle",
            ]
        )
    )
    small = st.integers(1, 3)
    if kind == "conv":
        k, s = draw(small), draw(st.integers(1, 2))
        padding = draw(st.sampled_from(["0", "1", "[[0, 1], [1, 0]]"] + (["same"] * (s == 1))))
        bias = draw(st.booleans())
        return f"conv: {{out: {draw(st.integers(1, 6))}, kernel: {k}, stride: {s}, padding: {padding}, dilation: {draw(small)}, bias: {str(bias).lower()}}}"
    if kind == "depthwise":
        return f"depthwise: {{kernel: {draw(small)}, multiplier: {draw(st.integers(1, 2))}, padding: 1}}"
    if kind == "pointwise":
        return f"pointwise: {{out: {draw(st.integers(1, 6))}}}"
    if kind == "conv_transpose":
        s = draw(st.integers(1, 2))
        return f"conv_transpose: {{out: {draw(st.integers(1, 4))}, kernel: {draw(small)}, stride: {s}, output_padding: {s - 1}}}"
    if kind in ("maxpool", "avgpool"):
        k = draw(st.integers(2, 3))
        ceil = str(draw(st.booleans())).lower()
        return f"{kind}: {{kernel: {k}, stride: {draw(st.integers(1, 2))}, padding: {draw(st.integers(0, k // 2))}, ceil_mode: {ceil}}}"
    if kind == "unit":
        return f"unit: {{width: {draw(st.integers(1, 5))}, stride: {draw(st.integers(1, 2))}}}"
    if kind == "unit_repeat":
        return f"unit: {{width: {draw(st.integers(1, 3))}}}\n    repeat: {draw(st.integers(1, 3))}"
    if kind == "groupnorm":
        return "groupnorm: {groups: 1}"
    if kind == "pad":
        return f"pad: {{padding: {draw(st.integers(1, 2))}, mode: {draw(st.sampled_from(['constant', 'replicate']))}}}"
    if kind == "upsample":
        return "upsample: {scale: 2}"
    if kind == "channel_shuffle":
        return "channel_shuffle: {groups: 1}"
    return f"{kind}: {{}}"


@st.composite
def specs(draw: st.DrawFn) -> str:
    channels, size = draw(st.integers(1, 4)), draw(st.integers(6, 12))
    layers = draw(st.lists(layer(), min_size=1, max_size=6))
    body = "".join(f"  - {entry}\n" for entry in layers)
    tail = "  - global_avgpool: {}\n  - flatten: {}\n  - linear: {out: 3}\n"
    return f"input: [{channels}, {size}, {size}]\n{BLOCKS}layers:\n{body}{tail}"


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(specs())
def test_random_stacks_export_with_convcost_numbers(text: str) -> None:
    try:
        spec = parse_spec(text)
        report = analyze(spec)
    except SpecError:
        assume(False)
        raise
    (network,) = networks(load(pytorch_source(spec)))
    torch.manual_seed(0)
    model: Any = network()
    check_against(model, report, "cpu")
