"""``convcost import`` and every command on a ``.onnx`` file, through the real command line:
budgets, compare and explain on a model; bad models one line and exit 2 within the bounds of
tests/attacks/harness (a non-ONNX file, a truncated one, unsupported operators, symbolic sizes
without --input, a constant in a missing external-data file, a file past 2 GiB, no onnx
package); ``import --torch`` and its errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import convcost
from convcost.errors import ExitStatus
from tests.attacks.harness import assert_bounded, cli_env, run_cli
from tests.conftest import require

require("torch")
require("onnx")
require("onnxscript")

from tests.onnx_exports import Exports, write_tiny_models  # noqa: E402 (needs torch)

pytestmark = pytest.mark.torch


# -- the command line ----------------------------------------------------------------------------


def cli(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return run_cli(list(args), cwd=tmp_path, env=env, deadline=120)


def test_check_gates_a_model_file(onnx_exports: Exports, tmp_path: Path) -> None:
    path = str(onnx_exports.path("resnet50", "dynamo"))
    # 4,089,184,256 MACs (tests/test_zoo.TOTALS)
    within = cli(tmp_path, "check", path, "--max-macs", "4.2G")
    assert within.exit_code == ExitStatus.OK, within.describe()
    over = cli(tmp_path, "check", path, "--max-macs", "4G", "-f", "json")
    assert over.exit_code == ExitStatus.BUDGET_EXCEEDED, over.describe()
    (result,) = json.loads(over.stdout)["specs"][0]["results"]
    assert (result["metric"], result["actual"]) == ("macs", 4_089_184_256)
    missing = cli(tmp_path, "check", "missing.onnx", "--max-macs", "4G")
    assert missing.exit_code == ExitStatus.INVALID_INPUT, missing.describe()
    assert missing.stderr_lines == ["error: missing.onnx: cannot read the model: no such file"]


def test_compare_and_explain_take_a_model_file(onnx_exports: Exports, tmp_path: Path) -> None:
    path = str(onnx_exports.path("resnet50", "torchscript"))
    compared = cli(tmp_path, "compare", path, "resnet50", "-f", "json")
    assert compared.exit_code == ExitStatus.OK, compared.describe()
    columns = json.loads(compared.stdout)["variants"]
    assert [column["totals"]["macs"] for column in columns] == [4_089_184_256] * 2
    explained = cli(tmp_path, "explain", path, "-f", "json")
    assert explained.exit_code == ExitStatus.OK, explained.describe()
    assert json.loads(explained.stdout)["source"] == path


BAD_INPUTS = [
    (
        "text.onnx",
        [],
        # "he": field 13 (0x68 >> 3) with wire type 0x68 & 7 = 0 (a varint), 0x65 = 101; then
        # "ll": 0x6C is field 13 with wire type 4, a group end, which ONNX never writes
        "error: text.onnx: not an ONNX model, or a truncated one (protobuf: at byte 2, field 13 "
        "has wire type 4, not one of ONNX's)",
    ),
    (
        "truncated.onnx",
        [],
        # the graph (field 7), whose bytes run past the half of the file that is left
        "error: truncated.onnx: not an ONNX model, or a truncated one (protobuf: at byte 19, "
        "field 7 claims 46,746,593 bytes, past the end of its message)",
    ),
    (
        "unsupported.onnx",
        [],
        'error: unsupported.onnx: 3 nodes have no convcost layer: Cos ×2 (first: node "cos_a"), '
        'Sin ×1 (first: node "sin_a")',
    ),
    (
        "dynamic.onnx",
        [],
        'error: dynamic.onnx: input "x" is [N, 3, H, W], with symbolic sizes (H, W): give the '
        "input shape without batch, e.g. --input 3x224x224",
    ),
    (
        # an input too small for the model: the error names the node, not a line of YAML
        "dynamic.onnx",
        ["--input", "3x2x2"],
        'error: dynamic.onnx: node "conv_a" (Conv): output size on axis H would be '
        "⌊(2 + 0 − 1·(3 − 1) − 1) / 1⌋ + 1 = 0, below 1: the input (2) plus padding (0) is "
        "smaller than the kernel's span (3)",
    ),
    (
        "external.onnx",
        [],
        "error: external.onnx: node \"flatten_a\" (Reshape): the shape of tensor 'y' is unknown",
    ),
    (
        # past protobuf's 2 GiB: refused from its size (a sparse file here), never read
        "huge.onnx",
        [],
        "error: huge.onnx: the file has 2,147,483,648 bytes, more than protobuf can parse "
        "(2 GiB): save the model with its weights as external data "
        "(onnx.save(model, path, save_as_external_data=True))",
    ),
    ("missing.onnx", [], "error: missing.onnx: cannot read the model: no such file"),
]


@pytest.fixture(scope="module")
def bad_folder(tmp_path_factory: pytest.TempPathFactory, onnx_exports: Exports) -> Path:
    folder = tmp_path_factory.mktemp("bad")
    write_tiny_models(folder)
    (folder / "text.onnx").write_text("hello, world\n")
    exported = onnx_exports.path("resnet18", "torchscript").read_bytes()
    (folder / "truncated.onnx").write_bytes(exported[: len(exported) // 2])
    with (folder / "huge.onnx").open("wb") as huge:
        huge.truncate(2**31)
    return folder


@pytest.mark.parametrize("command", ["import", "analyze"])
@pytest.mark.parametrize(("name", "args", "message"), BAD_INPUTS)
def test_bad_model_is_one_line(
    bad_folder: Path, command: str, name: str, args: list[str], message: str
) -> None:
    run = cli(bad_folder, command, name, *args)
    assert_bounded(run)
    assert run.exit_code == ExitStatus.INVALID_INPUT, run.describe()
    assert run.stderr_lines == [message], run.describe()


def test_a_symbolic_input_is_given_with_input(bad_folder: Path) -> None:
    run = cli(bad_folder, "analyze", "dynamic.onnx", "--input", "3x20x20", "-f", "csv")
    assert run.exit_code == ExitStatus.OK, run.describe()
    # conv_a: 8 filters of 3·3·3 on an 18×18 output: 8·18·18·27 = 69,984 MACs
    assert b"dynamic,conv_a,conv,3x20x20,8x18x18,216,216,0,69984," in run.stdout


def test_compare_imports_a_symbolic_model_at_its_first_input(bad_folder: Path) -> None:
    args = ["compare", "dynamic.onnx", "--input", "3x20x20", "--input", "3x34x34", "-f", "csv"]
    run = cli(bad_folder, *args)
    assert run.exit_code == ExitStatus.OK, run.describe()
    rows = run.stdout.decode().splitlines()[1:]
    # 8 filters of 3·3·3 on 18×18 and on 32×32 outputs
    assert [row.split(",")[5] for row in rows] == [str(8 * 18 * 18 * 27), str(8 * 32 * 32 * 27)]


def test_input_is_for_model_files_only(tmp_path: Path) -> None:
    run = cli(tmp_path, "analyze", "resnet18", "--input", "3x64x64")
    assert run.exit_code == ExitStatus.INVALID_INPUT
    assert run.stderr_lines == ["error: resnet18: --input is for a model file (.onnx) only"]


HIDE = "import sys; sys.modules[{0!r}] = None; from convcost.__main__ import main; main()"
"""A child in which ``import MODULE`` fails, as it does where the extra is not installed."""


def test_analyze_needs_no_onnx_package(bad_folder: Path) -> None:
    """A model file is read without the onnx package (nor numpy): convcost's own reader."""
    hidden = HIDE.format("onnx").replace(
        "sys.modules", "sys.modules['numpy'] = None; sys.modules", 1
    )
    command = ["analyze", "dynamic.onnx", "--input", "3x20x20", "-f", "csv"]
    child = subprocess.run(
        [sys.executable, "-c", hidden, *command],
        cwd=bad_folder,
        env=cli_env(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == ExitStatus.OK, child.stderr
    assert child.stdout == cli(bad_folder, *command).stdout


def test_writing_over_the_model_is_refused(bad_folder: Path) -> None:
    before = (bad_folder / "dynamic.onnx").read_bytes()
    run = cli(bad_folder, "import", "dynamic.onnx", "--input", "3x8x8", "-o", "dynamic.onnx")
    assert run.exit_code == ExitStatus.INVALID_INPUT
    assert run.stderr_lines == [
        "error: --output dynamic.onnx: is the spec dynamic.onnx; write the report to another file"
    ]
    assert (bad_folder / "dynamic.onnx").read_bytes() == before


# -- convcost import --torch -------------------------------------------------------------------

MYNET = """\
from torch import nn


def build():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(8, 10),
    )


def broken():
    raise ValueError("no weights here")


NOT_CALLABLE = 3
"""


def test_import_torch_from_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "mynet.py").write_text(MYNET)
    run = cli(tmp_path, "import", "--torch", "mynet:build", "--input", "3x32x32")
    assert run.exit_code == ExitStatus.OK, run.describe()
    report = convcost.analyze(convcost.parse_spec(run.stdout.decode()))
    # 32·32·8 outputs × 3·3·3 + 8·10
    assert report.totals.macs == 32 * 32 * 8 * 27 + 80
    assert run.stderr == ""


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        (
            "mynet",
            "error: --torch 'mynet': write package.module:factory, a function that returns "
            "the torch.nn.Module",
        ),
        (
            "nosuch:build",
            "error: --torch 'nosuch:build': cannot import nosuch: ModuleNotFoundError: "
            "No module named 'nosuch'",
        ),
        ("mynet:missing", "error: --torch 'mynet:missing': mynet has no attribute 'missing'"),
        ("mynet:NOT_CALLABLE", "error: --torch 'mynet:NOT_CALLABLE': NOT_CALLABLE is not callable"),
        (
            "mynet:broken",
            "error: --torch 'mynet:broken': broken() raised ValueError: no weights here",
        ),
    ],
)
def test_import_torch_errors(tmp_path: Path, reference: str, message: str) -> None:
    (tmp_path / "mynet.py").write_text(MYNET)
    run = cli(tmp_path, "import", "--torch", reference)
    assert run.exit_code == ExitStatus.INVALID_INPUT, run.describe()
    assert run.stderr_lines == [message]


def test_import_takes_a_file_or_torch(tmp_path: Path) -> None:
    for args in ([], ["a.onnx", "--torch", "m:f"]):
        run = cli(tmp_path, "import", *args)
        assert run.exit_code == ExitStatus.INVALID_INPUT
        assert run.stderr_lines == [
            "error: convcost import takes one ONNX file, or --torch MODULE:FACTORY"
        ]
