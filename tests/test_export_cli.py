"""``convcost export`` on the command line: what it writes, and its errors in one line (exit 2,
no traceback, no file left behind). Needs no torch: the PyTorch exporter writes text."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.cli import app
from convcost.errors import ConvcostError, ExitStatus
from convcost.export import onnx_model
from convcost.export.pytorch import pytorch_source
from convcost.spec import Spec, load_spec

ROOT = Path(__file__).resolve().parent.parent
CUSTOM = "input: [3, 8, 8]\nlayers:\n  - custom: {unknown: true}\n    name: mystery\n"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m convcost ARGS`` running this tree's code, in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "convcost", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "100"},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_to_pytorch_writes_the_file_to_o_or_standard_output(tmp_path: Path) -> None:
    spec = str(ROOT / "specs" / "googlenet-5x5-branch.yaml")
    expected = pytorch_source(load_spec(spec), variant="bottleneck")
    printed = cli("export", spec, "--to", "pytorch", "--variant", "bottleneck", cwd=tmp_path)
    assert (printed.returncode, printed.stderr) == (ExitStatus.OK, "")
    assert printed.stdout == expected
    written = cli(
        "export", spec, "--to", "pytorch", "--variant", "bottleneck", "-o", "b.py", cwd=tmp_path
    )
    assert (written.returncode, written.stdout, written.stderr) == (ExitStatus.OK, "", "")
    assert (tmp_path / "b.py").read_text(encoding="utf-8") == expected


def test_an_unknown_target_is_one_line_listing_the_targets(tmp_path: Path) -> None:
    done = cli("export", "resnet18", "--to", "keras", cwd=tmp_path)
    assert done.returncode == ExitStatus.INVALID_INPUT
    assert done.stderr == "error: --to 'keras': choose one of pytorch, onnx\n"
    assert done.stdout == ""


def test_an_unwritable_output_is_one_line_before_any_work(tmp_path: Path) -> None:
    done = cli("export", "resnet18", "--to", "pytorch", "-o", "missing/net.py", cwd=tmp_path)
    assert done.returncode == ExitStatus.INVALID_INPUT
    assert done.stderr == "error: --output missing/net.py: no such directory missing\n"
    assert list(tmp_path.iterdir()) == []


def test_a_failed_export_leaves_the_output_file_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "net.yaml").write_text(CUSTOM)
    (tmp_path / "net.py").write_text("keep me\n")
    done = cli("export", "net.yaml", "--to", "pytorch", "-o", "net.py", cwd=tmp_path)
    assert done.returncode == ExitStatus.INVALID_INPUT
    assert done.stderr == (
        "error: net.yaml:3:5: layer mystery: cannot export custom to PyTorch: "
        "a custom layer states only its costs, not what it computes\n"
    )
    assert (tmp_path / "net.py").read_text() == "keep me\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["net.py", "net.yaml"]


def test_an_unknown_variant_lists_the_variants(tmp_path: Path) -> None:
    spec = str(ROOT / "specs" / "googlenet-5x5-branch.yaml")
    done = cli("export", spec, "--to", "pytorch", "--variant", "wide", cwd=tmp_path)
    assert done.returncode == ExitStatus.INVALID_INPUT
    assert done.stderr == (
        f"error: {spec}: no variant named 'wide'; variants: direct, bottleneck\n"
    )


def test_export_loads_neither_torch_nor_onnx(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from convcost.cli.entry import main\n"
        "sys.argv = ['convcost', 'export', 'resnet18', '--to', 'pytorch', '-o', 'r.py']\n"
        "try:\n    main()\n"
        "except SystemExit:\n    pass\n"
        "print(sorted({'torch', 'onnx', 'numpy'} & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout == "[]\n", done.stderr
    assert (tmp_path / "r.py").read_text().startswith('"""resnet18 as PyTorch modules')


def test_to_onnx_writes_the_exporters_bytes_atomically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command's side of ``--to onnx`` (the exporter itself is tested with it): the bytes
    ``onnx_bytes`` returns, written only when it succeeds, with the flags passed through."""
    calls: list[dict[str, object]] = []

    def fake(spec: Spec, **options: object) -> bytes:
        calls.append({"name": spec.name, **options})
        if options["seed"] == 13:
            raise ConvcostError("the exporter failed")
        return b"\x08\x07\x00binary"

    monkeypatch.setattr(onnx_model, "onnx_bytes", fake)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    spec = str(ROOT / "specs" / "googlenet-5x5-branch.yaml")
    args = ["export", spec, "--to", "onnx", "-o", "net.onnx", "--variant", "direct", "--zeros"]
    done = runner.invoke(app, args)
    assert done.exit_code == ExitStatus.OK, done.stderr
    assert (tmp_path / "net.onnx").read_bytes() == b"\x08\x07\x00binary"
    assert calls == [
        {"name": "googlenet-5x5-branch", "variant": "direct", "seed": 0, "zeros": True}
    ]
    failed = runner.invoke(app, ["export", spec, "--to", "onnx", "-o", "net.onnx", "--seed", "13"])
    assert failed.exit_code == ExitStatus.INVALID_INPUT
    assert failed.stderr == "error: the exporter failed\n"
    assert (tmp_path / "net.onnx").read_bytes() == b"\x08\x07\x00binary"
    assert [path.name for path in tmp_path.iterdir()] == ["net.onnx"]


@pytest.mark.parametrize("args", [["--version"], ["analyze", "resnet18", "-f", "json"]])
def test_other_commands_never_load_the_exporter(tmp_path: Path, args: list[str]) -> None:
    code = (
        "import sys\n"
        "from convcost.__main__ import main\n"  # as the console script runs
        f"sys.argv = ['convcost', *{args!r}]\n"
        "try:\n    main()\n"
        "except SystemExit:\n    pass\n"
        "loaded = {'convcost.cli.export', 'convcost.export', 'convcost.export.pytorch'}\n"
        "print(sorted(loaded & set(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stderr == "[]\n"
