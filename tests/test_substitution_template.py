"""``$name`` and ``${expr}`` found with string methods (``convcost.substitution.template`` and
``substitute_all``) against the regular expression they replace (issue 18, start-up: compiling
it cost 0.8 M instructions at import): the same groups, and the same text as ``re.sub``."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from convcost.substitution import substitute_all, template

ORACLE = re.compile(r"\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
"""The expression ``convcost.substitution`` and ``convcost.expansion`` compiled before."""

_PIECES = st.sampled_from(
    [*"${}$a_Z09 -*.\n", "${", "}", "$$", "é", "ǅ", "١", "mid", "${mid * 4}", "$1x", "$_"]
)
_TEXTS = st.lists(_PIECES, max_size=10).map("".join) | st.text(max_size=12)


def expected(text: str) -> tuple[str, str | None] | None:
    found = ORACLE.fullmatch(text)
    if found is None:
        return None
    expression, name = found.groups()
    return (expression, None) if name is None else (name, name)


@settings(max_examples=2000, deadline=None)
@given(_TEXTS)
def test_template_reads_what_the_expression_matches_whole(text: str) -> None:
    assert template(text) == expected(text)


@settings(max_examples=2000, deadline=None)
@given(_TEXTS)
def test_substitute_all_replaces_what_re_sub_replaces(text: str) -> None:
    seen: list[str] = []

    def mark(found: str) -> str:
        seen.append(found)
        return f"<{found}|{len(seen)}>"

    counted = iter(range(1, 10**6))
    assert substitute_all(text, mark) == ORACLE.sub(
        lambda match: f"<{match.group(0)}|{next(counted)}>", text
    )
    assert seen == [match.group(0) for match in ORACLE.finditer(text)]


def test_the_forms_specs_use() -> None:
    # hand-written: the bundled models' `$mid`, `${mid * 4}`, and names such as `stage$i_conv`
    assert template("$mid") == ("mid", "mid")
    assert template("${mid * 4}") == ("mid * 4", None)
    assert template("$1") is None
    assert substitute_all("stage$i_${j}x$", lambda found: found.upper()) == "stage$I_${J}x$"
