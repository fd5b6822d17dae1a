"""How many nodes a layer entry expands to, at least, before it is expanded.

The builder asks before it builds a block use, a merge or a ``repeat``, so that
``repeat: 1000000000`` or thirty blocks that each use the next twice (2³⁰ layers) are refused
without being allocated. A size counts the nodes the builder makes, each as one: a layer, a
merge, a use of a block, a ``repeat`` group. It is a lower bound, never above the real count:

- a ``repeat`` counts what it resolves to from what is known without building — integer
  literals, block parameters, the spec's ``params:``, the ``in_channels`` of the caller — and
  nothing when it needs more (the channels arriving at a block used inside another), since
  ``repeat: 0`` is allowed; an entry whose ``if:`` is not known to be true counts nothing;
- every layer kind counts one (a ``separable``, three nodes, counts one);
- a block that uses itself counts one, and blocks more than
  :data:`~convcost.limits.MAX_BLOCK_DEPTH` down count one (the builder reports both).

Counts saturate at :data:`~convcost.limits.MAX_INT`. Sizes are cached per block and known
parameters, so blocks that double at each level cost one walk of each body; merge branches
go through a work list, and block uses recurse at most ``MAX_BLOCK_DEPTH`` deep.
"""

from __future__ import annotations

from collections.abc import Mapping
from keyword import iskeyword

from convcost.layers.registry import MERGE_KINDS
from convcost.limits import MAX_BLOCK_DEPTH, MAX_EXPRESSION_LENGTH, MAX_INT
from convcost.spec import BlockDef, Spec
from convcost.substitution import template
from convcost.tree import Map, Scalar, Seq, Value

ENTRY_KEYS = ("name", "repeat", "if", "from")
"""The keys of a layer entry besides its kind."""

Known = Mapping[str, int]
"""Integer names known without building: block parameters, ``in_channels``."""

_VARYING = frozenset(("repeat", "if"))
"""The entry keys whose values make a bound depend on what is known."""


class Sizes:
    """Lower bounds on expanded sizes for one spec."""

    def __init__(self, spec: Spec) -> None:
        self.blocks: dict[str, BlockDef] = {block.name: block for block in spec.blocks}
        self.globals = known_integers({param.name: param.value for param in spec.params})
        """The spec's integer ``params:``, seen by block defaults."""
        self._uses: dict[tuple[str, frozenset[tuple[str, int]]], int] = {}
        self._merges: dict[tuple[int, frozenset[tuple[str, int]]], int] = {}
        """Keyed by the ``id`` of a merge's branch mapping (kept alive by the spec) and what is
        known: a block's body visits the same merges at every use."""
        self._fixed_lists: dict[int, bool] = {}
        """Whether a layer list's bound is the same whatever is known (:meth:`_fixed`)."""

    def fixed_block_use(self, block: BlockDef) -> int | None:
        """:meth:`block_use`'s bound when it does not depend on what is known, else None."""
        if not self._fixed(block.layers, (block.name,), 0):
            return None
        return self._block(block.name, {}, 0)

    def _fixed(self, layers: Seq, using: tuple[str, ...], depth: int) -> bool:
        """Whether the bound of ``layers`` is the same whatever is known: no ``repeat`` nor
        ``if`` in it, in its merges' branches or in the blocks it uses (``using``: the blocks
        around it, a block that uses itself is not fixed; ``depth``: the lists around it, past
        :data:`MAX_BLOCK_DEPTH` not fixed). Kept by the list's ``id`` (the
        spec keeps it alive); only a block that uses itself can be not fixed from one use and
        fixed from another, and then its bound is computed the usual way."""
        fixed = self._fixed_lists.get(id(layers))
        if fixed is not None:
            return fixed
        if depth > MAX_BLOCK_DEPTH:
            return False  # nested too deep to tell (the builder refuses deeper blocks)
        fixed = True
        blocks = self.blocks
        for raw in layers:
            if not isinstance(raw, Map):
                continue  # the builder reports a malformed entry
            if len(raw.entries) == 1:  # a kind alone: `- conv: {…}`, a stack's every entry
                kind = raw.entries[0][0].value
                if kind not in MERGE_KINDS and kind not in blocks and kind not in _VARYING:
                    continue
            if any(key.value in _VARYING for key, _ in raw.entries):
                fixed = False
                break
            parts = _kind(raw)
            if parts is None:
                continue
            kind, args = parts
            if kind in MERGE_KINDS:
                if isinstance(args, Map) and not all(
                    self._fixed(branch, using, depth + 1)
                    for _, branch in args.entries
                    if isinstance(branch, Seq)
                ):
                    fixed = False
                    break
            elif kind in self.blocks and (
                kind in using
                or not self._fixed(self.blocks[kind].layers, (*using, kind), depth + 1)
            ):
                fixed = False
                break
        self._fixed_lists[id(layers)] = fixed
        return fixed

    def entry(self, kind: str, args: Value, repeat: int | None, known: Known) -> int:
        """At least how many nodes an entry builds; ``repeat`` resolved, ``known`` its scope."""
        one = self._kind(kind, args, known, 0)
        return one if repeat is None else _saturated(1 + repeat * one)

    def block_use(self, block: BlockDef, known: Known) -> int:
        """At least how many nodes a use of ``block`` builds, ``known`` its body's scope."""
        return self._block(block.name, known, 0)

    def _kind(self, kind: str, args: Value, known: Known, depth: int) -> int:
        if kind in MERGE_KINDS:
            return self._merge(args, known, depth)
        if kind in self.blocks:
            return self._block(kind, self._bind(kind, args, known), depth + 1)
        return 1

    def _merge(self, args: Value, known: Known, depth: int) -> int:
        if not isinstance(args, Map):
            return 1
        key = (id(args), frozenset(known.items()))
        if key not in self._merges:
            branches = [(branch, 1) for _, branch in args.entries if isinstance(branch, Seq)]
            self._merges[key] = _saturated(1 + self._lists(branches, known, depth))
        return self._merges[key]

    def _block(self, name: str, known: Known, depth: int) -> int:
        if depth > MAX_BLOCK_DEPTH:
            return 1
        key = (name, frozenset(known.items()))
        if key not in self._uses:
            self._uses[key] = 1  # until computed: a block that uses itself counts one
            size = 1 + self._lists([(self.blocks[name].layers, 1)], known, depth)
            self._uses[key] = _saturated(size)
        return self._uses[key]

    def _bind(self, name: str, args: Value, known: Known) -> dict[str, int]:
        """The integer parameters of a use of block ``name`` known without building it.

        As the builder does: arguments in the caller's scope (``known``), defaults in the
        block's own, where ``in_channels`` is still the caller's.
        """
        given = (
            {str(key.value): value for key, value in args.entries} if isinstance(args, Map) else {}
        )
        bound: dict[str, int] = {}
        for param, default in self.blocks[name].params:
            if param in given:
                value = _integer(given[param], known)
            elif default is not None:
                own = {**self.globals, **bound}
                if "in_channels" in known:
                    own["in_channels"] = known["in_channels"]
                value = _integer(default, own)
            else:
                value = None
            if value is not None:
                bound[param] = value
        return bound

    def _lists(self, lists: list[tuple[Seq, int]], known: Known, depth: int) -> int:
        """The nodes of layer lists, each taken ``times`` times, with ``known`` in scope."""
        total = 0
        work = list(lists)
        while work:
            entries, times = work.pop()
            blocks = self.blocks
            for raw in entries:
                if isinstance(raw, Map) and len(raw) == 1:
                    # `- conv: {…}`, a stack's or a branch's every entry: no `if` or `repeat`
                    kind = raw.first_key()
                    if (
                        type(kind) is str
                        and kind not in ENTRY_KEYS
                        and kind not in MERGE_KINDS
                        and kind not in blocks
                    ):
                        total = _saturated(total + times)
                        continue
                if not isinstance(raw, Map) or (parts := _kind(raw)) is None:
                    continue  # the builder reports a malformed entry
                kind, args = parts
                here = times
                condition = raw.get("if")
                if condition is not None and _condition(condition, known) is not True:
                    continue  # excluded, or not known to be included: counts nothing
                repeat = raw.get("repeat")
                if repeat is not None:
                    count = _integer(repeat, known)
                    if count is None or count < 1:
                        continue  # `repeat: 0` builds nothing; an unknown count may be 0
                    total += times  # the repeat group
                    here = _saturated(times * count)
                if kind in MERGE_KINDS:
                    total += here
                    if isinstance(args, Map):
                        work.extend(
                            (branch, here) for _, branch in args.entries if isinstance(branch, Seq)
                        )
                elif kind in self.blocks:
                    use = self._block(kind, self._bind(kind, args, known), depth + 1)
                    total += here * use
                else:
                    total += here
                total = _saturated(total)
        return total


def known_integers(names: Mapping[str, object]) -> dict[str, int]:
    """The integer names of a scope (``Scope.names()``), the rest left out."""
    return {name: value for name, value in names.items() if type(value) is int}


def _saturated(count: int) -> int:
    return min(count, MAX_INT)


def _kind(raw: Map) -> tuple[str, Value] | None:
    kinds = [(key, value) for key, value in raw.entries if key.value not in ENTRY_KEYS]
    if len(kinds) != 1:
        return None
    key, args = kinds[0]
    return str(key.value), args


def _condition(value: Value, known: Known) -> bool | None:
    """An ``if:`` as a boolean if it is known without building, else None."""
    if isinstance(value, Scalar) and isinstance(value.value, bool):
        return value.value
    if not isinstance(value, Scalar) or not isinstance(value.value, str):
        return None
    whole = template(value.value)
    if whole is None:
        return None
    expression, name = whole
    if name is not None and _plain_name(name):
        return None  # a bound name is an int here (Known), never a boolean
    from convcost.expr import ExpressionError, calculate  # noqa: PLC0415 (expressions only: the parser's ast module is heavy)

    try:
        result = calculate(name or expression, known)
    except ExpressionError:
        return None
    return result if isinstance(result, bool) else None


def _plain_name(name: str) -> bool:
    """``$name`` that :func:`convcost.expr.calculate` would read as a plain name lookup (not a
    keyword such as ``True``, not past the expression length): looked up here, without
    loading the expression parser."""
    return len(name) <= MAX_EXPRESSION_LENGTH and not iskeyword(name)


def _integer(value: Value, known: Known) -> int | None:
    """``value`` as an int if it is one, or ``$name`` / ``${expr}`` over ``known``; else None."""
    if not isinstance(value, Scalar):
        return None
    if type(value.value) is int:
        return value.value
    if not isinstance(value.value, str):
        return None
    whole = template(value.value)
    if whole is None:
        return None
    expression, name = whole
    if name is not None and _plain_name(name):
        bound = known.get(name)
        return bound if bound is not None and -MAX_INT <= bound <= MAX_INT else None
    from convcost.expr import ExpressionError, evaluate  # noqa: PLC0415 (expressions only: the parser's ast module is heavy)

    try:
        return evaluate(name or expression, known)
    except ExpressionError:
        return None
