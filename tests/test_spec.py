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
    assert result.stderr.endswith("\n")
    assert result.stderr.count("\n") == 1, result.stderr  # one line
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


BLOCK_OUT = (
    "input: [8, 8, 8]\nblocks:\n  b:\n    params: {w: DEFAULT}\n    layers:\n"
    "      - conv: {out: $w, kernel: 1}\nlayers:\n  - b: ARGS\n"
)


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize(
    ("default", "args", "expected"),
    [
        # 017 is octal 15 in YAML 1.1: through $w it was silently taken as 15
        (
            "017",
            "{}",
            "got 017, which YAML 1.1 reads as the octal number 15: remove the leading zero",
        ),
        (
            "4",
            "{w: 010}",
            "got 010, which YAML 1.1 reads as the octal number 8: remove the leading zero",
        ),
        # the message showed the reference ("got $w (a boolean)") instead of the value
        ("yes", "{}", "got yes (a boolean)"),
    ],
)
def test_a_parameter_keeps_the_text_it_was_written_as(
    default: str, args: str, expected: str
) -> None:
    text = BLOCK_OUT.replace("DEFAULT", default).replace("ARGS", args)
    # the location is the use of $w (line 6, column 21)
    assert cli_error(text) == (
        f"net.yaml:6:21: layer b1.conv1, field conv.out: must be an integer >= 1, {expected}"
    )


@pytest.mark.usefixtures("in_tmp")
def test_a_list_parameter_in_an_expression_is_shown_as_a_list() -> None:
    # the message dumped the internal tree repr (Seq(items=(Scalar(...)))) instead of [3, 3]
    text = (
        "input: [8, 8, 8]\nblocks:\n  b:\n    params: {k: [3, 3]}\n    layers:\n"
        "      - conv: {out: '${k * 2}', kernel: 1}\nlayers:\n  - b: {}\n"
    )
    assert cli_error(text) == (
        "net.yaml:6:21: layer b1.conv1, field conv.out: 'k' is not an integer (it is [3, 3]) in 'k * 2'"
    )


@pytest.mark.usefixtures("in_tmp")
def test_a_control_character_is_one_line_at_its_position() -> None:
    # PyYAML's ReaderError has no mark and a two-line message; it was reported at 1:1
    assert cli_error("input: [3, 8, 8]\nlayers: []\n# bell \x07\n") == (
        "net.yaml:3:8: invalid YAML: unacceptable character #x0007: control characters are not allowed"
    )


@pytest.mark.usefixtures("in_tmp")
@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        (
            "conv: {out: 4, kernal: 3}",
            "3:20: layer conv1, field conv.kernal: unknown field 'kernal' for conv; "
            "did you mean 'kernel'?; allowed: out, kernel, stride, dilation, padding, groups, bias",
        ),
        (
            "adaptive_avgpool: {szie: 3}",
            "3:24: layer adaptive_avgpool1, field adaptive_avgpool.szie: unknown field 'szie' "
            "for adaptive_avgpool; did you mean 'size'?; allowed: size",
        ),
    ],
)
def test_a_misspelt_required_field_is_reported_as_unknown(layer: str, expected: str) -> None:
    # was "`kernel` is required": the did-you-mean for the typo was never reached
    assert cli_error(f"input: [3, 8, 8]\nlayers:\n  - {layer}\n") == f"net.yaml:{expected}"
