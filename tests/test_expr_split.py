"""``convcost.expr._split``, the fast path's reading of ``a + b`` with string methods, against
the regular expression it replaces (issue 18, start-up: compiling it cost 1.6 M instructions at
import): the same groups, or None, for every text."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from convcost.expr import _split

_OPERAND = r"([A-Za-z_][A-Za-z0-9_]*|0|[1-9][0-9]*)"
ORACLE = re.compile(rf"{_OPERAND}(?: *(//|[-+*]) *{_OPERAND})?")
"""The expression ``convcost.expr`` compiled before (the oracle)."""


def expected(text: str) -> tuple[str | None, ...] | None:
    found = ORACLE.fullmatch(text)
    return None if found is None else found.groups()


# the characters that matter (operand, operator, space), and neighbours that must not
_PIECES = st.sampled_from(
    [*"aZ_09 +-*/%.\t\n", "0", "1", "//", "x1", "07", "é", "١", "²", "ǅ", "and", "  "]
)


@settings(max_examples=1000, deadline=None)
@given(st.lists(_PIECES, max_size=8).map("".join))
def test_split_reads_what_the_expression_matches(text: str) -> None:
    assert _split(text) == expected(text)


@given(st.text(max_size=12))
def test_split_of_any_text(text: str) -> None:
    assert _split(text) == expected(text)


def test_the_forms_of_the_bundled_models() -> None:
    # hand-written: what `${mid * 4}`, `${blocks - 1}`, `${a//2}` and `${mid}` hold
    assert _split("mid * 4") == ("mid", "*", "4")
    assert _split("blocks - 1") == ("blocks", "-", "1")
    assert _split("a//2") == ("a", "//", "2")
    assert _split("mid") == ("mid", None, None)
    assert _split("07") is None
    assert _split("a / 2") is None
    assert _split(" a") is None
