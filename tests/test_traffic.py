"""Memory traffic and arithmetic intensity against hand-computed values (docs/cost-model.md,
"Memory traffic"): each layer reads its input and parameters once and writes its output once;
a view moves nothing; a merge reads its branch outputs and writes its own."""

from __future__ import annotations

import json
from fractions import Fraction

from typer.testing import CliRunner

import convcost
from convcost.cli import app
from convcost.errors import ExitStatus
from convcost.explain import Quantity, explain
from convcost.report import LayerReport, Report, intensity

SPEC = """
name: traffic
input: [8, 10, 10]
layers:
  - conv: {out: 16, kernel: 3, padding: 1, bias: false}
  - depthwise: {kernel: 3, padding: 1}
  - pointwise: {out: 4, bias: false}
  - add:
      body: [{relu: {}}]
      shortcut: []
  - concat:
      a: [{maxpool: {kernel: 2, stride: 2}}]
      b: [{avgpool: {kernel: 2, stride: 2}}]
  - multiply:
      identity: []
      gate: [{global_avgpool: {}}]
  - flatten: {}
  - linear: {out: 3}
"""


def layers(report: Report) -> dict[str, LayerReport]:
    return {layer.path: layer for layer in report.layers}


def moved(layer: LayerReport) -> tuple[int, int]:
    return layer.cost.read_elements, layer.cost.written_elements


def test_each_kind_against_hand_computed_traffic() -> None:
    report = convcost.analyze(convcost.parse_spec(SPEC))
    by_path = layers(report)
    # conv 3×3, 8 → 16 on 10×10: reads 8·10·10 = 800 inputs + 3·3·8·16 = 1,152 weights,
    # writes 16·10·10 = 1,600
    assert moved(by_path["conv1"]) == (800 + 1_152, 1_600)
    # depthwise 3×3 on 16×10×10: reads 1,600 + 16·9 weights + 16 biases, writes 1,600
    assert moved(by_path["depthwise1"]) == (1_600 + 144 + 16, 1_600)
    # pointwise 16 → 4 without bias, ShuffleNet V2's MAC: hw(c1 + c2) + c1·c2
    # = 100·(16 + 4) + 16·4 = 2,064 elements in all: 1,600 + 64 read, 400 written
    pointwise = by_path["pointwise1"]
    assert moved(pointwise) == (1_600 + 64, 400)
    assert pointwise.cost.traffic_elements == 100 * (16 + 4) + 16 * 4
    # the add of a relu branch and the identity on 4×10×10 = 400: reads both, writes one
    assert moved(by_path["add1"]) == (2 * 400, 400)
    # 2×2 pools, stride 2, on 4×10×10: each reads 400 and writes 4·5·5 = 100
    assert moved(by_path["concat1.a.maxpool1"]) == (400, 100)
    assert moved(by_path["concat1.b.avgpool1"]) == (400, 100)
    # the concat copies its two 100-element branches into 8·5·5 = 200
    assert moved(by_path["concat1"]) == (200, 200)
    # the global average pool reads 200, writes 8; the multiply reads 200 + the 8-element
    # gate (broadcast) and writes 200
    assert moved(by_path["multiply1.gate.global_avgpool1"]) == (200, 8)
    assert moved(by_path["multiply1"]) == (200 + 8, 200)
    # flatten is a view: nothing moves
    assert moved(by_path["flatten1"]) == (0, 0)
    assert intensity(by_path["flatten1"].cost, 4) is None
    # linear 200 → 3 with bias: reads 200 inputs + 600 weights + 3 biases, writes 3
    assert moved(by_path["linear1"]) == (200 + 600 + 3, 3)
    # totals: the sum of the hand-computed rows above
    read = 1_952 + 1_760 + 1_664 + 400 + 800 + 400 + 400 + 200 + 200 + 208 + 0 + 803
    written = 1_600 + 1_600 + 400 + 400 + 400 + 100 + 100 + 200 + 8 + 200 + 0 + 3
    assert (report.totals.read_elements, report.totals.written_elements) == (read, written)


def test_intensity_is_flops_per_byte() -> None:
    report = convcost.analyze(convcost.parse_spec(SPEC), dtype="float16")
    conv = layers(report)["conv1"]
    # FLOPs 2·(10·10·16·8·9) = 230,400 over 2 B · (1,952 + 1,600) = 7,104 B
    assert intensity(conv.cost, report.bytes_per_element) == Fraction(230_400, 7_104)
    # a depthwise conv: 2·1,600·9 = 28,800 FLOPs over 2 B · 3,360 = 6,720 B, about 4.3
    depthwise = layers(report)["depthwise1"]
    assert intensity(depthwise.cost, 2) == Fraction(28_800, 6_720)


def test_batch_multiplies_activations_not_parameters() -> None:
    report = convcost.analyze(convcost.parse_spec(SPEC), batch=3)
    # conv1 at batch 3: 3·800 inputs + 1,152 weights once; 3·1,600 written
    assert moved(layers(report)["conv1"]) == (2_400 + 1_152, 4_800)


def test_json_and_csv_carry_bytes() -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["analyze", "-", "--format", "json", "--dtype", "float16"], input=SPEC
    )
    assert result.exit_code == ExitStatus.OK, result.output
    data = json.loads(result.stdout)
    linear = next(layer for layer in data["layers"] if layer["path"] == "linear1")
    # 803 elements read and 3 written at 2 B; FLOPs 2·600 = 1,200 over 1,612 B
    assert (linear["bytes_read"], linear["bytes_written"]) == (1_606, 6)
    assert linear["intensity"] == 1_200 / 1_612
    flatten = next(layer for layer in data["layers"] if layer["path"] == "flatten1")
    assert (flatten["bytes_read"], flatten["bytes_written"], flatten["intensity"]) == (0, 0, None)
    result = runner.invoke(app, ["analyze", "-", "--format", "csv"], input=SPEC)
    header, *lines = result.stdout.splitlines()
    columns = header.split(",")
    row = dict(
        zip(columns, next(line for line in lines if ",pointwise1," in line).split(","), strict=True)
    )
    # pointwise at float32: 1,664 · 4 read, 400 · 4 written
    assert (row["bytes_read"], row["bytes_written"]) == ("6656", "1600")


def test_explain_shows_shufflenet_mac_for_a_pointwise_conv() -> None:
    (explanation,) = explain(convcost.parse_spec(SPEC), layer="pointwise1")
    (item,) = explanation.layers
    step = next(s for s in item.steps if s.quantity is Quantity.TRAFFIC)
    assert (step.symbol, step.formula) == ("MAC", "h·w·(c₁ + c₂) + c₁·c₂")
    assert step.substituted == "10·10·(16 + 4) + 16·4"
    assert step.value == 2_064
    (merged,) = explain(convcost.parse_spec(SPEC), layer="multiply1")[0].layers[-1:]
    step = next(s for s in merged.steps if s.quantity is Quantity.TRAFFIC)
    # branch outputs 200 (identity) and 8 (gate), then the 200-element output
    assert (step.substituted, step.value) == ("200 + 8 + 200", 408)
