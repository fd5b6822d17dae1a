"""The plain-subset reader (convcost/plainyaml.py) against libyaml's events.

The oracle is the event composer fed by libyaml (``yaml_events.compose_events``): for every
document the plain reader accepts, the two trees must hold the same values (types included),
texts and locations; a document either path refuses must be declined by the plain reader, so
that its error comes from the composer unchanged.
"""

from __future__ import annotations

import io
import os
import re

import pytest
import yaml.reader
from hypothesis import given
from hypothesis import strategies as st

from convcost import yaml_events
from convcost.errors import ConvcostError, Location, SpecError
from convcost.limits import DEFAULT_LIMITS, Limits
from convcost.plainyaml import _OUTSIDE, Declined, _lines, _outside, read_plain
from convcost.tree import Map, Scalar, Seq, Value, same
from convcost.yaml_scalars import Scalars
from tests.attacks import mutate

MUTANTS = int(os.environ.get("CONVCOST_PLAIN_MUTANTS", "3000"))


def events(text: str, limits: Limits = DEFAULT_LIMITS) -> Value | ConvcostError | None:
    composer = yaml_events.Composer("net.yaml", limits, None)
    try:
        return yaml_events.compose_events(text, "net.yaml", composer)
    except ConvcostError as error:
        return error


def plain(text: str, limits: Limits = DEFAULT_LIMITS) -> Value | str | None:
    """The plain reader's tree, or ``"declined"``."""
    try:
        return read_plain(text, "net.yaml", Scalars().construct, limits.max_yaml_nodes)
    except Declined:
        return "declined"


def agrees(text: str, limits: Limits = DEFAULT_LIMITS) -> bool:
    """Whether the plain reader declines ``text`` (True: accepted; False: declined), asserting
    that an accepted document is exactly the composer's tree."""
    fast = plain(text, limits)
    if fast == "declined":
        return False
    slow = events(text, limits)
    assert not isinstance(slow, ConvcostError), f"accepted what the composer refuses: {slow}"
    if fast is None or slow is None:
        assert fast is None
        assert slow is None
    else:
        assert not isinstance(fast, str)
        assert same(fast, slow), f"{fast!r}\n!=\n{slow!r}"
    return True


def test_bundled_specs_are_read_by_the_plain_reader_exactly() -> None:
    accepted = [agrees(text) for text in mutate.Corpus.bundled().texts]
    # the bundled specs are hand-written (comments, quoted expressions): most take the fast path
    assert sum(accepted) >= len(accepted) // 2


def test_mutants_are_read_exactly_or_declined() -> None:
    corpus = mutate.Corpus.bundled()
    accepted = sum(agrees(mutate.mutant(corpus, 18, index).text) for index in range(MUTANTS))
    assert accepted > MUTANTS // 4  # the comparison is not vacuous


# Locations worked out by hand from the text (line and column from 1, as libyaml's marks + 1).
def test_locations_of_a_generated_stack() -> None:
    text = "input: [3, 8, 8]\nlayers:\n- conv: {out: 4, kernel: 3}\n-   relu: {}\n"
    tree = plain(text)
    assert isinstance(tree, Map)
    assert tree.location == Location("net.yaml", 1, 1)
    shape = tree.get("input")
    assert isinstance(shape, Seq)
    assert shape.location == Location("net.yaml", 1, 8)
    assert [(item.value, item.column) for item in shape if isinstance(item, Scalar)] == [
        (3, 9),
        (8, 12),
        (8, 15),
    ]
    layers = tree.get("layers")
    assert isinstance(layers, Seq)
    assert layers.location == Location("net.yaml", 3, 1)  # a sequence at its key's indentation
    conv, relu = layers.items
    assert isinstance(conv, Map)
    assert isinstance(relu, Map)
    assert conv.location == Location("net.yaml", 3, 3)
    assert relu.location == Location("net.yaml", 4, 5)
    args = conv.get("conv")
    assert isinstance(args, Map)
    assert args.location == Location("net.yaml", 3, 9)
    assert args.key_location("kernel") == Location("net.yaml", 3, 18)
    assert agrees(text)


@pytest.mark.parametrize(
    "text",
    [
        'a: 1\nb:\n  c: [1, [2, 3]]\n  d: {e: \'x\', "f": "y z"}\n',
        "layers:\n  - conv:\n      out: 3\n    name: c1\n  - relu: {}\n",
        "- - 1\n  - 2\n- 3\n",
        "a:\n- 1\n- 2\nb: 3\n",
        "x:\n  - y:\n    - 1\n    z: 2\n",
        "# header\na: 1  # trailing\n\n   # indented comment\nb: -1.5e3\n",
        "a: yes\nb: ~\nc: 0x1F\nd: 1_000\ne: .inf\nf: 2024-01-01\n",
        "a: ${in_channels * 6}\nb: $mid\nc: {d: $e}\n",
        "key: value with spaces\nother: [a b, c]\n",
        "a:\n  1\n",
        "a:\n  {b: 1}\n",
        "a: {}\nb: []\nc: {d: []}\n",
        # `- key: value` opens its mapping in one step; more keys may follow it
        "layers:\n  - conv: {out: 3}\n    name: c1\n  - relu: {}\n  - pool: 2\n",
        "- a: 1\n  b: 2\n- c: [1, {d: 2}]\n",
        "a: x...y\nb: '---'\nc: \"...\"\n",  # markers inside a line are text
        "a: b # c 'd' \u00d7\n",  # quotes and non-ASCII in a comment
        'a: {b: "c"}   # d: 1\n',  # quotes before a comment
        "a: 'b c' # d\n",
        # in block context `:` before a non-space and `#` after one are text
        "include:\n  - zoo:resnet50#stage\n  - x: http://h:80/p#q\n",
        "a: b:c\nd: b :c\ne: b#c\n",
        "  a: 1\n  b: 2\n",
        "",
        "\n# only a comment\n",
    ],
)
def test_the_subset_is_read_as_libyaml_reads_it(text: str) -> None:
    assert agrees(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # duplicate key
        "a: &x 1\nb: *x\n",  # anchors and aliases
        "a: !!str 1\n",  # tags
        "<<: {a: 1}\n",  # a merge key
        "a: 017\n",  # octal in YAML 1.1
        "a: 1:30\n",  # base 60
        "a: 99999999999999999999\n",  # past int64
        "a: b\n  c\n",  # a multi-line plain scalar
        "a: b\n  c: d\n",  # mapping values are not allowed here
        "a:\nb: 1\n",  # an empty value (null)
        "- a\nb: 1\n",
        "a: {b: 1,}\n",  # a trailing comma
        "a: {b: 1\n",  # a flow mapping over two lines
        "a: 'it''s'\n",  # an escaped quote
        'a: "tab\\t"\n',  # an escape sequence
        "a:\tb\n",  # a tab
        "a: b\r\n",  # a carriage return
        "a: caf\u00e9\n",  # non-ASCII: libyaml counts columns in characters
        "---\na: 1\n",  # a document marker
        "a: 1\n---\nb: 2\n",  # two documents
        "a: 1\n...\n",  # a document end marker
        "- a: 1\n- a: 2\n  a: 3\n",  # a duplicate key after `- key: value`
        "a: b\x01\n",  # a control character (ASCII text is checked apart)
        "a: b\x7f\n",
        "a: b\x85\n",  # NEL, a line break in YAML 1.1
        "a: |\n  text\n",  # a block scalar
        "? a\n: 1\n",  # a complex key
        "1: a\n",  # a key that is not a string
        "true: a\n",
        "a: [" * 9 + "]" * 9 + "\n",  # past the flow depth the reader handles
        "a: 'b # c'\n",  # ` #` inside quotes
        "a: 'b' # c 'd'\n",  # quotes on both sides of ` #`
        'a: "b # c\n  d"\n',  # ` #` inside a quoted scalar over two lines
        "a: b:\n",
        "a: {b: c:d}\n",  # `:` in a flow scalar: left to the composer
        "a: -\n",
        "- -\n",
        "a: b: c\n",
        "plain scalar document\n",
    ],
)
def test_outside_the_subset_is_declined(text: str) -> None:
    assert plain(text) == "declined"


def test_the_node_bound_is_the_composers() -> None:
    text = "layers:\n" + "  - relu: {}\n" * 10  # 3 nodes, then 3 a line: 33
    assert agrees(text, Limits(max_yaml_nodes=33))
    assert plain(text, Limits(max_yaml_nodes=32)) == "declined"
    # the 33rd node is the last line's `{}`
    assert str(events(text, Limits(max_yaml_nodes=32))) == (
        "net.yaml:11:11: field layers[9].relu: the YAML document is too large: it has more "
        "than 32 nodes once aliases are expanded (Limits.max_yaml_nodes)"
    )


def test_an_unknown_top_level_key_is_reported_as_it_is_read() -> None:
    seen: list[str] = []

    def check(key: Scalar) -> None:
        seen.append(str(key.value))
        if key.value == "b":
            raise SpecError("no b", location=key.location)

    with pytest.raises(SpecError, match=r"^net\.yaml:2:1: no b$"):
        read_plain("a: 1\nb: 2\nc: [\n", "net.yaml", Scalars().construct, 100, check)
    assert seen == ["a", "b"]


@pytest.mark.parametrize(
    "text",
    ["", "a", "a\n", "\n\n", "a\nb", "x" * 70_000 + "\n" + "y\n" * 5 + "z", "a\n" * 40_000],
)
def test_lines_are_split_as_a_text_stream_splits_them(text: str) -> None:
    # blocks of 65,536 characters: the long lines and the many short ones cross their ends
    assert list(_lines(text)) == list(io.StringIO(text))


@pytest.mark.parametrize(
    "word",
    [
        *"ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz",
        *("b12", "bar", "_x", "e5", "yes", "No", "on", "OFF", "null", "Null", "true", "False"),
        *("nan", "inf", "Inf", "y", "n", "x1", "timestamp"),
    ],
)
def test_a_plain_word_is_the_value_pyyaml_makes(word: str) -> None:
    # a plain scalar whose first character no implicit resolver reads is a string without a
    # call to the resolver: the oracle is PyYAML's own safe_load of the same text
    import yaml  # noqa: PLC0415

    text = f"layers:\n  x{word}: {word}\n  y: [{word}]\n"
    expected = yaml.safe_load(text)["layers"]
    tree = plain(text)
    assert isinstance(tree, Map)
    (_, layers), *_ = tree.entries
    assert isinstance(layers, Map)
    values = {str(key.value): value for key, value in layers.entries}
    first, listed = values[f"x{word}"], values["y"]
    assert isinstance(first, Scalar)
    assert isinstance(listed, Seq)
    item = listed.items[0]
    assert isinstance(item, Scalar)
    assert (first.value, [item.value]) == (expected[f"x{word}"], expected["y"])
    assert type(first.value) is type(expected[f"x{word}"])
    assert agrees(text)


def test_the_refused_characters_are_libyamls_non_printable_ones_and_yaml_line_breaks() -> None:
    """Every code point: the plain reader refuses what PyYAML's reader refuses to read (its
    own ``NON_PRINTABLE`` class, a different expression) plus tab, carriage return, the other
    YAML 1.1 line breaks (U+0085, U+2028, U+2029) and the byte-order mark."""
    every = "".join(map(chr, range(0x110000)))
    refused = {match.start() for match in re.finditer(_OUTSIDE, every)}
    non_printable = {match.start() for match in yaml.reader.Reader.NON_PRINTABLE.finditer(every)}
    assert refused == non_printable | {0x09, 0x0D, 0x85, 0x2028, 0x2029, 0xFEFF}


def test_the_refused_characters_are_found_without_the_expression() -> None:
    """:func:`_outside` (string and set functions) refuses exactly what :data:`_OUTSIDE` finds,
    for every code point in ASCII text and in text outside ASCII, and document markers there."""
    every = "".join(map(chr, range(0x110000)))
    by_expression = {match.start() for match in re.finditer(_OUTSIDE, every)}
    ascii_only = {code for code in range(0x80) if _outside(chr(code))}
    assert ascii_only == {code for code in by_expression if code < 0x80}
    after_other = {code for code in range(0x110000) if _outside(f"é{chr(code)}")}
    assert after_other == by_expression
    for text in ("× a\n---\n", "--- ×", "× a\n...", "× a\n---x", "× a\n ---", "...×"):
        assert _outside(text) is (re.search(_OUTSIDE, text) is not None), text


_TEXT = st.text(
    st.sampled_from(["-", ".", " ", "\n", "a", "#", "é", "×", "\t", "\x85", "\u2028", "\ud800"])
    | st.characters(),
    max_size=30,
)


@given(_TEXT)
def test_any_text_is_outside_exactly_when_the_expression_finds_something(text: str) -> None:
    assert _outside(text) == (re.search(_OUTSIDE, text) is not None)
