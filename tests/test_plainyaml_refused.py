"""The plain reader's check for refused characters without compiling :data:`_OUTSIDE` (issue 18,
start-up): :func:`convcost.plainyaml._outside` agrees with the expression it stands for."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from convcost.plainyaml import _OUTSIDE, _outside


def test_every_code_point_is_refused_as_the_expression_refuses_it() -> None:
    # the oracle is the expression itself, searched in the same texts: each character after a
    # non-ASCII one (the path that does not compile the expression)
    found = [cp for cp in range(0x110000) if _outside("é" + chr(cp))]
    expected = [cp for cp in range(0x110000) if re.search(_OUTSIDE, "é" + chr(cp))]
    assert found == expected
    assert len(found) > 2048  # the surrogates at least


_TEXT = st.text(
    st.sampled_from(["-", ".", " ", "\n", "a", "#", "é", "×", "\t", "\x85", "\u2028", "\ud800"])
    | st.characters(),
    max_size=30,
)


@given(_TEXT)
def test_any_text_is_outside_exactly_when_the_expression_finds_something(text: str) -> None:
    assert _outside(text) == (re.search(_OUTSIDE, text) is not None)
