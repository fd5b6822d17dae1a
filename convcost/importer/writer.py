"""A spec as a tree of entries, and its YAML text: deterministic, quoted for YAML 1.1.

The structurer (`convcost.importer.structure`) builds the tree and `convcost.importer.blocks`
rewrites it; this module writes it. PyYAML is not used here (only `convcost.document` reads
YAML): the text is written directly, in the look of the bundled zoo specs (block style for
lists, flow style for a layer's fields), and every scalar YAML 1.1 would misread is quoted.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Container, Sequence

from convcost.valueclasses import dataclass, field

Value = object
"""A field value as the spec holds it: int, bool, float, str, None or a list of them."""


@dataclass(frozen=True, slots=True)
class Layer:
    """A layer entry, or the use of a reusable block (then `kind` is the block's name)."""

    kind: str
    fields: tuple[tuple[str, Value], ...]
    name: str | None = None
    """The layer's name; written only where it differs from the name convcost would give."""
    comment: str | None = None
    """A trailing comment (the source node), one line."""
    repeat: int | str = 1
    """How many times the entry runs; a string in a block is a parameter (``$count``)."""


@dataclass(frozen=True, slots=True)
class Merge:
    """A merge block: branches (name, entries) in the order the merge reads them."""

    kind: str
    branches: tuple[tuple[str, tuple[Entry, ...]], ...]
    name: str | None = None
    comment: str | None = None
    repeat: int | str = 1


Entry = Layer | Merge


@dataclass(frozen=True, slots=True)
class Block:
    """A reusable block: parameter names (all required) and its layers."""

    params: tuple[str, ...]
    layers: tuple[Entry, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """A whole spec, with the comment lines that head it."""

    name: str
    input_shape: tuple[int, ...]
    layers: tuple[Entry, ...]
    blocks: tuple[tuple[str, Block], ...] = ()
    header: tuple[str, ...] = field(default_factory=tuple)


_PLAIN = re.compile(r"\$?[A-Za-z_][A-Za-z0-9_-]*")
_YAML11_WORDS = frozenset(
    {"y", "yes", "n", "no", "true", "false", "on", "off", "null", "nan", "inf"}
)
_INDENT = "  "


def scalar(value: Value) -> str:
    """One value as YAML 1.1 reads it back unchanged (strings quoted where needed)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return text(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(scalar(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} into a spec")


def text(value: str) -> str:
    """A string as a plain scalar when YAML 1.1 reads it as that string, else double-quoted."""
    if _PLAIN.fullmatch(value) and value.lower() not in _YAML11_WORDS:
        return value
    return json.dumps(value)  # JSON's escapes are YAML double-quoted escapes


def _float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    mantissa, _, exponent = repr(value).partition("e")
    if "." not in mantissa:
        mantissa += ".0"  # YAML 1.1 needs the dot: 1e-05 would read as a string
    if not exponent:
        return mantissa
    sign = "" if exponent[0] in "+-" else "+"  # and a signed exponent
    return f"{mantissa}e{sign}{exponent}"


def comment_text(value: str) -> str:
    """``value`` made safe for a one-line comment: printable characters only."""
    if value.isprintable():
        return value
    return "".join(c if c.isprintable() else "?" for c in value)


def write(document: Document) -> str:
    """The spec's YAML text; the same document always gives the same text."""
    lines = [f"# {comment_text(line)}".rstrip() for line in document.header]
    lines.append(f"name: {text(document.name)}")
    lines.append(f"input: {scalar(document.input_shape)}")
    if document.blocks:
        lines.append("blocks:")
        for name, block in document.blocks:
            lines.append(f"{_INDENT}{text(name)}:")
            if block.params:
                params = ", ".join(f"{text(param)}: null" for param in block.params)
                lines.append(f"{_INDENT * 2}params: {{{params}}}")
            lines.append(f"{_INDENT * 2}layers:")
            lines.extend(_entries(block.layers, 3))
    lines.append("layers:")
    lines.extend(_entries(document.layers, 1))
    return "\n".join(lines) + "\n"


def _entries(entries: Sequence[Entry], depth: int) -> list[str]:
    lines: list[str] = []
    names = written_names(entries)
    indent = _INDENT * depth
    for entry, name in zip(entries, names, strict=True):
        comment = f"  # {comment_text(entry.comment)}" if entry.comment else ""
        match entry:
            case Layer():
                fields = ", ".join(f"{text(key)}: {scalar(value)}" for key, value in entry.fields)
                lines.append(f"{indent}- {text(entry.kind)}: {{{fields}}}{comment}")
            case Merge():
                lines.append(f"{indent}- {entry.kind}:{comment}")
                for branch, body in entry.branches:
                    if body:
                        lines.append(f"{indent}{_INDENT * 2}{text(branch)}:")
                        lines.extend(_entries(body, depth + 3))
                    else:
                        lines.append(f"{indent}{_INDENT * 2}{text(branch)}: []")
        if entry.repeat != 1:
            lines.append(f"{indent}  repeat: {scalar(entry.repeat)}")
        if name is not None:
            lines.append(f"{indent}  name: {text(name)}")
    return lines


def written_names(entries: Sequence[Entry]) -> list[str | None]:
    """The `name:` to write for each entry: None where convcost's default name is the same.

    convcost names an entry without `name:` by its kind and a counter of the unnamed entries
    of that kind in the list, skipping names already taken (`conv1`, `conv2`, ...); an entry
    with a name is written with it unless that default is the name. An unnamed entry whose
    default would take a name given further down is written with a name of its own.
    """
    given = {entry.name for entry in entries if entry.name is not None}
    taken: set[str] = set()
    counters: dict[str, int] = {}
    names: list[str | None] = []
    for entry in entries:
        count = counters.get(entry.kind, 0)
        while True:
            count += 1
            default = f"{entry.kind}{count}"
            if default not in taken:
                break
        if entry.name == default:
            counters[entry.kind] = count
            names.append(None)
            taken.add(default)
        elif entry.name is not None:
            own = unique(entry.name, taken)  # the graph's names are unique: groups' may not be
            names.append(own)
            taken.add(own)
        elif default in given:
            own = unique(f"{default}_", taken | given)
            names.append(own)
            taken.add(own)
        else:
            counters[entry.kind] = count
            names.append(None)
            taken.add(default)
    return names


def unique(stem: str, taken: Container[str]) -> str:
    """``stem`` if it is free, else ``stem2``, ``stem3``, ..."""
    if stem not in taken:
        return stem
    index = 2
    while f"{stem}{index}" in taken:
        index += 1
    return f"{stem}{index}"


def common_prefix(names: Sequence[str]) -> str:
    """The longest prefix of every name (two or more) that ends at a separator, ``_`` or
    ``-``: ``layer1_0_`` for ``layer1_0_conv1`` and ``layer1_0_add``."""
    if len(names) < 2:
        return ""
    end = 0
    for index, letters in enumerate(zip(*names, strict=False)):
        if len(set(letters)) != 1:
            break
        if letters[0] in "_-":
            end = index + 1
    return names[0][:end]


def group_name(names: Sequence[str | None], *, partial: bool = False) -> str | None:
    """A name for entries taken together: what two or more names share up to a separator
    (``layer1`` for ``layer1_1`` and ``layer1_2``, or for ``layer1_0`` and ``layer1``), or
    None; unless ``partial``, None as soon as one entry has no name."""
    if not partial and None in names:
        return None
    prefix = common_prefix([f"{name}_" for name in names if name is not None])
    return prefix[:-1] or None
