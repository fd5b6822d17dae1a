"""Scalars resolved without PyYAML (convcost/yaml_scalars.py) against PyYAML itself.

Two independent oracles: PyYAML's implicit resolvers (``Resolver.yaml_implicit_resolvers``,
their regular expressions walked by Python's own parser of expressions) for the constants the
module hard-codes, and ``yaml.safe_load`` plus ``Resolver.resolve`` for the values of scalars
hypothesis draws. A scalar the yaml-free path does not read (``resolve_plain`` is ``None``) is
left to PyYAML's resolver, which is the oracle itself there.
"""

from __future__ import annotations

import itertools
import math
import re
import re._parser as sre  # the parser of `re`: an expression's alphabet, independently
from typing import Any

import pytest
import yaml

from convcost.errors import SpecError
from convcost.limits import MAX_INT
from convcost.yaml_scalars import (
    BOOL_VALUES,
    BOOL_WORDS,
    CLAIMED,
    NULL_WORDS,
    NUMBER_CHARACTERS,
    NUMBER_STARTS,
    STRING_STARTS,
    WORD_STARTS,
    Scalars,
    resolve_plain,
)
from tests.conftest import require

require("hypothesis")

from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

RESOLVERS: dict[Any, list[tuple[str, re.Pattern[str]]]] = (
    yaml.resolver.Resolver.yaml_implicit_resolvers
)
CORE = "tag:yaml.org,2002:"


def tags(first: str) -> set[str]:
    return {tag.removeprefix(CORE) for tag, _ in RESOLVERS.get(first, [])}


def pyyaml_tag(text: str) -> str:
    tag: str = yaml.resolver.Resolver().resolve(yaml.ScalarNode, text, (True, False))
    return tag.removeprefix(CORE)


def alphabet(pattern: re.Pattern[str]) -> set[str]:
    """Every character a string that ``pattern`` matches can hold, from its parsed form
    (fails on a construct that could match any character: a category, a negation, ``.``)."""
    found: set[str] = set()

    def walk(items: Any) -> None:
        for op, value in items:
            name = str(op)
            if name == "LITERAL":
                found.add(chr(value))
            elif name == "IN":
                for kind, item in value:
                    if str(kind) == "LITERAL":
                        found.add(chr(item))
                    else:
                        assert str(kind) == "RANGE", (pattern.pattern, kind)
                        found.update(map(chr, range(item[0], item[1] + 1)))
            elif name == "BRANCH":
                for branch in value[1]:
                    walk(branch)
            elif name == "SUBPATTERN":
                walk(value[3])
            elif name in ("MAX_REPEAT", "MIN_REPEAT"):
                walk(value[2])
            else:
                assert name == "AT", (pattern.pattern, name)  # ^ and $

    walk(sre.parse(pattern.pattern, pattern.flags))
    return found


def case_spellings(word: str) -> set[str]:
    return {
        "".join(letters) for letters in itertools.product(*[(c.lower(), c.upper()) for c in word])
    }


def test_the_first_characters_are_the_resolvers_keys() -> None:
    assert None not in RESOLVERS  # no resolver reads every scalar
    assert not yaml.resolver.Resolver.yaml_path_resolvers
    assert set(RESOLVERS) - {""} == set(CLAIMED)
    assert tags("") == {"null"}
    # the printable ASCII characters (space aside) no resolver reads: `b`, `_`, `$`, `(` …
    assert set(STRING_STARTS) == {chr(c) for c in range(33, 127)} - set(RESOLVERS)
    assert set(WORD_STARTS) == {c for c in CLAIMED if tags(c) <= {"bool", "null"}}
    assert set(NUMBER_STARTS) == {c for c in CLAIMED if tags(c) <= {"float", "int", "timestamp"}}


def test_the_number_characters_are_those_the_number_resolvers_can_match() -> None:
    matched = set()
    for first in NUMBER_STARTS:
        for tag, pattern in RESOLVERS[first]:
            if tag != CORE + "timestamp":
                matched |= alphabet(pattern)
    # `$` also matches before a final line break (not in a plain scalar, but counted)
    assert matched | {"\n"} == set(NUMBER_CHARACTERS)


def test_a_timestamp_starts_with_four_digits_and_a_dash() -> None:
    """What lets ``9.7T`` be a string without a look at the timestamp expression's ``T``."""
    digit = (sre.IN, [(sre.RANGE, (ord("0"), ord("9")))])
    for first in NUMBER_STARTS:
        for tag, pattern in RESOLVERS[first]:
            if tag == CORE + "timestamp":
                assert first.isdigit()
                parsed = list(sre.parse(pattern.pattern, pattern.flags))
                # `^`, then [0-9] four times and `-`, which every branch begins with
                assert parsed[1:6] == [digit] * 4 + [(sre.LITERAL, ord("-"))], pattern.pattern


def test_the_boolean_and_null_words_are_the_resolvers() -> None:
    assert yaml.constructor.SafeConstructor.bool_values == BOOL_VALUES
    spellings = set().union(*map(case_spellings, [*BOOL_VALUES, "null"]), {"~", "~~"})
    for text in sorted(spellings):
        expected = pyyaml_tag(text)
        assert resolve_plain(text) == expected, text
        assert (expected == "bool") == (text in BOOL_WORDS), text
        assert (expected == "null") == (text in NULL_WORDS), text
    assert len(BOOL_WORDS) == 18  # yes, Yes, YES and five more words spelt three ways


def spec_value(text: str) -> object:
    """``yaml.safe_load``'s value of ``text`` as a mapping's value, or ``None`` when ``text``
    is not read there as one plain scalar (a `: `, a `#`, a leading `-` item)."""
    try:
        events = list(yaml.parse(f"a: {text}\n", Loader=yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    kinds = [type(event).__name__ for event in events]
    if kinds[3:6] != ["ScalarEvent", "ScalarEvent", "MappingEndEvent"]:
        return None
    scalar = events[4]
    if scalar.value != text or scalar.style is not None:
        return None
    try:
        return [yaml.safe_load(f"a: {text}\n")["a"]]
    except ValueError:  # a date PyYAML cannot make (0000-00-00): convcost keeps the text
        return None


def same_value(ours: object, theirs: object) -> bool:
    if isinstance(theirs, float) and math.isnan(theirs):
        return isinstance(ours, float) and math.isnan(ours)
    return type(ours) is type(theirs) and ours == theirs


CHARACTERS = "0123456789" * 3 + "+-._:~ xobeEnNyYtTfFaAlLsSuUrRiIKMG$"
SCALARS = st.one_of(
    st.text(CHARACTERS, min_size=1, max_size=12),
    # numbers near the forms read here: signs, points, exponents, underscores, a unit
    st.from_regex(
        r"[-+]{0,2}[0-9_]{0,4}\.?[0-9_]{0,3}([eE][-+]?[0-9]{0,2})?[KMGTi:x]?", fullmatch=True
    ),
    # dates and times, which YAML 1.1 reads as timestamps (a spec keeps their text)
    st.from_regex(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9:.Z+-]{0,10})?", fullmatch=True),
    # the boolean and null words, spelt in any case, and with a letter more or less
    st.builds(
        lambda word, cut, tail: word[:cut] + tail,
        st.sampled_from(
            sorted(
                set().union(
                    *map(case_spellings, ["yes", "no", "true", "false", "on", "off", "null"])
                )
            )
        ),
        st.integers(1, 5),
        st.sampled_from(["", "s", "e", "E", "~", "1"]),
    ),
)


@settings(max_examples=2500, deadline=None)
@given(SCALARS)
@example("-.5")  # a string in YAML 1.1: `.5` is a float, `-.5` is not
@example("1.e+5")
@example("1.e5")  # a string: the exponent needs its sign
@example("1e6")
@example("1.0e-6")
@example("9223372036854775808")  # past int64: refused
@example("017")
@example("60K")
@example("1:30")
@example("2024-01-01")
@example("2001-12-14t21:59:43.10Z")
@example("2001-12-14")
@example("1234-5T")
def test_a_plain_scalar_is_what_pyyaml_makes_of_it(text: str) -> None:
    loaded = spec_value(text)
    if loaded is None:
        return  # not one plain scalar there
    (expected,) = loaded  # type: ignore[misc]
    name = resolve_plain(text)
    if name is None:  # PyYAML's resolver decides (convcost.yaml_events.resolve)
        try:
            value = Scalars().construct(text, True, False)
        except SpecError:
            return  # a YAML 1.1 trap (017, 1:30), refused as for a tagged scalar
        if pyyaml_tag(text) == "timestamp":
            expected = text  # a spec keeps a date as its text
        assert same_value(value, expected), text
        return
    assert name == pyyaml_tag(text), text
    if isinstance(expected, int) and not isinstance(expected, bool) and abs(expected) > MAX_INT:
        with pytest.raises(SpecError, match="is too large: integers must be at most"):
            Scalars().construct(text, True, False)
        return
    assert same_value(Scalars().construct(text, True, False), expected), text


def test_the_common_forms_are_read_without_pyyaml() -> None:
    # hand-picked from the bundled specs: each is resolved here, never by PyYAML
    forms = {
        "conv": "str",
        "$mid": "str",
        "${c * 2}": "str",
        "features": "str",
        "n": "str",
        "true": "bool",
        "false": "bool",
        "null": "null",
        "~": "null",
        "64": "int",
        "-1": "int",
        "0": "int",
        "0.5": "float",
        "-1.25": "float",
        "1.0e-6": "float",
        "60K": "str",
        "512KiB": "str",
        "12.8G": "str",
        "9.7T": "str",
    }
    assert {text: resolve_plain(text) for text in forms} == forms
    assert {text: pyyaml_tag(text) for text in forms} == forms


@pytest.mark.parametrize("text", ["1_000", "0x1F", ".5", "017", "1:30", "2024-01-01", "1e6", "<<"])
def test_the_rarer_forms_are_left_to_pyyaml(text: str) -> None:
    assert resolve_plain(text) is None


def test_a_quoted_scalar_is_a_string() -> None:
    assert Scalars().construct("true", False, False) == "true"
    assert yaml.safe_load("a: 'true'")["a"] == "true"
