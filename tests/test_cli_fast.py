"""The fast parser (convcost.cli.fast) against typer's, the oracle: on generated command lines
for every command, the fast parser either declines (typer then reads the line) or gives exactly
the arguments typer gives the command; it never accepts a line typer refuses; and an ordinary
line (valid values, options spelt out) it always reads itself."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcost.cli import COMMANDS, fast
from convcost.cli.declare import DECLARED
from convcost.cli.typer_app import typer_view

ROOT = Path(__file__).resolve().parent.parent

for _module in dict.fromkeys(COMMANDS.values()):
    importlib.import_module(f"convcost.cli.{_module}")

READ = sorted(name for name, function in DECLARED.items() if fast.grammar_of(name, function))


def test_the_common_commands_are_read_without_typer() -> None:
    assert set(READ) == set(DECLARED)


class _Recorded(Exception):
    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values


def _record(**values: Any) -> None:
    raise _Recorded(values)


def _oracle(name: str) -> tuple[typer.Typer, Any]:
    """A typer app with the command ``name`` whose call records the arguments typer gives it,
    and the click command typer made of it."""
    app = typer.Typer()

    @app.callback()
    def _group() -> None:  # a group, so that the command is named on the line as in convcost
        pass

    app.command(name)(typer_view(DECLARED[name], invoke=_record))
    group = typer.main.get_command(app)
    return app, group.commands[name]  # type: ignore[attr-defined]


ORACLES = {name: _oracle(name) for name in READ}
CLICK_ERROR = next(kind for kind in typer.BadParameter.__mro__ if kind.__name__ == "ClickException")


def typer_reads(name: str, args: list[str]) -> dict[str, Any] | None:
    """The arguments typer gives the command for ``args``, or None when it refuses them."""
    app, _ = ORACLES[name]
    try:
        app([name, *args], prog_name="convcost", standalone_mode=False)
    except _Recorded as recorded:
        return recorded.values
    except CLICK_ERROR:  # a usage error: the line is refused
        return None
    raise AssertionError("typer neither called the command nor refused the line")


# -- command lines generated from click's own parameters --------------------------------------


def _valid_value(param: Any) -> st.SearchStrategy[str]:
    kind = type(param.type).__name__
    if kind == "Choice":
        return st.sampled_from([str(choice) for choice in param.type.choices])
    if kind in ("IntRange", "IntParamType"):
        low = param.type.min if kind == "IntRange" and param.type.min is not None else -(2**70)
        high = param.type.max if kind == "IntRange" and param.type.max is not None else 2**70
        number = st.integers(min_value=low, max_value=high)
        return st.one_of(number.map(str), number.map(lambda value: f" {value:+_} "))
    if kind in ("FloatRange", "FloatParamType"):
        return st.floats(allow_nan=False, width=32).map(repr)
    return st.text(st.characters(blacklist_categories=("Cs",)), max_size=8).filter(
        lambda text: not text.startswith("-") or text == "-"
    )


def _any_value(param: Any) -> st.SearchStrategy[str]:
    return st.one_of(
        _valid_value(param),
        st.sampled_from(["0", "-1", "x", "", "1.5", "9" * 25, "-", "--help", "TABLE"]),
    )


@st.composite
def _option_tokens(draw: st.DrawFn, param: Any, *, ordinary: bool) -> list[str]:
    name = draw(st.sampled_from([*param.opts, *param.secondary_opts]))
    if param.is_flag:
        return [name]
    value = draw(_valid_value(param) if ordinary else _any_value(param))
    if name.startswith("--") and draw(st.booleans()):
        return [f"{name}={value}"]  # "=" joins a long option to its value
    if ordinary and value.startswith("-") and value != "-":
        return [name + "=" + value] if name.startswith("--") else []  # click would take it
    return [name, value]


def _positionals(command: Any) -> st.SearchStrategy[list[str]]:
    arguments = [param for param in command.params if param.param_type_name == "argument"]
    if not arguments:
        return st.just([])
    words = st.sampled_from(["net.yaml", "resnet50", "-", " a b.yml ", "m.onnx"])
    if any(param.nargs == -1 for param in arguments):
        return st.lists(words, min_size=1, max_size=3)
    return st.lists(words, min_size=len(arguments), max_size=len(arguments))


@st.composite
def command_lines(draw: st.DrawFn, *, ordinary: bool) -> tuple[str, list[str]]:
    name = draw(st.sampled_from(READ))
    _, command = ORACLES[name]
    options = [
        param
        for param in command.params
        if param.param_type_name == "option" and "--help" not in param.opts
    ]
    chosen = draw(st.lists(st.sampled_from(options), max_size=6)) if options else []
    if ordinary:  # with every required option
        chosen += [param for param in options if param.required and param not in chosen]
    pieces = [draw(_option_tokens(param, ordinary=ordinary)) for param in chosen]
    positionals = draw(_positionals(command))
    if not ordinary:
        extras = st.sampled_from([["--help"], ["--"], ["-fjson"], ["--no-such"], ["-h"], []])
        pieces.append(draw(extras))
        positionals = draw(st.one_of(st.just(positionals), st.just([])))
    if not ordinary:  # anywhere, even between an option and its value
        pieces = [[token] for piece in pieces for token in piece]
    for word in positionals:  # arguments go anywhere between options
        pieces.insert(draw(st.integers(0, len(pieces))), [word])
    return name, [token for piece in pieces for token in piece]


CHECKS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


@CHECKS
@given(command_lines(ordinary=True))
def test_an_ordinary_line_is_read_as_typer_reads_it(line: tuple[str, list[str]]) -> None:
    name, args = line
    expected = typer_reads(name, args)
    got = fast.parse([name, *args])
    if expected is None:  # a value click refuses where the command does not (none today)
        assert got is None
        return
    assert got is not None, args
    assert got.values == expected


@CHECKS
@given(command_lines(ordinary=False))
def test_any_line_is_read_as_typer_reads_it_or_left_to_typer(line: tuple[str, list[str]]) -> None:
    name, args = line
    got = fast.parse([name, *args])
    if got is None:
        return
    assert got.values == typer_reads(name, args), args


@pytest.mark.parametrize(
    "args",
    [
        ["analyze", "--help"],
        ["analyze", "-h", "resnet50"],
        ["analyze"],  # a missing argument
        ["analyze", "resnet50", "--batch", "0"],  # out of range
        ["analyze", "resnet50", "--batch", "two"],
        ["analyze", "resnet50", "-f", "yaml"],  # not a choice
        ["analyze", "resnet50", "--batch"],  # a missing value
        ["analyze", "resnet50", "--exact=1"],  # a flag with a value
        ["analyze", "resnet50", "--", "-x.yaml"],
        ["analyze", "resnet50", "-fjson"],
        ["analyze", "resnet50", "--formats", "json"],  # misspelt
        ["explain", "a.yaml", "b.yaml"],  # one argument too many
        ["export", "resnet50"],  # a required option missing
        ["nosuch", "resnet50"],
        [],
    ],
)
def test_what_the_fast_parser_leaves_to_typer(args: list[str]) -> None:
    assert fast.parse(args) is None


def test_a_completion_request_is_left_to_typer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_CONVCOST_COMPLETE", "complete_bash")
    assert fast.parse(["analyze", "resnet50"]) is None


@pytest.mark.parametrize(
    "args",
    [
        ["analyze", "specs/quickstart.yaml", "--dtype", "float99"],  # refused by the command
        ["analyze", "specs/quickstart.yaml", "--mermaid"],
        ["analyze", "specs/quickstart.yaml", "--batch", "0"],  # refused by the parser
        ["analyze", "specs/quickstart.yaml", "--max-spec-bytes", "lots"],
        ["check", "specs/quickstart.yaml", "--max-macs", "12 apples"],
    ],
)
def test_a_usage_error_reads_the_same_on_both_paths(args: list[str]) -> None:
    """The console script (fast path where the line parses) against typer's app run on the
    same line by the same process code (`convcost.cli.entry`, typer forced)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    script = (
        "import sys; from convcost.cli import fast; fast.parse = lambda args: None; "
        "from convcost.cli.entry import main; sys.argv[1:] = sys.argv[2:]; main()"
    )
    runs = [
        subprocess.run(command, capture_output=True, env=env, cwd=ROOT, timeout=60, check=False)
        for command in (
            [sys.executable, "-m", "convcost", *args],
            [sys.executable, "-c", script, "--", *args],
        )
    ]
    fast_run, typer_run = runs
    assert typer_run.returncode == 2
    assert (fast_run.returncode, fast_run.stderr) == (typer_run.returncode, typer_run.stderr)
    assert fast_run.stderr.decode().count("\n") == 1
