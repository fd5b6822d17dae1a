"""A YAML-free tree of located values: what the spec loader hands to the rest of convcost.

Every value remembers where it stood in the file, so that any later stage (block expansion,
field parsing, shape inference) can point the user at the exact line and column.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from convcost.errors import Location

ScalarValue = str | int | float | bool | None

_SHOWN = 80
"""Characters of a string an error message shows before it cuts the rest."""


@dataclass(frozen=True, slots=True)
class Scalar:
    """A scalar as YAML constructed it, plus the text it was written as."""

    value: ScalarValue
    location: Location
    text: str = ""
    """The scalar's source text (``yes``, ``1e6``), so that messages show what was written."""


@dataclass(frozen=True, slots=True)
class Seq:
    items: tuple[Value, ...]
    location: Location

    def __iter__(self) -> Iterator[Value]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True, slots=True)
class Map:
    """A mapping with string keys, in file order; keys keep their own locations."""

    entries: tuple[tuple[Scalar, Value], ...]
    location: Location

    def keys(self) -> list[str]:
        return [str(key.value) for key, _ in self.entries]

    def get(self, key: str) -> Value | None:
        for k, value in self.entries:
            if k.value == key:
                return value
        return None

    def key_location(self, key: str) -> Location:
        for k, _ in self.entries:
            if k.value == key:
                return k.location
        return self.location

    def __len__(self) -> int:
        return len(self.entries)


Value = Scalar | Seq | Map


def describe(value: Value) -> str:
    """How a value reads in an error message: ``yes (a boolean)``, ``'abc'``, ``a list``, ``null``,
    ``4.0 (a float)`` for ``!!float 4``; otherwise the text the number was written as."""
    if isinstance(value, Seq):
        return "a list"
    if isinstance(value, Map):
        return "a mapping"
    if value.value is None:
        return "null"
    if isinstance(value.value, bool):
        return f"{value.text or value.value} (a boolean)"
    if isinstance(value.value, str):
        return shown(value.value)
    if isinstance(value.value, float) and "." not in value.text:
        return f"{value.value!r} (a float)"  # `!!float 4`: "got 4" would read as an integer
    return value.text or str(value.value)


def shown(text: str) -> str:
    """``repr(text)``, cut after 60 characters: a message stays one readable line whatever the
    spec holds."""
    if len(text) > _SHOWN:
        return f"{text[: _SHOWN - 20]!r}… ({len(text)} characters)"
    return repr(text)


def plain(value: Value) -> object:
    """The value as plain Python data (lists, dicts, scalars), locations dropped."""
    if isinstance(value, Scalar):
        return value.value
    if isinstance(value, Seq):
        return [plain(item) for item in value.items]
    return {str(k.value): plain(v) for k, v in value.entries}
