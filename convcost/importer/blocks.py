"""Repeated subgraphs as reusable blocks with parameters, and runs as `repeat:`.

The unit of reuse is a merge block with the activations that follow it (a ResNet bottleneck
and its final ReLU, a MobileNet inverted residual, a DenseNet layer, an Inception module).
Units are grouped by their shape (`convcost.importer.params`): the same kinds, fields and
nesting, with the integers (channels, strides, kernel sizes) left open. A group seen at two
places or more, or a unit of several entries repeated in a row, becomes one block under
`blocks:` whose parameters are the integers that differ between its uses. Units nest (a
squeeze-and-excitation gate inside an inverted residual), so groups are formed innermost first.
Then equal entries in a row become one entry with ``repeat: N``, and *stages* are found: a
sequence of layers ending in a unit, seen at two places or more (a ResNet stage: its first
bottleneck and the others repeated), becomes a block too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from convcost.importer.params import Unit, has_identity, hashable, make_block, shape_of, walk
from convcost.importer.writer import Block, Document, Entry, Layer, Merge, Value, group_name
from convcost.valueclasses import replace

TRAILING = frozenset(
    {"relu", "relu6", "sigmoid", "swish", "silu", "gelu", "tanh", "hardswish", "hardsigmoid"}
    | {"mish", "leaky_relu", "prelu", "elu", "channel_shuffle"}
)
"""Kinds a unit takes along after its merge (ResNet's ReLU after the add, a YOLO block's leaky
ReLU, ShuffleNet's channel shuffle after the concat)."""


def compress(document: Document) -> Document:
    """``document`` with repeated units as blocks and runs of equal entries as ``repeat:``."""
    top = [_mutable(entry) for entry in document.layers]
    blocks: list[tuple[str, Block]] = []
    settled: set[int] = set()
    """The merges (by id) found not worth a block: leaves for the merges around them."""
    while True:
        groups: dict[object, list[Unit]] = {}
        for owner in _lists(top):
            for unit in _units(owner, settled):
                groups.setdefault(unit.shape, []).append(unit)
        if not groups:
            break
        uses: list[tuple[Unit, Layer]] = []
        for units in groups.values():
            if _worth_a_block(units):
                name, block, placed = make_block(units, blocks)
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


def _innermost(entry: Entry, settled: set[int]) -> bool:
    """Whether ``entry`` is a merge still open to grouping with none such inside it."""
    return (
        isinstance(entry, Merge)
        and id(entry) not in settled
        and not any(
            isinstance(each, Merge) and id(each) not in settled
            for each in walk([each for _, body in entry.branches for each in body])
        )
    )


def _units(owner: list[Entry], settled: set[int]) -> Iterator[Unit]:
    """The units of a list whose merges are innermost (groups form from the inside out)."""
    index = 0
    while index < len(owner):
        entry = owner[index]
        stop = index + 1
        if _innermost(entry, settled):
            while stop < len(owner) and _is_activation(owner[stop]):
                stop += 1
            slots: list[Value] = []
            shape = tuple(shape_of(each, slots) for each in owner[index:stop])
            yield Unit(owner, index, stop, shape, slots)
        index = stop


def _is_activation(entry: Entry) -> bool:
    return isinstance(entry, Layer) and entry.kind in TRAILING and entry.repeat == 1


def _exact(unit: Unit) -> object:
    return hashable(unit.slots)


def _worth_a_block(units: list[Unit]) -> bool:
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
        best: tuple[tuple[int, bool], list[Unit]] | None = None
        units_of = {name for name, _ in blocks if name not in stages}
        identities = {name for name, block in blocks if has_identity(block.layers[0])}
        for period in range(2, MAX_PERIOD + 1):
            for units in _windows(top, period, units_of, stages).values():
                # the most entries covered; of those, a stage that does not start with a unit
                # that keeps its input's shape (ResNet-18's stages start at their projection)
                first = units[0].entries[0]
                opens = not (has_identity(first) or first.kind in identities)
                score = ((len(units) - 1) * period, opens)
                if len(units) >= 2 and (best is None or score > best[0]):
                    best = (score, units)
        if best is None:
            return
        name, block, uses = make_block(best[1], blocks, stem="stage")
        blocks.append((name, block))
        stages.add(name)
        for unit, use in sorted(uses, key=lambda pair: -pair[0].start):
            unit.owner[unit.start : unit.stop] = [use]
        _collapse(top)


def _windows(
    top: list[Entry], period: int, units: set[str], stages: set[str]
) -> dict[object, list[Unit]]:
    """Every sequence of ``period`` entries that ends with a merge or a unit's use (the layers
    that lead into a run of units, as a MobileNet stage's first block) and holds no stage, by
    shape; in each list, the sequences of one shape that do not overlap, from the left."""
    groups: dict[object, list[Unit]] = {}
    for owner in _lists(top):
        ends: dict[object, int] = {}
        for start in range(len(owner) - period + 1):
            window = owner[start : start + period]
            last = window[-1]
            if not (isinstance(last, Merge) or last.kind in units) or any(
                entry.kind in stages for entry in walk(window)
            ):
                continue
            slots: list[Value] = []
            shape = tuple(shape_of(entry, slots) for entry in window)
            if start < ends.get(shape, 0):
                continue
            ends[shape] = start + period
            groups.setdefault(shape, []).append(Unit(owner, start, start + period, shape, slots))
    return groups


def _collapse(top: list[Entry]) -> None:
    """Runs of equal entries as one entry with ``repeat``, in every list of the tree."""
    for owner in list(_lists(top)):
        owner[:] = _runs(owner)


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
            names = runs[-1][1]
            names.append(entry.name)
            runs[-1] = (replace(last, repeat=last.repeat + entry.repeat), names)
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
    shape_a = shape_of(replace(a, repeat=1), slots_a)
    shape_b = shape_of(replace(b, repeat=1), slots_b)
    return shape_a == shape_b and hashable(slots_a) == hashable(slots_b)
