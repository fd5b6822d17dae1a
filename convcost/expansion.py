"""How many nodes a layer entry expands to, at least, before it is expanded.

The builder asks before it builds a block use, a merge or a ``repeat``, so that
``repeat: 1000000000`` or thirty blocks that each use the next twice (2³⁰ layers) are refused
without being allocated. A size counts the nodes the builder makes, each as one: a layer, a
merge, a use of a block, a ``repeat`` group. It is a lower bound, never above the real count:
a ``repeat`` written as an expression counts as one repetition (the builder passes the
resolved count for the entry it is about to build), and every layer kind counts one (a
``separable`` is three). Counts saturate at :data:`~convcost.limits.MAX_INT`.

Nothing here recurses: a block's body is read once into a linear form (so many nodes, plus so
many uses of each block), blocks are resolved in dependency order with an explicit stack, and
merge branches go through a work list; a chain of 350 blocks needs no deeper a stack than one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from convcost.kinds import MERGE_KINDS
from convcost.limits import MAX_INT
from convcost.spec import BlockDef, Spec
from convcost.tree import Map, Scalar, Seq, Value

ENTRY_KEYS = ("name", "repeat")
"""The keys of a layer entry besides its kind."""


def _saturated(count: int) -> int:
    return min(count, MAX_INT)


@dataclass(slots=True)
class _Form:
    """A layer list's size: ``nodes`` plus, for each block it uses, how many times."""

    nodes: int = 0
    uses: dict[str, int] = field(default_factory=dict)


class Sizes:
    """Lower bounds on expanded sizes for one spec, cached per block and per merge."""

    def __init__(self, spec: Spec) -> None:
        self.blocks: dict[str, BlockDef] = {block.name: block for block in spec.blocks}
        self._forms: dict[str, _Form] = {}
        self._sizes: dict[str, int] = {}
        self._merges: dict[int, int] = {}
        """Keyed by the ``id`` of the merge's branch mapping (kept alive by the spec)."""

    def entry(self, kind: str, args: Value, repeat: int | None) -> int:
        """At least how many nodes an entry builds, with its ``repeat`` already resolved."""
        one = self._kind(kind, args)
        return one if repeat is None else _saturated(1 + repeat * one)

    def block(self, name: str) -> int:
        """At least how many nodes one use of block ``name`` builds (its group included)."""
        if name in self._sizes:
            return self._sizes[name]
        stack, open_ = [name], {name}
        while stack:
            current = stack[-1]
            form = self._form(current)
            pending = next(
                (used for used in form.uses if used not in self._sizes and used not in open_),
                None,
            )
            if pending is not None:
                open_.add(pending)
                stack.append(pending)
                continue
            stack.pop()
            open_.discard(current)
            # a block still open here uses itself: the builder reports that cycle
            self._sizes[current] = _saturated(1 + self._value(form))
        return self._sizes[name]

    def _kind(self, kind: str, args: Value) -> int:
        if kind in MERGE_KINDS:
            return self._merge(args)
        if kind in self.blocks:
            return self.block(kind)
        return 1

    def _merge(self, args: Value) -> int:
        if not isinstance(args, Map):
            return 1
        key = id(args)
        if key not in self._merges:
            branches = [(branch, 1) for _, branch in args.entries if isinstance(branch, Seq)]
            self._merges[key] = _saturated(1 + self._value(self._read(branches)))
        return self._merges[key]

    def _form(self, name: str) -> _Form:
        if name not in self._forms:
            self._forms[name] = self._read([(self.blocks[name].layers, 1)])
        return self._forms[name]

    def _value(self, form: _Form) -> int:
        total = form.nodes
        for used, times in form.uses.items():
            total = _saturated(total + times * self._sizes.get(used, 1))
        return total

    def _read(self, lists: list[tuple[Seq, int]]) -> _Form:
        """The linear form of layer lists, each taken ``times`` times."""
        form = _Form()
        work = list(lists)
        while work:
            entries, times = work.pop()
            for raw in entries:
                if not isinstance(raw, Map) or (parts := _kind(raw)) is None:
                    continue  # the builder reports a malformed entry
                kind, args = parts
                here = times
                repeat = raw.get("repeat")
                if repeat is not None:
                    form.nodes += times  # the repeat group
                    here = _saturated(times * _literal(repeat))
                if kind in MERGE_KINDS:
                    form.nodes += here
                    if isinstance(args, Map):
                        work.extend(
                            (branch, here) for _, branch in args.entries if isinstance(branch, Seq)
                        )
                elif kind in self.blocks:
                    form.uses[kind] = _saturated(form.uses.get(kind, 0) + here)
                else:
                    form.nodes += here
                form.nodes = _saturated(form.nodes)
        return form


def _kind(raw: Map) -> tuple[str, Value] | None:
    kinds = [(key, value) for key, value in raw.entries if key.value not in ENTRY_KEYS]
    if len(kinds) != 1:
        return None
    key, args = kinds[0]
    return str(key.value), args


def _literal(repeat: Value) -> int:
    """A ``repeat`` written as a plain integer; one for an expression or a bad value."""
    if isinstance(repeat, Scalar) and type(repeat.value) is int and repeat.value >= 1:
        return repeat.value
    return 1
