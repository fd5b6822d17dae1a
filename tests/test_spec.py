"""Every user error of the spec loader, field reader, expressions, builder and layers.

Each case is a spec written to ``net.yaml`` and run through the CLI (typer's CliRunner): the
exit code must be 2 (ExitStatus.INVALID_INPUT), standard error exactly one line
``error: net.yaml:LINE:COL: [layer PATH, field KIND.FIELD: ]message``, and no traceback.
Positions are 1-based (line, column) of the YAML node the message is about; the comment on a
case says which node that is when it is not obvious.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import convcost
from convcost.cli import app
from convcost.errors import ExitStatus, SpecError


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli_error(text: str, *args: str) -> str:
    """Run ``convcost analyze net.yaml`` on ``text`` (in the current directory); the error line."""
    Path("net.yaml").write_text(text, encoding="utf-8")
    runner = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "100"})
    result = runner.invoke(app, ["analyze", "net.yaml", *args])
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    assert result.exit_code == ExitStatus.INVALID_INPUT, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr.removeprefix("error: ").removesuffix("\n")


def api_error(text: str) -> SpecError:
    """The same spec through the Python API: parse_spec + analyze_all."""
    with pytest.raises(SpecError) as caught:
        convcost.analyze_all(convcost.parse_spec(text, source="net.yaml"))
    return caught.value


# ---------------------------------------------------------------------------------------------
# Regressions: bugs found while writing these tests, each fixed in its own commit.


@pytest.mark.usefixtures("in_tmp")
def test_maxpool_padding_limit_is_half_the_kernel_not_the_dilated_span() -> None:
    # PyTorch: MaxPool2d(3, dilation=2, padding=2) raises "pad should be smaller than or equal
    # to half of kernel size" (kernel_size // 2 >= padding), although the dilated span is 5.
    assert cli_error(
        "input: [1, 9, 9]\nlayers:\n  - maxpool: {kernel: 3, dilation: 2, padding: 2}\n"
    ) == (
        "net.yaml:3:5: layer maxpool1, field maxpool.padding: "
        "padding (2) must be at most half the kernel (3), as in PyTorch"
    )


def test_ceil_mode_pool_wider_than_its_input_gives_one_output() -> None:
    # PyTorch: AvgPool2d(3, ceil_mode=True) on 2x2 gives 1x1: ⌈(2 − 3) / 3⌉ + 1 = 1, and the
    # window starts inside the input (0 < 2 + 0). Without ceil mode it is an error (below).
    report = convcost.analyze(
        convcost.parse_spec(
            "input: [8, 2, 2]\nlayers:\n  - avgpool: {kernel: 3, ceil_mode: true}\n"
        )
    )
    assert report.output_shape == (8, 1, 1)
