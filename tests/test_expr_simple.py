"""The expression fast path (``convcost.expr._simple``: one integer, or one ``+ - * //`` of
two) against the parser it stands in for (``convcost.expr_tree``, Python's own parser and the
whitelisted evaluator), on generated texts: wherever the fast path answers, the parser gives the
same value of the same type; everything else it leaves to the parser."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcost.expr import ExpressionError, _simple, calculate
from convcost.expr_tree import value_of
from tests.bench.process import ROOT

NAMES = ("a", "b", "mid", "_", "True", "None", "min", "x1", "and")

bound = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-300, max_value=300),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=3),
)
literal = st.one_of(
    st.integers(min_value=0, max_value=2**70).map(str),
    st.sampled_from(["0", "00", "07", "1_000", "1e3", "1.5", "0x1f", "-3", "+2"]),
)
operand = st.one_of(st.sampled_from(NAMES), literal)
operator = st.sampled_from(["+", "-", "*", "//", "/", "%", "**", "<", "==", "and"])
space = st.sampled_from(["", " ", "  ", "\t"])


@st.composite
def expressions(draw: st.DrawFn) -> str:
    first = draw(operand)
    if draw(st.booleans()):
        return first
    return f"{first}{draw(space)}{draw(operator)}{draw(space)}{draw(operand)}"


def parsed(text: str, names: dict[str, object]) -> object:
    try:
        return value_of(text, names)
    except ExpressionError as error:
        return error


@settings(max_examples=3000, deadline=None)
@given(expressions(), st.dictionaries(st.sampled_from(NAMES), bound))
def test_the_fast_path_answers_as_the_parser_does(text: str, names: dict[str, object]) -> None:
    fast = _simple(text, names)
    if fast is None:
        return  # left to the parser
    slow = parsed(text, names)
    assert (type(fast), fast) == (type(slow), slow), text


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.sampled_from(("a", "b", "mid")), st.integers(-1000, 1000), min_size=3))
def test_the_common_forms_take_the_fast_path(names: dict[str, object]) -> None:
    # the bundled models' forms: `${mid * 4}`, `${blocks - 1}`, `${out // 2}`, `${4 * growth}`
    for text in ("mid * 4", "a - 1", "a // 2", "4 * b", "a+b", "mid"):
        assert _simple(text, names) is not None, text
        assert calculate(text, names) == parsed(text, names)


def test_a_refused_simple_form_is_worded_by_the_parser() -> None:
    # division by zero, an unknown name and a boolean operand: the parser's messages
    cases = {
        "a // 0": "division by zero in 'a // 0'",
        "c * 2": "unknown name 'c' in 'c * 2'; known: a",
        "a * 2 ": "the left operand of * must be a number, got True in 'a * 2'",
    }
    for text, message in cases.items():
        names: dict[str, object] = {"a": True} if text.startswith("a * 2") else {"a": 3}
        with pytest.raises(ExpressionError) as caught:
            calculate(text, names)
        assert str(caught.value) == message


def test_simple_expressions_leave_the_parser_unloaded() -> None:
    """resnet50's expressions (`${mid * 4}`, `${blocks - 1}`) load neither ``_ast`` nor the
    parser; mobilenet_v2's ``make_divisible(…)`` loads both."""
    code = (
        "import sys\nfrom convcost import zoo\nfrom convcost.engine import analyze\n"
        "from convcost.spec import load_spec\n"
        "analyze(load_spec(zoo.find(sys.argv[1])))\n"
        "print('_ast' in sys.modules, 'convcost.expr_tree' in sys.modules)"
    )
    outputs = [
        subprocess.run(
            [sys.executable, "-c", code, name],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for name in ("resnet50", "mobilenet_v2")
    ]
    assert outputs == ["False False\n", "True True\n"]
