"""A layer's fields in one form while blocks are found, and in their shortest form written.

Two exports of the same layer may spell its fields differently (``stride: 1`` or nothing,
``kernel: [3, 3]`` or ``3``). `complete` writes every field with a constant default out, in
one order, so that equal layers compare equal when `convcost.importer.blocks` looks for
repeats; `tidy` then leaves out what equals its default, as a person would write it.
"""

from __future__ import annotations

from typing import Any

from convcost.importer.writer import Entry, Merge, Value
from convcost.layers.kind import Field, FieldType
from convcost.layers.registry import KINDS
from convcost.valueclasses import replace

ORDER = (
    "out",
    "kernel",
    "stride",
    "padding",
    "output_padding",
    "dilation",
    "groups",
    "multiplier",
    "size",
    "parts",
    "index",
    "ceil_mode",
    "bias",
    "eps",
    "p",
    "mode",
)
"""The order fields are written in (docs/spec-format.md's); any other field follows."""


def complete(kind: str, fields: dict[str, Value]) -> tuple[tuple[str, Value], ...]:
    """``fields`` with every field of a constant default present, per-axis lists of one value
    as that value, in `ORDER`. An unknown kind (a block) keeps its fields as they are."""
    known = KINDS.get(kind)
    if known is None:
        return tuple(fields.items())
    given = dict(fields)
    for field in known.fields:
        if field.type in (FieldType.PER_AXIS, FieldType.PADDING) and field.name in given:
            given[field.name] = _one_value(given[field.name])
        elif field.name not in given and not field.required and not field.default_note:
            given[field.name] = field.default
    rank = {key: index for index, key in enumerate(ORDER)}
    return tuple(sorted(given.items(), key=lambda item: rank.get(item[0], len(ORDER))))


def tidy(entries: tuple[Entry, ...]) -> tuple[Entry, ...]:
    """The entries without the fields that equal their default (``stride: 1``, ``bias: true``,
    a pool's stride equal to its kernel)."""
    tidied: list[Entry] = []
    for entry in entries:
        if isinstance(entry, Merge):
            branches = tuple((name, tidy(body)) for name, body in entry.branches)
            tidied.append(replace(entry, branches=branches))
            continue
        kind = KINDS.get(entry.kind)
        if kind is None:  # a block's use: its arguments stay as they are
            tidied.append(entry)
            continue
        known = {field.name: field for field in kind.fields}
        given = dict(entry.fields)
        fields = tuple(item for item in entry.fields if not _is_default(item[0], given, known))
        tidied.append(replace(entry, fields=fields))
    return tuple(tidied)


def _is_default(key: str, given: dict[str, Value], known: dict[str, Field[Any]]) -> bool:
    field = known.get(key)
    if field is None or field.required:
        return False
    if field.default_note:  # a pool's stride defaults to its kernel
        return key == "stride" and "kernel" in given and _equal(given[key], given["kernel"])
    return _equal(given[key], field.default)


def _one_value(value: Value) -> Value:
    """A per-axis list whose items are all the same (a padding pair counts as its value when
    both sides are equal) as that one item."""
    if not isinstance(value, list) or not value:
        return value
    items = [
        item[0] if isinstance(item, list) and len(item) == 2 and _equal(item[0], item[1]) else item
        for item in value
    ]
    first = items[0]
    if isinstance(first, int) and all(_equal(item, first) for item in items):
        return first
    return value


def _equal(a: object, b: object) -> bool:
    """Equal and of the same type (``True`` is not ``1`` here)."""
    return type(a) is type(b) and a == b
