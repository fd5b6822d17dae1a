"""``custom``: a declared layer. Its figures are the user's expressions, so the oracle is the
arithmetic itself, done by hand in the comments; plus the names an expression sees, the declared
receptive field, explain, the schema, ``--execute``'s pass-through and refusal, and errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import convcost
from convcost.build import build
from convcost.cli import app
from convcost.errors import ExitStatus, ShapeError, SpecError
from convcost.executor import execute, prepare
from convcost.explain import explain
from convcost.explain.steps import step_text
from convcost.receptive import Coverage
from tests.test_explain import check_against_report, leaf_items

DEFORM = """
name: deformable
input: [16, 28, 28]
blocks:
  deform:
    params: {out: 32, k: 3}
    layers:
      - custom:
          label: deform
          shape: [$out, h, w]
          params: "${out * in_channels * k * k} + $out + 2 * $k * $k * (c * $k * $k + 1)"
          macs: "$out * h * w * c * $k * $k + 2 * $k * $k * h * w * c * $k * $k"
          ops: "${out} * h * w"
          field: local
          kernel: $k
layers:
  - deform: {}
  - custom: {label: norm, params: "2 * c", ops: "2 * c * h * w"}
  - custom: {shape: ["c * h * w"], field: global}
"""


def layers(text: str) -> list[convcost.LayerReport]:
    return list(convcost.analyze(convcost.parse_spec(text)).layers)


def test_a_deformable_conv_declared_by_hand() -> None:
    """torchvision's DeformConv2d(16, 32, 3, padding=1) with its offset conv (2·3·3 = 18
    channels, 3×3, bias), written as expressions of c, h, w and the block's parameters."""
    deform, norm, flat = layers(DEFORM)
    assert (deform.kind, deform.output_shape) == ("custom:deform", (32, 28, 28))
    # weights 32·16·9 = 4,608 + bias 32; offsets 18·(16·9 + 1) = 2,610
    assert deform.cost.params == 4_608 + 32 + 2_610 == 7_250
    assert deform.cost.weights == 7_250
    assert deform.cost.biases == 0
    # 32·28·28·16·9 = 3,612,672 for the conv; 18·28·28·16·9 = 2,032,128 for the offsets
    assert deform.cost.macs == 3_612_672 + 2_032_128
    assert deform.cost.ops == 32 * 28 * 28 == 25_088
    assert deform.receptive_field.size == (3, 3)
    # the next one sees c = 32 (its own input): 2·32 = 64 params, 2·32·28·28 = 50,176 ops
    assert (norm.kind, norm.cost.params, norm.cost.ops) == ("custom:norm", 64, 50_176)
    assert norm.receptive_field.size == (3, 3)  # field: same (the default)
    assert (flat.kind, flat.output_shape) == ("custom", (32 * 28 * 28,))
    assert flat.receptive_field.coverage is Coverage.GLOBAL


@pytest.mark.parametrize(
    ("shape", "expression", "value"),
    [
        ((3, 7), "c * l", 21),
        ((3, 4, 5), "c * h * w", 60),
        ((2, 3, 4, 5), "c * d * h * w + d", 123),  # 120 + 3
        ((3, 4, 5), "${c * h * w} - h % 3", 59),  # the template sees them too: 60 − 1
        ((3, 4, 5), "(c + 1) // 2 * w", 10),  # 2·5
    ],
)
def test_the_names_an_expression_sees(shape: tuple[int, ...], expression: str, value: int) -> None:
    (layer,) = layers(f"input: {list(shape)}\nlayers:\n  - custom: {{ops: '{expression}'}}\n")
    assert layer.cost.ops == value


def test_a_flat_input_binds_c_to_its_features() -> None:
    _, layer = layers("input: [5, 2, 2]\nlayers:\n  - flatten: {}\n  - custom: {ops: 'c * 2'}\n")
    assert layer.cost.ops == 40  # c = 5·2·2 = 20


def test_a_local_field_grows_as_a_convs() -> None:
    # r = 1 + (3 − 1)·1 = 3, j = 2; then r = 3 + (3 − 1)·2 = 7, j = 4
    first, second = layers(
        "input: [3, 32, 32]\nlayers:\n"
        "  - custom: {shape: [c, h // 2, w // 2], field: local, kernel: 3, stride: 2}\n"
        "  - custom: {shape: [c, h // 2, w // 2], field: local, kernel: 3, stride: 2}\n"
    )
    assert (first.receptive_field.size, first.receptive_field.jump) == ((3, 3), (2, 2))
    assert (second.receptive_field.size, second.receptive_field.jump) == ((7, 7), (4, 4))
    assert second.output_shape == (3, 8, 8)


def test_explain_shows_the_declared_figures() -> None:
    items = leaf_items(explain(convcost.parse_spec(DEFORM)))
    assert sum(check_against_report(item) for item in items) >= 12
    assert items[0].settings == "declared: deform, field local, kernel 3×3, stride 1×1"


# --- --execute --------------------------------------------------------------------------------


def test_execute_passes_a_same_shape_layer_through() -> None:
    text = (
        "input: [4, 6, 6]\nlayers:\n  - conv: {out: 4, kernel: 3, padding: 1}\n"
        "  - custom: {label: vendor_act, params: '3 * c', ops: 'c * h * w'}\n  - relu: {}\n"
    )
    plain = "input: [4, 6, 6]\nlayers:\n  - conv: {out: 4, kernel: 3, padding: 1}\n  - relu: {}\n"
    x = np.random.default_rng(1).standard_normal((2, 4, 6, 6))
    outputs = []
    for source in (text, plain):
        spec = convcost.parse_spec(source)
        outputs.append(prepare(build(spec, spec.variants[0]), dtype="float64").output(x))
    np.testing.assert_array_equal(outputs[0], outputs[1])  # the same weights: the same seed
    spec = convcost.parse_spec(text)
    runs = execute(build(spec, spec.variants[0]), warm_up=False).layers
    assert [run.params for run in runs] == [4 * 4 * 9 + 4, 12, 0]  # its declared 3·4


def test_execute_refuses_a_layer_that_changes_the_shape(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(
        "input: [4, 6, 6]\nlayers:\n  - relu: {}\n  - custom: {label: offsets, shape: [8, h, w]}\n"
    )
    result = CliRunner().invoke(app, ["analyze", str(path), "--execute"])
    assert result.exit_code == ExitStatus.SHAPE_MISMATCH
    assert result.stderr == (
        f"error: {path}:4:5: layer custom1: --execute cannot run custom:offsets: it declares "
        "the output [8, 6, 6] for the input [4, 6, 6], and only a custom layer that keeps its "
        "input's shape runs (as a pass-through)\n"
    )


# --- errors -----------------------------------------------------------------------------------

LAYER = "input: [3, 8, 8]\nlayers:\n  - custom: "


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ("{shape: [c, 'h - 10', w]}", ShapeError,
         "<string>:3:5: layer custom1, field custom.shape: size 1 of the output, 'h - 10', is -2 "
         "for the input [3, 8, 8]: every size must be >= 1"),
        ("{shape: [1, 2, 3, 4, 5]}", SpecError,
         "<string>:3:21: layer custom1, field custom.shape: must be a list of 1 to 4 sizes, "
         "channels first (integers or expressions), got 5 values"),
        ("{shape: [c, 2.5]}", SpecError,
         "<string>:3:21: layer custom1, field custom.shape: must be an integer or an expression "
         "such as 'c * h * w', got 2.5"),
        ("{params: [1, 2]}", SpecError,
         "<string>:3:22: layer custom1, field custom.params: must be an integer or an expression "
         "such as 'c * h * w', got a list"),
        ("{params: 'c - 10'}", SpecError,
         "<string>:3:22: layer custom1, field custom.params: 'c - 10' is -7 for the input "
         "[3, 8, 8]: must be >= 0"),
        ("{macs: 'x * 2'}", SpecError,
         "<string>:3:20: layer custom1, field custom.macs: unknown name 'x' in 'x * 2'; "
         "known: c, h, w"),
        ("{ops: 'c / 2'}", SpecError,
         "<string>:3:19: layer custom1, field custom.ops: 'c / 2' is 1.5 (not a whole number: round it with round(), floor(), ceil() or make_divisible())"),
        ("{kernel: 3}", SpecError,
         "<string>:3:22: layer custom1, field custom.kernel: `kernel` and `stride` describe a "
         "local field: add `field: local`"),
        ("{field: local}", SpecError,
         "<string>:3:5: layer custom1, field custom.kernel: `kernel` is required with "
         "`field: local`"),
        ("{shape: [c, 64], field: same}", SpecError,
         "<string>:3:37: layer custom1, field custom.field: the output has other spatial axes "
         "than the input ([3, 8, 8] → [3, 64]): declare `field: global` (or `local`)"),
        ("{shape: ['c * h * w'], field: local, kernel: 2}", SpecError,
         "<string>:3:43: layer custom1, field custom.field: `field: local` needs the same "
         "spatial axes in and out, got [3, 8, 8] → [192]"),
        ("{label: ''}", SpecError,
         "<string>:3:21: layer custom1, field custom.label: custom label must not be empty"),
        ("{label: 7}", SpecError,
         "<string>:3:21: layer custom1, field custom.label: must be a string, got 7"),
        ("{field: globl}", SpecError,
         "<string>:3:21: layer custom1, field custom.field: must be one of same, local, global, "
         "got 'globl'; did you mean 'global'?"),
    ],
    ids=[
        "size below 1", "five sizes", "float size", "list params", "negative params",
        "unknown name", "true division", "kernel without local", "local without kernel",
        "rank change kept same", "local across ranks", "empty label", "numeric label",
        "misspelt field",
    ],
)  # fmt: skip
def test_bad_fields(fields: str, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as raised:
        convcost.analyze(convcost.parse_spec(LAYER + fields + "\n"))
    assert type(raised.value) is error
    assert str(raised.value) == message


def test_a_block_parameter_may_not_hide_a_dimension() -> None:
    text = (
        "input: [3, 8, 8]\nblocks:\n  b:\n    params: {h: 2}\n    layers:\n"
        "      - custom: {ops: '$h * h'}\nlayers:\n  - b: {}\n"
    )
    with pytest.raises(SpecError) as raised:
        convcost.analyze(convcost.parse_spec(text))
    assert str(raised.value) == (
        "<string>:6:9: layer b1.custom1: block parameter 'h' has the name of an input dimension "
        "that custom expressions use (c, h, w): rename the parameter"
        " (in block 'b' at <string>:3:3, used at <string>:8:5 with h=2)"
    )


def test_the_schema_validates_custom_layers() -> None:
    schema = pytest.importorskip("tests.test_schema")  # needs jsonschema
    assert schema.errors(DEFORM) == []
    assert schema.has_reason(
        LAYER + "{shape: 5}\n", "layers/0/custom/shape", "5 is not of type 'array'"
    )
    assert schema.has_reason(
        LAYER + "{params: -1}\n", "layers/0/custom/params", "-1 is less than the minimum of 0"
    )
    assert schema.has_reason(
        LAYER + "{labl: x}\n", "layers/0/custom",
        "Additional properties are not allowed ('labl' was unexpected)",
    )  # fmt: skip


def test_each_use_of_a_block_evaluates_its_own_parameters() -> None:
    """Identical layers are parsed once per kind, shape and values (build's cache): a custom
    layer in two uses of a block with another `k` must not share the first one's figures."""
    text = (
        "input: [4, 8, 8]\nblocks:\n  b:\n    params: {k: 2}\n    layers:\n"
        "      - custom: {ops: '$k * h', params: '${k * c}'}\n        repeat: 2\n"
        "layers:\n  - b: {k: 3}\n  - b: {}\n"
    )
    # k = 3: 3·8 = 24 ops, 3·4 = 12 params; k = 2: 16 ops, 8 params
    assert [(layer.cost.ops, layer.cost.params) for layer in layers(text)] == [
        (24, 12), (24, 12), (16, 8), (16, 8),
    ]  # fmt: skip


def test_explain_writes_the_dimensions_into_the_expressions() -> None:
    items = leaf_items(explain(convcost.parse_spec(DEFORM)))
    norm = next(item for item in items if item.path == "custom1")
    # c = 32, h = w = 28: 2·32 = 64 and 2·32·28·28 = 50,176
    assert [step_text(step) for step in norm.steps[:2]] == [
        "2 * c = 2 * 32 = 64",
        "2 * c * h * w = 2 * 32 * 28 * 28 = 50,176",
    ]
