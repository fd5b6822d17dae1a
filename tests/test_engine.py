"""The engine on merges, blocks, repeats, batch, dtype, warnings and invariants (hand-computed)."""

from __future__ import annotations

import math
from fractions import Fraction

from convcost.errors import Location
from convcost.receptive import Coverage, ReceptiveField
from convcost.render.rows import rows
from convcost.report import Cost, LayerReport, Report, layer_report
from tests.conftest import run

INCEPTION = """
input: [192, 28, 28]
layers:
  - concat:
      b1x1: [{conv: {out: 64, kernel: 1}}]
      b3x3:
        - conv: {out: 96, kernel: 1}
        - conv: {out: 128, kernel: 3, padding: 1}
      pool:
        - maxpool: {kernel: 3, stride: 1, padding: 1}
        - conv: {out: 32, kernel: 1}
    name: inception3a
"""

BOTTLENECK = """
input: [512, 28, 28]
blocks:
  bottleneck:
    params: {mid: 64, out: 256, stride: 1}
    layers:
      - add:
          body:
            - conv: {out: $mid, kernel: 1, bias: false}
            - batchnorm: {}
            - relu: {}
            - conv: {out: $mid, kernel: 3, stride: $stride, padding: 1, bias: false}
            - batchnorm: {}
            - relu: {}
            - conv: {out: $out, kernel: 1, bias: false}
            - batchnorm: {}
          shortcut: []
      - relu: {}
layers:
  - bottleneck: {mid: 128, out: 512}
    repeat: 3
"""


# Hand-computed totals (the engine's totals are the sum of its layers, so they are checked
# against these, never against that sum). Inception: 28·28 = 784 positions.
INCEPTION_TOTALS = Cost(
    # 64·192 + 96·192 + 128·96·9 + 32·192 = 12,288 + 18,432 + 110,592 + 6,144
    weights=147_456,
    biases=64 + 96 + 128 + 32,
    # 784·(64·192 + 96·192 + 128·96·9 + 32·192)
    macs=784 * 147_456,
    # bias adds, one per conv output element: 784·(64 + 96 + 128 + 32) = 250,880;
    # the 3×3 max pool, one per window element: 784·192·9 = 1,354,752; concat: none
    ops=250_880 + 1_354_752,
    # outputs: 64, 96, 128 (convs), 192 (pool), 32 (conv), 224 (concat) channels of 784
    activation_elements=(64 + 96 + 128 + 192 + 32 + 224) * 784,
    # memory traffic: the 192-channel input read by b1x1's conv, b3x3's first conv, the pool
    # and nothing else (the pool's conv reads the pool's 192 channels); b3x3's 3×3 conv reads
    # the 96 channels of its first conv; the concat reads the three branch outputs (64 + 128
    # + 32 channels); every parameter read once
    read_elements=784 * (4 * 192 + 96 + 224) + 147_456 + 320,
    # every layer writes its output once (no views here)
    written_elements=(64 + 96 + 128 + 192 + 32 + 224) * 784,
)

# One bottleneck (mid 128, out 512) on 512×28×28, 784 positions; BOTTLENECK repeats it 3 times.
BOTTLENECK_BLOCK = Cost(
    # convs 512·128 + 128·128·9 + 128·512; batchnorm scales 128 + 128 + 512
    weights=65_536 + 147_456 + 65_536 + 768,
    # batchnorm shifts (the convs have no bias)
    biases=768,
    # 784·(512·128 + 128·128·9 + 128·512)
    macs=784 * 278_528,
    # batchnorms 2/element: 2·784·(128 + 128 + 512); relus 1/element: 784·(128 + 128 + 512);
    # the add, 1 per element for the extra branch: 784·512
    ops=2 * 784 * 768 + 784 * 768 + 784 * 512,
    # 6 outputs of 128 channels (conv, bn, relu twice), 4 of 512 (conv, bn, add, relu)
    activation_elements=784 * (6 * 128 + 4 * 512),
    # inputs read: conv1 512; bn, relu, conv2, bn, relu, conv3 128 each; bn3 512; the add its
    # two branches 2·512; the relu 512 channels, all of 784; plus every parameter once
    read_elements=784 * (512 + 6 * 128 + 512 + 2 * 512 + 512) + 279_296 + 768,
    written_elements=784 * (6 * 128 + 4 * 512),
)


def times(cost: Cost, n: int) -> Cost:
    return Cost(
        weights=n * cost.weights,
        biases=n * cost.biases,
        macs=n * cost.macs,
        ops=n * cost.ops,
        activation_elements=n * cost.activation_elements,
        read_elements=n * cost.read_elements,
        written_elements=n * cost.written_elements,
    )


def rows_sum_to(report: Report, expected: Cost, counts: list[int]) -> None:
    """At every ``--depth`` k (``counts[k - 1]`` rows, hand-counted), the rows add up to the
    hand-computed totals; no depth loses or double-counts a layer."""
    for depth, count in enumerate([*counts, len(report.layers)], start=1):
        shown = rows(report, depth if depth <= len(counts) else None)
        assert len(shown) == count, depth
        for field in ("weights", "biases", "macs", "ops", "activation_elements"):
            got = sum(getattr(row.cost, field) for row in shown)
            assert got == getattr(expected, field), (depth, field)


def test_inception_concat() -> None:
    report = run(INCEPTION)
    # channels 64 + 128 + 32 = 224
    assert report.output_shape == (224, 28, 28)
    # MACs: 784·64·192 + 784·96·192 + 784·128·96·9 + 784·32·192
    assert report.totals.macs == 9_633_792 + 14_450_688 + 86_704_128 + 4_816_896
    # params: (64·192+64) + (96·192+96) + (128·96·9+128) + (32·192+32)
    assert report.totals.params == 12_352 + 18_528 + 110_720 + 6_176
    assert [layer.path for layer in report.layers] == [
        "inception3a.b1x1.conv1",
        "inception3a.b3x3.conv1",
        "inception3a.b3x3.conv2",
        "inception3a.pool.maxpool1",
        "inception3a.pool.conv1",
        "inception3a",
    ]
    merge_row = report.layers[-1]
    assert (merge_row.kind, merge_row.cost.ops, merge_row.cost.macs) == ("concat", 0, 0)
    # receptive field: the largest branch (3×3 conv, or 3×3 pool then 1×1)
    assert report.receptive_field.size == (3, 3)
    (block,) = report.blocks
    assert (block.path, block.kind, block.cost) == ("inception3a", "concat", INCEPTION_TOTALS)
    assert report.totals == INCEPTION_TOTALS
    # depth 1: the concat block; 2: its three branches and the merge step; 3: every layer
    rows_sum_to(report, INCEPTION_TOTALS, [1, 4, 6])


def test_residual_add_counts_the_sum_in_ops() -> None:
    report = run(
        """
input: [64, 8, 8]
layers:
  - add:
      body:
        - conv: {out: 64, kernel: 3, padding: 1, bias: false}
        - batchnorm: {}
        - relu: {}
        - conv: {out: 64, kernel: 3, padding: 1, bias: false}
        - batchnorm: {}
      shortcut: []
  - relu: {}
"""
    )
    # 2 convs of 64·64·9 weights + 2 batchnorms of 2·64
    assert report.totals.params == 2 * 36_864 + 2 * 128
    # MACs 2 · (8·8·64)·64·9
    assert report.totals.macs == 2 * 2_359_296
    add = next(layer for layer in report.layers if layer.kind == "add")
    # one addition per output element (2 branches): 64·8·8
    assert add.cost.ops == 4096
    # body: 1 + 2 + 2 = 5; shortcut: 1; the merge takes the larger
    assert report.receptive_field.size == (5, 5)
    # on 64·8·8 = 4,096 elements per tensor: 2 batchnorms of 2/element, 2 relus and the add of
    # 1/element: 7·4,096 ops; 7 outputs (conv, bn, relu, conv, bn, add, relu) of 4,096
    expected = Cost(
        weights=2 * 36_864 + 2 * 64, biases=2 * 64, macs=2 * 2_359_296, ops=28_672,
        activation_elements=28_672,
    )  # fmt: skip
    # depth 1: add1, relu1; 2: add1.body, the merge step, relu1; 3: every layer
    rows_sum_to(report, expected, [2, 3, 7])


def test_squeeze_excitation_multiply_broadcasts_and_keeps_the_local_field() -> None:
    report = run(
        """
input: [64, 8, 8]
layers:
  - multiply:
      identity: []
      gate: [{global_avgpool: {}}, {conv: {out: 16, kernel: 1}}, {relu: {}}, {conv: {out: 64, kernel: 1}}, {sigmoid: {}}]
"""
    )
    assert report.output_shape == (64, 8, 8)
    # (64·16 + 16) + (16·64 + 64)
    assert report.totals.params == 2128
    # MACs on 1×1 maps: 16·64 + 64·16
    assert report.totals.macs == 2048
    multiply = report.layers[-1]
    assert (multiply.kind, multiply.cost.ops) == ("multiply", 4096)
    # the gate sees the whole input; the field stays the identity branch's (1×1), marked
    field = report.receptive_field
    assert (field.coverage, field.size, field.global_context) == (Coverage.LOCAL, (1, 1), True)


def test_densenet_layer_concats_identity() -> None:
    report = run(
        "input: [64, 8, 8]\nlayers:\n  - concat: {identity: [], new: [{conv: {out: 32, kernel: 3, padding: 1}}]}\n"
    )
    assert report.output_shape == (96, 8, 8)


def test_split_and_shuffle() -> None:
    report = run(
        """
input: [116, 28, 28]
layers:
  - concat:
      left: [{split: {parts: 2, index: 0}}]
      right:
        - split: {parts: 2, index: 1}
        - conv: {out: 58, kernel: 1, bias: false}
  - channel_shuffle: {groups: 2}
"""
    )
    assert [layer.output_shape for layer in report.layers] == [
        (58, 28, 28),
        (58, 28, 28),
        (58, 28, 28),
        (116, 28, 28),
        (116, 28, 28),
    ]
    # the conv after the split sees 58 channels: 58·58 weights
    assert report.totals.params == 58 * 58


def test_reusable_block_with_repeat() -> None:
    report = run(BOTTLENECK)
    # per block: 512·128 + 128·128·9 + 128·512 weights, batchnorms 2·128 + 2·128 + 2·512
    per_block = 65_536 + 147_456 + 65_536 + 256 + 256 + 1024
    assert report.totals.params == 3 * per_block
    # MACs per block: 28·28·(512·128 + 128·128·9 + 128·512)
    assert report.totals.macs == 3 * 784 * 278_528
    assert report.layers[0].path == "bottleneck1.0.add1.body.conv1"
    kinds = {block.path: block.kind for block in report.blocks}
    assert kinds["bottleneck1"] == "repeat"
    assert kinds["bottleneck1.2"] == "bottleneck"
    assert kinds["bottleneck1.2.add1"] == "add"
    assert report.totals == times(BOTTLENECK_BLOCK, 3)


def test_depth_collapses_rows() -> None:
    report = run(BOTTLENECK)
    (top,) = rows(report, depth=1)
    assert (top.path, top.kind, top.collapsed) == ("bottleneck1", "repeat", True)
    assert top.cost == times(BOTTLENECK_BLOCK, 3)
    second = rows(report, depth=2)
    assert [(row.path, row.kind, row.cost) for row in second] == [
        (f"bottleneck1.{i}", "bottleneck", BOTTLENECK_BLOCK) for i in range(3)
    ]
    # per block, depth 3: add1, relu1; 4: add1.body, the merge step, relu1; 5: 10 layers
    rows_sum_to(report, times(BOTTLENECK_BLOCK, 3), [1, 3, 6, 9, 30])
    full = rows(report)
    assert len(full) == len(report.layers) == 30


def test_expression_in_block_sees_in_channels() -> None:
    report = run(
        """
input: [16, 8, 8]
blocks:
  inverted:
    params: {out: null, stride: 1}
    layers:
      - pointwise: {out: "${in_channels * 6}", bias: false}
      - depthwise: {kernel: 3, stride: $stride, padding: 1, bias: false}
      - pointwise: {out: $out, bias: false}
layers:
  - inverted: {out: 24, stride: 2}
"""
    )
    # 16·96 + 96·9 + 96·24
    assert report.totals.params == 1536 + 864 + 2304
    assert report.output_shape == (24, 4, 4)


def test_batch_multiplies_work_not_parameters() -> None:
    one, four = run(INCEPTION), run(INCEPTION, batch=4)
    assert four.totals.params == one.totals.params
    assert four.totals.macs == 4 * one.totals.macs
    assert four.totals.ops == 4 * one.totals.ops
    assert four.totals.activation_elements == 4 * one.totals.activation_elements


def test_dtype_sets_activation_bytes() -> None:
    # 577,024 elements (INCEPTION_TOTALS) of 2 bytes; parameters too: 147,776 of 2 bytes
    report = run(INCEPTION, dtype="float16")
    assert report.activation_bytes == 1_154_048
    assert report.parameter_bytes == 295_552


def test_counts_do_not_overflow() -> None:
    # 4096 channels on 4096×4096, k 11, batch 10⁶: beyond 2⁶³, exact as Python ints
    report = run(
        "input: [4096, 4096, 4096]\nlayers:\n  - conv: {out: 4096, kernel: 11, padding: 5}\n",
        batch=10**6,
    )
    assert report.totals.macs == 4096 * 4096 * 4096 * 4096 * 121 * 10**6
    assert report.totals.macs > 2**63


def test_flops_are_twice_macs() -> None:
    # the convention of docs/cost-model.md, on the hand-computed 115,605,504 MACs
    report = run(INCEPTION)
    assert report.totals.flops == 231_211_008


def test_floor_division_warning() -> None:
    # (8 − 3) mod 2 = 1: the last row and column are never read
    (warning,) = run(
        "input: [1, 8, 8]\nlayers:\n  - conv: {out: 1, kernel: 3, stride: 2}\n"
    ).warnings
    assert warning.path == "conv1"
    assert "1 on axis H, 1 on axis W" in warning.message
    assert warning.location is not None
    assert warning.location.line == 3
    # with padding 1 the skipped position is padding, not input
    assert (
        run(
            "input: [1, 8, 8]\nlayers:\n  - conv: {out: 1, kernel: 3, stride: 2, padding: 1}\n"
        ).warnings
        == ()
    )


def test_no_floor_warning_when_the_stride_subsamples_anyway() -> None:
    # ResNet's projection shortcut, 1×1 stride 2 on 56: (56 − 1) mod 2 = 1 pixel left at the
    # end, but every odd pixel is skipped anyway (gap s − k_eff = 1): nothing to warn about
    spec = "input: [1, 56, 56]\nlayers:\n  - conv: {out: 1, kernel: 1, stride: 2}\n"
    assert run(spec).warnings == ()
    # kernel 2, stride 3 on 10: gap 1 between windows, but (10 − 2) mod 3 = 2 at the end
    (warning,) = run("input: [1, 10]\nlayers:\n  - maxpool: {kernel: 2, stride: 3}\n").warnings
    assert "2 on axis L" in warning.message


def test_merge_with_different_jumps_warns_and_is_unknown() -> None:
    report = run(
        """
input: [1, 8, 8]
layers:
  - concat:
      pooled: [{avgpool: {kernel: 2}}]
      wide: [{conv: {out: 1, kernel: 5}}]
"""
    )
    assert report.receptive_field.coverage is Coverage.UNKNOWN
    (warning,) = report.warnings
    assert "different jumps" in warning.message


def test_dilated_stack_receptive_fields() -> None:
    report = run(
        "input: [1, 64, 64]\nlayers:\n"
        + "".join(
            f"  - conv: {{out: 1, kernel: 3, padding: same, dilation: {d}}}\n" for d in (1, 2, 4)
        )
    )
    # r = 1 + 2·1 = 3; 3 + 4·1 = 7; 7 + 8·1 = 15
    assert [layer.receptive_field.size[0] for layer in report.layers] == [3, 7, 15]


def test_transposed_conv_jump_is_fractional() -> None:
    report = run(
        "input: [1, 8, 8]\nlayers:\n  - conv: {out: 1, kernel: 2, stride: 2}\n  - conv_transpose: {out: 1, kernel: 2, stride: 2}\n"
    )
    assert report.receptive_field.jump == (Fraction(1), Fraction(1))
    assert math.prod(report.output_shape) == 64


def test_in_channels_is_the_block_input_throughout_its_body() -> None:
    # inside the block, layers change the channel count (64 -> 16) but ${in_channels} stays 64,
    # so the last conv restores the block's input width for the identity shortcut
    report = run(
        """
input: [64, 8, 8]
blocks:
  residual:
    layers:
      - add:
          body:
            - conv: {out: 16, kernel: 1, bias: false}
            - conv: {out: "${in_channels}", kernel: 1, bias: false}
          shortcut: []
layers:
  - residual: {}
    repeat: 2
"""
    )
    # per block 64·16 + 16·64 weights
    assert report.totals.params == 2 * 2048
    assert report.output_shape == (64, 8, 8)


def test_in_channels_is_taken_afresh_per_repetition() -> None:
    # top level: in_channels is 4 at the first repetition, then 8, then 16
    report = run(
        'input: [4, 8, 8]\nlayers:\n  - conv: {out: "${in_channels * 2}", kernel: 1}\n    repeat: 3\n'
    )
    assert [layer.output_shape[0] for layer in report.layers] == [8, 16, 32]


def test_in_channels_outside_blocks_is_what_arrives_at_the_entry() -> None:
    report = run(
        'input: [4, 8, 8]\nlayers:\n  - conv: {out: 6, kernel: 1}\n  - conv: {out: "${in_channels + 1}", kernel: 1}\n'
    )
    assert report.output_shape == (7, 8, 8)


def test_layer_report_fills_the_same_fields_as_the_dataclass_constructor() -> None:
    # every argument distinct, so a setter applied to the wrong field shows
    field = ReceptiveField(Coverage.LOCAL, (3, 5), (1, 2))
    location = Location("net.yaml", 7, 9)
    arguments = {
        "path": "stage.conv1",
        "kind": "conv",
        "input_shape": (3, 8, 8),
        "output_shape": (4, 8, 4),
        "cost": Cost(weights=1, biases=2, macs=3, ops=4, activation_elements=5),
        "receptive_field": field,
        "location": location,
    }
    made = layer_report(*arguments.values())
    assert made == LayerReport(**arguments)  # type: ignore[arg-type]
    assert {name: getattr(made, name) for name in arguments} == arguments
    assert hash(made) == hash(LayerReport(**arguments))  # type: ignore[arg-type]
