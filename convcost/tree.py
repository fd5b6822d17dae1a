"""A YAML-free tree of located values: what the spec loader hands to the rest of convcost.

Every value remembers where it stood in the file, so that any later stage (block expansion,
field parsing, shape inference) can point the user at the exact line and column.

A spec of 100,000 layers holds a million of these values, so they are built for that: plain
classes with ``__slots__`` that keep their file, line and column as three fields and make the
:class:`~convcost.errors.Location` only when it is asked for (an error, a layer's location).
A frozen dataclass costs three times as much to construct, and a ``Location`` per value twice
the memory (docs/benchmarks.md, *Loading*). They are immutable by convention: nothing assigns
to a value once a reader has made it (the readers use :func:`scalar_at` and friends).
"""

from __future__ import annotations

from collections.abc import Iterator

from convcost.errors import Location
from convcost.valueclasses import slot_setters

ScalarValue = str | int | float | bool | None

_SHOWN = 80
"""Characters of a string an error message shows before it cuts the rest."""


_set_file, _set_line, _set_column = slot_setters(Location, "file", "line", "column")


class _Located:
    __slots__ = ("column", "file", "line")

    file: str
    line: int
    column: int

    @property
    def location(self) -> Location:
        return location_at(self.file, self.line, self.column)

    def _place(self, location: Location) -> None:
        self.file = location.file
        self.line = location.line
        self.column = location.column


class Scalar(_Located):
    """A scalar as YAML constructed it, plus the text it was written as."""

    __slots__ = ("text", "value")

    def __init__(self, value: ScalarValue, location: Location, text: str = "") -> None:
        self.value = value
        self.text = text
        """The scalar's source text (``yes``, ``1e6``), so that messages show what was written."""
        self._place(location)

    def __repr__(self) -> str:
        return f"Scalar({self.value!r}, {self.location!r}, {self.text!r})"


class Seq(_Located):
    __slots__ = ("items",)

    def __init__(self, items: tuple[Value, ...], location: Location) -> None:
        self.items = items
        self._place(location)

    def __iter__(self) -> Iterator[Value]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return f"Seq({self.items!r}, {self.location!r})"


class Map(_Located):
    """A mapping with string keys, in file order; keys keep their own locations."""

    __slots__ = ("entries",)

    def __init__(self, entries: tuple[tuple[Scalar, Value], ...], location: Location) -> None:
        self.entries = entries
        self._place(location)

    def keys(self) -> list[str]:
        return [str(key.value) for key, _ in self.entries]

    def get(self, key: str) -> Value | None:
        for k, value in self.entries:
            if k.value == key:
                return value
        return None

    def first_key(self) -> ScalarValue:
        """The value of the first key (``conv`` in ``{conv: {…}}``); the mapping has one."""
        return self.entries[0][0].value

    def key_location(self, key: str) -> Location:
        for k, _ in self.entries:
            if k.value == key:
                return k.location
        return self.location

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        return f"Map({self.entries!r}, {self.location!r})"


Value = Scalar | Seq | Map

_new = object.__new__


def location_at(file: str, line: int, column: int) -> Location:
    """``Location(file, line, column)``, through its slots (the build asks for one per layer; a
    frozen dataclass's ``__init__`` costs three times as much)."""
    location: Location = _new(Location)
    _set_file(location, file)
    _set_line(location, line)
    _set_column(location, column)
    return location


def scalar_at(value: ScalarValue, text: str, file: str, line: int, column: int) -> Scalar:
    """A :class:`Scalar` at ``file:line:column``, without a :class:`Location` (for readers)."""
    node: Scalar = _new(Scalar)
    node.value = value
    node.text = text
    node.file = file
    node.line = line
    node.column = column
    return node


def seq_at(items: tuple[Value, ...], file: str, line: int, column: int) -> Seq:
    node: Seq = _new(Seq)
    node.items = items
    node.file = file
    node.line = line
    node.column = column
    return node


def map_at(entries: tuple[tuple[Scalar, Value], ...], file: str, line: int, column: int) -> Map:
    node: Map = _new(Map)
    node.entries = entries
    node.file = file
    node.line = line
    node.column = column
    return node


def same(a: Value, b: Value) -> bool:
    """Whether two trees hold the same values (types included: ``1``, ``1.0`` and ``true`` differ),
    texts and locations (a :class:`Map` and a subclass of it holding the same are the same)."""
    if _kind(a) is not _kind(b) or (a.file, a.line, a.column) != (b.file, b.line, b.column):
        return False
    if isinstance(a, Scalar):
        assert isinstance(b, Scalar)
        equal = a.value == b.value or (a.value != a.value and b.value != b.value)  # NaN
        return type(a.value) is type(b.value) and equal and a.text == b.text
    if isinstance(a, Seq):
        assert isinstance(b, Seq)
        return len(a.items) == len(b.items) and all(map(same, a.items, b.items))
    assert isinstance(a, Map)
    assert isinstance(b, Map)
    return len(a.entries) == len(b.entries) and all(
        same(ka, kb) and same(va, vb)
        for (ka, va), (kb, vb) in zip(a.entries, b.entries, strict=True)
    )


def _kind(value: Value) -> type:
    """Scalar, Seq or Map (a reader may make a subclass that makes its content when asked)."""
    return Scalar if isinstance(value, Scalar) else Seq if isinstance(value, Seq) else Map


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
