"""The command line: formats, files, exit codes and messages (typer's CliRunner)."""

from __future__ import annotations

import csv
import doctest
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import convcost
from convcost.cli import app, common
from convcost.errors import ExitStatus
from convcost.limits import DEFAULT_LIMITS, Limits
from convcost.render.table import wrap_path
from convcost.spec import Spec
from convcost.version import __version__

SPECS = Path(__file__).parent.parent / "specs"
QUICKSTART = str(SPECS / "quickstart.yaml")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"})


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == ExitStatus.OK
    assert result.stdout == f"convcost {__version__}\n"


def test_analyze_table(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", QUICKSTART])
    assert result.exit_code == ExitStatus.OK, result.stderr
    assert "stem" in result.stdout
    assert "57.1 K" in result.stdout  # 57,130 parameters (tests/test_examples.py::test_quickstart)
    assert "\x1b[" not in result.stdout  # no colour codes when NO_COLOR is set / not a TTY


def test_analyze_exact(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", QUICKSTART, "--exact"])
    assert "57,130" in result.stdout


def test_table_fits_80_columns() -> None:
    narrow = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "80"})
    result = narrow.invoke(app, ["analyze", str(SPECS / "separable-vs-standard.yaml")])
    assert result.exit_code == ExitStatus.OK
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_deep_paths_break_after_dots_at_80_columns() -> None:
    narrow = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "80"})
    result = narrow.invoke(app, ["analyze", "resnet50"])
    assert result.exit_code == ExitStatus.OK
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    # the kind column gives way to the paths, which wrap after a dot, never inside a name
    header = next(line for line in lines if "layer" in line and "MACs" in line)
    assert "kind" not in header
    first = next(i for i, line in enumerate(lines) if " layer1.0.add1.body. " in line)
    assert lines[first + 1].split() == ["body1.conv1"]
    wide = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "140"}).invoke(app, ["analyze", "resnet50"])
    assert "layer1.0.add1.body.body1.conv1" in wide.stdout
    assert "kind" in wide.stdout


def test_wrap_path() -> None:
    assert wrap_path("conv1", 8) == "conv1"
    assert wrap_path("layer1.0.add1.body.body1.conv1", 20) == "layer1.0.add1.body.\nbody1.conv1"
    # a single name longer than the limit stays whole (rich folds it)
    assert wrap_path("a.verylongname", 5) == "a.\nverylongname"


def test_analyze_json_contract(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", QUICKSTART, "--format", "json"])
    assert result.exit_code == ExitStatus.OK
    data = json.loads(result.stdout)
    assert data["convcost_version"] == __version__
    assert data["convention"]["flops"] == "2 × macs"
    assert data["input_shape"] == [3, 32, 32]
    assert data["output_shape"] == [10]
    assert (data["batch"], data["dtype"]) == (1, "float32")
    totals = data["totals"]
    assert totals["params"] == 57_130
    # MACs by hand: stem 32·32·32·27 = 884,736; conv1 16·16·64·288 = 4,718,592;
    # conv2 16·16·64·576 = 9,437,184; head 64·10 = 640 (batchnorm, relu, pools: no MACs)
    assert totals["macs"] == 15_041_152
    assert totals["flops"] == 30_082_304  # 2 FLOPs a MAC (the convention above)
    assert totals["receptive_field"] is None  # global after the global pool
    assert totals["jump"] is None
    for key in (
        "path",
        "kind",
        "input_shape",
        "output_shape",
        "params",
        "macs",
        "flops",
        "receptive_field",
        "jump",
    ):
        assert key in data["layers"][0]
    assert [layer["macs"] for layer in data["layers"] if layer["macs"]] == [
        884_736,
        4_718_592,
        9_437_184,
        640,
    ]
    assert data["layers"][0]["receptive_field"] == [3, 3]


def test_variants_file_gives_a_json_array(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", str(SPECS / "googlenet-5x5-branch.yaml"), "-f", "json"])
    data = json.loads(result.stdout)
    assert [(d["name"], d["totals"]["macs"]) for d in data] == [
        ("direct", 120_422_400),
        ("bottleneck", 12_443_648),
    ]


def test_csv(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", str(SPECS / "grouped-conv.yaml"), "-f", "csv"])
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(row["spec"], row["macs"], row["output_shape"]) for row in table] == [
        ("groups1", "447897600", "256x27x27"),
        ("groups2", "223948800", "256x27x27"),
    ]


def test_markdown(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", QUICKSTART, "-f", "markdown"])
    assert "| # | layer | kind | output | params | MACs | RF |" in result.stdout
    assert "| 1 | `stem` | conv | 32×32×32 | 864 | 884.7 K | 3 |" in result.stdout


def test_output_file(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    result = runner.invoke(app, ["analyze", QUICKSTART, "-f", "json", "-o", str(target)])
    assert result.exit_code == ExitStatus.OK
    assert result.stdout == ""
    assert json.loads(target.read_text())["totals"]["params"] == 57_130


def test_batch_and_dtype(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["analyze", QUICKSTART, "-f", "json", "--batch", "8", "--dtype", "float16"]
    )
    data = json.loads(result.stdout)
    assert (data["batch"], data["dtype"]) == (8, "float16")
    # per sample, by hand: 3 maps of 32·32·32 (stem, bn, relu) = 98,304; 6 of 64·16·16 = 98,304;
    # maxpool 64·8·8 = 4,096; global pool 64, flatten 64, head 10: 200,842 elements
    assert data["totals"]["activation_elements"] == 8 * 200_842
    assert data["totals"]["activation_bytes"] == 8 * 200_842 * 2  # float16: 2 bytes


def test_missing_file_is_exit_2(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", "nope.yaml"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr == "error: no such spec file: nope.yaml\n"


def test_bad_dtype_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", QUICKSTART, "--dtype", "float8"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert "float8" in result.stderr


def test_warnings_go_to_stderr(runner: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "lossy.yaml"
    spec.write_text("input: [1, 8, 8]\nlayers:\n  - conv: {out: 1, kernel: 3, stride: 2}\n")
    result = runner.invoke(app, ["analyze", str(spec), "-f", "json"])
    assert result.exit_code == ExitStatus.OK
    json.loads(result.stdout)  # stdout stays machine-readable
    assert result.stderr.startswith(
        f"warning: {spec}:3:5: layer conv1: floor division leaves input pixels unread"
    )


def test_python_dash_m(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "convcost", "analyze", QUICKSTART, "-f", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["name"] == "quickstart"


def test_analyze_does_not_import_numpy_at_start_up() -> None:
    code = (
        "import sys; from typer.testing import CliRunner; from convcost.cli import app; "
        f"CliRunner().invoke(app, ['analyze', {QUICKSTART!r}]); print('numpy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# -- option values -------------------------------------------------------------------------------

USAGE = "Usage: convcost analyze [OPTIONS] {{specs}}...\nTry 'convcost analyze -h' for help.\n\nError: {}\n"
BYTE_FORMS = (
    "must be a number of bytes, or a number with B, KiB, MiB, GiB, TiB (powers of 1024) or "
    "KB, MB, GB, TB (powers of 1000), e.g. 64MiB, 1.5GB"
)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            ["--seed", "-1"],
            "Invalid value for '--seed': -1 is not in the range 0<=x<=4294967295.",
        ),
        (
            ["--seed", str(2**32)],  # numpy's seeds are 32-bit
            "Invalid value for '--seed': 4294967296 is not in the range 0<=x<=4294967295.",
        ),
        (
            ["--repeat", "1001"],
            "Invalid value for '--repeat': 1001 is not in the range 1<=x<=1000.",
        ),
        (
            ["--batch", str(2**63)],
            "Invalid value for '--batch': 9223372036854775808 is not in the range "
            "1<=x<=9223372036854775807.",
        ),
        (
            ["--depth", str(2**63)],
            "Invalid value for '--depth': 9223372036854775808 is not in the range "
            "1<=x<=9223372036854775807.",
        ),
        (
            ["--max-layers", "0"],
            "Invalid value for '--max-layers': 0 is not in the range 1<=x<=9223372036854775807.",
        ),
        (
            ["--max-memory", "1__0"],  # was read as 10 bytes
            f"Invalid value for --max-memory: {BYTE_FORMS}, got '1__0'",
        ),
        (["--max-memory", "1e999"], f"Invalid value for --max-memory: {BYTE_FORMS}, got '1e999'"),
        (
            ["--max-memory", "1" + "0" * 400],
            "Invalid value for --max-memory: must be at most 9,223,372,036,854,775,807, "
            "got a number of 401 digits",
        ),
        (
            ["--max-memory", "9" * 5000 + "x"],  # past int()'s 4,300-digit limit
            f"Invalid value for --max-memory: {BYTE_FORMS}, got '{'9' * 40}'… (5001 characters)",
        ),
        (["--max-memory", "8TiB"], None),
    ],
)
def test_option_values_are_bounded(
    runner: CliRunner, option: list[str], message: str | None
) -> None:
    # the spec does not exist: the option is refused before it would be read
    result = runner.invoke(app, ["analyze", "missing-spec.yaml", "--execute", *option])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    if message is None:  # a valid value: the missing spec is the error
        assert result.stderr == "error: no such spec file: missing-spec.yaml\n"
    else:
        assert result.stderr == USAGE.format(message)


def test_huge_integer_option_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(app, ["analyze", QUICKSTART, "--batch", "9" * 5000])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.startswith(USAGE.format("Invalid value for '--batch': ").rstrip("\n"))
    assert len(result.stderr.splitlines()) == 4


# -- spec lookup -----------------------------------------------------------------------------------

BUNDLED = (
    "alexnet, convnext_tiny, deeplabv3_resnet50, densenet121, espcn, googlenet, mobilenet_v2, "
    "mobilenet_v3_small, resnet18, resnet50, resnet50_v1, shufflenet_v2_x1_0, squeezenet1_0, "
    "unet, vgg16"
)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        # a name like a file is a file only: never the bundled model of that name
        ("vgg16.yaml", "no such spec file: vgg16.yaml (the bundled model is named vgg16)"),
        ("resnet50.yml", "no such spec file: resnet50.yml (the bundled model is named resnet50)"),
        ("specs/nope", "no such spec file: specs/nope"),
        ("nets/vgg16.yaml", "no such spec file: nets/vgg16.yaml"),
        ("", "no spec file '': the name is empty"),
        (
            "vgg17",
            f"no spec file 'vgg17' and no bundled model of that name; bundled: {BUNDLED} "
            "(a file name ends in .yaml or .yml, or holds a /)",
        ),
    ],
)
@pytest.mark.parametrize("command", ["analyze", "compare", "explain"])
def test_spec_lookup(
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
    message: str,
    command: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [command, source])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert result.stderr == f"error: {message}\n"


def test_a_bare_name_is_a_bundled_model_and_dot_slash_a_file(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("vgg16").write_text(Path(QUICKSTART).read_text())
    bundled = json.loads(runner.invoke(app, ["analyze", "vgg16", "-f", "json"]).stdout)
    assert bundled["totals"]["params"] == 138_357_544  # VGG-16 (torchvision's count)
    local = json.loads(runner.invoke(app, ["analyze", "./vgg16", "-f", "json"]).stdout)
    assert local["totals"]["params"] == 57_130


@pytest.mark.parametrize("command", ["analyze", "compare", "explain"])
def test_dash_reads_standard_input(runner: CliRunner, command: str) -> None:
    text = Path(QUICKSTART).read_text()
    args = [command, "-", *(["-f", "json"] if command != "explain" else ["--layer", "stem"])]
    result = runner.invoke(app, args, input=text)
    assert result.exit_code == ExitStatus.OK, result.stderr
    if command == "analyze":
        data = json.loads(result.stdout)
        assert (data["source"], data["totals"]["params"]) == ("<stdin>", 57_130)
    elif command == "compare":
        assert json.loads(result.stdout)["names"] == ["quickstart"]
    else:
        assert "= 864  (no bias)" in result.stdout  # stem's parameters: 3·3·3·32 weights


def test_standard_input_errors(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = runner.invoke(app, ["analyze", "-"], input="input: [3, 8, 8]\nlayers: 5\n")
    assert bad.exit_code == ExitStatus.INVALID_INPUT
    assert bad.stderr.startswith("error: <stdin>:2:")
    binary = runner.invoke(app, ["analyze", "-"], input=b"input: [3, 8, 8]\n\xff\n")
    assert binary.exit_code == ExitStatus.INVALID_INPUT
    assert binary.stderr == (
        "error: <stdin>:2:1: the spec is not UTF-8: byte 0xff is invalid here "
        "(invalid start byte); save the file as UTF-8\n"
    )
    monkeypatch.setattr("convcost.cli.common.DEFAULT_LIMITS", Limits(max_spec_bytes=100))
    big = runner.invoke(app, ["analyze", "-"], input="#" * 101)
    assert big.exit_code == ExitStatus.RESOURCE_LIMIT
    assert big.stderr == (
        "error: <stdin> holds more than 100 bytes; a spec may have at most 100 bytes "
        "(Limits.max_spec_bytes)\n"
    )


@pytest.mark.parametrize(
    "args",
    [["analyze", "resnet18"], ["compare", "resnet18"], ["explain", "resnet18", "--layer", "fc"]],
)
def test_max_layers_reaches_the_spec(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    seen: list[Limits] = []
    real = common.read_spec_file  # a file's spec, and a bundled model's

    def recording(
        source: str | os.PathLike[str],
        *,
        limits: Limits = DEFAULT_LIMITS,
        params: Mapping[str, str | int | float] | None = None,
    ) -> Spec:
        seen.append(limits)
        return real(source, limits=limits, params=params)

    monkeypatch.setattr(common, "read_spec_file", recording)
    result = runner.invoke(app, [*args, "--max-layers", "5000"])
    assert result.exit_code == ExitStatus.OK, result.stderr
    assert seen == [Limits(max_layers=5000)]
    default = runner.invoke(app, args)
    assert default.exit_code == ExitStatus.OK
    assert seen[1:] == [DEFAULT_LIMITS]


# -- help, examples, completion ---------------------------------------------------------------------

COMMANDS = sorted(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", COMMANDS)
def test_short_help_option(runner: CliRunner, command: str) -> None:
    short = runner.invoke(app, [command, "-h"])
    assert short.exit_code == ExitStatus.OK
    assert short.stdout == runner.invoke(app, [command, "--help"]).stdout
    assert "-h, --help" in short.stdout


def test_completion_is_offered(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "--install-completion" in runner.invoke(app, ["-h"]).stdout
    # `--show-completion` is a flag: typer detects the shell from this process's ancestors
    # (shellingham), so the test pins it; unpinned, it failed whenever the nearest shell above
    # pytest was one typer has no script for (`sh`), which made it fail in some runs only
    monkeypatch.setattr("typer.completion._get_shell_name", lambda: "bash")
    script = runner.invoke(app, ["--show-completion"])
    assert script.exit_code == ExitStatus.OK, script.output
    assert "_CONVCOST_COMPLETE=complete_bash" in script.stdout


def help_examples(command: str) -> list[str]:
    """The examples of ``convcost COMMAND --help``, as the live app prints them: one command a
    paragraph (click wraps a long one over several lines)."""
    text = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"}).invoke(app, [command, "-h"]).stdout
    block = text.split("Example:", 1)[1].split("\nArguments:")[0].split("\nOptions:")[0]
    paragraphs = [" ".join(part.split()) for part in block.split("\n\n")]
    return [paragraph for paragraph in paragraphs if "convcost " in paragraph]


def test_every_command_has_examples() -> None:
    for command in COMMANDS:
        assert help_examples(command), command


@pytest.mark.parametrize("command", COMMANDS)
def test_help_examples_run(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    # in a folder holding only a copy of specs/, so that examples name real files (and the
    # files they write land in tmp_path)
    shutil.copytree(SPECS, tmp_path / "specs")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"})
    if any(".onnx" in line or "--torch" in line for line in help_examples(command)):
        # the model files the examples name (tests/onnx_exports.model_folder), and a clean
        # module path afterwards: --torch imports a torchvision stand-in from the folder
        models = request.getfixturevalue("model_folder")
        for path in models.iterdir():
            (tmp_path / path.name).symlink_to(path)
        monkeypatch.setattr(sys, "path", list(sys.path))
        stand_ins = ("torchvision", "torchvision.models")
        request.addfinalizer(lambda: [sys.modules.pop(name, None) for name in stand_ins])
    for line in help_examples(command):
        stdin = None
        if "|" in line:
            feeder, line = (part.strip() for part in line.split("|", 1))  # noqa: PLW2901
            assert feeder.startswith("cat "), feeder
            stdin = Path(feeder.removeprefix("cat ")).read_text()
        result = runner.invoke(app, shlex.split(line)[1:], input=stdin)
        assert result.exit_code == ExitStatus.OK, f"{line}: {result.stderr}"
        assert result.stdout or "-o" in shlex.split(line), line


def test_package_docstring_runs() -> None:
    outcome = doctest.testmod(convcost, optionflags=doctest.ELLIPSIS)
    assert outcome.failed == 0
    assert outcome.attempted >= 4
    assert "doctest: +SKIP" not in (convcost.__doc__ or "")


def test_messages_on_stderr_escape_control_characters(runner: CliRunner) -> None:
    # a path is the user's text too: an ESC in it must not reach the terminal raw
    result = runner.invoke(app, ["analyze", "net\x1b[31m.yaml"])
    assert result.exit_code == ExitStatus.INVALID_INPUT
    assert "\x1b" not in result.stderr
    assert result.stderr == "error: no such spec file: net\\x1b[31m.yaml\n"
