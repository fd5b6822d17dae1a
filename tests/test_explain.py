"""``explain``: formulas with numbers substituted, pinned against the engine's figures."""

from __future__ import annotations

import io
import json
from fractions import Fraction
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import convcost
from convcost.cli import app
from convcost.errors import ConvcostError, ExitStatus
from convcost.explain import Explanation, LayerExplanation, Quantity, explain, step_text
from convcost.receptive import Coverage
from convcost.render.explain import print_explanations

SPECS = Path(__file__).parent.parent / "specs"

KITCHEN_SINK = """
name: every-kind
input: [16, 29, 30]
blocks:
  res:
    params: {c: 16}
    layers:
      - add:
          body:
            - conv: {out: $c, kernel: 3, padding: 1, bias: false}
            - batchnorm: {}
            - relu6: {}
          skip: []
layers:
  - conv: {out: 32, kernel: [3, 5], stride: [2, 1], padding: [1, 2], dilation: [1, 2]}
  - conv: {out: 32, kernel: 4, padding: same}
  - depthwise: {kernel: 3, padding: 1, multiplier: 2}
  - pointwise: {out: 16}
  - res: {c: 16}
    repeat: 2
  - separable: {out: 24, kernel: 5, padding: 2, multiplier: 2}
  - concat:
      a: [{conv: {out: 8, kernel: 1}}]
      b:
        - maxpool: {kernel: 3, stride: 1, padding: 1}
        - conv: {out: 8, kernel: 1}
  - multiply:
      x: [{sigmoid: {}}]
      y: [{identity: {}}]
  - channel_shuffle: {groups: 2}
  - split: {parts: 2, index: 1}
  - conv_transpose: {out: 8, kernel: 3, stride: 2, padding: 1, output_padding: 1}
  - maxpool: {kernel: 2, stride: 2, padding: 1, ceil_mode: true}
  - avgpool: {kernel: 3, stride: 2}
  - dropout: {p: 0.1}
  - adaptive_avgpool: {size: [3, 2]}
  - global_maxpool: {}
  - flatten: {}
  - linear: {out: 10}
  - gelu: {}
"""

ONE_D_AND_3D = [
    "input: [4, 50]\nlayers:\n  - conv: {out: 8, kernel: 5, stride: 3}\n  - avgpool: {kernel: 2}\n",
    "input: [2, 9, 10, 11]\nlayers:\n  - conv: {out: 4, kernel: 3, stride: [1, 2, 3]}\n"
    "  - conv_transpose: {out: 2, kernel: 2, stride: 2}\n",
]


def check_against_report(item: LayerExplanation) -> int:
    """Every step value equals the engine's figure for the same layer; returns steps checked."""
    report = item.report
    assert report is not None
    assert (item.input_shape, item.output_shape) == (report.input_shape, report.output_shape)
    field = report.receptive_field
    checked = 0
    parts: list[int] = []
    for step in item.steps:
        value = step.value
        match step.quantity:
            case Quantity.OUTPUT_SIZE:
                expected = (
                    [report.output_shape[0]]
                    if not step.axes
                    else [report.output_shape[1 + a] for a in step.axes]
                )
                assert all(value == e for e in expected), (item.path, step)
            case Quantity.PARAMS:
                assert value == report.cost.params, (item.path, step)
            case Quantity.MACS:
                assert value == report.cost.macs, (item.path, step)
            case Quantity.OPS:
                assert value == report.cost.ops, (item.path, step)
            case Quantity.ACTIVATIONS:
                assert value == report.cost.activation_elements, (item.path, step)
            case Quantity.RECEPTIVE_FIELD:
                if value is None:
                    continue
                assert field.coverage is Coverage.LOCAL
                assert all(field.size[a] == value for a in step.axes), (item.path, step)
            case Quantity.JUMP:
                assert all(field.jump[a] == value for a in step.axes), (item.path, step)
            case Quantity.MACS_PART:
                assert isinstance(value, int)
                parts.append(value)
                continue
            case Quantity.KERNEL_SPAN | Quantity.RELATIVE_COST:
                continue
        checked += 1
    if parts:  # the products of a layer with several (attention) add up to its MACs
        assert sum(parts) == report.cost.macs, item.path
    # params, MACs (when any), ops and activations are always explained
    explained = {step.quantity for step in item.steps}
    assert {Quantity.PARAMS, Quantity.OPS, Quantity.ACTIVATIONS} <= explained | (
        {Quantity.PARAMS} if report.cost.params == 0 else set()
    )
    if report.cost.macs:
        assert Quantity.MACS in explained
    return checked


def leaf_items(explanations: tuple[Explanation, ...]) -> list[LayerExplanation]:
    return [item for e in explanations for item in e.layers if item.report is not None]


@pytest.mark.parametrize(
    "spec",
    [
        *(convcost.load_spec(p) for p in sorted(SPECS.glob("*.yaml"))),
        convcost.parse_spec(KITCHEN_SINK),
    ]
    + [convcost.parse_spec(text) for text in ONE_D_AND_3D],
    ids=[*(p.stem for p in sorted(SPECS.glob("*.yaml"))), "kitchen-sink", "1d", "3d"],
)
def test_every_value_equals_the_engine(spec: convcost.Spec) -> None:
    explanations = explain(spec)
    items = leaf_items(explanations)
    reports = [layer for r in convcost.analyze_all(spec) for layer in r.layers]
    # one explanation per engine row, in the same order
    assert [item.report for item in items] == reports
    assert sum(check_against_report(item) for item in items) > 0


def find(explanations: tuple[Explanation, ...], path: str) -> LayerExplanation:
    return next(item for e in explanations for item in e.layers if item.path == path)


def texts(item: LayerExplanation) -> list[str]:
    return [step_text(step) for step in item.steps]


def test_conv_worked_example_from_the_issue() -> None:
    spec = convcost.load_spec(SPECS / "googlenet-5x5-branch.yaml")
    item = find(explain(spec, variant="direct"), "conv1")
    lines = texts(item)
    # 28 + 2·2 − 1·(5 − 1) − 1 = 27; 27 // 1 + 1 = 28
    assert (
        "H_out = ⌊(H_in + 2·p − d·(k − 1) − 1) / s⌋ + 1 = ⌊(28 + 4 − 4 − 1) / 1⌋ + 1 = 28"
        "  (W_out the same)"
    ) in lines
    # 5·5·192·32 + 32
    assert "k_h·k_w·(C_in/g)·C_out + C_out = 5·5·(192/1)·32 + 32 = 153,632" in lines
    # 28·28·32·192·25
    assert "H_out·W_out·C_out·(C_in/g)·k_h·k_w = 28·28·32·(192/1)·5·5 = 120,422,400" in lines
    assert "r = r_prev + (k_eff − 1)·j_prev = 1 + (5 − 1)·1 = 5" in lines
    assert "j = j_prev·s = 1·1 = 1" in lines


def test_asymmetric_same_padding_shows_both_sides() -> None:
    # kernel 4, 'same': total d·(k − 1) = 3, PyTorch puts 1 before and 2 after
    spec = convcost.parse_spec(
        "input: [8, 28, 28]\nlayers:\n  - conv: {out: 8, kernel: 4, padding: same}\n"
    )
    item = find(explain(spec), "conv1")
    assert (
        "H_out = ⌊(H_in + p_begin + p_end − d·(k − 1) − 1) / s⌋ + 1 = ⌊(28 + 1 + 2 − 3 − 1) / 1⌋ + 1 = 28"
        "  (W_out the same)"
    ) in texts(item)
    assert "padding 1 + 2, 1 + 2 (same)" in item.settings


def test_per_axis_steps_when_axes_differ() -> None:
    spec = convcost.parse_spec(KITCHEN_SINK)
    lines = texts(find(explain(spec), "conv1"))
    # H: ⌊(29 + 2 − 1·2 − 1) / 2⌋ + 1 = 15; W: ⌊(30 + 4 − 2·4 − 1) / 1⌋ + 1 = 26
    assert (
        "H_out = ⌊(H_in + 2·p − d·(k − 1) − 1) / s⌋ + 1 = ⌊(29 + 2 − 2 − 1) / 2⌋ + 1 = 15" in lines
    )
    assert (
        "W_out = ⌊(W_in + 2·p − d·(k − 1) − 1) / s⌋ + 1 = ⌊(30 + 4 − 8 − 1) / 1⌋ + 1 = 26" in lines
    )
    # k_eff on W: 2·(5 − 1) + 1 = 9; r_W = 1 + 8·1
    assert "k_eff,W = d·(k − 1) + 1 = 2·(5 − 1) + 1 = 9" in lines
    assert "r_W = r_prev + (k_eff − 1)·j_prev = 1 + (9 − 1)·1 = 9" in lines
    assert "j_H = j_prev·s = 1·2 = 2" in lines


def test_transposed_conv() -> None:
    spec = convcost.parse_spec(
        "input: [16, 14, 14]\nlayers:\n"
        "  - conv_transpose: {out: 8, kernel: 3, stride: 2, padding: 1, output_padding: 1}\n"
    )
    item = find(explain(spec), "conv_transpose1")
    lines = texts(item)
    # (14 − 1)·2 − 2·1 + 1·(3 − 1) + 1 + 1 = 28, as torch.nn.ConvTranspose2d
    assert (
        "H_out = (H_in − 1)·s − 2·p + d·(k − 1) + output_padding + 1 = (14 − 1)·2 − 2 + 2 + 1 + 1 = 28"
        "  (W_out the same)"
    ) in lines
    # 16·(8/1)·9 + 8 = 1,160; MACs 16·14·14·8·9 = 225,792
    assert "C_in·(C_out/g)·k_h·k_w + C_out = 16·(8/1)·3·3 + 8 = 1,160" in lines
    assert any(
        line.startswith("C_in·H_in·W_in·(C_out/g)·k_h·k_w = 16·14·14·(8/1)·3·3 = 225,792")
        for line in lines
    )
    # output o takes input i through tap t where o + p = 2·i + t: an even o (o + 1 odd) only
    # through t = 1 (one input), an odd o through t = 0 and t = 2 (inputs (o+1)/2 and (o−1)/2):
    # windows 1 and 2 wide, alternating; outputs half an input apart
    assert (
        "r = max over phases (last − first + 1) = max(1, 2) = 2"
        "  (the window differs between output positions: the largest)"
    ) in lines
    assert "j = shift / period = 1 / 2 = 1/2 ≈ 0.5" in lines
    check_against_report(item)


def test_pool_ceil_mode_drops_a_window_in_the_padding() -> None:
    spec = convcost.parse_spec(
        "input: [4, 5, 5]\nlayers:\n  - maxpool: {kernel: 2, stride: 2, padding: 1, ceil_mode: true}\n"
    )
    item = find(explain(spec), "maxpool1")
    lines = texts(item)
    # ⌈(5 + 2 − 1 − 1) / 2⌉ + 1 = 4, and window 4 would start at 6 ≥ 5 + 1: PyTorch gives 3
    assert any(
        line.startswith(
            "H_out = ⌈(H_in + 2·p − d·(k − 1) − 1) / s⌉ + 1 = ⌈(5 + 2 − 1 − 1) / 2⌉ + 1 − 1 = 3"
        )
        for line in lines
    )
    assert "0  (no parameters)" in lines
    # one comparison per window element: 4·3·3·2·2
    assert "C·H_out·W_out·k_h·k_w = 4·3·3·2·2 = 144  (one comparison per window element)" in lines
    check_against_report(item)


def test_separable_against_standard() -> None:
    spec = convcost.load_spec(SPECS / "separable-vs-standard.yaml")
    explanations = explain(spec, variant="separable")
    summary = find(explanations, "separable1")
    assert summary.report is None
    ratio = next(s for s in summary.steps if s.quantity is Quantity.RELATIVE_COST)
    # 29,302,784 / 231,211,008 = 1/64 + 1/9 = 73/576 (tests/test_examples.py)
    assert ratio.value == Fraction(1, 64) + Fraction(1, 9) == Fraction(29_302_784, 231_211_008)
    assert step_text(ratio).startswith(
        "separable / standard = (1/C_out + 1/(k_h·k_w)) = (1/64 + 1/9) = 73/576 ≈ 0.1267"
    )
    standard, separable = (s.value for s in summary.steps if s.quantity is Quantity.MACS)
    assert (standard, separable) == (231_211_008, 29_302_784)
    # the two rows of the separable conv are explained before the summary
    paths = [item.path for item in explanations[0].layers]
    assert paths == ["separable1.depthwise", "separable1.pointwise", "separable1"]


def test_separable_with_multiplier() -> None:
    spec = convcost.parse_spec(KITCHEN_SINK)
    summary = find(explain(spec), "separable1")
    ratio = next(s for s in summary.steps if s.quantity is Quantity.RELATIVE_COST)
    # m = 2, C_out = 24, k = 5·5: 2·(1/24 + 1/25)
    assert ratio.value == 2 * (Fraction(1, 24) + Fraction(1, 25))
    assert "2·(1/24 + 1/25)" in step_text(ratio)


def test_branch_block() -> None:
    spec = convcost.parse_spec(KITCHEN_SINK)
    concat = find(explain(spec), "concat1")
    lines = texts(concat)
    assert "C_out = C_a + C_b = 8 + 8 = 16" in lines
    # the branches' fields differ on H: the larger one is the block's
    assert "r_H = union of the branches' windows = max(29, 33) = 33" in lines
    assert concat.report is not None
    assert concat.report.receptive_field.size[0] == 33
    res = find(explain(spec), "res1.0.add1")
    # two branches joined by +: (n − 1)·C·H·W = 1·16·15·26
    assert (
        "(n − 1)·C·H_out·W_out = 1·16·15·26 = 6,240  (n = 2 branches joined by elementwise +)"
        in texts(res)
    )


def test_layer_option_selects_a_block_and_its_layers() -> None:
    spec = convcost.parse_spec(KITCHEN_SINK)
    (only,) = explain(spec, layer="res1.1")
    assert [item.path for item in only.layers] == [
        "res1.1.add1.body.conv1",
        "res1.1.add1.body.batchnorm1",
        "res1.1.add1.body.relu61",
        "res1.1.add1",
    ]


def test_unknown_layer_suggests_the_nearest() -> None:
    spec = convcost.load_spec(SPECS / "googlenet-5x5-branch.yaml")
    with pytest.raises(
        ConvcostError, match=r"no layer 'reduc'; did you mean 'reduce'\?; layers: conv1, reduce"
    ):
        explain(spec, layer="reduc")


def test_unknown_variant() -> None:
    spec = convcost.load_spec(SPECS / "googlenet-5x5-branch.yaml")
    with pytest.raises(ConvcostError, match=r"no variant named 'drect'; did you mean 'direct'\?"):
        explain(spec, variant="drect")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"})


def test_cli_plain_text_when_piped(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["explain", str(SPECS / "googlenet-5x5-branch.yaml"), "--variant", "bottleneck"]
    )
    assert result.exit_code == ExitStatus.OK, result.stderr
    assert "\x1b[" not in result.stdout
    assert "reduce  conv  192×28×28 → 16×28×28" in result.stdout
    # 28·28·16·192 = 2,408,448; lines are not wrapped when piped
    assert (
        "  MACs             H_out·W_out·C_out·(C_in/g)·k_h·k_w = 28·28·16·(192/1)·1·1 = 2,408,448\n"
        in result.stdout
    )


def test_cli_unknown_layer_exits_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["explain", str(SPECS / "quickstart.yaml"), "--layer", "stm"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr.startswith(
        f"error: {SPECS / 'quickstart.yaml'}: no layer 'stm'; did you mean 'stem'?; layers: "
    )


def test_rich_rendering_on_a_terminal_is_coloured() -> None:
    spec = convcost.load_spec(SPECS / "googlenet-5x5-branch.yaml")
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=True, color_system="standard", width=200, no_color=False
    )
    print_explanations(console, explain(spec, variant="direct"))
    text = buffer.getvalue()
    assert "\x1b[1;32m153,632\x1b[0m" in text  # the result of each formula in bold green


# ---------------------------------------------------------------------------------------------
# explain --format json: values against a hand computation

EXPLAIN_SPEC = """
name: small
input: [3, 8, 8]
layers:
  - conv: {out: 4, kernel: 3, stride: 2, padding: 1}
  - conv_transpose: {out: 2, kernel: 2, stride: 2}
"""


def test_explain_json_values(tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(EXPLAIN_SPEC, encoding="utf-8")
    result = CliRunner().invoke(app, ["explain", str(path), "-f", "json"])
    assert result.exit_code == ExitStatus.OK, result.output
    data = json.loads(result.stdout)
    assert data["source"] == str(path)
    (variant,) = data["variants"]
    assert (variant["name"], variant["input_shape"]) == ("small", [3, 8, 8])
    conv, transposed = variant["layers"]
    assert (conv["path"], conv["kind"], conv["output_shape"]) == ("conv1", "conv", [4, 4, 4])
    values = {step["quantity"]: (step["value"], step["fraction"]) for step in conv["steps"]}
    # By hand: H_out = ⌊(8 + 2·1 − 1·(3 − 1) − 1) / 2⌋ + 1 = ⌊7/2⌋ + 1 = 4;
    # params 3·3·3·4 + 4 = 112; MACs 4·4·4·(3·3·3) = 1,728; ops (bias) 4·4·4 = 64;
    # activations 64; r = 1 + (3 − 1)·1 = 3; j = 1·2 = 2
    assert values == {
        "output_size": (4, None),
        "params": (112, None),
        "macs": (1_728, None),
        "ops": (64, None),
        "activations": (64, None),
        "receptive_field": (3, None),
        "jump": (2, None),
        # memory traffic: input 3·8·8 = 192 + params 112 + output 4·4·4 = 64 → 368 elements;
        # intensity: FLOPs 2·1,728 over 4 B · 368 = 3,456 / 1,472 = 54/23
        "traffic": (368, None),
        "intensity": (54 / 23, "54/23"),
    }
    step = conv["steps"][0]
    assert step["symbol"] == "H_out"
    assert step["substituted"] == "⌊(8 + 2 − 2 − 1) / 2⌋ + 1"
    assert step["axes"] == [0, 1]
    assert step["text"].endswith(" = 4  (W_out the same)")
    # the transposed conv halves the jump: j = 2 / 2 = 1; its output H = (4 − 1)·2 + 2 = 8;
    # r = 3 + (⌈2 / 2⌉ − 1)·2 = 3
    values = {step["quantity"]: step["value"] for step in transposed["steps"]}
    assert transposed["output_shape"] == [2, 8, 8]
    assert (values["receptive_field"], values["jump"]) == (3, 1)


def test_explain_json_fraction(tmp_path: Path) -> None:
    # a transposed conv on the input: j = 1 / 2, written as a float and an exact fraction
    path = tmp_path / "t.yaml"
    path.write_text(
        "input: [2, 4, 4]\nlayers:\n  - conv_transpose: {out: 1, kernel: 2, stride: 2}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["explain", str(path), "-f", "json"])
    steps = json.loads(result.stdout)["variants"][0]["layers"][0]["steps"]
    jump = next(step for step in steps if step["quantity"] == "jump")
    assert (jump["value"], jump["fraction"]) == (0.5, "1/2")


def test_explain_markdown_has_every_step(tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(EXPLAIN_SPEC, encoding="utf-8")
    result = CliRunner().invoke(app, ["explain", str(path), "-f", "markdown", "--layer", "conv1"])
    assert result.exit_code == ExitStatus.OK, result.output
    assert result.stdout.splitlines()[:5] == [
        "### small",
        "",
        "Input 3×8×8.",
        "",
        "`conv1` conv, 3×8×8 → 4×4×4: kernel 3×3, stride 2, padding 1, dilation 1, groups 1, bias",
    ]
    assert "| MACs | H_out·W_out·C_out·(C_in/g)·k_h·k_w = 4·4·4·(3/1)·3·3 = 1,728 |" in (
        result.stdout
    )


def test_dead_taps_and_phases_and_global_context() -> None:
    spec = convcost.parse_spec(
        "input: [1, 28, 28]\nlayers:\n"
        "  - conv: {out: 1, kernel: 3, padding: 36, dilation: 36}\n"
        "  - conv: {out: 1, kernel: 2, stride: 2}\n"
        "  - conv_transpose: {out: 1, kernel: 3, stride: 2}\n"
        "  - multiply:\n"
        "      identity: []\n"
        "      gate: [{global_avgpool: {}}]\n"
    )
    explained = explain(spec)
    # on 28×28 the taps at o ± 36 read padding at every o: only the centre one is live
    assert (
        "r = r_prev + (live span − 1)·j_prev = 1 + (1 − 1)·1 = 1  (H: 2 taps read only padding, "
        "left out; W: 2 taps read only padding, left out)"
    ) in texts(find(explained, "conv1"))
    # after conv k2 s2 (r 2, j 2): an even output of the transposed conv reads two of its
    # inputs (4 input pixels), an odd one a single input (2 pixels)
    lines = texts(find(explained, "conv_transpose1"))
    assert (
        "r = max over phases (last − first + 1) = max(4, 2) = 4"
        "  (the window differs between output positions: the largest)"
    ) in lines
    assert "j = shift / period = 2 / 2 = 1" in lines
    merge = texts(find(explained, "multiply1"))
    assert (
        "r = union of the branches' windows = max(4) = 4  (jump 1; a branch sees the whole "
        "input: global context, the field is the others')"
    ) in merge
    for name in ("conv1", "conv_transpose1", "multiply1"):
        check_against_report(find(explained, name))
