"""Named tensors (``from:``, merge inputs written as names): a network as a DAG.

The U-Net and DenseNet's dense block written both ways (nested merges, and a DAG of named
outputs) give the same figure for every row and total; the DAG's peak memory follows
hand-computed liveness; ``--execute`` runs DAGs and confirms their shapes; each naming error
is one line with its position, through the CLI (exit 2) and the API.
"""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path
from typing import Any

import numpy
import pytest
from typer.testing import CliRunner

import convcost
from convcost.build import build
from convcost.cli import app
from convcost.errors import ExitStatus
from convcost.executor import execute, prepare
from convcost.render.formats import to_json
from convcost.report import Report
from tests.conftest import require
from tests.test_spec import api_error, cli_error, in_tmp

__all__ = ["in_tmp"]  # a fixture, used by name

ROOT = Path(__file__).parent.parent
UNET_DAG = ROOT / "specs" / "unet-dag.yaml"
DENSE = ROOT / "specs" / "dense-block.yaml"


def figures(report: Report) -> dict[str, Any]:
    """Every figure of a report but the layer paths (the two forms name their rows apart)."""
    return {
        "rows": [
            (
                row.kind,
                row.input_shape,
                row.output_shape,
                row.cost,
                row.receptive_field,
            )
            for row in report.layers
        ],
        "totals": report.totals,
        "output": report.output_shape,
        "receptive_field": report.receptive_field,
        "peak": report.peak_activation_elements,
        "peak_row": [row.path for row in report.layers].index(report.peak_at),
    }


@pytest.mark.parametrize("batch", [1, 3])
def test_unet_as_a_dag_equals_the_nested_zoo_unet(batch: int) -> None:
    nested = convcost.analyze(convcost.load_spec(ROOT / "convcost/zoo/unet.yaml"), batch=batch)
    dag = convcost.analyze(convcost.load_spec(UNET_DAG), batch=batch)
    assert figures(dag) == figures(nested)
    # the paper's figures, as the zoo spec's header gives them (checked there against torch)
    assert dag.totals.params == 31_030_658
    assert dag.totals.macs == 192_384_335_872 * batch
    assert dag.totals.flops == 2 * dag.totals.macs
    # the skips are named tensors; the nested form has none
    reads = ("enc4", "up4", "enc3", "up3", "enc2", "up2", "enc1", "up1")
    assert build(convcost.load_spec(UNET_DAG)).reads == reads


def test_dense_block_as_a_dag_equals_the_nested_one() -> None:
    nested, dag = convcost.analyze_all(convcost.load_spec(DENSE))
    assert (nested.name, dag.name) == ("nested", "dag")
    assert figures(dag) == figures(nested)
    # by hand: layer l (C = 64 + 32·(l − 1) channels in) has a BN of 2·C, a 1×1 conv of
    # C·128, a BN of 2·128 and a 3×3 conv of 128·32·9; C runs 64, 96, …, 224 (sum 864):
    # 130·864 + 6·(256 + 36,864) = 112,320 + 222,720
    assert dag.totals.params == 335_040
    assert dag.output_shape == (64 + 6 * 32, 56, 56)
    # the JSON of both carries the same totals, peak included
    nested_json, dag_json = json.loads(to_json([nested, dag]))
    assert nested_json["totals"].pop("peak_at") == "denseblock1.5.concat1.new.relu1"
    assert dag_json["totals"].pop("peak_at") == "f6.relu1"
    assert nested_json["totals"] == dag_json["totals"]


PEAK_SPEC = """\
input: [4, 8, 8]
layers:
  - conv: {out: 16, kernel: 1}
    name: a
  - conv: {out: 8, kernel: 1}
    name: wide
  - conv: {out: 4, kernel: 1}
    from: a
    name: b
  - concat: [a, b]
    name: cat
  - add:
      x: input
      y: [{conv: {out: 4, kernel: 3, padding: 1}, from: b}]
"""


def test_peak_memory_on_a_dag_is_liveness_by_hand() -> None:
    # Elements are channels·64. A tensor lives until its last reader (a name counts as one).
    #   input 256, read by name by the add's x branch: alive until the add
    #   a     alloc 1,024: input + a = 1,280; input stays (read later)
    #   wide  alloc 512: 1,280 + 512 = 1,792; a stays (b and cat read it)
    #   b     reads a, not wide: wide has no reader left and dies (1,280); b alloc 256 = 1,536
    #   cat   reads a and b: alloc 20·64 = 1,280: 1,536 + 1,280 = 2,816  <- the peak;
    #         a dies (1,792: input 256 + b 256 + cat 1,280); b stays (the y branch reads it)
    #   add.y.conv1 reads b, not cat: cat dies (512); alloc 256 = 768; b dies (512)
    #   add   alloc 256: input + y + add = 768; both branches die: 256
    # A model that freed the input after its first reader would peak at 2,560, one that kept
    # wide until the end of the list at 3,328.
    report = convcost.analyze(convcost.parse_spec(PEAK_SPEC, source="peak.yaml"))
    assert report.peak_activation_elements == 2_816
    assert report.peak_at == "cat"
    doubled = convcost.analyze(convcost.parse_spec(PEAK_SPEC, source="peak.yaml"), batch=2)
    assert doubled.peak_activation_elements == 2 * 2_816


def test_receptive_field_is_the_widest_path() -> None:
    # a: 3×3 (r 3); deep: two more 3×3 on a (r 7); the add sees a's window and deep's: 7;
    # then `from: a` with a 1×1 reads a's field, 3, whatever came between
    text = """\
input: [4, 16, 16]
layers:
  - conv: {out: 4, kernel: 3, padding: 1}
    name: a
  - conv: {out: 4, kernel: 3, padding: 1}
  - conv: {out: 4, kernel: 3, padding: 1}
    name: deep
  - add: [a, deep]
  - conv: {out: 4, kernel: 1}
    from: a
"""
    report = convcost.analyze(convcost.parse_spec(text))
    assert [row.receptive_field.size for row in report.layers] == [
        (3, 3),
        (5, 5),
        (7, 7),
        (7, 7),
        (3, 3),
    ]
    assert report.receptive_field.size == (3, 3)


def test_execute_runs_dags_and_confirms_every_shape() -> None:
    for spec, shape in ((DENSE, None), (UNET_DAG, (1, 32, 32))):
        loaded = convcost.load_spec(spec)
        for variant in loaded.variants:
            network = build(loaded, variant, input_shape=shape)
            report = convcost.analyze_network(network, batch=2)
            run = execute(network, batch=2, seed=3, warm_up=False)
            assert [(r.path, r.shape) for r in run.layers] == [
                (row.path, row.output_shape) for row in report.layers
            ]
            assert [r.macs for r in run.layers] == [row.cost.macs for row in report.layers]
            assert [r.params for r in run.layers] == [row.cost.params for row in report.layers]


def test_execute_dag_equals_nested_outputs() -> None:
    # same seed, same weights in the same order: the two forms compute the same function
    spec = convcost.load_spec(DENSE)
    nested, dag = (build(spec, variant, input_shape=(64, 8, 8)) for variant in spec.variants)
    x = numpy.random.default_rng(0).standard_normal((2, 64, 8, 8)).astype("float32")
    a = prepare(nested, seed=5).output(x)
    b = prepare(dag, seed=5).output(x)
    assert a.shape == (2, 256, 8, 8)
    assert numpy.array_equal(a, b)
    # and the named input (`concat: [input, f1]`) was not overwritten along the way
    assert numpy.array_equal(b[:, :64], x)


def test_cli_analyze_compare_check_explain_on_a_dag(tmp_path: Path) -> None:
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "120"})
    result = runner.invoke(app, ["compare", str(DENSE), "--format", "json"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["check", str(UNET_DAG), "--max-params", "31M"])
    assert result.exit_code == ExitStatus.BUDGET_EXCEEDED, result.output
    result = runner.invoke(app, ["explain", str(UNET_DAG), "--layer", "cat4"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[2:4] == [
        "cat4  concat  512×64×64 → 1024×64×64",
        "  branches enc4, up4",
    ]
    for fmt in ("csv", "markdown", "json"):
        result = runner.invoke(app, ["analyze", str(UNET_DAG), "--format", fmt])
        assert result.exit_code == 0, result.output
        assert "cat1" in result.stdout


ERRORS = [
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - conv: {out: 8, kernel: 1}\n    name: enc2\n"
        "  - conv: {out: 8, kernel: 1}\n    from: enc3\n",
        "net.yaml:6:11: layer conv1, field from: unknown tensor 'enc3'; did you mean 'enc2'?; "
        "visible here: enc2, input",
        id="unknown-name",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - concat:\n      a: []\n      b:\n        - relu: {}\n"
        "          name: deep\n  - relu: {}\n    from: deep\n",
        "net.yaml:9:11: layer relu1, field from: unknown tensor 'deep'; did you mean "
        "'concat1.b.deep'?; visible here: concat1, input",
        id="unknown-nested-name",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - concat: [input, later]\n  - relu: {}\n    name: later\n",
        "net.yaml:3:21: layer concat1, field concat.later: 'later' is defined later (line 4): "
        "a layer reads only outputs made before it (a forward reference)",
        id="forward-reference",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - add: [input, relu1]\n  - relu: {}\n",
        "net.yaml:3:18: layer add1, field add.relu1: 'relu1' is defined later (line 4): a layer "
        "reads only outputs made before it (a forward reference)",
        id="forward-default-name",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - relu: {}\n    name: x\n    from: x\n",
        "net.yaml:5:11: layer x, field from: 'x' is this entry's own output: a layer reads only "
        "outputs made before it, so this would be a cycle",
        id="cycle-self",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - add:\n      a: []\n      b: m\n    name: m\n",
        "net.yaml:5:10: layer m, field add.b: 'm' is this entry's own output: a layer reads only "
        "outputs made before it, so this would be a cycle",
        id="cycle-enclosing",
    ),
    pytest.param(
        "input: [8, 16, 16]\nlayers:\n  - conv: {out: 8, kernel: 1}\n    name: enc\n"
        "  - maxpool: {kernel: 2}\n    name: deep\n  - concat: [enc, deep]\n",
        "net.yaml:7:5: layer concat1: the branches of concat disagree: enc → [8, 16, 16], "
        "deep → [8, 8, 8]; concat needs equal sizes on every axis but channels",
        id="shape-mismatch",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - relu: {}\n  - concat:\n      a: [{relu: {}}, {relu: {}, from: relu1}]\n"
        "      b: []\n",
        "net.yaml:5:40: layer concat1.a.relu2, field from: ambiguous name 'relu1': it names "
        "concat1.a.relu1 (line 5) and relu1 (line 3), both visible here; give one of them "
        "another `name:`",
        id="ambiguous-name",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - relu: {}\n    name: input\n  - add: [input, input]\n",
        "net.yaml:5:11: layer add1, field add.input: ambiguous name 'input': an entry is named "
        "input (input, line 3), and input is also the input of this list; give that entry "
        "another `name:`",
        id="ambiguous-input",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - relu: {}\n  - relu: {}\n    from: [relu1]\n",
        "net.yaml:5:11: layer relu2, field from: must name an earlier output (a layer, merge or "
        "block use, or input), got a list",
        id="not-a-name",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    layers: [{relu: {}}]\nlayers:\n  - b: {}\n"
        "  - relu: {}\n    from: b1.relu2\n",
        "net.yaml:8:11: layer relu1, field from: 'b1' has no 'relu2'; did you mean 'relu1'?; "
        "inside it: relu1",
        id="path-inside",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - relu: {}\n  - relu: {}\n    from: relu1.x\n",
        "net.yaml:5:11: layer relu2, field from: 'relu1' is a layer: there is no 'x' inside it",
        id="path-into-a-layer",
    ),
    pytest.param(
        "input: [8, 8, 8]\nblocks:\n  b:\n    layers: [{relu: {}, from: outside}]\nlayers:\n"
        "  - relu: {}\n    name: outside\n  - b: {}\n",
        "net.yaml:4:31: layer b1.relu1, field from: unknown tensor 'outside'; visible here: input"
        " (in block 'b' at net.yaml:3:3, used at net.yaml:8:5)",
        id="block-sees-only-its-body",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - concat:\n      a: [{relu: {}, name: r}]\n"
        "      b: [{relu: {}, from: r}]\n",
        "net.yaml:5:28: layer concat1.b.relu1, field from: unknown tensor 'r': 'r' is in branch "
        "a of concat1, which this branch does not see (the branches of a merge run side by "
        "side); visible here: input",
        id="sibling-branch",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - add: [[], []]\n",
        "net.yaml:3:11: layer add1: add written as a list names its inputs, earlier outputs "
        "(`add: [a, b]`); item 0 is a list: for branches of layers write a mapping of branch "
        "names to layer lists",
        id="merge-list-of-lists",
    ),
    pytest.param(
        "input: [8, 8, 8]\nlayers:\n  - add:\n      a: relu\n",
        "net.yaml:4:10: layer add1, field add.a: unknown tensor 'relu' (relu is a layer kind: "
        "layers are a list, `[{relu: {}}]`); visible here: input",
        id="branch-kind-name",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ERRORS)
def test_naming_errors_cli_and_api(text: str, expected: str, in_tmp: Path) -> None:
    assert cli_error(text) == expected
    assert str(api_error(text)) == expected


def test_names_step_into_groups_repeats_and_branches() -> None:
    text = """\
input: [4, 8, 8]
blocks:
  stage:
    layers:
      - conv: {out: 8, kernel: 1}
        name: inner
      - relu: {}
layers:
  - stage: {}
    name: s
    repeat: 2
  - concat:
      a: [{conv: {out: 2, kernel: 1}}]
      b: []
    name: m
  - concat: [s.0.inner, s, m.a, m.b, m.a.conv1, input]
"""
    report = convcost.analyze(convcost.parse_spec(text))
    network = build(convcost.parse_spec(text))
    assert network.reads == ("s.0.inner", "s", "m.a.conv1", "s", "m.a.conv1", "")
    # 8 + 8 + 2 + 8 (m.b is the merge's input, s's output) + 2 + 4
    assert report.output_shape == (32, 8, 8)


def test_torch_unet_agrees_with_the_dag_spec_on_params_macs_and_shapes() -> None:
    # a plain torch U-Net written with named skips (the DAG the spec describes), built on the
    # meta device: parameters and shapes without the weights' memory or any arithmetic
    torch = require("torch")
    nn = torch.nn

    def double(cin: int, cout: int) -> nn.Module:
        return nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(cout, cout, 3, padding=1),
            nn.ReLU(),
        )

    class UNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            widths = [64, 128, 256, 512]
            self.down = nn.ModuleList(
                double(cin, cout) for cin, cout in zip([1, *widths[:-1]], widths, strict=True)
            )
            self.bottom = double(512, 1024)
            self.up = nn.ModuleList(nn.ConvTranspose2d(2 * w, w, 2, stride=2) for w in widths)
            self.dec = nn.ModuleList(double(2 * w, w) for w in widths)
            self.classes = nn.Conv2d(64, 2, 1)

        def forward(self, x: Any) -> Any:
            skips = []
            for level in self.down:
                x = level(x)
                skips.append(x)
                x = nn.functional.max_pool2d(x, 2)
            x = self.bottom(x)
            for level in reversed(range(4)):
                x = torch.cat([skips[level], self.up[level](x)], dim=1)
                x = self.dec[level](x)
            return self.classes(x)

    with torch.device("meta"):
        model = UNet()
    macs: list[int] = []
    shapes: list[tuple[int, ...]] = []

    def count(module: Any, inputs: Any, output: Any) -> None:
        # MACs from the operands torch really used: each output (conv) or input (transposed
        # conv) element meets C_in/groups (or C_out) × k·k weights
        weight = module.weight
        if isinstance(module, nn.ConvTranspose2d):
            macs.append(inputs[0].numel() * weight.shape[1] * weight.shape[2] * weight.shape[3])
        else:
            macs.append(output.numel() * weight.shape[1] * weight.shape[2] * weight.shape[3])
        shapes.append(tuple(output.shape[1:]))

    for module in model.modules():
        if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
            module.register_forward_hook(count)
    # hooks fire in execution order, as the report's rows run
    output = model(torch.empty(1, 1, 128, 128, device="meta"))

    report = convcost.analyze(convcost.load_spec(UNET_DAG), input_shape=(1, 128, 128))
    convs = [row for row in report.layers if row.kind in ("conv", "conv_transpose")]
    assert [row.output_shape for row in convs] == shapes
    assert [row.cost.macs for row in convs] == macs
    assert report.totals.macs == sum(macs)
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.output_shape == tuple(output.shape[1:])
    concats = [row.output_shape for row in report.layers if row.kind == "concat"]
    assert concats == [(1024, 16, 16), (512, 32, 32), (256, 64, 64), (128, 128, 128)]


def _random_dag(rng: random.Random, steps: int) -> tuple[str, list[tuple[int, list[int]]]]:
    """A flat DAG on a [4, 8, 8] input: each step a 1×1 conv (on the tensor before it, or
    `from:` an earlier one) or a concat of earlier tensors, all named t1, t2, …; with each
    step's (channels, tensors read) for the brute force (tensor 0 is the input)."""
    lines = ["input: [4, 8, 8]", "layers:"]
    plan: list[tuple[int, list[int]]] = []
    channels = [4]
    for step in range(1, steps + 1):
        if step > 1 and rng.random() < 0.35:
            reads = [rng.randrange(step) for _ in range(rng.randint(1, 3))]
            names = ", ".join("input" if i == 0 else f"t{i}" for i in reads)
            lines.append(f"  - concat: [{names}]")
            out = sum(channels[i] for i in reads)
        else:
            out = rng.randint(1, 12)
            lines.append(f"  - conv: {{out: {out}, kernel: 1}}")
            reads = [step - 1]
            if step > 1 and rng.random() < 0.4:
                reads = [rng.randrange(step)]
                lines.append(f"    from: {'input' if reads[0] == 0 else f't{reads[0]}'}")
        lines.append(f"    name: t{step}")
        channels.append(out)
        plan.append((out, reads))
    return "\n".join(lines) + "\n", plan


def _brute_force_peak(plan: list[tuple[int, list[int]]]) -> int:
    """Live elements at their most, from each tensor's last reader: tensor i is alive from its
    step until the last step that reads it (the input from the start; the output to the end)."""
    last = {0: 0}
    for step, (_, reads) in enumerate(plan, start=1):
        last[step] = step
        for tensor in reads:
            last[tensor] = step
    last[len(plan)] = len(plan) + 1
    size = {0: 4 * 64} | {step: out * 64 for step, (out, _) in enumerate(plan, start=1)}
    live = peak = size[0]
    for step in range(1, len(plan) + 1):
        live += size[step]  # allocated while everything it reads is alive
        peak = max(peak, live)
        live -= sum(size[t] for t in range(step + 1) if last[t] == step)
    return peak


def test_peak_memory_equals_brute_force_liveness_on_random_dags() -> None:
    rng = random.Random(11)
    for _ in range(300):
        text, plan = _random_dag(rng, rng.randint(1, 12))
        report = convcost.analyze(convcost.parse_spec(text))
        assert report.peak_activation_elements == _brute_force_peak(plan), text
        assert report.output_shape == (plan[-1][0], 8, 8)


def test_random_dags_execute_with_every_shape_confirmed() -> None:
    rng = random.Random(5)
    for _ in range(8):
        text, _ = _random_dag(rng, 10)
        network = build(convcost.parse_spec(text))
        report = convcost.analyze_network(network)
        run = execute(network, seed=2, warm_up=False)
        assert [(r.path, r.shape, r.macs) for r in run.layers] == [
            (row.path, row.output_shape, row.cost.macs) for row in report.layers
        ]


def test_thousands_of_dotted_names_into_a_long_repeat_stay_fast() -> None:
    # each `rep.N` is looked up in a table built once for the group: a scan of the repeat's
    # children per name would be 2,000 × 50,000 comparisons
    lines = ["input: [4, 8, 8]", "layers:", "  - relu: {}", "    repeat: 50000", "    name: rep"]
    for i in range(2000):
        lines += ["  - relu: {}", f"    from: rep.{49999 - i}"]
    spec = convcost.parse_spec("\n".join(lines) + "\n")
    start = time.process_time()
    report = convcost.analyze(spec)
    assert time.process_time() - start < 10
    # every named repetition is alive from its making to its reader: 2,000 of 256 elements,
    # plus the last relu's output (256)
    assert report.peak_activation_elements == 2000 * 256 + 256


def test_the_spec_format_example_and_its_output_are_real(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "spec-format.md").read_text(encoding="utf-8")
    section = text[text.index("## Named tensors") : text.index("## Reusable blocks")]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, flags=re.DOTALL)
    (_, spec), (_, table), (_, explained) = blocks[:3]
    (tmp_path / "tiny-unet.yaml").write_text(spec, encoding="utf-8")
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"})

    def shown(*args: str) -> list[str]:
        result = runner.invoke(app, [*args, str(tmp_path / "tiny-unet.yaml")])
        assert result.exit_code == 0, result.output
        lines = [line.rstrip() for line in result.stdout.splitlines()]
        return [line for line in lines[2:] if line]  # after the title

    assert shown("analyze") == [line.rstrip() for line in table.splitlines() if line.strip()]
    assert shown("explain", "--layer", "concat2") == [
        line.rstrip() for line in explained.splitlines() if line.strip()
    ]
