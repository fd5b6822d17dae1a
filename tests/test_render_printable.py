"""``printable``: the characters it escapes, checked one code point at a time against the list
docs and messages promise (control characters, line and paragraph separators, zero-width and
bidirectional formatting characters), on its ASCII fast path and on its general path."""

from __future__ import annotations

import pytest

from convcost.render.escape import markdown_text, printable

ESCAPED = {
    *range(0x00, 0x20),  # C0 controls
    *range(0x7F, 0xA0),  # DEL and the C1 controls
    0x2028,  # line separator
    0x2029,  # paragraph separator
    *range(0x200B, 0x2010),  # zero-width space, joiners, LRM, RLM
    *range(0x202A, 0x202F),  # bidi embeddings and overrides
    *range(0x2066, 0x206A),  # bidi isolates
}


@pytest.mark.parametrize("around", ["", "a", "é"])  # alone, in ASCII text, in other text
def test_each_code_point_is_escaped_exactly_when_listed(around: str) -> None:
    for code in [*range(0x3000), 0xFEFF, 0x1F600, 0x10FFFF]:
        char = chr(code)
        expected = (
            (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") if code in ESCAPED else char
        )
        assert printable(around + char + around) == around + expected + around, hex(code)


def test_markdown_text_escapes_markdown_after_control_characters() -> None:
    # hand-written: the pipe, brackets, backtick and backslash escaped, the ESC spelt out
    assert markdown_text("a|b[c]`d\\e\x1b<f>") == "a\\|b\\[c\\]\\`d\\\\e\\\\x1b&lt;f&gt;"
