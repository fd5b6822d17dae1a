"""Repeated subgraphs as reusable blocks with parameters, and runs as `repeat:`.

The unit of reuse is a merge block with the activations that follow it (a ResNet bottleneck
and its final ReLU, a MobileNet inverted residual, a DenseNet layer, an Inception module).
Units are grouped by their shape: the same kinds, fields and nesting, with the integers
(channels, strides, kernel sizes) left open. A group seen at two places or more, or a unit of
several entries repeated in a row, becomes one block under `blocks:`; the integers that differ
between its uses become parameters (one per distinct column of values; a column that is a
whole multiple of another is written ``${out * 4}``), and each use passes them. Units nest
(a squeeze-and-excitation gate inside an inverted residual), so groups are formed innermost
first. Finally, equal entries in a row become one entry with ``repeat: N``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from convcost.importer.writer import (
    Block,
    Document,
    Entry,
    Layer,
    Merge,
    Value,
    group_name,
    unique,
)
from convcost.kinds import KIND_NAMES

TRAILING = frozenset(
    {"relu", "relu6", "sigmoid", "swish", "silu", "gelu", "tanh", "hardswish", "hardsigmoid"}
    | {"channel_shuffle"}
)
"""Kinds a unit takes along after its merge (ResNet's ReLU after the add, ShuffleNet's
channel shuffle after the concat)."""

_OPEN = "#"
"""Stands for an integer field in a unit's shape."""


@dataclass(slots=True)
class _Unit:
    """One place a unit occurs: the list it is in and its span there."""

    owner: list[Entry]
    start: int
    stop: int
    shape: object
    slots: list[Value]

    @property
    def entries(self) -> list[Entry]:
        return self.owner[self.start : self.stop]


def compress(document: Document) -> Document:
    """``document`` with repeated units as blocks and runs of equal entries as ``repeat:``."""
    top = [_mutable(entry) for entry in document.layers]
    blocks: list[tuple[str, Block]] = []
    settled: set[int] = set()
    """The merges (by id) found not worth a block: leaves for the merges around them."""
    while True:
        groups: dict[object, list[_Unit]] = {}
        for owner in _lists(top):
            for unit in _units(owner, settled):
                groups.setdefault(unit.shape, []).append(unit)
        if not groups:
            break
        uses: list[tuple[_Unit, Layer]] = []
        for units in groups.values():
            if _worth_a_block(units):
                name, block, placed = _make_block(units, blocks)
                blocks.append((name, block))
                uses.extend(placed)
            else:
                settled.update(id(unit.owner[unit.start]) for unit in units)
        # From the last span of each list back, so the spans before keep their indices.
        for unit, use in sorted(uses, key=lambda pair: -pair[0].start):
            unit.owner[unit.start : unit.stop] = [use]
    _collapse(top)
    _stages(top, blocks)
    layers = _runs(_freeze(top))
    frozen = tuple(
        (name, Block(block.params, _runs(_freeze(block.layers)))) for name, block in blocks
    )
    return replace(document, layers=layers, blocks=frozen)


# The tree is rewritten in place while blocks are made: merges hold lists until frozen.


def _mutable(entry: Entry) -> Entry:
    if isinstance(entry, Merge):
        branches = tuple((name, [_mutable(each) for each in body]) for name, body in entry.branches)
        return replace(entry, branches=branches)  # type: ignore[arg-type]
    return entry


def _freeze(entries: Sequence[Entry]) -> tuple[Entry, ...]:
    frozen: list[Entry] = []
    for entry in entries:
        if isinstance(entry, Merge):
            branches = tuple((name, _runs(_freeze(body))) for name, body in entry.branches)
            frozen.append(replace(entry, branches=branches))
        else:
            frozen.append(entry)
    return tuple(frozen)


def _lists(entries: list[Entry]) -> Iterator[list[Entry]]:
    """Every list of entries in the tree, outermost first, in the order they are written."""
    yield entries
    for entry in entries:
        if isinstance(entry, Merge):
            for _, body in entry.branches:
                yield from _lists(body)  # type: ignore[arg-type]


def _walk(entries: Sequence[Entry]) -> Iterator[Entry]:
    for entry in entries:
        yield entry
        if isinstance(entry, Merge):
            for _, body in entry.branches:
                yield from _walk(body)


def _innermost(entry: Entry, settled: set[int]) -> bool:
    """Whether ``entry`` is a merge still open to grouping with none such inside it."""
    return (
        isinstance(entry, Merge)
        and id(entry) not in settled
        and not any(
            isinstance(each, Merge) and id(each) not in settled
            for each in _walk([each for _, body in entry.branches for each in body])
        )
    )


def _units(owner: list[Entry], settled: set[int]) -> Iterator[_Unit]:
    """The units of a list whose merges are innermost (groups form from the inside out)."""
    index = 0
    while index < len(owner):
        entry = owner[index]
        stop = index + 1
        if _innermost(entry, settled):
            while stop < len(owner) and _is_activation(owner[stop]):
                stop += 1
            slots: list[Value] = []
            shape = tuple(_shape(each, slots) for each in owner[index:stop])
            yield _Unit(owner, index, stop, shape, slots)
        index = stop


def _is_activation(entry: Entry) -> bool:
    return isinstance(entry, Layer) and entry.kind in TRAILING and entry.repeat == 1


def _is_open(value: Value) -> bool:
    """Whether a field value is an integer or a (nested) list of integers: a parameter."""
    if isinstance(value, list):
        return bool(value) and all(_is_open(item) for item in value)
    return isinstance(value, int) and not isinstance(value, bool)


def _hashable(value: Value) -> object:
    if isinstance(value, list):
        return tuple(_hashable(item) for item in value)
    return value


def _shape(entry: Entry, slots: list[Value]) -> object:
    """The entry without names, its integer fields open (their values appended to slots)."""
    if isinstance(entry, Layer):
        fields: list[tuple[str, object]] = []
        for key, value in entry.fields:
            if _is_open(value):
                slots.append(value)
                fields.append((key, _OPEN))
            else:
                fields.append((key, _hashable(value)))
        slots.append(entry.repeat)
        return ("layer", entry.kind, tuple(fields))
    branches = tuple(tuple(_shape(each, slots) for each in body) for _, body in entry.branches)
    slots.append(entry.repeat)
    return ("merge", entry.kind, branches)


def _exact(unit: _Unit) -> object:
    return _hashable(unit.slots)


def _worth_a_block(units: list[_Unit]) -> bool:
    """A group is a block when it occurs at two places or more (a run of equal units counts
    once), or when a unit of several entries repeats in a row (only a block can repeat it)."""
    places = 0
    longest = 1
    run = 1
    for previous, unit in zip([None, *units], units, strict=False):
        if (
            previous is not None
            and previous.owner is unit.owner
            and previous.stop == unit.start
            and _exact(previous) == _exact(unit)
        ):
            run += 1
        else:
            places += 1
            run = 1
        longest = max(longest, run)
    return places >= 2 or (longest >= 2 and units[0].stop - units[0].start > 1)


MAX_PERIOD = 12
"""The longest sequence of entries `_stages` looks for."""
MAX_STAGES = 16
"""How many stage blocks `_stages` makes at most (each pass reads the whole tree)."""


def _stages(top: list[Entry], blocks: list[tuple[str, Block]]) -> None:
    """Make blocks of sequences seen at two places or more that hold a merge or a block's use
    (a ResNet stage: its first bottleneck, then the others repeated; SqueezeNet's squeeze and
    fire), the sequence that covers the most entries first. Stages hold no stages."""
    stages: set[str] = set()
    for _ in range(MAX_STAGES):
        best: tuple[tuple[int, bool], list[_Unit]] | None = None
        units_of = {name for name, _ in blocks if name not in stages}
        identities = {name for name, block in blocks if _has_identity(block.layers[0])}
        for period in range(2, MAX_PERIOD + 1):
            for units in _windows(top, period, units_of, stages).values():
                # the most entries covered; of those, a stage that does not start with a unit
                # that keeps its input's shape (ResNet-18's stages start at their projection)
                first = units[0].entries[0]
                opens = not (_has_identity(first) or first.kind in identities)
                score = ((len(units) - 1) * period, opens)
                if len(units) >= 2 and (best is None or score > best[0]):
                    best = (score, units)
        if best is None:
            return
        name, block, uses = _make_block(best[1], blocks, stem="stage")
        blocks.append((name, block))
        stages.add(name)
        for unit, use in sorted(uses, key=lambda pair: -pair[0].start):
            unit.owner[unit.start : unit.stop] = [use]
        _collapse(top)


def _windows(
    top: list[Entry], period: int, units: set[str], stages: set[str]
) -> dict[object, list[_Unit]]:
    """Every sequence of ``period`` entries that ends with a merge or a unit's use (the layers
    that lead into a run of units, as a MobileNet stage's first block) and holds no stage, by
    shape; in each list, the sequences of one shape that do not overlap, from the left."""
    groups: dict[object, list[_Unit]] = {}
    for owner in _lists(top):
        ends: dict[object, int] = {}
        for start in range(len(owner) - period + 1):
            window = owner[start : start + period]
            last = window[-1]
            if not (isinstance(last, Merge) or last.kind in units) or any(
                entry.kind in stages for entry in _walk(window)
            ):
                continue
            slots: list[Value] = []
            shape = tuple(_shape(entry, slots) for entry in window)
            if start < ends.get(shape, 0):
                continue
            ends[shape] = start + period
            groups.setdefault(shape, []).append(_Unit(owner, start, start + period, shape, slots))
    return groups


def _collapse(top: list[Entry]) -> None:
    """Runs of equal entries as one entry with ``repeat``, in every list of the tree."""
    for owner in list(_lists(top)):
        owner[:] = _runs(owner)


def _make_block(
    units: list[_Unit], blocks: list[tuple[str, Block]], stem: str | None = None
) -> tuple[str, Block, list[tuple[_Unit, Layer]]]:
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
        column = tuple(_hashable(unit.slots[index]) for unit in units)
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
    uses: list[tuple[_Unit, Layer]] = []
    seen: dict[tuple[int, str | None], int] = {}
    for unit in units:
        first_entry = unit.owner[unit.start]
        args = tuple((param, unit.slots[index]) for param, index in params.items())
        if stem is None:  # a merge and what follows it: named by its nodes, or the merge's
            names = [each.name for each in _walk(unit.entries)]
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
    """The names of the open slots, in the order `_shape` opens them (`count` for repeat)."""
    for entry in entries:
        if isinstance(entry, Layer):
            yield from (key for key, value in entry.fields if _is_open(value))
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
                (key, next(fills) if _is_open(value) else value) for key, value in entry.fields
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


def _has_identity(entry: Entry) -> bool:
    """Whether ``entry`` is a merge with an identity branch (``[]``)."""
    return isinstance(entry, Merge) and any(not body for _, body in entry.branches)


def _block_stem(merge: Entry) -> str:
    assert isinstance(merge, Merge)
    identity = _has_identity(merge)
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


def _runs(entries: Sequence[Entry]) -> tuple[Entry, ...]:
    """Equal entries in a row (names aside) as one entry with ``repeat``, named by what their
    names share (``layer1`` for ``layer1_1`` and ``layer1_2``)."""
    runs: list[tuple[Entry, list[str | None]]] = []
    for entry in entries:
        last = runs[-1][0] if runs else None
        if (
            last is not None
            and isinstance(last.repeat, int)
            and isinstance(entry.repeat, int)
            and _same(last, entry)
        ):
            runs[-1] = (
                replace(last, repeat=last.repeat + entry.repeat),
                [*runs[-1][1], entry.name],
            )
        else:
            runs.append((entry, [entry.name]))
    return tuple(
        entry if len(names) == 1 else replace(entry, name=group_name(names), comment=None)
        for entry, names in runs
    )


def _same(a: Entry, b: Entry) -> bool:
    """Whether two entries are equal but for names, comments and repeat counts."""
    slots_a: list[Value] = []
    slots_b: list[Value] = []
    shape_a = _shape(replace(a, repeat=1), slots_a)
    shape_b = _shape(replace(b, repeat=1), slots_b)
    return shape_a == shape_b and _hashable(slots_a) == _hashable(slots_b)
