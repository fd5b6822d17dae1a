"""JSON text, pure ASCII and exact: compact through the json module's C encoder by default,
indented on request (the stdlib's text, faster), and streamed a batch at a time for arrays
too long to hold as dicts (a million-layer report)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from json.encoder import encode_basestring_ascii
from typing import Any

from convcost.integers import unlimited_str_digits
from convcost.valueclasses import dataclass


@dataclass(frozen=True, slots=True)
class Streamed:
    """A JSON array that :func:`chunks` writes a batch of elements at a time, so that a
    million-layer report is never a million dicts (nor one string) in memory."""

    items: Callable[[], Iterable[object]]
    """Yields the elements (plain JSON data), once per call."""
    texts: Callable[[], Iterable[str]] | None = None
    """Yields the same elements as compact JSON text (``dumps`` of each), a faster way to the
    compact output; ``None``: encode ``items``."""


BATCH = 2_000
"""Elements of a :class:`Streamed` array encoded at a time."""


def chunks(data: object, *, indent: int | None = None) -> Iterator[str]:
    """:func:`dumps`'s text in pieces: ``data`` may hold :class:`Streamed` arrays, written
    :data:`BATCH` elements at a time (``"".join(chunks(data))`` is ``dumps`` of the same
    data with lists in their place)."""
    with unlimited_str_digits():
        yield from _chunks(data, indent, "\n")
        yield "\n"


def _chunks(value: object, indent: int | None, pad: str) -> Iterator[str]:
    if not _streams(value):
        yield _encoded(value, indent, pad)
        return
    inner = pad + " " * indent if indent is not None else ""
    comma, colon = ("," + inner, ": ") if indent is not None else (",", ":")
    close = pad if indent is not None else ""
    if isinstance(value, Streamed):
        if indent is None and value.texts is not None:
            texts = iter(value.texts())
            separator = "["
            while encoded := list(islice(texts, BATCH)):
                yield separator + ",".join(encoded)
                separator = ","
            yield "[]" if separator == "[" else "]"
            return
        items = iter(value.items())
        separator = "["
        while batch := list(islice(items, BATCH)):
            text = _encoded(batch, indent, pad)
            yield separator + text[1 : len(text) - 1 - len(close)]
            separator = ","
        yield "[]" if separator == "[" else close + "]"
        return
    if isinstance(value, dict):
        separator = "{" + inner
        for key, item in value.items():
            yield f"{separator}{encode_basestring_ascii(key)}{colon}"
            yield from _chunks(item, indent, inner)
            separator = comma
        yield close + "}"
        return
    assert isinstance(value, list | tuple)
    separator = "[" + inner
    for item in value:
        yield separator
        yield from _chunks(item, indent, inner)
        separator = comma
    yield close + "]"


def _streams(value: object) -> bool:
    """Whether ``value`` holds a :class:`Streamed` array (at any depth)."""
    if isinstance(value, Streamed):
        return True
    if isinstance(value, dict):
        return any(map(_streams, value.values()))
    if isinstance(value, list | tuple):
        return any(map(_streams, value))
    return False


def _encoded(value: object, indent: int | None, pad: str) -> str:
    """``value`` as JSON text, its nested lines starting with ``pad`` (a newline and spaces)."""
    if indent is None:
        return json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    try:
        return indented(value, indent, pad)
    except TypeError:  # a subclass (an IntEnum, a str enum): the stdlib's rules
        text = json.dumps(value, indent=indent, ensure_ascii=True)
        return text.replace("\n", pad)


def dumps(data: object, *, indent: int | None = None) -> str:
    """JSON text of ``data``, pure ASCII (``\\u00d7`` for ``×``, so any stdout encoding can
    carry it), every integer exact whatever its size (``str``'s 4,300-digit limit is lifted
    while writing), keys in the order given, ending in a newline.

    Compact (no spaces, one line) by default, written by the json module's C encoder; with
    ``indent``, the same text as ``json.dumps(data, indent=indent)`` from :func:`indented`.
    """
    with unlimited_str_digits():
        return _encoded(data, indent, "\n") + "\n"


def _float(value: float) -> str:
    """As the json module writes a float (``NaN`` and ``Infinity`` included)."""
    if math.isnan(value):
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


_SCALARS: dict[type, Callable[[Any], str]] = {
    str: encode_basestring_ascii,
    int: int.__repr__,
    float: _float,
    bool: lambda value: "true" if value else "false",
    type(None): lambda _: "null",
}


def indented(data: object, indent: int, pad: str = "\n") -> str:
    """``json.dumps(data, indent=indent, ensure_ascii=True)``, character for character, about
    twice as fast: the stdlib writes indented JSON with its pure-Python encoder, one generator
    step per value; here a list of scalars is one join and a scalar value one string.

    ``data`` holds dicts with string keys, lists, tuples, strings, ints, floats, booleans and
    None (what the ``*_to_dict`` functions build); anything else raises TypeError. ``pad``
    starts each nested line: ``"\\n"`` and the indentation of where ``data`` is nested.
    """
    step = " " * indent
    out: list[str] = []
    append = out.append
    scalar_of = _SCALARS.get

    def walk(value: object, pad: str) -> None:
        kind = type(value)
        if kind is dict:
            assert isinstance(value, dict)
            if not value:
                append("{}")
                return
            inner = pad + step
            separator, comma = "{" + inner, "," + inner
            for key, item in value.items():
                if type(key) is not str:
                    raise TypeError(f"JSON object keys here are strings, got {key!r}")
                scalar = scalar_of(type(item))
                if scalar is None:
                    append(f"{separator}{encode_basestring_ascii(key)}: ")
                    walk(item, inner)
                else:
                    append(f"{separator}{encode_basestring_ascii(key)}: {scalar(item)}")
                separator = comma
            append(pad + "}")
        elif kind is list or kind is tuple:
            assert isinstance(value, list | tuple)
            if not value:
                append("[]")
                return
            inner = pad + step
            kinds = set(map(type, value))
            scalar = scalar_of(kinds.pop()) if len(kinds) == 1 else None
            if scalar is not None:
                append(f"[{inner}{(',' + inner).join(map(scalar, value))}{pad}]")
                return
            separator = "[" + inner
            for item in value:
                append(separator)
                walk(item, inner)
                separator = "," + inner
            append(pad + "]")
        else:
            scalar = scalar_of(kind)
            if scalar is None:
                raise TypeError(f"Object of type {kind.__name__} is not JSON serializable")
            append(scalar(value))

    walk(data, pad)
    return "".join(out)
