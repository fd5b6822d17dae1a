"""A group of places with the same shape as one reusable block with parameters.

A unit's *shape* is its entries without names, with every integer field (and repeat count)
left open as a *slot*; places of one shape differ only in their slots' values. `make_block`
writes the block once, a slot whose values differ between places becoming a parameter (one
per distinct column of values of one kind of field; a column that is a whole multiple of
another of its kind is written ``${out * 4}``), and the use of it that replaces each place.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from convcost.importer.writer import (
    Block,
    Entry,
    Layer,
    Merge,
    Value,
    group_name,
    unique,
)
from convcost.layers.registry import KIND_NAMES
from convcost.valueclasses import dataclass, replace

OPEN = "#"
"""Stands for an integer field in a unit's shape."""


@dataclass(slots=True)
class Unit:
    """One place a unit occurs: the list it is in and its span there."""

    owner: list[Entry]
    start: int
    stop: int
    shape: object
    slots: list[Value]

    @property
    def entries(self) -> list[Entry]:
        return self.owner[self.start : self.stop]


def walk(entries: Sequence[Entry]) -> Iterator[Entry]:
    """Every entry, and every entry in their branches, in the order they are written."""
    for entry in entries:
        yield entry
        if isinstance(entry, Merge):
            for _, body in entry.branches:
                yield from walk(body)


def is_open(value: Value) -> bool:
    """Whether a field value is an integer or a (nested) list of integers: a parameter."""
    if isinstance(value, list):
        return bool(value) and all(is_open(item) for item in value)
    return isinstance(value, int) and not isinstance(value, bool)


def hashable(value: Value) -> object:
    if isinstance(value, list):
        return tuple(hashable(item) for item in value)
    return value


def shape_of(entry: Entry, slots: list[Value]) -> object:
    """The entry without names, its integer fields open (their values appended to slots)."""
    if isinstance(entry, Layer):
        fields: list[tuple[str, object]] = []
        for key, value in entry.fields:
            if is_open(value):
                slots.append(value)
                fields.append((key, OPEN))
            else:
                fields.append((key, hashable(value)))
        slots.append(entry.repeat)
        return ("layer", entry.kind, tuple(fields))
    branches = tuple(tuple(shape_of(each, slots) for each in body) for _, body in entry.branches)
    slots.append(entry.repeat)
    return ("merge", entry.kind, branches)


def make_block(
    units: list[Unit], blocks: list[tuple[str, Block]], stem: str | None = None
) -> tuple[str, Block, list[tuple[Unit, Layer]]]:
    """The block for a group of units, and the use of it that replaces each unit."""
    first = units[0]
    params: dict[str, int] = {}
    """Each parameter, and the slot whose values it takes."""
    columns: dict[str, dict[tuple[object, ...], str]] = {}
    """The parameters by kind of field (``out``, ``stride``) and the values they take: one
    parameter for equal columns of one kind, never across kinds (a stride is not a count)."""
    fills: list[Value] = []
    keys = iter(_slot_keys(first.entries))
    for index in range(len(first.slots)):
        key = next(keys).rstrip("0123456789") or "n"  # `out2` of an inner block is an `out`
        column = tuple(hashable(unit.slots[index]) for unit in units)
        if len(set(column)) == 1:
            fills.append(first.slots[index])
            continue
        known = columns.setdefault(key, {})
        fill = _derived(column, known)
        if fill is None:
            param = known.get(column) or unique(key, [*params, "in_channels"])
            params.setdefault(param, index)
            known[column] = param
            fill = f"${param}"
        fills.append(fill)
    name = unique(stem or _block_stem(first.entries[0]), [*KIND_NAMES, *(n for n, _ in blocks)])
    body = tuple(_anonymous(entry) for entry in _fill(first.entries, iter(fills)))
    uses: list[tuple[Unit, Layer]] = []
    seen: dict[tuple[int, str | None], int] = {}
    for unit in units:
        first_entry = unit.owner[unit.start]
        args = tuple((param, unit.slots[index]) for param, index in params.items())
        if stem is None:  # a merge and what follows it: named by its nodes, or the merge's
            names = [each.name for each in walk(unit.entries)]
            named = group_name(names, partial=True) or first_entry.name
        else:  # a stage: by what its entries' names share, if each has one
            named = group_name([each.name for each in unit.entries])
        comment = first_entry.comment if stem is None else None
        uses.append((unit, Layer(kind=name, fields=args, name=named, comment=comment)))
        seen[id(unit.owner), named] = seen.get((id(unit.owner), named), 0) + 1
    # a name two uses in one list would share says less than convcost's own: stage1, stage2
    uses = [
        (unit, use if seen[id(unit.owner), use.name] == 1 else replace(use, name=None))
        for unit, use in uses
    ]
    return name, Block(tuple(params), body), uses


def _derived(column: tuple[object, ...], known: dict[tuple[object, ...], str]) -> str | None:
    """``${param * k}`` when the column is a whole multiple k ≥ 2 of a parameter's column."""
    values = [value for value in column if isinstance(value, int)]
    if len(values) != len(column):
        return None
    for other, param in known.items():
        bases = [base for base in other if isinstance(base, int) and base > 0]
        if len(bases) != len(other) or values[0] % bases[0]:
            continue
        factor = values[0] // bases[0]
        if factor >= 2 and all(a == factor * b for a, b in zip(values, bases, strict=True)):
            return f"${{{param} * {factor}}}"
    return None


def _slot_keys(entries: Sequence[Entry]) -> Iterator[str]:
    """The names of the open slots, in the order `shape` opens them (`count` for repeat)."""
    for entry in entries:
        if isinstance(entry, Layer):
            yield from (key for key, value in entry.fields if is_open(value))
        else:
            for _, body in entry.branches:
                yield from _slot_keys(body)
        yield "count"


def _fill(entries: Sequence[Entry], fills: Iterator[Value]) -> list[Entry]:
    """The entries with their open slots set, in order, from ``fills``."""
    filled: list[Entry] = []
    for entry in entries:
        changed: Entry
        if isinstance(entry, Layer):
            fields = tuple(
                (key, next(fills) if is_open(value) else value) for key, value in entry.fields
            )
            changed = replace(entry, fields=fields)
        else:
            branches = tuple((name, _fill(body, fills)) for name, body in entry.branches)
            changed = replace(entry, branches=branches)  # type: ignore[arg-type]
        repeat = next(fills)
        assert isinstance(repeat, int | str)
        filled.append(replace(changed, repeat=repeat))
    return filled


def _anonymous(entry: Entry) -> Entry:
    """The entry without names or comments (a block's layers take convcost's names)."""
    if isinstance(entry, Merge):
        branches = tuple(
            (name, tuple(_anonymous(each) for each in body)) for name, body in entry.branches
        )
        return replace(entry, branches=branches, name=None, comment=None)
    return replace(entry, name=None, comment=None)


def has_identity(entry: Entry) -> bool:
    """Whether ``entry`` is a merge with an identity branch (``[]``)."""
    return isinstance(entry, Merge) and any(not body for _, body in entry.branches)


def _block_stem(merge: Entry) -> str:
    assert isinstance(merge, Merge)
    identity = has_identity(merge)
    match merge.kind, identity:
        case "add", True:
            return "residual"
        case "add", False:
            return "residual_proj"
        case "concat", True:
            return "dense"
        case "concat", False:
            return "towers"
        case "multiply", True:
            return "gated"
    return "product"
