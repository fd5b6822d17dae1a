"""``compare``: exact ratios, the best value, baselines, warnings, formats, per-layer and --input."""

from __future__ import annotations

import csv
import io
import json
import re
from fractions import Fraction
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import convcost
from convcost.cli import app
from convcost.compare import Comparison, Metric, collect, compare, parse_input
from convcost.errors import ConvcostError, ExitStatus
from convcost.render.comparison import print_comparison

ROOT = Path(__file__).parent.parent
SPECS = ROOT / "specs"
GOLDEN = Path(__file__).parent / "golden" / "compare"
GOOGLENET = str(SPECS / "googlenet-5x5-branch.yaml")
VARIANT_SPECS = sorted(
    path for path in SPECS.glob("*.yaml") if convcost.load_spec(path).has_variants
)


def comparison(name: str, baseline: str | None = None) -> Comparison:
    return compare(collect([convcost.load_spec(SPECS / name)]), baseline=baseline)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"})


def test_googlenet_ratios_are_exact() -> None:
    result = comparison("googlenet-5x5-branch.yaml")
    assert result.baseline_name == "direct"
    # MACs 12,443,648 / 120,422,400 (tests/test_examples.py) = 31/300
    assert result.ratio("bottleneck", Metric.MACS) == Fraction(12_443_648, 120_422_400)
    assert result.ratio("bottleneck", Metric.MACS) == Fraction(31, 300)
    assert result.ratio("bottleneck", Metric.FLOPS) == Fraction(31, 300)
    # parameters 15,920 / 153,632
    assert result.ratio("bottleneck", Metric.PARAMS) == Fraction(15_920, 153_632)
    assert result.ratio("direct", Metric.MACS) == 1
    # activations: 16·28·28 + 32·28·28 against 32·28·28 elements
    assert result.ratio("bottleneck", Metric.ACTIVATION_BYTES) == Fraction(3, 2)
    assert result.warnings == ()


def test_best_is_the_lowest_and_none_when_all_equal() -> None:
    result = comparison("googlenet-5x5-branch.yaml")
    assert result.row(Metric.MACS).best == (1,)  # bottleneck
    assert result.row(Metric.ACTIVATION_BYTES).best == (0,)  # direct keeps fewer activations
    dilated = comparison("dilated-stack.yaml")
    assert all(row.best == () for row in dilated.rows)  # identical costs: nothing to highlight


def test_best_is_highlighted_bold_green_on_a_terminal() -> None:
    buffer = io.StringIO()
    console = Console(
        file=buffer, force_terminal=True, color_system="standard", width=120, no_color=False
    )
    print_comparison(console, comparison("googlenet-5x5-branch.yaml"))
    text = buffer.getvalue()
    green = r"\x1b\[1;32m *{}\x1b\[0m"
    assert re.search(green.format(re.escape("12.4 M (0.10×)")), text)
    assert re.search(green.format("98.0 KiB"), text)  # direct's activations are the lowest
    assert not re.search(green.format("120.4 M"), text)
    assert "12.4 M (0.10×)" in text


def test_baseline_switch() -> None:
    result = comparison("googlenet-5x5-branch.yaml", baseline="bottleneck")
    assert result.baseline_name == "bottleneck"
    assert result.ratio("direct", Metric.MACS) == Fraction(300, 31)
    assert result.row(Metric.MACS).best == (1,)  # the best does not depend on the baseline


def test_cli_baseline_switch(runner: CliRunner) -> None:
    result = runner.invoke(app, ["compare", GOOGLENET, "--baseline", "bottleneck"])
    assert result.exit_code == ExitStatus.OK, result.stderr
    # 120,422,400 / 12,443,648 = 300/31 ≈ 9.68
    assert "120.4 M (9.68×)" in result.stdout
    assert "ratios to bottleneck" in result.stdout


def test_unknown_baseline(runner: CliRunner) -> None:
    with pytest.raises(ConvcostError, match="unknown baseline"):
        comparison("googlenet-5x5-branch.yaml", baseline="nope")
    result = runner.invoke(app, ["compare", GOOGLENET, "--baseline", "bottlenek"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr == (
        "error: unknown baseline 'bottlenek'; did you mean 'bottleneck'?; "
        "choose one of: direct, bottleneck\n"
    )


def test_comparability_warnings(runner: CliRunner) -> None:
    stem = comparison("stem-11x11-vs-3x3.yaml")
    assert stem.warnings == (
        "not like for like: different output shapes (alexnet 64×55×55, stacked 64×56×56); "
        "the costs buy different outputs",
    )
    dilated = comparison("dilated-stack.yaml")
    assert dilated.warnings == (
        "not like for like: different receptive fields (dense 7×7 (jump 1×1), "
        "dilated 15×15 (jump 1×1)); each output sees a different window",
    )
    result = runner.invoke(app, ["compare", GOOGLENET, str(SPECS / "grouped-conv.yaml")])
    assert result.exit_code == ExitStatus.OK
    warnings = result.stderr.splitlines()
    # both receptive fields are 5 (jump 1): two warnings, not three
    assert len(warnings) == 2
    # several entries per value: grouped by value
    assert warnings[0] == (
        "warning: not like for like: different inputs (192×28×28: googlenet-5x5-branch:direct, "
        "googlenet-5x5-branch:bottleneck; 96×27×27: grouped-conv:groups1, grouped-conv:groups2); "
        "the costs are for different data"
    )
    assert "different output shapes" in warnings[1]
    # warnings never reach standard output
    assert "warning" not in result.stdout


def test_several_files_name_variants_file_colon_variant() -> None:
    specs = [
        convcost.load_spec(SPECS / n) for n in ("googlenet-5x5-branch.yaml", "quickstart.yaml")
    ]
    assert compare(collect(specs)).names == (
        "googlenet-5x5-branch:direct",
        "googlenet-5x5-branch:bottleneck",
        "quickstart",
    )
    same_twice = collect([specs[1], specs[1]])
    assert [entry.name for entry in same_twice] == ["quickstart", "quickstart~2"]


def test_json_structure(runner: CliRunner) -> None:
    result = runner.invoke(app, ["compare", GOOGLENET, "--format", "json"])
    assert result.exit_code == ExitStatus.OK
    data = json.loads(result.stdout)
    assert data["baseline"] == "direct"
    assert data["names"] == ["direct", "bottleneck"]
    assert [v["name"] for v in data["variants"]] == ["direct", "bottleneck"]
    assert data["variants"][1]["totals"]["macs"] == 12_443_648
    assert data["variants"][0]["convention"]["flops"] == "2 × macs"  # full analyze reports
    assert set(data["ratios"]["bottleneck"]) == {
        "params",
        "macs",
        "flops",
        "ops",
        "activation_bytes",
    }
    assert data["ratios"]["bottleneck"]["macs"] == 31 / 300
    assert data["exact_ratios"]["bottleneck"]["macs"] == "31/300"
    assert data["ratios"]["direct"]["macs"] == 1.0
    assert data["best"]["macs"] == ["bottleneck"]
    assert data["ratio_format"].startswith("float")
    assert (data["warnings"], data["oversized"]) == ([], [])
    assert "layer_deltas" not in data


def test_csv(runner: CliRunner) -> None:
    result = runner.invoke(app, ["compare", GOOGLENET, "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["name"] for row in rows] == ["direct", "bottleneck"]
    assert rows[0]["baseline"] == "yes"
    assert rows[1]["baseline"] == ""
    assert (rows[0]["macs"], rows[1]["macs"]) == ("120422400", "12443648")
    assert float(rows[1]["macs_ratio"]) == 31 / 300
    assert rows[1]["receptive_field"] == "5x5"
    assert rows[1]["output_shape"] == "32x28x28"


def test_markdown(runner: CliRunner) -> None:
    result = runner.invoke(app, ["compare", GOOGLENET, "--format", "markdown", "--exact"])
    lines = result.stdout.splitlines()
    assert lines[0] == "| | direct (baseline) | bottleneck |"
    assert "| MACs | 120,422,400 | **12,443,648 (0.1033×)** |" in lines
    assert "| activations | **100,352 B** | 150,528 B (1.5000×) |" in lines
    assert "| receptive field | 5 | 5 |" in lines


def test_output_file(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "compare.txt"
    result = runner.invoke(app, ["compare", GOOGLENET, "-o", str(target)])
    assert result.exit_code == ExitStatus.OK
    assert result.stdout == ""
    assert "12.4 M (0.10×)" in target.read_text()


def test_batch_and_dtype(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["compare", GOOGLENET, "--format", "json", "--batch", "4", "--dtype", "float16"]
    )
    data = json.loads(result.stdout)
    # 4 × 120,422,400 MACs; 4 × 32·28·28 elements × 2 bytes
    assert data["variants"][0]["totals"]["macs"] == 481_689_600
    assert data["variants"][0]["totals"]["activation_bytes"] == 200_704
    assert data["exact_ratios"]["bottleneck"]["macs"] == "31/300"  # ratios do not change


def test_per_layer_delta(runner: CliRunner) -> None:
    result = runner.invoke(app, ["compare", GOOGLENET, "--per-layer"])
    assert result.exit_code == ExitStatus.OK, result.stderr
    out = result.stdout
    # the layer tables first, then the comparison, then the shared path conv1
    assert out.index("direct  input 192×28×28") < out.index("bottleneck  input 192×28×28")
    assert out.index("bottleneck  input") < out.index("ratios to direct")
    delta = out[out.index("per-layer: bottleneck against direct") :]
    conv1 = next(line for line in delta.splitlines() if line.strip().startswith("conv1"))
    # params 153,632 → 5·5·16·32 + 32 = 12,832; MACs 120,422,400 → 10,035,200 (0.08×)
    assert conv1.split() == [
        "conv1",
        "conv",
        "32×28×28",
        "153.6",
        "K",
        "→",
        "12.8",
        "K",
        "(0.08×)",
        "120.4",
        "M",
        "→",
        "10.0",
        "M",
        "(0.08×)",
        "5",
    ]
    assert "reduce" not in delta  # only in bottleneck


def test_per_layer_json_and_csv(runner: CliRunner) -> None:
    data = json.loads(
        runner.invoke(app, ["compare", GOOGLENET, "--per-layer", "-f", "json"]).stdout
    )
    (pair,) = data["layer_deltas"]
    assert (pair["baseline"], pair["other"]) == ("direct", "bottleneck")
    assert pair["layers"] == [
        {
            "path": "conv1",
            "kinds": ["conv", "conv"],
            "output_shapes": [[32, 28, 28], [32, 28, 28]],
            "params": [153_632, 12_832],
            "macs": [120_422_400, 10_035_200],
            "receptive_fields": [[5, 5], [5, 5]],
        }
    ]
    rows = list(
        csv.DictReader(
            io.StringIO(
                runner.invoke(app, ["compare", GOOGLENET, "--per-layer", "-f", "csv"]).stdout
            )
        )
    )
    assert [(row["spec"], row["path"]) for row in rows] == [
        ("direct", "conv1"),
        ("bottleneck", "reduce"),
        ("bottleneck", "conv1"),
    ]


def test_no_delta_view_without_shared_paths(runner: CliRunner) -> None:
    result = runner.invoke(app, ["compare", str(SPECS / "dilated-stack.yaml"), "--per-layer"])
    assert "per-layer:" not in result.stdout


FULLY_CONV = """
name: fcn
input: [3, 224, 224]
layers:
  - conv: {out: 16, kernel: 3, padding: same}
  - relu: {}
  - conv: {out: 16, kernel: 5, padding: same}
"""


def test_input_sizes_scale_macs_with_area(tmp_path: Path, runner: CliRunner) -> None:
    spec = tmp_path / "fcn.yaml"
    spec.write_text(FULLY_CONV)
    result = compare(
        collect(
            [convcost.load_spec(spec)],
            inputs=[parse_input("3x224x224"), parse_input("3x320x320")],
        )
    )
    assert result.names == ("3x224x224", "3x320x320")
    # stride 1 and 'same' padding: every layer's output grows with H·W
    area = Fraction(320 * 320, 224 * 224)
    assert result.ratio("3x320x320", Metric.MACS) == area
    assert result.ratio("3x320x320", Metric.ACTIVATION_BYTES) == area
    assert result.ratio("3x320x320", Metric.PARAMS) == 1
    out = runner.invoke(app, ["compare", str(spec), "--input", "3x224x224", "--input", "3x320x320"])
    assert out.exit_code == ExitStatus.OK, out.stderr
    # 224² → 320²: 2.04×; the receptive field 7 covers 7/224 = 3.1% and 7/320 = 2.2%
    assert "(2.04×)" in out.stdout
    rf_row = next(line for line in out.stdout.splitlines() if line.startswith(" RF / input"))
    assert rf_row.split()[-2:] == ["3.1%", "2.2%"]
    assert "different inputs" in out.stderr


def test_receptive_field_exceeding_the_input_is_flagged(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["compare", str(SPECS / "stem-11x11-vs-3x3.yaml"), "--input", "3x8x8", "-f", "json"]
    )
    assert result.exit_code == ExitStatus.OK, result.stderr
    data = json.loads(result.stdout)
    # on 8×8: alexnet's r = 11 ≥ 8 at its only layer; stacked reaches 3, 7, 7, 7, 11: the last
    assert data["oversized"] == [
        {"name": "alexnet", "first_layer": "conv1", "layers": 1},
        {"name": "stacked", "first_layer": "conv3", "layers": 1},
    ]
    table = runner.invoke(
        app, ["compare", str(SPECS / "stem-11x11-vs-3x3.yaml"), "--input", "3x8x8"]
    )
    assert (
        "note: stacked: 1 layer already sees more than the whole input (receptive field ≥ input "
        "size), the first conv3" in table.stdout
    )


def test_variants_times_inputs_names() -> None:
    entries = collect(
        [convcost.load_spec(GOOGLENET)],
        inputs=[parse_input("192x28x28"), parse_input("192x14x14")],
    )
    assert [entry.name for entry in entries] == [
        "direct@192x28x28",
        "direct@192x14x14",
        "bottleneck@192x28x28",
        "bottleneck@192x14x14",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "3x",
        "axb",
        "0x8x8",
        "224",
        "3x2x2x2x2x2x2",  # 7-D: a spec's input is C plus one to three sizes
        "3x-8x8",
        "3x²x8",  # int() would read other digits than 0-9
        "3x٣x8",
        f"3x{2**63}x8",  # past MAX_INT
    ],
)
def test_bad_input_option(runner: CliRunner, text: str) -> None:
    result = runner.invoke(app, ["compare", GOOGLENET, "--input", text])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr == (
        f"error: --input {text!r}: write channels and one to three sizes as positive integers "
        "(at most 2**63-1), e.g. 3x224x224\n"
    )


def test_input_option_of_a_huge_number_is_cut_short(runner: CliRunner) -> None:
    text = "3x" + "9" * 5000
    result = runner.invoke(app, ["compare", GOOGLENET, "--input", text])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr == (
        f"error: --input {text[:40] + '…'!r}: write channels and one to three sizes as positive "
        "integers (at most 2**63-1), e.g. 3x224x224\n"
    )


def test_input_of_the_wrong_rank(runner: CliRunner) -> None:
    # kernel [1, 3] needs two spatial axes; a 1-D input is reported where the kernel is written
    result = runner.invoke(app, ["compare", str(SPECS / "factorized-3x3.yaml"), "--input", "64x32"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr.endswith(
        "factorized-3x3.yaml:9:31: layer conv1, field conv.kernel: needs one value per spatial "
        "axis (1 for a 1-D input), got 2\n"
    )


def test_many_entries_one_row_each(tmp_path: Path) -> None:
    # six widths of one conv: 3·3·3·w + w parameters, one row per variant
    body = "".join(
        f"  w{w}:\n    - conv: {{out: {w}, kernel: 3}}\n" for w in (8, 16, 24, 32, 40, 48)
    )
    spec = tmp_path / "widths.yaml"
    spec.write_text(f"input: [3, 32, 32]\nvariants:\n{body}")
    buffer = io.StringIO()
    print_comparison(
        Console(file=buffer, width=80, color_system=None),
        compare(collect([convcost.load_spec(spec)])),
    )
    lines = buffer.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80
    row = next(i for i, line in enumerate(lines) if line.strip().startswith("w48"))
    # w48: 27·48 + 48 = 1,344 parameters, 6× w8's 224; MACs 30·30·48·27 = 1,166,400
    assert lines[row].split()[:3] == ["w48", "1.3", "K"]
    assert lines[row + 1].split()[:2] == ["6.00×", "6.00×"]
    assert "FLOPs = 2 × MACs" in buffer.getvalue()


def compare_text(path: Path) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, color_system=None)
    spec = convcost.load_spec(path)  # absolute: the golden does not depend on the cwd
    print_comparison(console, compare(collect([spec])), name=spec.name)
    return buffer.getvalue()


@pytest.mark.parametrize("path", VARIANT_SPECS, ids=[p.stem for p in VARIANT_SPECS])
def test_golden_tables(path: Path, update_golden: bool) -> None:
    """The rendered comparison of every teaching spec; update with --update-golden."""
    golden = GOLDEN / f"{path.stem}.txt"
    text = compare_text(path)
    if update_golden or not golden.exists():
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        if not update_golden:
            pytest.fail(f"{golden} was missing and has been written: review and commit it")
    assert text == golden.read_text(encoding="utf-8"), f"differs from {golden}; --update-golden"


def test_coverage_before_global_pooling(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["compare", str(SPECS / "quickstart.yaml"), "--input", "3x32x32", "--input", "3x64x64"]
    )
    rf_row = next(line for line in result.stdout.splitlines() if line.startswith(" RF / input"))
    # quickstart's field is 15 after maxpool1 (docs: explain), then global: 15/32 and 15/64
    assert rf_row.split()[-4:] == ["46.9%", "@maxpool1", "23.4%", "@maxpool1"]
    # parameters do not depend on the input; MACs scale 4× except the head's 64·10
    comparison_ = compare(
        collect(
            [convcost.load_spec(SPECS / "quickstart.yaml")],
            inputs=[parse_input("3x32x32"), parse_input("3x64x64")],
        )
    )
    macs = comparison_.row(Metric.MACS).values
    assert macs[1] - 640 == 4 * (macs[0] - 640)


def test_per_layer_markdown(runner: CliRunner) -> None:
    result = runner.invoke(app, ["compare", GOOGLENET, "--per-layer", "-f", "markdown", "--exact"])
    out = result.stdout
    # each variant's layer table, then the comparison
    assert (
        out.index("### direct") < out.index("### bottleneck") < out.index("| | direct (baseline)")
    )
    assert "| 1 | `reduce` | conv | 16×28×28 | 3,088 | 2,408,448 | 1 |" in out
