"""The plain subset of YAML read line by line: the fast path of :func:`convcost.document.compose`.

libyaml parses a 100,000-layer spec in 0.2 s, but PyYAML hands each of its events to Python as
an event object with two marks: 1.4 s before a single value is built. Generated specs (sweeps,
imported graphs) are written in a small subset of YAML, one layer a line::

    layers:
      - conv: {out: 64, kernel: 3, padding: 1, bias: false}
      - relu: {}

This module reads that subset directly: block mappings and sequences (indentation, ``- ``
items, ``key:`` openers, sequences at the indentation of their key), flow mappings and lists
that close on their line, plain scalars of a conservative alphabet, quoted scalars without
escapes, whole-line and trailing comments. A line's tokens are cached by its text (a long
stack repeats a few lines), so each repeated line costs only the located values it makes.

It builds exactly the tree the event composer builds, locations included (a flow mapping as a
:class:`LineMap`, which makes its entries when they are first read), or declines
(:class:`Declined`) at the first thing outside the subset or anything the composer would
refuse (a duplicate key, a tag, an anchor, a value past the nesting or node bounds, a scalar the
constructor refuses). The composer then reads the document from the start, so every error
and its location come from one place. Scalars are constructed as for the event path, by
:meth:`convcost.yaml_scalars.Scalars.construct` (without importing PyYAML for the forms
specs use).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from convcost.errors import ConvcostError
from convcost.limits import MAX_NESTING
from convcost.tree import Map, Scalar, ScalarValue, Value, map_at, scalar_at, seq_at

Construct = Callable[[str, bool, bool], ScalarValue]
"""``(text, plain, is_key)`` to the scalar's value, as the composer constructs it."""


class Declined(Exception):
    """The document is outside the subset (or invalid): the event composer reads it."""


_OUTSIDE = (
    "(?m)[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]"
    "|^(?:---|\\.\\.\\.)(?: |$)"
)
"""Tabs, carriage returns, the other line breaks of YAML 1.1 (U+0085, U+2028, U+2029), a
byte-order mark, what libyaml refuses to read (control characters, surrogates, U+FFFE, U+FFFF),
and document markers. Other text outside ASCII is read in comments only
(:meth:`_Reader._tokens`). The class lists what is refused rather than what is read: the same
characters (``tests/test_plainyaml.py`` checks every code point), compiled in 0.3 ms rather
than 3 ms, and only for a text :func:`_outside` cannot tell by its bytes (by :func:`re.search`,
which keeps it compiled)."""
_PRINTABLE = bytes([10, *range(32, 127)])
"""A line break and the printable ASCII characters."""
_REFUSED = frozenset(
    "".join(map(chr, (*range(0x0A), *range(0x0B, 0x20), *range(0x7F, 0xA0))))
    + "\u2028\u2029\ufeff\ufffe\uffff"
)
"""The characters :data:`_OUTSIDE` finds, but for surrogates (which UTF-8 cannot encode)."""


def _outside(text: str) -> bool:
    """Whether :data:`_OUTSIDE` finds something in ``text``, checked by C string and set
    functions (10× faster than the expression's scan, and no compiling it): the expression
    is left for a text with a document marker's first three characters at a line's start."""
    if text.isascii():
        if text.encode("ascii").translate(None, _PRINTABLE):
            return True  # a control character
    elif not _REFUSED.isdisjoint(text):
        return True
    else:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return True  # a surrogate
    if not (text.startswith(("---", "...")) or "\n---" in text or "\n..." in text):
        return False
    return re.search(_OUTSIDE, text) is not None


_START = r"(?:[A-Za-z0-9_$~.+]|-(?=[0-9.]))"
"""How a plain scalar may start: never with an indicator (``- ? : , [ ] { } # & * ! | > ' " %
@ ` ``), and ``-`` only before a digit or a dot (``-1``, ``-.5``)."""
_KEY = re.compile(rf"({_START}[A-Za-z0-9_$~.+-]*)|\"([^\"\\]*)\"|'([^']*)'")
_BLOCK_PLAIN = re.compile(rf"{_START}(?:[A-Za-z0-9_$~.+ (){{}}\[\]*/%,=<>-]|:(?! |$)|(?<! )#)*")
"""A plain scalar that runs to the end of its line (block context: flow indicators are text, and
so are a ``:`` before a non-space and a ``#`` after one: ``zoo:resnet50#stage``)."""
_FLOW_PLAIN = re.compile(rf"{_START}(?:[A-Za-z0-9_$~.+ /-]*[A-Za-z0-9_$~.+/-])?")
"""A plain scalar inside ``{…}`` or ``[…]``, trailing spaces left out."""
_QUOTED = re.compile(r"\"([^\"\\]*)\"|'([^']*)'")
_SPACES = re.compile(r" *")
_FLOW_DEPTH = 8
"""Flow collections inside each other on one line (``[[0, 1], [1, 1]]`` is 2); deeper ones are
read by the composer (which bounds them by :data:`~convcost.limits.MAX_NESTING`)."""

_Template = tuple[Any, ...]
"""A value of one line, located by column only (its line is added when it is made):
``("s", column, value, text)``, ``("q", column, [item templates], nodes, levels)`` for a list
and ``("m", column, [(key template, value template)], nodes, levels)`` for a mapping, where
``nodes`` counts the values it makes and ``levels`` the lists and mappings nested in it."""
_Token = tuple[str, int, Any]
"""``("-", column, None)``, ``("k", column, key template)`` or ``("v", column, template)``."""


def read_plain(
    text: str,
    source: str,
    construct: Construct,
    max_nodes: int,
    on_top_key: Callable[[Scalar], None] | None = None,
) -> Value | None:
    """The document's tree, or ``None`` for an empty document.

    Raises :class:`Declined` for anything outside the subset. ``on_top_key`` sees each key of
    a top-level mapping as soon as it is read, as in :func:`convcost.document.compose`.
    """
    if _outside(text):
        raise Declined
    return _Reader(source, construct, max_nodes, on_top_key).read(text)


class _Frame:
    """An open block mapping or sequence."""

    __slots__ = ("awaiting", "column", "indentless", "is_map", "items", "key", "keys", "line")

    def __init__(self, is_map: bool, column: int, line: int, indentless: bool) -> None:
        self.is_map = is_map
        self.column = column
        self.line = line
        self.indentless = indentless
        """A sequence written at the indentation of the key it is the value of."""
        self.items: list[Value] = []
        self.key: Scalar | None = None
        self.keys: set[object] = set()
        self.awaiting = False
        """After ``- `` or ``key:``: the item or value is still to come."""


class _Reader:
    def __init__(
        self,
        source: str,
        construct: Construct,
        max_nodes: int,
        on_top_key: Callable[[Scalar], None] | None,
    ) -> None:
        self.source = source
        self.on_top_key = on_top_key
        self.construct = construct
        self.max_nodes = max_nodes
        self.nodes = 0
        self.lines: dict[str, tuple[tuple[_Token, ...], _Item | None]] = {}
        self.values: dict[tuple[str, int], tuple[_Template, int]] = {}
        """A key's value by its text and column: lines that differ only in their key (a
        concat's ``b0: […]``, ``b1: […]``, …) share the value's template."""

    def read(self, text: str) -> Value | None:
        stack: list[_Frame] = []
        lines = self.lines
        source, max_nodes = self.source, self.max_nodes
        for number, line in enumerate(_lines(text), start=1):
            known = lines.get(line)
            if known is None:
                tokens = self._tokens(line)
                known = lines[line] = (tokens, _item(tokens))
            tokens, item = known
            if not tokens:
                continue
            if self._dedent(stack, tokens[0][1], tokens[0][0]) is not None or (
                self.nodes and not stack
            ):
                raise Declined  # a line after the root closed: invalid
            top = stack[-1] if stack else None
            if (
                item is not None
                and top is not None
                and top.column == item[0]
                and not top.is_map
                and not top.awaiting
                and len(stack) + item[5] <= MAX_NESTING
            ):
                # `- key: value` in an open list (a stack's every line): what the three
                # tokens would do, inlined — a mapping opened with its first entry
                self.nodes += item[4]
                if self.nodes > max_nodes:
                    raise Declined
                _, column, key, value, _, _ = item
                top.awaiting = True  # until the mapping is closed and delivered to it
                frame = _Frame(True, column, number, False)
                frame.keys.add(key[2])
                frame.items = [
                    scalar_at(key[2], key[3], source, number, column + 1),
                    scalar_at(value[2], value[3], source, number, value[1] + 1)
                    if value[0] == "s"
                    else _located(value, source, number),
                ]
                stack.append(frame)
                continue
            if (
                len(tokens) == 2
                and tokens[0][0] == "k"
                and len(stack) > 1
                and top is not None
                and top.is_map
                and not top.awaiting
                and top.column == tokens[0][1]
            ):
                # `key: value` in an open mapping below the top (a concat's every branch)
                self._entry(stack, top, tokens[0][2], tokens[1][2], number)
                continue
            for kind, column, payload in tokens:
                self._token(stack, kind, column, payload, number)
        return self._dedent(stack, -1, "-")

    def _entry(
        self, stack: list[_Frame], top: _Frame, key: _Template, value: _Template, line: int
    ) -> None:
        """What the tokens ``key:`` and ``value`` do in the open mapping ``top``, in one step."""
        name = key[2]
        if type(name) is not str or name in top.keys:
            raise Declined
        self._count()
        top.keys.add(name)
        top.items.append(scalar_at(name, key[3], self.source, line, key[1] + 1))
        top.items.append(self._make(value, line, len(stack)))

    def _token(self, stack: list[_Frame], kind: str, column: int, payload: Any, line: int) -> None:
        """Read one token of ``line``: a ``- ``, a ``key:`` or a value."""
        top = stack[-1] if stack else None
        if top is None or (top.awaiting and column > top.column):
            if kind == "v":
                if top is None:
                    raise Declined  # a scalar document
                self._deliver(stack, self._make(payload, line, len(stack)))
                return
            top = self._push(stack, kind == "k", column, line, indentless=False)
        elif top.awaiting:
            if not (kind == "-" and top.is_map and column == top.column):
                raise Declined  # an empty value
            top = self._push(stack, False, column, line, indentless=True)
        elif column != top.column or kind == "v" or (kind == "k") != top.is_map:
            raise Declined
        top.awaiting = True
        if kind == "k":
            key = self._make(payload, line, len(stack))
            assert isinstance(key, Scalar)
            if key.value in top.keys or not isinstance(key.value, str):
                raise Declined
            top.keys.add(key.value)
            if len(stack) == 1 and self.on_top_key is not None:
                self.on_top_key(key)
            top.key = key

    def _push(
        self, stack: list[_Frame], is_map: bool, column: int, line: int, *, indentless: bool
    ) -> _Frame:
        if len(stack) >= MAX_NESTING:
            raise Declined
        self._count()
        frame = _Frame(is_map, column, line, indentless)
        stack.append(frame)
        return frame

    def _dedent(self, stack: list[_Frame], column: int, kind: str) -> Value | None:
        """Close the frames deeper than ``column``; the root, once it is closed."""
        while stack:
            top = stack[-1]
            if top.column > column or (
                top.indentless and top.column == column and kind == "k" and not top.awaiting
            ):
                if top.awaiting:
                    raise Declined  # an empty value
                stack.pop()
                if top.is_map:
                    pairs: list[Any] = top.items  # key, value, key, value…
                    value: Value = map_at(
                        ((pairs[0], pairs[1]),)
                        if len(pairs) == 2  # a list item `- kind: {…}`
                        else tuple(zip(pairs[::2], pairs[1::2], strict=True)),
                        self.source,
                        top.line,
                        top.column + 1,
                    )
                else:
                    value = seq_at(tuple(top.items), self.source, top.line, top.column + 1)
                if not stack:
                    return value
                self._deliver(stack, value)
            else:
                break
        return None

    def _deliver(self, stack: list[_Frame], value: Value) -> None:
        top = stack[-1]
        if top.is_map:
            assert top.key is not None
            top.items.append(top.key)
            top.key = None
        top.items.append(value)
        top.awaiting = False

    def _count(self, size: int = 1) -> None:
        self.nodes += size
        if self.nodes > self.max_nodes:
            raise Declined

    # -- one line: tokens, then located values ------------------------------------------------

    def _tokens(self, line: str) -> tuple[_Token, ...]:
        line = line.removesuffix("\n")
        body = line.lstrip(" ")
        if not body or body[0] == "#":
            return ()
        position = len(line) - len(body)
        comment = line.find(" #")
        if comment >= 0:
            # the ` #` may be inside a quoted scalar only with quotes on both sides of it (an
            # unclosed quote before it, with a whole comment after: the cut line is declined)
            if max(line.rfind("'"), line.rfind('"')) > comment and (
                "'" in line[:comment] or '"' in line[:comment]
            ):
                raise Declined
            line = line[:comment]
        if not line.isascii():
            raise Declined  # outside a comment: libyaml counts columns in characters
        line = line.rstrip(" ")
        end = len(line)
        tokens: list[_Token] = []
        while True:
            if line.startswith("-", position) and (
                position + 1 == end or line[position + 1] == " "
            ):
                tokens.append(("-", position, None))
                position = _SPACES.match(line, position + 1).end()  # type: ignore[union-attr]
                if position == end:
                    return tuple(tokens)
                continue
            key = _KEY.match(line, position)
            if key is not None and line.startswith(":", key.end()):
                after = key.end() + 1
                if after == end or line[after] == " ":
                    tokens.append(("k", position, self._scalar(key, True)))
                    position = _SPACES.match(line, after).end()  # type: ignore[union-attr]
                    if position == end:
                        return tuple(tokens)
                    rest = (line[position:], position)
                    value = self.values.get(rest)
                    if value is None:  # _value reads the line from `position` on only
                        value = self.values[rest] = self._value(line, position, flow=0)
                    template, position = value
                    if position != end:
                        raise Declined
                    tokens.append(("v", template[1], template))
                    return tuple(tokens)
            template, position = self._value(line, position, flow=0)
            if position != end:
                raise Declined
            tokens.append(("v", template[1], template))
            return tuple(tokens)

    def _scalar(self, match: re.Match[str], is_key: bool) -> _Template:
        plain, double, single = match.groups()
        text = plain if plain is not None else double if double is not None else single
        try:
            value = self.construct(text, plain is not None, is_key)
        except ConvcostError:
            raise Declined from None
        return ("s", match.start(), value, text)

    def _value(self, line: str, position: int, *, flow: int) -> tuple[_Template, int]:
        """The value at ``position`` and where it ends, inside ``flow`` flow collections."""
        opening = line[position : position + 1]
        if opening in ("{", "["):
            if flow >= _FLOW_DEPTH:
                raise Declined
            return self._flow(line, position, flow + 1, is_map=opening == "{")
        quoted = _QUOTED.match(line, position)
        if quoted is not None:
            return (
                "s",
                position,
                *self._scalar_value(quoted.group(1), quoted.group(2)),
            ), quoted.end()
        plain = (_FLOW_PLAIN if flow else _BLOCK_PLAIN).match(line, position)
        if plain is None:
            raise Declined
        text = plain.group().rstrip(" ")
        try:
            value = self.construct(text, True, False)
        except ConvcostError:
            raise Declined from None
        return ("s", position, value, text), position + len(text)

    def _scalar_value(self, double: str | None, single: str | None) -> tuple[ScalarValue, str]:
        text = double if double is not None else single
        assert text is not None
        try:
            return self.construct(text, False, False), text
        except ConvcostError:
            raise Declined from None

    def _flow(self, line: str, position: int, flow: int, *, is_map: bool) -> tuple[_Template, int]:
        closing = "}" if is_map else "]"
        column = position
        items: list[object] = []
        keys: set[object] = set()
        position = _SPACES.match(line, position + 1).end()  # type: ignore[union-attr]
        if line.startswith(closing, position):
            return _collection(is_map, column, items), position + 1
        while True:
            if is_map:
                key = _KEY.match(line, position)
                if key is None or not line.startswith(": ", key.end()):
                    raise Declined
                template = self._scalar(key, True)
                if template[2] in keys or not isinstance(template[2], str):
                    raise Declined
                keys.add(template[2])
                position = _SPACES.match(line, key.end() + 2).end()  # type: ignore[union-attr]
                value, position = self._value(line, position, flow=flow)
                items.append((template, value))
            else:
                value, position = self._value(line, position, flow=flow)
                items.append(value)
            position = _SPACES.match(line, position).end()  # type: ignore[union-attr]
            if line.startswith(closing, position):
                return _collection(is_map, column, items), position + 1
            if not line.startswith(",", position):
                raise Declined
            position = _SPACES.match(line, position + 1).end()  # type: ignore[union-attr]
            if line.startswith(closing, position):
                raise Declined  # a trailing comma: valid YAML, left to the composer

    def _make(self, template: _Template, line: int, depth: int) -> Value:
        """The located value of a template at ``line``; ``depth`` lists and mappings around it."""
        if template[0] == "s":
            self.nodes += 1
            if self.nodes > self.max_nodes:
                raise Declined
            return scalar_at(template[2], template[3], self.source, line, template[1] + 1)
        self.nodes += template[3]
        if self.nodes > self.max_nodes or depth + template[4] > MAX_NESTING:
            raise Declined  # the composer reports the bound, at the node that passes it
        return _located(template, self.source, line)


_BLOCK = 2**16
"""Characters of the text split into lines at a time."""


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text``, each with its line break, a block of lines at a time: a list of
    every line would double the text's memory at the peak, and ``io.StringIO`` holds four
    bytes a character (107 MiB for a million-layer stack). ``splitlines`` breaks at ``\n``
    only here: :func:`_outside` has declined every other line break."""
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start + _BLOCK)
        end = size if end < 0 else end + 1
        yield from text[start:end].splitlines(keepends=True)
        start = end


_Item = tuple[int, int, _Template, _Template, int, int]
"""A line ``- key: value``: the columns of ``-`` and of the key, the key's and the value's
templates, the nodes it makes (the mapping, its key and the value's) and the levels it opens
(the mapping, and the value's)."""


def _item(tokens: tuple[_Token, ...]) -> _Item | None:
    """The :data:`_Item` of a line ``- key: value`` with a string key, else ``None``."""
    if len(tokens) != 3 or [kind for kind, _, _ in tokens] != ["-", "k", "v"]:
        return None
    (_, dash, _), (_, column, key), (_, _, value) = tokens
    if not isinstance(key[2], str):
        return None
    scalar = value[0] == "s"
    return (
        dash,
        column,
        key,
        value,
        2 + (1 if scalar else value[3]),
        1 + (0 if scalar else value[4]),
    )


def _collection(is_map: bool, column: int, items: list[Any]) -> _Template:
    """The template of a flow mapping or list, with its nodes and its levels of collections."""
    children = [template for pair in items for template in pair] if is_map else items
    size = 1 + sum(1 if child[0] == "s" else child[3] for child in children)
    height = 1 + max((child[4] for child in children if child[0] != "s"), default=0)
    return ("m" if is_map else "q", column, items, size, height)


def _located(template: _Template, file: str, line: int) -> Value:
    """The located value of a template at ``line`` (bounds already checked)."""
    kind, column, content = template[0], template[1] + 1, template[2]
    if kind == "s":
        return scalar_at(content, template[3], file, line, column)
    if kind == "q":
        return seq_at(tuple([_located(item, file, line) for item in content]), file, line, column)
    node: LineMap = _new(LineMap)
    _ENTRIES.__set__(node, None)  # not made yet
    node.template = template
    node.file = file
    node.line = line
    node.column = column
    return node


def _entries(template: _Template, file: str, line: int) -> tuple[tuple[Scalar, Value], ...]:
    """The located entries of a flow mapping's template at ``line``."""
    return tuple(
        [
            (
                scalar_at(key[2], key[3], file, line, key[1] + 1),
                scalar_at(value[2], value[3], file, line, value[1] + 1)
                if value[0] == "s"
                else _located(value, file, line),
            )
            for key, value in template[2]
        ]
    )


_new = object.__new__
_ENTRIES: Any = Map.__dict__["entries"]
""":class:`Map`'s ``entries`` slot, where a :class:`LineMap` keeps its entries once made."""


class LineMap(Map):
    """A flow mapping written on one line (``{out: 64, kernel: 3}``), as the plain reader makes
    it: the same located values as a :class:`Map` (file, line and column on every key and
    value), but made from the line's template only when they are first asked for. A long
    stack repeats a few lines, and the build reads a repeated layer's fields once
    (:mod:`convcost.build` keys its cache by :attr:`template`), so most layers' fields are
    never made: a third of the tree's objects, and the time to make them."""

    __slots__ = ("template",)

    template: _Template
    """Shared by every mapping written as the same text at the same column."""

    @property
    def entries(self) -> tuple[tuple[Scalar, Value], ...]:  # type: ignore[override]
        made: tuple[tuple[Scalar, Value], ...] | None = _ENTRIES.__get__(self, LineMap)
        if made is None:
            made = _entries(self.template, self.file, self.line)
            _ENTRIES.__set__(self, made)
        return made

    def __len__(self) -> int:
        return len(self.template[2])

    def first_key(self) -> ScalarValue:
        return self.template[2][0][0][2]  # type: ignore[no-any-return]
