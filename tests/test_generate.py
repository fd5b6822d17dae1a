"""Specs that generate: `params:` and `--set`, `if:`, `repeat: 0`, `include:`, block-use chains
in errors, and the hints. Every error is checked with its exact message through the CLI (one
line, exit 2) and through the API (the same message)."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import convcost
from convcost import zoo
from convcost.cli import app
from convcost.errors import ExitStatus, SpecError
from convcost.params import parse_assignment
from convcost.report import Report


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(files: dict[str, str]) -> None:
    for name, text in files.items():
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).write_text(text, encoding="utf-8")


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100", **(env or {})})
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stdout, result.stderr


def cli_error(*args: str) -> str:
    code, out, err = run(*args)
    assert code == ExitStatus.INVALID_INPUT, err
    assert out == ""
    assert err.startswith("error: ")
    assert err.count("\n") == 1, err  # one line
    return err.removeprefix("error: ").removesuffix("\n")


def api_error(params: dict[str, str | int | float] | None = None) -> str:
    with pytest.raises(SpecError) as caught:
        convcost.analyze_all(convcost.load_spec("net.yaml", params=params))
    return str(caught.value)


def analyzed(text: str, params: dict[str, str | int | float] | None = None) -> Report:
    return convcost.analyze(convcost.parse_spec(text, params=params))


def paths(report: Report) -> list[str]:
    return [layer.path for layer in report.layers]


# -- params -----------------------------------------------------------------------------------

FAMILY = """\
params:
  width: 1.0
  resolution: 32
  stem: "${make_divisible(16 * width, 8)}"
input: [3, $resolution, "${resolution}"]
blocks:
  b:
    params: {k: 3}
    layers:
      - conv: {out: "${round(in_channels * 2 * width)}", kernel: $k, padding: 1}
layers:
  - conv: {out: $stem, kernel: 3}
  - b: {}
"""


def test_params_reach_input_layers_blocks_and_derived_defaults() -> None:
    report = analyzed(FAMILY)
    # stem: make_divisible(16, 8) = 16; the block doubles it: 32; input 32 → 30 (3×3, unpadded)
    assert report.input_shape == (3, 32, 32)
    assert [layer.output_shape for layer in report.layers] == [(16, 30, 30), (32, 30, 30)]
    # --set width=0.5 changes the derived stem too: make_divisible(8, 8) = 8; the block: 8 · 2 ·
    # 0.5 = 8 channels; resolution 40 → 38
    half = analyzed(FAMILY, {"width": "0.5", "resolution": 40})
    assert half.input_shape == (3, 40, 40)
    assert [layer.output_shape for layer in half.layers] == [(8, 38, 38), (8, 38, 38)]
    # MACs by hand: 38² · (8 · 3·3·3) + 38² · (8 · 3·3·8)
    assert half.totals.macs == 38 * 38 * 8 * 27 + 38 * 38 * 8 * 72


def test_spec_params_list_declared_names_defaults_and_values() -> None:
    spec = convcost.parse_spec(FAMILY, params={"width": 0.5})
    assert [(p.name, p.default, p.value) for p in spec.params] == [
        ("width", 1.0, 0.5),
        ("resolution", 32, 32),
        ("stem", 16, 8),  # the default computed from the defaults; the value from width 0.5
    ]
    assert [p.location.line for p in spec.params] == [2, 3, 4]


def test_set_values_are_read_as_numbers_booleans_or_text() -> None:
    assert parse_assignment("width=0.75") == ("width", 0.75)
    assert parse_assignment("n=3") == ("n", 3)
    assert parse_assignment("se=true") == ("se", True)
    assert parse_assignment("act=relu6") == ("act", "relu6")
    assert parse_assignment(" w = 1e-1 ") == ("w", 0.1)


def test_a_block_parameter_shadows_a_spec_parameter() -> None:
    text = (
        "params: {c: 4}\ninput: [3, 8, 8]\nblocks:\n  b:\n    params: {c: 6}\n"
        "    layers: [{conv: {out: $c, kernel: 1}}]\nlayers:\n  - b: {}\n  - conv: {out: $c, kernel: 1}\n"
    )
    assert [layer.output_shape[0] for layer in analyzed(text).layers] == [6, 4]


def test_variants_take_their_input_from_params() -> None:
    text = (
        "params: {r: 16}\ninput: [3, $r, $r]\nvariants:\n  small: [{relu: {}}]\n"
        "  big: {input: [3, '${r * 2}', '${r * 2}'], layers: [{relu: {}}]}\n"
    )
    spec = convcost.parse_spec(text, params={"r": 8})
    assert [variant.input_shape for variant in spec.variants] == [(3, 8, 8), (3, 16, 16)]


def test_set_on_every_command_that_reads_specs(in_tmp: Path) -> None:
    write({"net.yaml": FAMILY})
    # at resolution 20 and width 0.5, by hand: the stem, 8 channels of 3×3×3 on 18²: 69,984
    # MACs; the block's conv, 8 of 3×3×8 on 18²: 186,624; 256,608 in all
    for command, expected in (
        (["analyze", "net.yaml", "-f", "json"], '"macs":256608'),
        (["compare", "net.yaml", "net.yaml", "-f", "json"], '"macs":256608'),
        (["explain", "net.yaml", "--layer", "conv1", "-f", "json"], "69984"),
        (["check", "net.yaml", "--max-macs", "1G", "-f", "json"], '"actual":256608'),
    ):
        code, out, _ = run(*command, "--set", "resolution=20", "--set", "width=0.5")
        assert code == 0, command
        assert expected in out.replace(" ", ""), command


PARAM_ERRORS = [
    pytest.param(
        ["--set", "widht=2"],
        "net.yaml:1:1: "
        "cannot set 'widht': the spec declares no such parameter; did you mean 'width'?; "
        "its parameters: width, resolution, stem",
        id="set-unknown-name",
    ),
]


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize(("args", "expected"), PARAM_ERRORS)
def test_set_errors(args: list[str], expected: str) -> None:
    write({"net.yaml": FAMILY})
    assert cli_error("analyze", "net.yaml", *args) == expected
    name, value = parse_assignment(args[1])
    assert api_error({name: value}) == expected


@pytest.mark.usefixtures("in_tmp")
def test_a_malformed_set_is_one_line() -> None:
    write({"net.yaml": FAMILY})
    expected = "--set 'width': expected NAME=VALUE, e.g. --set width=0.75"
    assert cli_error("analyze", "net.yaml", "--set", "width") == expected
    with pytest.raises(SpecError) as caught:
        parse_assignment("width")
    assert str(caught.value) == expected


@pytest.mark.usefixtures("in_tmp")
def test_set_on_a_spec_without_params_lists_none() -> None:
    write({"net.yaml": "input: [3, 8, 8]\nlayers: [{relu: {}}]\n"})
    expected = (
        "net.yaml: cannot set 'a': the spec declares no such parameter; its parameters: none "
        "(add a `params:` mapping)"
    )
    assert cli_error("analyze", "net.yaml", "--set", "a=1") == expected
    assert api_error({"a": 1}) == expected


# -- errors in spec files: (files, expected message) -------------------------------------------

NET = "input: [8, 8, 8]\n"
CASES = [
    pytest.param(
        {"net.yaml": "params: [1]\n" + NET + "layers: [{relu: {}}]\n"},
        "net.yaml:1:9: `params` must map names to defaults, e.g. `params: {width: 1.0}`, got a list",
        id="params-not-a-mapping",
    ),
    pytest.param(
        {"net.yaml": "params: {in_channels: 3}\n" + NET + "layers: [{relu: {}}]\n"},
        "net.yaml:1:10: `in_channels` is provided by convcost (the channels arriving at each "
        "layer); it cannot be a parameter",
        id="params-in-channels",
    ),
    pytest.param(
        {"net.yaml": "params: {w: null}\n" + NET + "layers: [{relu: {}}]\n"},
        "net.yaml:1:13: field params.w: parameter 'w' "
        "needs a number, a string or true/false as its default, got null",
        id="params-null-default",
    ),
    pytest.param(
        {"net.yaml": "params: {r: 8}\ninput: [3, $in_channels, 8]\nlayers: [{relu: {}}]\n"},
        "net.yaml:2:12: field input: $in_channels is not a parameter; known: $r",
        id="input-has-no-in-channels",
    ),
    pytest.param(
        {"net.yaml": "params: {r: 8.5}\ninput: [3, $r, 8]\nlayers: [{relu: {}}]\n"},
        "net.yaml:2:12: field input: must be an integer >= 1, got 8.5",
        id="input-float-param",
    ),
    pytest.param(
        {"net.yaml": NET + "layers:\n  - relu: {}\n    if: 1\n"},
        'net.yaml:4:9: layer relu1, field if: must be true or false, e.g. if: "${n > 1}", got 1',
        id="if-not-boolean",
    ),
    pytest.param(
        {"net.yaml": NET + "layers:\n  - relu: {}\n    if: '${in_channels + 1}'\n"},
        'net.yaml:4:9: layer relu1, field if: must be true or false, e.g. if: "${n > 1}", got '
        "${in_channels + 1}",
        id="if-number-expression",
    ),
    pytest.param(
        {"net.yaml": NET + "layers:\n  - add:\n      a: {if: false, layers: []}\n"},
        "net.yaml:3:5: layer add1: "
        "every branch of this add is excluded by its `if`: keep at least one",
        id="merge-every-branch-excluded",
    ),
    pytest.param(
        {"net.yaml": NET + "layers:\n  - add:\n      a: {iff: false, layers: []}\n"},
        "net.yaml:4:11: layer add1: unknown key 'iff' of branch 'a'; did you mean 'if'?; a "
        "branch is a list of layers, or {if, layers}",
        id="merge-branch-unknown-key",
    ),
    pytest.param(
        {"net.yaml": NET + "layers:\n  - add:\n      a: {if: true}\n"},
        "net.yaml:4:10: layer add1: branch 'a' written as a mapping needs `layers` (and `if`)",
        id="merge-branch-without-layers",
    ),
    pytest.param(
        {"net.yaml": NET + "layers:\n  - conv: {out: '${in_channels * 0.3}', kernel: 1}\n"},
        "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got 2.4 from "
        "${in_channels * 0.3} (not a whole number: round it with round(), floor(), ceil() or "
        "make_divisible())",
        id="float-for-an-integer",
    ),
    pytest.param(
        {"net.yaml": NET + "layers:\n  - conv: {out: $in_channels * 4, kernel: 1}\n"},
        "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got '8 * 4' (to "
        "compute it, put the whole expression in braces: '${in_channels * 4}')",
        id="hint-dollar-without-braces",
    ),
    pytest.param(
        {"net.yaml": NET + "layers:\n  - conv: {out: '${in_channels * 2} + 1', kernel: 1}\n"},
        "net.yaml:3:17: layer conv1, field conv.out: must be an integer >= 1, got '16 + 1' (to "
        "compute it, put the whole expression in braces: '${(in_channels * 2) + 1}')",
        id="hint-arithmetic-outside-the-braces",
    ),
    pytest.param(
        {"net.yaml": NET + "layers:\n  - conv: {out: ${in_channels * 4}, kernel: 1}\n"},
        "net.yaml:3:18: invalid YAML: while parsing a flow mapping did not find expected ',' or "
        "'}' (an unquoted ${in_channels * 4} inside {…}: its braces end the mapping; quote it: "
        'out: "${in_channels * 4}")',
        id="hint-unquoted-expression-in-flow-mapping",
    ),
    # include
    pytest.param(
        {
            "net.yaml": "include: [a.yaml]\n" + NET + "layers: [{relu: {}}]\n",
            "a.yaml": "include: [net.yaml]\n",
        },
        "a.yaml:1:11: include cycle: net.yaml → a.yaml → net.yaml",
        id="include-cycle",
    ),
    pytest.param(
        {"net.yaml": "include: [net.yaml]\n" + NET + "layers: [{relu: {}}]\n"},
        "net.yaml:1:11: include cycle: net.yaml → net.yaml",
        id="include-itself",
    ),
    pytest.param(
        {"net.yaml": "include: [lib/missing.yaml]\n" + NET + "layers: [{relu: {}}]\n"},
        "net.yaml:1:11: include 'lib/missing.yaml': no such spec file: lib/missing.yaml",
        id="include-missing-file",
    ),
    pytest.param(
        {"net.yaml": "include: ['zoo:resnet50#botleneck']\n" + NET + "layers: [{relu: {}}]\n"},
        "net.yaml:1:11: zoo:resnet50 has no block 'botleneck'; did you mean 'bottleneck'?; its "
        "blocks: body, bottleneck, downsample, stage",
        id="include-unknown-block",
    ),
    pytest.param(
        {"net.yaml": "include: ['zoo:resnet5']\n" + NET + "layers: [{relu: {}}]\n"},
        "net.yaml:1:11: no bundled model 'resnet5' to include; bundled: " + ", ".join(zoo.names()),
        id="include-unknown-model",
    ),
    pytest.param(
        {"net.yaml": "include: ['a.yaml#']\n" + NET + "layers: [{relu: {}}]\n"},
        "net.yaml:1:11: 'a.yaml#': name a block after #, or leave out the #",
        id="include-empty-block-name",
    ),
    pytest.param(
        {"net.yaml": "include: a.yaml\n" + NET + "layers: [{relu: {}}]\n"},
        "net.yaml:1:10: `include` must be a list of spec files or zoo:NAME, optionally with "
        "#BLOCK, got 'a.yaml'",
        id="include-not-a-list",
    ),
    pytest.param(
        {
            "net.yaml": "include: [a.yaml]\n" + NET + "blocks:\n  b:\n    layers: [{relu: {}}]\n"
            "layers: [{b: {}}]\n",
            "a.yaml": "blocks:\n  b:\n    layers: [{tanh: {}}]\n",
        },
        "a.yaml:2:3: block 'b' is defined twice: at net.yaml:4:3 and at a.yaml:2:3 (include one "
        "block with #NAME to leave the other out)",
        id="include-duplicate-block",
    ),
    # block uses: the chain of uses, innermost first, with the values passed
    pytest.param(
        {
            "net.yaml": NET + "blocks:\n"
            "  inner:\n    params: {c: 4}\n    layers:\n      - conv: {out: '${c - 4}', kernel: 1}\n"
            "  stage:\n    params: {n: 2, c: 8}\n    layers:\n"
            "      - inner: {c: 8}\n        name: '0'\n"
            "      - inner: {c: $c}\n        repeat: '${n - 1}'\n        name: rest\n"
            "layers:\n  - stage: {n: 3, c: 8}\n  - stage: {n: 3, c: 4}\n"
        },
        "net.yaml:6:21: layer stage2.rest.0.conv1, field conv.out: must be an integer >= 1, got 0 "
        "(in block 'inner' at net.yaml:3:3, used at net.yaml:12:9 with c=4; in block 'stage' at "
        "net.yaml:7:3, used at net.yaml:17:5 with n=3, c=4)",
        id="block-use-chain",
    ),
    pytest.param(
        {
            "net.yaml": NET + "blocks:\n  b:\n    params: {n: 1}\n    layers:\n"
            "      - relu: {}\n        repeat: '${n - 2}'\n        name: rest\n"
            "layers:\n  - b: {n: 1}\n    name: stage1\n"
        },
        "net.yaml:7:17: layer stage1.rest, field repeat: must be an integer >= 0, got -1 (in "
        "block 'b' at net.yaml:3:3, used at net.yaml:10:5 with n=1)",
        id="repeat-error-names-the-path-and-the-use",
    ),
]


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize(("files", "expected"), CASES)
def test_errors(files: dict[str, str], expected: str) -> None:
    write(files)
    assert cli_error("analyze", "net.yaml") == expected
    assert api_error() == expected


# -- if and repeat 0 --------------------------------------------------------------------------

CONDITIONS = """\
params: {se: true, n: 0, shortcut: false}
input: [8, 8, 8]
blocks:
  b:
    params: {n: 1}
    layers:
      - conv: {out: 8, kernel: 3, padding: 1}
      - relu: {}
        repeat: "${n - 1}"
        name: rest
layers:
  - b: {n: 1}
    name: one
  - relu: {}
    if: "${se and n == 0}"
  - tanh: {}
    if: $shortcut
  - sigmoid: {}
    repeat: $n
  - add:
      main: [{conv: {out: 8, kernel: 1}}]
      skip: {if: $shortcut, layers: []}
      extra: {layers: [{identity: {}}]}
"""


def test_if_and_repeat_zero_leave_entries_out() -> None:
    report = analyzed(CONDITIONS)
    assert paths(report) == [
        "one.conv1",  # `rest` repeats n - 1 = 0 times: nothing
        "relu1",  # se and n == 0
        "add1.main.conv1",
        "add1.extra.identity1",
        "add1",  # no `skip` branch: shortcut is false
    ]
    flipped = analyzed(CONDITIONS, {"shortcut": "true", "n": 2, "se": "false"})
    assert paths(flipped) == [
        "one.conv1",
        "tanh1",
        "sigmoid1.0",
        "sigmoid1.1",
        "add1.main.conv1",
        "add1.extra.identity1",
        "add1",
    ]
    # a three-way add: two joins per output element (8·8·8), where the two-way add had one
    assert report.layers[-1].cost.ops == 512
    assert flipped.layers[-1].cost.ops == 2 * 512


def test_a_huge_repeat_behind_a_false_if_is_never_counted() -> None:
    text = "input: [8, 8, 8]\nlayers:\n  - relu: {}\n    if: false\n    repeat: 1000000000000\n"
    assert paths(analyzed(text)) == []


# -- include ----------------------------------------------------------------------------------


def test_include_takes_a_block_and_the_blocks_it_uses(in_tmp: Path) -> None:
    write(
        {
            "lib/blocks.yaml": "blocks:\n  cbr:\n    params: {out: 8}\n    layers:\n"
            "      - conv: {out: $out, kernel: 3, padding: 1}\n      - relu: {}\n"
            "  two:\n    params: {out: 8}\n    layers: [{cbr: {out: $out}}, {cbr: {out: $out}}]\n"
            "  unused:\n    layers: [{relu: {}}]\n",
            "nets/net.yaml": "include: [../lib/blocks.yaml#two]\ninput: [3, 16, 16]\n"
            "layers:\n  - two: {out: 4}\n",
        }
    )
    spec = convcost.load_spec("nets/net.yaml")  # the include is relative to nets/, not the cwd
    assert [block.name for block in spec.blocks] == ["cbr", "two"]
    report = convcost.analyze(spec)
    # by hand: 16² · (4 · 3·3·3) + 16² · (4 · 3·3·4)
    assert report.totals.macs == 256 * 4 * 27 + 256 * 4 * 36
    # a block's layers keep their own file's locations
    assert report.layers[0].location.file == str(Path("nets/../lib/blocks.yaml"))


def test_deeplab_by_reference_equals_the_bundled_model() -> None:
    included = convcost.analyze(
        convcost.load_spec(Path(__file__).parent.parent / "specs" / "deeplabv3_include.yaml")
    )
    bundled = convcost.analyze(convcost.load_spec(zoo.find("deeplabv3_resnet50") or ""))
    # the bundled model's totals are pinned against torchvision in tests/test_zoo.py
    assert (included.totals.params, included.totals.macs) == (39_638_869, 31_310_548_992)
    assert included.totals == bundled.totals
    assert [layer.output_shape for layer in included.layers] == [
        layer.output_shape for layer in bundled.layers
    ]


def test_a_diamond_of_includes_reads_each_file_once(in_tmp: Path) -> None:
    # 15 levels, each including the next twice: 2**15 reads without the per-load cache
    files = {
        f"l{i}.yaml": f"include: [l{i + 1}.yaml, l{i + 1}.yaml]\n"
        f"blocks:\n  b{i}:\n    layers: [{{relu: {{}}}}]\n"
        for i in range(14)
    }
    files["l14.yaml"] = "blocks:\n  b14:\n    layers: [{relu: {}}]\n"
    files["net.yaml"] = "include: [l0.yaml]\ninput: [3, 8, 8]\nlayers: [{b14: {}}]\n"
    write(files)
    start = time.perf_counter()
    spec = convcost.load_spec("net.yaml")
    assert time.perf_counter() - start < 5
    assert sorted(block.name for block in spec.blocks) == sorted(f"b{i}" for i in range(15))


def test_includes_nest_at_most_16_deep(in_tmp: Path) -> None:
    files = {f"l{i}.yaml": f"include: [l{i + 1}.yaml]\n" for i in range(20)}
    files["net.yaml"] = "include: [l0.yaml]\ninput: [3, 8, 8]\nlayers: [{relu: {}}]\n"
    write(files)
    expected = (
        "l14.yaml:1:11: includes nest more than 16 deep here: net.yaml → l0.yaml → … → l15.yaml"
    )
    assert cli_error("analyze", "net.yaml") == expected
    assert api_error() == expected


def test_an_included_symlink_loop_is_one_line(in_tmp: Path) -> None:
    """A link to itself is a file that cannot be read (pathlib's ``resolve`` raised a
    RuntimeError here, a traceback)."""
    (in_tmp / "loop.yaml").symlink_to("loop.yaml")
    write({"net.yaml": "include: [loop.yaml]\ninput: [3, 8, 8]\nlayers: [{relu: {}}]\n"})
    reason = os.strerror(errno.ELOOP)  # Too many levels of symbolic links
    expected = f"net.yaml:1:11: include 'loop.yaml': cannot read spec file loop.yaml: {reason}"
    assert cli_error("analyze", "net.yaml") == expected
    assert api_error() == expected


# -- where errors and warnings point ----------------------------------------------------------


def test_a_github_annotation_lands_on_the_outermost_use(in_tmp: Path) -> None:
    write(
        {
            "net.yaml": NET + "blocks:\n  b:\n    params: {c: 4}\n    layers:\n"
            "      - conv: {out: '${c - 4}', kernel: 1}\n"
            "layers:\n  - relu: {}\n  - b: {c: 4}\n"
            "budget: {macs: 1G}\n"
        }
    )
    code, _, err = run("check", "net.yaml", env={"GITHUB_ACTIONS": "true"})
    assert code == ExitStatus.INVALID_INPUT
    annotations = [line for line in err.splitlines() if line.startswith("::error")]
    assert len(annotations) == 1
    # the use `- b: {c: 4}` is line 9, column 5; the body's conv is line 6
    assert annotations[0].startswith("::error file=net.yaml,line=9,col=5,")


def test_a_warning_inside_a_block_names_its_use() -> None:
    text = (
        "input: [3, 9, 9]\nblocks:\n  b:\n    layers:\n      - conv: {out: 4, kernel: 2, stride: 2}\n"
        "layers:\n  - b: {}\n"
    )
    report = analyzed(text)
    # a 2×2 stride-2 window on 9 pixels reads 0…7: the last row and column are never read
    (warning,) = report.warnings
    assert (warning.location.line if warning.location else None) == 5
    assert warning.used_at is not None
    assert (warning.used_at.line, warning.used_at.column) == (7, 5)
    assert str(warning).endswith("(in block 'b' used at <string>:7:5)")


# -- expressions: hostile input stays bounded -------------------------------------------------

HOSTILE = [
    pytest.param("2 ** 100000", "computes an integer of more than 256 bits", id="huge-power"),
    pytest.param("10.0 ** 400", "a float overflows", id="float-power-overflow"),
    pytest.param("1e308 * 10", "a float overflows", id="float-product-overflow"),
    pytest.param("1e999", "a float overflows", id="float-literal-infinite"),
    pytest.param("(-8) ** 0.5", "-8 ** 0.5 is not a real number", id="complex-power"),
    pytest.param("0 ** -1", "division by zero", id="zero-negative-power"),
    pytest.param("1 / 0.0", "division by zero", id="float-division-by-zero"),
    pytest.param("round(1e300)", "computes an integer of more than 256 bits", id="round-huge"),
    pytest.param("make_divisible(64, 0)", "make_divisible()'s divisor must be > 0", id="divisor-0"),
    pytest.param("min(3)", "min() takes 2 or more arguments, got 1", id="min-one-argument"),
    pytest.param("1e18 * 10", "larger than the largest integer allowed", id="past-int64"),
    pytest.param("((((((((((((((((1)))))))))))))))) + 1", "", id="parentheses-are-not-depth"),
    pytest.param(
        "-(-(-(-(-(-(-(-(-(-(-(-(-(-(-(-(-1))))))))))))))))",
        "nests 18 levels deep",
        id="deep-unary",
    ),
    pytest.param("round", "round is a function: call it, e.g. round(x)", id="function-name"),
    pytest.param("__import__('os')", "is not allowed", id="call-builtin"),
    pytest.param("(1).__class__", "is not allowed", id="attribute"),
    pytest.param("[1, 2]", "is not allowed", id="list"),
    pytest.param("'a' < 1", "an operand of < must be a number", id="string-order"),
]


@pytest.mark.parametrize(("expression", "message"), HOSTILE)
def test_hostile_expressions_are_refused_quickly(expression: str, message: str) -> None:
    from convcost.expr import ExpressionError, calculate  # noqa: PLC0415

    start = time.perf_counter()
    if not message:
        assert calculate(expression, {}) == 2
    else:
        with pytest.raises(ExpressionError) as caught:
            calculate(expression, {})
        assert message in str(caught.value)
    assert time.perf_counter() - start < 0.5


def torchvision_make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """torchvision.models._utils._make_divisible, copied (the reference for make_divisible)."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def test_make_divisible_is_torchvisions_rule() -> None:
    from convcost.expr import evaluate  # noqa: PLC0415

    reference = torchvision_make_divisible
    for tenths in range(1, 30_000, 7):  # 0.1 … 3000, with the 10 % bump and the minimum
        value = tenths / 10
        for divisor in (4, 8, 16):
            assert evaluate(f"make_divisible({value!r}, {divisor})", {}) == reference(
                value, divisor
            )
    assert evaluate("make_divisible(3, 8, 1)", {}) == reference(3, 8, 1)
    # the values MobileNetV2 at α = 0.35 needs: 32·0.35 = 11.2 rounds down to 8, more than
    # 10 % down, so 16; 16·0.35 = 5.6 stays at the minimum, 8
    assert evaluate("make_divisible(32 * 0.35, 8)", {}) == 16
    assert evaluate("make_divisible(16 * 0.35, 8)", {}) == 8


ARITHMETIC = [
    "7 / 2",
    "7 // 2 + 7 % 3",
    "-7 // 2",
    "2 ** 10 - 1",
    "2 ** -2",
    "round(2.5) + round(3.5)",  # ties to even, as Python
    "max(1, 3, 2) * min(4.5, 6)",
    "3 if 2 > 1 and not 1 == 2 else 4",
    "1 < 2 < 3 != 4",
    "abs(-3.5)",
    "0.1 + 0.2",
]


@pytest.mark.parametrize("expression", ARITHMETIC)
def test_expressions_compute_as_python_does(expression: str) -> None:
    from convcost.expr import calculate  # noqa: PLC0415

    expected = eval(expression)  # the oracle: Python itself, on fixed literals
    got = calculate(expression, {})
    assert got == expected
    if isinstance(expected, float) and expected.is_integer():
        assert type(got) is int  # a whole float is an integer from here on
    elif isinstance(expected, float):
        assert type(got) is float


def test_floor_and_ceil_match_math() -> None:
    import math  # noqa: PLC0415

    from convcost.expr import calculate  # noqa: PLC0415

    for value in (-2.5, -0.1, 0.0, 0.1, 2.5, 3.0, 1e15 + 0.5):
        assert calculate(f"floor({value!r})", {}) == math.floor(value)
        assert calculate(f"ceil({value!r})", {}) == math.ceil(value)


def test_stage_depths_are_torchvisions_ceil() -> None:
    from convcost.expr import evaluate  # noqa: PLC0415

    # torchvision's adjust_depth: int(math.ceil(n * depth)); 1 · 1.1 is 1.1, so 2 blocks
    assert [evaluate(f"ceil({n} * 1.1)", {}) for n in (1, 2, 3, 4)] == [2, 3, 4, 5]
    assert [evaluate(f"ceil({n} * 1.4)", {}) for n in (1, 2, 3, 4)] == [2, 3, 5, 6]


def test_builtins_are_unknown_names() -> None:
    # evaluation never reaches Python's eval: a builtin's name is just an unknown name
    from convcost.expr import ExpressionError, calculate  # noqa: PLC0415

    with pytest.raises(ExpressionError, match="unknown name 'open'"):
        calculate("open", {})


def test_budgets_see_the_spec_params(in_tmp: Path) -> None:
    write(
        {
            "net.yaml": "params: {width: 1.0}\ninput: [3, 16, 16]\n"
            'layers:\n  - conv: {out: "${round(16 * width)}", kernel: 3}\n'
            'budget:\n  macs: "${100000 * width}"\n  params: 400\n'
        }
    )
    # by hand: 14² · 16 · 27 = 84,672 MACs under 100,000, but 16 · 27 + 16 = 448 parameters
    # over 400 (exit 1); at width 0.25, 4 channels: 14² · 4 · 27 = 21,168 MACs under 25,000
    # and 112 parameters
    code, out, _ = run("check", "net.yaml", "-f", "json")
    assert code == ExitStatus.BUDGET_EXCEEDED
    compact = out.replace(" ", "")
    assert '"limit":100000,"actual":84672' in compact
    code, out, _ = run("check", "net.yaml", "-f", "json", "--set", "width=0.25")
    assert code == ExitStatus.OK
    compact = out.replace(" ", "")
    assert '"limit":25000,"actual":21168' in compact
    assert '"limit":400,"actual":112' in compact


def test_alternatives_left_out_by_if_may_share_a_name() -> None:
    text = (
        "params: {residual: true}\ninput: [8, 8, 8]\nlayers:\n"
        "  - conv: {out: 8, kernel: 1}\n    name: block\n    if: '${not residual}'\n"
        "  - add: {body: [{conv: {out: 8, kernel: 1}}], skip: []}\n    name: block\n"
        "    if: $residual\n"
    )
    assert paths(analyzed(text)) == ["block.body.conv1", "block"]
    assert paths(analyzed(text, {"residual": "false"})) == ["block"]
    with pytest.raises(SpecError, match=r"layers\[2\]: duplicate layer name 'block' in this list"):
        analyzed(text + "  - relu: {}\n    name: block\n")


# -- docs/spec-format.md shows real output ----------------------------------------------------

SPEC_FORMAT = Path(__file__).parent.parent / "docs" / "spec-format.md"
ROOT = Path(__file__).parent.parent


def transcript(command: str) -> list[str]:
    """The lines docs/spec-format.md shows under ``$ command`` (up to the block's end)."""
    text = SPEC_FORMAT.read_text(encoding="utf-8")
    start = text.index(f"$ {command}\n") + len(command) + 3
    return [line.rstrip() for line in text[start : text.index("```", start)].splitlines()]


def test_the_documented_efficientnet_table_is_real(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    command = (
        "convcost analyze specs/efficientnet.yaml --set width=1.1 --set depth=1.2 "
        "--set resolution=260 --depth 1"
    )
    code, out, _ = run(*command.split()[1:])
    assert code == 0
    shown = transcript(command)
    assert [line.rstrip() for line in out.splitlines()][: len(shown)] == shown


def test_the_documented_mobilenet_widths_are_real() -> None:
    text = SPEC_FORMAT.read_text(encoding="utf-8")
    rows = text[text.index("| α | parameters | MACs at 224 |") :].split("\n\n")[0].splitlines()[2:]
    documented = {}
    for row in rows:
        alpha, params, macs = (cell.strip() for cell in row.strip("|").split("|"))
        documented[alpha] = (int(params.replace(",", "")), int(macs.replace(",", "")))
    assert set(documented) == {"0.35", "0.5", "0.75", "1.0", "1.4"}
    spec = ROOT / "specs" / "mobilenet_v2_family.yaml"
    for alpha, expected in documented.items():
        report = convcost.analyze(convcost.load_spec(spec, params={"width": alpha}))
        assert (report.totals.params, report.totals.macs) == expected, alpha


DOCUMENTED_ERRORS = {
    "h.yaml": "input: [8, 8, 8]\nlayers:\n  - conv: {out: ${in_channels * 4}, kernel: 1}\n",
    "h2.yaml": "input: [8, 8, 8]\nlayers:\n  - conv: {out: $in_channels * 4, kernel: 1}\n",
    "net.yaml": (
        "input: [3, 32, 32]\nblocks:\n  inverted:\n    params: {t: 6, out: 16}\n    layers:\n"
        '      - conv: {out: "${in_channels * t}", kernel: 1}\n'
        "      - depthwise: {kernel: 3, padding: 1}\n      - conv: {out: $out, kernel: 1}\n"
        "  stage:\n    params: {t: 6, c: 16, n: 2}\n    layers:\n"
        "      - inverted: {t: $t, out: $c}\n        repeat: $n\n"
        "layers:\n  - stage: {t: 6, c: 16, n: 2}\n  - stage: {t: 0, c: 24, n: 1}\n"
    ),
}


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize("name", sorted(DOCUMENTED_ERRORS))
def test_the_documented_errors_are_real(name: str) -> None:
    write({name: DOCUMENTED_ERRORS[name]})
    line = "error: " + cli_error("analyze", name)
    rows = [row.strip() for row in SPEC_FORMAT.read_text(encoding="utf-8").splitlines()]
    assert line in rows


def test_the_documented_set_errors_are_real(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    rows = [row.strip() for row in SPEC_FORMAT.read_text(encoding="utf-8").splitlines()]
    for args in (["--set", "widht=0.5"], ["--set", "width"]):
        line = "error: " + cli_error("analyze", "specs/mobilenet_v2_family.yaml", *args)
        assert line in rows
