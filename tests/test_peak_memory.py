"""Peak inference memory (convcost/peak.py), against values computed by hand.

Each test walks the execution order and lists the live tensors (in elements per sample) at
every allocation; the peak is the largest sum. The model is documented in
docs/cost-model.md, "Peak memory".
"""

from __future__ import annotations

import json

from convcost.layers import elements
from convcost.render.formats import to_json
from tests.conftest import require, run

require("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PLAIN = """
input: [3, 8, 8]
layers:
  - conv: {out: 4, kernel: 3, padding: 1}
  - relu: {}
  - conv: {out: 2, kernel: 1}
"""

INCEPTION = """
input: [4, 8, 8]
layers:
  - concat:
      a: [{conv: {out: 2, kernel: 1}}]
      b:
        - conv: {out: 3, kernel: 1}
        - conv: {out: 5, kernel: 3, padding: 1}
      pool:
        - maxpool: {kernel: 3, stride: 1, padding: 1}
        - conv: {out: 1, kernel: 1}
    name: mixed
"""

RESIDUAL = """
input: [4, 8, 8]
layers:
  - add:
      body:
        - conv: {out: 4, kernel: 3, padding: 1}
        - relu: {}
        - conv: {out: 4, kernel: 3, padding: 1}
      shortcut: []
"""


def test_plain_stack_holds_input_and_output_of_one_layer() -> None:
    report = run(PLAIN)
    # input 3·64 = 192. conv1: 192 + 256 = 448, then 256. relu1: 256 + 256 = 512 (peak),
    # then 256. conv2: 256 + 2·64 = 384, then 128.
    assert report.peak_activation_elements == 512
    assert report.peak_at == "relu1"
    # params: conv1 4·3·9 + 4 = 112, conv2 2·4 + 2 = 10 → 122; float32: (512 + 122) · 4
    assert report.peak_memory_bytes == (512 + 122) * 4
    assert report.parameter_bytes == 122 * 4


def test_inception_block_keeps_input_until_last_branch_and_outputs_until_concat() -> None:
    report = run(INCEPTION)
    # input X = 4·64 = 256, read by three branches.
    # a.conv1: X + 128 = 384.  b.conv1: 384 + 192 = 576.  b.conv2: 576 + 320 = 896, free 192 → 704.
    # pool.maxpool1 (last reader of X): 704 + 256 = 960, free X → 704.
    # pool.conv1: 704 + 64 = 768, free 256 → 512 (= 128 + 320 + 64, the branch outputs).
    # concat: 512 + 8·64 = 1024 (peak), then the branch outputs are freed → 512.
    assert report.peak_activation_elements == 1024
    assert report.peak_at == "mixed"


def test_inception_peak_inside_a_branch_when_the_merge_is_small() -> None:
    report = run(INCEPTION.replace("out: 5, kernel: 3", "out: 40, kernel: 3"))
    # b.conv2 now outputs 40·64 = 2560: X 256 + a 128 + b.conv1 192 + 2560 = 3136.
    # concat later: 128 + 2560 + 64 + (2 + 40 + 1)·64 = 5504, the peak.
    assert report.peak_activation_elements == 5504


def test_residual_shortcut_holds_its_input_until_the_add() -> None:
    report = run(RESIDUAL)
    # X = 256, held by the shortcut. conv1: X + 256 = 512. relu1: X + 256 + 256 = 768 (peak),
    # then X + 256. conv2: 768 again, then X + 256. add: X + 256 + 256 = 768, then 256.
    assert report.peak_activation_elements == 768
    assert report.peak_at == "add1.body.relu1"
    # the same layers without the shortcut peak at 512 (two tensors of 256 at a time)
    stack = run(
        "input: [4, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, padding: 1}\n"
        "  - relu: {}\n  - conv: {out: 4, kernel: 3, padding: 1}\n"
    )
    assert stack.peak_activation_elements == 512


def test_views_allocate_nothing_and_batch_and_dtype_scale() -> None:
    spec = """
input: [4, 8, 8]
layers:
  - dropout: {}
  - flatten: {}
  - linear: {out: 10}
"""
    report = run(spec, batch=3, dtype="float16")
    # dropout and flatten are views of the input (256): linear adds 10 → 266 per sample.
    assert report.peak_activation_elements == 266 * 3
    assert report.peak_at == "linear1"
    # params 256·10 + 10 = 2570, not multiplied by the batch; float16 is 2 bytes
    assert report.peak_memory_bytes == (266 * 3 + 2570) * 2


def test_peak_memory_in_json_totals() -> None:
    report = run(RESIDUAL)
    totals = json.loads(to_json([report]))["totals"]
    assert totals["peak_activation_bytes"] == 768 * 4
    # params: two convs of 4·4·9 + 4 = 148
    assert totals["peak_memory_bytes"] == (768 + 296) * 4
    assert totals["peak_at"] == "add1.body.relu1"


# Bounds that hold for any network, checked on random stacks of layers and merge blocks.
LAYER_TEXT = st.sampled_from(
    [
        "conv: {out: 3, kernel: 3, padding: 1}",
        "conv: {out: 6, kernel: 1}",
        "relu: {}",
        "dropout: {}",
        "maxpool: {kernel: 3, stride: 1, padding: 1}",
        "add: {body: [{conv: {out: ${in_channels}, kernel: 1}}], shortcut: []}",
        "concat: {a: [{conv: {out: 2, kernel: 1}}], b: [], c: [{relu: {}}]}",
    ]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(LAYER_TEXT, min_size=1, max_size=8), st.integers(1, 3))
def test_peak_is_between_one_layers_tensors_and_all_tensors(layers: list[str], batch: int) -> None:
    text = "input: [4, 6, 6]\nlayers:\n" + "".join(f"  - {layer}\n" for layer in layers)
    report = run(text.replace("${in_channels}", '"${in_channels}"'), batch=batch)
    input_elements = 4 * 36 * batch
    # upper bound: the input and every output alive at once
    assert report.peak_activation_elements <= input_elements + report.totals.activation_elements
    # lower bound: any allocating leaf layer has its input and its output alive together
    views = {"identity", "dropout", "flatten", "split"}
    for layer in report.layers:
        if layer.kind in views:
            continue
        together = (elements(layer.input_shape) + elements(layer.output_shape)) * batch
        if layer.kind not in ("concat", "add", "multiply"):
            assert report.peak_activation_elements >= together
    assert report.peak_activation_elements >= input_elements
