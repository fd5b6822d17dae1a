"""A spec document read from libyaml's events (PyYAML's own parser without libyaml): the path
of :func:`convcost.document.compose` for whatever the plain reader (:mod:`convcost.plainyaml`)
declines, and the source of every error message about YAML.

The only module that imports ``yaml`` (imported by :mod:`convcost.document` on demand: a spec
in the plain subset never loads PyYAML). PyYAML's composer builds a node graph recursively
and its constructor copies every alias, so a 600-byte file could take gigabytes and a deep
one a RecursionError. Here the parser's event stream is turned into :mod:`convcost.tree`
values by one loop with an explicit stack, which enforces every bound as it goes:

- the file size (:attr:`Limits.max_spec_bytes`) before anything is parsed
  (:mod:`convcost.spec_bytes`);
- the nesting depth (:data:`MAX_NESTING`), counting what aliases bring in;
- the expanded size (:attr:`Limits.max_yaml_nodes`): an alias counts every node it stands
  for, but shares the value it names instead of copying it;
- plain data only: the core tags (``!!str``, ``!!int``, ``!!float``, ``!!bool``, ``!!null``,
  ``!!seq``, ``!!map``); no merge keys; integers within int64, and none of YAML 1.1's
  octal (``017``) or base-60 (``1:30``) readings (:mod:`convcost.yaml_scalars`,
  :mod:`convcost.yaml_numbers`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

import yaml
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from convcost.errors import ConvcostError, Location, ResourceLimitError, SpecError
from convcost.limits import MAX_ALIAS_NODES, MAX_NESTING, Limits
from convcost.tree import Scalar, Value, describe, map_at, scalar_at, seq_at, shown
from convcost.yaml_scalars import CORE, Scalars, tag_error

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVE: Callable[[type[yaml.Node], str, tuple[bool, bool]], str] = (
    yaml.resolver.Resolver().resolve
)


def resolve(text: str, implicit: tuple[bool, bool]) -> str:
    """The tag PyYAML's resolver gives an untagged scalar (:mod:`convcost.yaml_scalars` reads
    the common forms without it)."""
    return _RESOLVE(yaml.ScalarNode, text, implicit)


def compose_events(text: str, source: str, composer: Composer) -> Value | None:
    """The document read from libyaml's events (or PyYAML's parser without libyaml)."""
    loader = _LOADER(text)
    try:
        loader.get_event()  # stream start
        if loader.check_event(StreamEndEvent):
            return None
        loader.get_event()  # document start
        root = composer.document(loader)
        loader.get_event()  # document end
        if not loader.check_event(StreamEndEvent):
            raise SpecError(
                "invalid YAML: expected a single document in the stream but found another document",
                location=_location(source, loader.get_event().start_mark),
            )
        return root
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = _location(source, mark) if mark else None
        problem = " ".join(part for part in (exc.context, exc.problem) if part)
        hint = _brace_hint(text, mark.line) if mark else ""
        raise SpecError(f"invalid YAML: {problem}{hint}", location=location) from None
    except yaml.reader.ReaderError as exc:
        # no mark: the reader gives a character offset (and a two-line str())
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        character = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise SpecError(
            f"invalid YAML: unacceptable character #x{ord(character):04x}: {exc.reason}",
            location=Location(source, line, column),
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", location=Location(source, 1, 1)) from None
    finally:
        loader.dispose()


_UNQUOTED_EXPRESSION = r"([A-Za-z_][A-Za-z0-9_]*):\s*(\$\{[^}\n]*\})"
"""Searched in a line YAML failed to read (compiled then, by :func:`re.search`)."""


def _brace_hint(text: str, line: int) -> str:
    """Why ``{out: ${c * 2}}`` is not YAML, when the failing line holds an unquoted ``${…}``."""
    lines = text.split("\n", line + 1)
    found = re.search(_UNQUOTED_EXPRESSION, lines[line]) if line < len(lines) else None
    if found is None or "{" not in lines[line][: found.start()]:
        return ""
    key, expression = found.groups()
    return (
        f" (an unquoted {expression} inside {{…}}: its braces end the mapping;"
        f' quote it: {key}: "{expression}")'
    )


def _location(source: str, mark: yaml.Mark) -> Location:
    return Location(source, mark.line + 1, mark.column + 1)


class _Events(Protocol):
    """The part of a PyYAML loader that yields parser events."""

    def get_event(self) -> Any: ...


class _Frame:
    """An open list or mapping while its items are read."""

    __slots__ = ("anchor", "column", "height", "is_map", "items", "key", "line", "seen", "size")

    def __init__(self, line: int, column: int, anchor: str | None, *, is_map: bool) -> None:
        self.line = line
        self.column = column
        self.anchor = anchor
        self.is_map = is_map
        self.items: list[Value] = []
        self.key: Scalar | None = None
        self.seen: dict[object, int] = {}
        """The keys read so far, with their lines."""
        self.size = 1
        """Nodes this value stands for once aliases are expanded (itself included)."""
        self.height = 1
        """Levels of lists and mappings, itself included (what aliases bring in counts)."""


_OPEN = object()
"""An anchor whose list or mapping is still being read: an alias to it is recursive."""


class Composer:
    """One document's located tree, from its parser events (:meth:`document`)."""

    def __init__(
        self,
        source: str,
        limits: Limits,
        on_top_key: Callable[[Scalar], None] | None,
        scalars: Scalars | None = None,
    ) -> None:
        self.source = source
        self.limit = limits.max_yaml_nodes
        self.on_top_key = on_top_key
        scalars = Scalars() if scalars is None else scalars
        self.scalar_value = scalars.value
        self.scalars = scalars.cache
        self.anchors: dict[str, tuple[Value, int, int] | object] = {}
        self.nodes = 0
        self.aliased = 0
        """Nodes the aliases stood for so far (:data:`MAX_ALIAS_NODES`)."""

    def document(self, loader: _Events) -> Value:
        stack: list[_Frame] = []
        try:
            return self._document(loader, stack)
        except ConvcostError as error:
            if error.field is None and stack:
                error.field = _path(stack) or None  # where in the document: layers[2].conv.out
            raise

    def _document(self, loader: _Events, stack: list[_Frame]) -> Value:
        source = self.source
        while True:
            event = loader.get_event()
            kind = type(event)
            if kind is SequenceEndEvent or kind is MappingEndEvent:
                frame = stack.pop()
                if frame.is_map:
                    pairs = frame.items
                    value: Value = map_at(
                        tuple(zip(pairs[::2], pairs[1::2], strict=True)),  # type: ignore[arg-type]
                        source,
                        frame.line,
                        frame.column,
                    )
                else:
                    value = seq_at(tuple(frame.items), source, frame.line, frame.column)
                size, height = frame.size, frame.height
                if frame.anchor is not None:
                    self.anchors[frame.anchor] = (value, size, height)
            else:
                mark = event.start_mark
                line, column = mark.line + 1, mark.column + 1
                # a Location is made only for an error: `_at`
                if kind is ScalarEvent:
                    self.nodes += 1
                    if self.nodes > self.limit:
                        raise self._too_large(1, self._at(line, column), None)
                    is_key = bool(stack) and stack[-1].is_map and stack[-1].key is None
                    text = event.value
                    key = (event.tag, event.implicit, text)
                    constructed = self.scalars.get(key, _OPEN)
                    if constructed is _OPEN or (is_key and constructed == "<<"):
                        constructed = self.scalar_value(
                            event.tag, event.implicit, text, self._at(line, column), is_key
                        )
                    value = scalar_at(constructed, text, source, line, column)  # type: ignore[arg-type]
                    size, height = 1, 0
                    if event.anchor is not None:
                        self.anchors[event.anchor] = (value, 1, 0)
                elif kind is AliasEvent:
                    location = self._at(line, column)
                    value, size, height = self._alias(event.anchor, location, len(stack))
                else:
                    self._open(event, line, column, stack)
                    continue
            if not stack:
                return value
            self._add(stack, value, size, height)

    def _at(self, line: int, column: int) -> Location:
        return Location(self.source, line, column)

    def _open(self, event: Any, line: int, column: int, stack: list[_Frame]) -> None:
        is_map = type(event) is MappingStartEvent
        assert is_map or type(event) is SequenceStartEvent, event
        self.nodes += 1
        if self.nodes > self.limit:
            raise self._too_large(1, self._at(line, column), None)
        expected = CORE + ("map" if is_map else "seq")
        if event.tag is not None and event.tag not in ("!", expected):
            raise tag_error(event.tag, self._at(line, column))
        if len(stack) >= MAX_NESTING:
            raise SpecError(
                f"lists and mappings are nested more than {MAX_NESTING} levels deep",
                location=self._at(line, column),
            )
        stack.append(_Frame(line, column, event.anchor, is_map=is_map))
        if event.anchor is not None:
            self.anchors[event.anchor] = _OPEN

    def _add(self, stack: list[_Frame], value: Value, size: int, height: int) -> None:
        parent = stack[-1]
        parent.size += size
        if height >= parent.height:
            parent.height = height + 1
        if parent.is_map and parent.key is None:
            if not isinstance(value, Scalar) or not isinstance(value.value, str):
                raise SpecError(
                    f"mapping keys must be names, got {describe(value)}", location=value.location
                )
            first = parent.seen.get(value.value)
            if first is not None:
                raise SpecError(
                    f"duplicate key {shown(value.value)} (first at line {first})",
                    location=value.location,
                )
            parent.seen[value.value] = value.line
            if len(stack) == 1 and self.on_top_key is not None:
                self.on_top_key(value)  # before the key is set: its error names no field
            parent.key = value
        elif parent.is_map:
            assert parent.key is not None
            parent.items.append(parent.key)
            parent.items.append(value)
            parent.key = None
        else:
            parent.items.append(value)

    def _alias(self, anchor: str, location: Location, depth: int) -> tuple[Value, int, int]:
        named = self.anchors.get(anchor)
        if named is None:
            raise SpecError("invalid YAML: found undefined alias", location=location)
        if named is _OPEN:
            raise SpecError(
                f"alias *{anchor} is used inside the node it names: a recursive alias",
                location=location,
            )
        assert isinstance(named, tuple)
        value, size, height = named
        if depth + height > MAX_NESTING:
            raise SpecError(
                f"alias *{anchor} nests lists and mappings more than {MAX_NESTING} levels deep",
                location=location,
            )
        self._count(size, location, anchor)
        self.aliased += size
        if self.aliased > MAX_ALIAS_NODES:  # within max_yaml_nodes, once that is raised
            raise ResourceLimitError(
                f"the YAML document is too large: alias *{anchor} stands for {size} nodes and "
                f"aliases bring in more than {MAX_ALIAS_NODES} nodes (MAX_ALIAS_NODES, "
                "whatever Limits.max_yaml_nodes allows)",
                location=location,
            )
        return value, size, height

    def _count(self, size: int, location: Location, anchor: str | None) -> None:
        self.nodes += size
        if self.nodes > self.limit:
            raise self._too_large(size, location, anchor)

    def _too_large(self, size: int, location: Location, anchor: str | None) -> ResourceLimitError:
        cause = "it has" if anchor is None else f"alias *{anchor} stands for {size} nodes and takes"
        return ResourceLimitError(
            f"the YAML document is too large: {cause} more than {self.limit} nodes once "
            "aliases are expanded (Limits.max_yaml_nodes)",
            location=location,
        )


def _path(stack: list[_Frame]) -> str:
    """The path of the value being read, as convcost names fields: ``layers[2].conv.out``."""
    parts = []
    for frame in stack:
        if not frame.is_map:
            parts.append(f"[{len(frame.items)}]")
        elif frame.key is not None:
            parts.append(f".{frame.key.value}")
    path = "".join(parts).removeprefix(".")
    return path if len(path) <= 80 else f"{path[:60]}…"
