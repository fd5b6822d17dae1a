"""``--convention``: every kind covered by every preset, rules against hand-computed counts,
and the CLI paths (the presets against the tools themselves: tests/test_conventions_peers.py)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

import convcost
from convcost.cli import app
from convcost.conventions import NAMES, convention
from convcost.conventions.count import count_spec
from convcost.conventions.rules import Rule, Unsupported
from convcost.layers.registry import KIND_NAMES, MERGE_KINDS

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "docs" / "peers.md"


def runner() -> CliRunner:
    return CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"})


@pytest.mark.parametrize("name", NAMES)
def test_every_kind_has_a_rule_or_a_declaration(name: str) -> None:
    rules = convention(name).rules
    assert set(MERGE_KINDS) <= KIND_NAMES
    assert set(rules) == set(KIND_NAMES), (
        f"{name}: missing {sorted(KIND_NAMES - set(rules))}, unknown {sorted(set(rules) - KIND_NAMES)}"
    )
    for kind, rule in rules.items():
        assert isinstance(rule, Rule | Unsupported), kind
        text = rule.text if isinstance(rule, Rule) else rule.reason
        assert text.strip(), f"{name}: {kind} has no text for users"


def _count(name: str, text: str) -> list[int | None]:
    counted = count_spec(convcost.parse_spec(text), convention(name))
    return [layer.value for layer in counted.layers]


def test_ptflops_counts_relu_twice_and_relu6_once() -> None:
    # a 3×4×4 input has 48 elements: nn.ReLU's hook and F.relu count 48 each; nn.ReLU6 calls
    # F.hardtanh, which ptflops does not patch (docs/peers.md measured 96 and 48)
    text = "input: [3, 4, 4]\nlayers:\n  - relu: {}\n  - relu6: {}\n  - maxpool: {kernel: 2}\n"
    # max pool: 48 input elements from the module hook, 48 again from F.max_pool2d
    assert _count("ptflops", text) == [96, 48, 96]


def test_torchinfo_counts_a_conv_by_its_parameters_times_positions() -> None:
    # conv 3→4, 3×3, bias, on 8×8 with padding 1: (4·3·9 + 4) · 64 positions = 112 · 64;
    # transposed 4→2, kernel 2, stride 2: weights 4·2·4 = 32 times 16·16 OUTPUT positions
    # plus 2 biases · 256 = 32·256 + 2·256, where the input-size MACs are 32·64
    text = (
        "input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, padding: 1}\n"
        "  - conv_transpose: {out: 2, kernel: 2, stride: 2}\n"
    )
    assert _count("torchinfo", text) == [112 * 64, 32 * 256 + 2 * 256]
    assert _count("convcost", text) == [4 * 27 * 64, 32 * 64]


def test_thop_adaptive_average_pool_is_window_plus_one_per_output() -> None:
    # 5×5 → 2×2: thop's kernel is (5/2)·(5/2) = 6.25 in float64, +1 = 7.25, times 4 outputs
    # per channel · 3 channels = 87.0
    text = "input: [3, 5, 5]\nlayers:\n  - adaptive_avgpool: {size: [2, 2]}\n"
    assert _count("thop", text) == [87]


def test_calflops_counts_a_conv_twice_plus_bias() -> None:
    # conv 2→3, 1×1, on 4×4: 2·3·16 = 96 MACs → 192 FLOPs, + 48 bias adds
    text = "input: [2, 4, 4]\nlayers:\n  - pointwise: {out: 3}\n  - relu6: {}\n"
    assert _count("calflops", text) == [240, 0]


def test_the_default_json_is_unchanged_by_the_default_convention() -> None:
    plain = runner().invoke(app, ["analyze", "resnet18", "-f", "json"])
    named = runner().invoke(app, ["analyze", "resnet18", "-f", "json", "--convention", "convcost"])
    assert plain.exit_code == named.exit_code == 0
    assert plain.stdout == named.stdout
    assert json.loads(plain.stdout)["convention"]["name"] == "convcost-1"


def test_analyze_json_states_the_convention_and_each_layer_count() -> None:
    result = runner().invoke(
        app, ["analyze", "convnext_tiny", "-f", "json", "--convention", "torchinfo"]
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["convention"]["name"] == "torchinfo"
    assert data["convention"]["exact"] is False
    layers = data["layers"]
    assert sum(layer["convention_count"] for layer in layers) == data["convention"]["total"]
    # the classifier: nn.Linear(768, 1000) counts 768·1000 + 1000 parameters, once per sample
    head = next(layer for layer in layers if layer["path"] == "head")
    assert head["convention_count"] == 768 * 1000 + 1000
    assert (
        data["totals"]["macs"]
        == json.loads(runner().invoke(app, ["analyze", "convnext_tiny", "-f", "json"]).stdout)[
            "totals"
        ]["macs"]
    )


@pytest.mark.parametrize("command", ["analyze", "explain", "check"])
def test_an_unknown_convention_is_one_line_and_exit_2(command: str) -> None:
    result = runner().invoke(app, [command, "resnet18", "--convention", "flopz"])
    assert result.exit_code == 2
    assert "unknown convention 'flopz'" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_compare_lists_each_total_and_attributes_the_difference() -> None:
    result = runner().invoke(
        app, ["compare", "unet", "-f", "json", "--convention", "convcost,torchinfo,ptflops"]
    )
    assert result.exit_code == 0, result.stderr
    sides = {side["name"]: side for side in json.loads(result.stdout)["conventions"]}
    assert sides["convcost"]["exact"] is True
    assert sides["convcost"]["difference"] == 0
    for side in sides.values():
        assert sum(side["families"].values()) == side["difference"]
    # U-Net's four transposed convs (k 2, s 2): torchinfo counts them at the output size, 4×
    # their MACs; the 3 extra quarters are the transposed-conv family
    assert sides["torchinfo"]["families"]["transposed conv"] > 0
    assert "double counts" in sides["ptflops"]["families"]
    bad = runner().invoke(app, ["compare", "unet", "--convention", "torchinfo,torchinfo"])
    assert bad.exit_code == 2


def test_explain_shows_the_rule_next_to_convcost() -> None:
    result = runner().invoke(
        app, ["explain", "unet", "--layer", "cat1.down.up1", "--convention", "thop"]
    )
    assert result.exit_code == 0, result.stderr
    # up1: 128 → 64 channels, kernel 2, stride 2, from 256×256 to 512×512: convcost's MACs are
    # input elements × C_out × 4 = 128·256²·64·4; thop's output elements × C_in × 4 are 4× that
    macs = 128 * 256 * 256 * 64 * 4
    text = " ".join(result.stdout.split())
    assert f"thop {4 * macs:,} vs convcost {macs:,} MACs" in text
    data = json.loads(
        runner()
        .invoke(
            app,
            ["explain", "unet", "--layer", "cat1.down.up1", "-f", "json", "--convention", "thop"],
        )
        .stdout
    )
    (layer,) = data["convention"]["variants"][0]["layers"]
    assert layer["count"] == 4 * macs
    assert layer["parts"]["transposed conv"] == 3 * macs


def test_check_budgets_the_conventions_figure(tmp_path: Path) -> None:
    # ConvNeXt-Tiny: convcost's 4.46 G MACs exceed 1G; torchinfo's 322 M do not
    exceeded = runner().invoke(app, ["check", "convnext_tiny", "--max-macs", "1G"])
    assert exceeded.exit_code == 1
    within = runner().invoke(
        app, ["check", "convnext_tiny", "--max-macs", "1G", "--convention", "torchinfo"]
    )
    assert within.exit_code == 0, within.stdout + within.stderr


def peers_commands() -> list[str]:
    text = PEERS.read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    return [line for block in blocks for line in block.splitlines() if line.startswith("convcost ")]


def test_peers_doc_has_commands() -> None:
    assert any("--convention" in command for command in peers_commands())


@pytest.mark.parametrize("command", peers_commands())
def test_peers_doc_command_runs(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = runner().invoke(app, shlex.split(command)[1:])
    assert result.exit_code == 0, f"{command}: {result.stderr}"
    assert result.stdout


_IMPORTED = """
import sys
from convcost.__main__ import main
try:
    main()
except SystemExit:
    pass
print(sorted(m for m in sys.modules if m.startswith("convcost.conventions")), file=sys.stderr)
"""


@pytest.mark.parametrize(
    ("args", "loaded"),
    [
        (["analyze", "resnet18", "-f", "json"], False),
        (["check", "resnet18", "--max-macs", "2G"], False),
        (["analyze", "resnet18", "-f", "json", "--convention", "thop"], True),
    ],
)
def test_the_default_path_never_imports_the_conventions(args: list[str], loaded: bool) -> None:
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    result = subprocess.run(
        [sys.executable, "-c", _IMPORTED, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "NO_COLOR": "1", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    modules = result.stderr.strip().splitlines()[-1]
    assert (modules != "[]") is loaded, modules


def test_convention_and_execute_are_one_at_a_time() -> None:
    result = runner().invoke(app, ["analyze", "resnet18", "--convention", "torchinfo", "--execute"])
    assert result.exit_code == 2
    assert "use one at a time" in result.stderr


@pytest.mark.parametrize("name", NAMES[1:])
def test_peers_doc_lists_every_rule(name: str) -> None:
    # docs/peers.md's "Rules, tool by tool" is pasted from the tables: it must not go stale
    text = PEERS.read_text(encoding="utf-8")
    found = convention(name)
    assert f"### {name}: {found.tool}" in text
    for rule in found.rules.values():
        wording = rule.text if isinstance(rule, Rule) else rule.reason
        assert wording.replace("|", "/") in text, f"{name}: {wording!r} is not in docs/peers.md"
