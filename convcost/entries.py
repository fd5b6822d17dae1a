"""The items of a layer list, read: each one's kind, arguments, name and repeat count, and the
arguments of a block use bound to the block's parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from convcost.errors import Location, SpecError
from convcost.expansion import ENTRY_KEYS
from convcost.int_values import int_value
from convcost.names import check_name, did_you_mean
from convcost.substitution import Scope, interpolate, resolve, resolve_deep, scope_of
from convcost.tree import Map, Scalar, Value, describe, shown

if TYPE_CHECKING:
    from convcost.spec import BlockDef


class LayerEntry:
    """One item of a layer list, read: its kind, arguments, name and repeat count."""

    __slots__ = ("args", "included", "key", "kind", "kind_location", "name", "raw", "repeat")

    def __init__(
        self,
        raw: Map,
        key: Scalar,
        args: Value,
        name: str,
        repeat: int | None,
        included: bool = True,
    ) -> None:
        self.raw = raw
        self.key = key
        self.kind = str(key.value)
        self.kind_location = key.location
        """Shared by every layer the entry makes (each repetition of a ``repeat``)."""
        self.args = args
        self.name = name
        self.repeat = repeat
        self.included = included and repeat != 0
        """False for ``if: false`` or ``repeat: 0``: the entry builds nothing."""

    @property
    def location(self) -> Location:
        return self.raw.location

    @property
    def repeat_location(self) -> Location | None:
        value = self.raw.get("repeat")
        return None if value is None else value.location


class EntryReader:
    """Reads the entries of layer lists against the kinds a spec knows."""

    def __init__(self, kinds: list[str], known_kinds: frozenset[str]) -> None:
        self.kinds = kinds
        """Layer kinds, merges and the spec's blocks, sorted (for messages)."""
        self.known_kinds = known_kinds

    def read(
        self,
        raw: Value,
        index: int,
        prefix: str,
        scope: Scope,
        counters: dict[str, int],
        taken: set[str],
    ) -> LayerEntry:
        """Item ``index`` of the list at ``prefix``; ``counters`` and ``taken`` hold the names
        given so far in that list (``conv1``, ``conv2``…)."""
        if (
            not isinstance(raw, Map)
            or len(raw.entries) != 1
            or raw.entries[0][0].value in ENTRY_KEYS
        ):
            return self._full(raw, index, prefix, scope, counters, taken)
        # the common entry, a kind alone: `- conv: {…}`
        key, args = raw.entries[0]
        if key.value not in self.known_kinds:
            return self._full(raw, index, prefix, scope, counters, taken)
        name = default_name(str(key.value), counters, taken)
        taken.add(name)
        return LayerEntry(raw, key, args, name, None)

    def _full(
        self,
        raw: Value,
        index: int,
        prefix: str,
        scope: Scope,
        counters: dict[str, int],
        taken: set[str],
    ) -> LayerEntry:
        where = f"{prefix}[{index}]" if prefix else f"layers[{index}]"
        if not isinstance(raw, Map):
            raise SpecError(
                f"{where}: a layer entry is a mapping with one kind key, e.g. `- conv: {{out: 16, kernel: 3}}`, "
                f"got {describe(raw)}",
                location=raw.location,
            )
        kinds = [(key, value) for key, value in raw.entries if key.value not in ENTRY_KEYS]
        if not kinds:
            raise SpecError(f"{where}: the entry has no layer kind", location=raw.location)
        if len(kinds) > 1:
            names = " and ".join(repr(key.value) for key, _ in kinds)
            raise SpecError(
                f"{where}: the entry has two kind keys, {names}: write each layer as its own list item "
                "(an entry holds one kind plus optional `name`, `repeat` and `if`)",
                location=kinds[1][0].location,
            )
        key, args = kinds[0]
        kind = str(key.value)
        if kind not in self.kinds:
            raise SpecError(
                f"{where}: unknown layer kind {kind!r}{did_you_mean(kind, self.kinds)}; "
                "see docs/spec-format.md for the kinds (and `blocks:` for your own)",
                location=key.location,
            )
        name = self._name(raw, kind, where, scope, counters, taken)
        path = f"{prefix}.{name}" if prefix else name
        condition = raw.get("if")
        included = True
        if condition is not None:
            included = _condition(resolve(condition, scope, layer=path, what="if"), path)
        if included:  # a left-out entry's name may be used by its alternative
            if name in taken:
                raise SpecError(
                    f"{where}: duplicate layer name {name!r} in this list",
                    location=(raw.get("name") or raw).location,
                )
            taken.add(name)
        repeat_value = raw.get("repeat")
        repeat = None
        if repeat_value is not None and included:
            resolved = resolve(repeat_value, scope, layer=path, what="repeat")
            repeat = int_value(resolved, minimum=0, layer=path, what="repeat")
        return LayerEntry(raw, key, args, name, repeat, included)

    def _name(
        self,
        raw: Map,
        kind: str,
        where: str,
        scope: Scope,
        counters: dict[str, int],
        taken: set[str],
    ) -> str:
        value = raw.get("name")
        if value is not None:
            if (
                not isinstance(value, Scalar)
                or not isinstance(value.value, str | int)
                or isinstance(value.value, bool)
            ):
                raise SpecError(
                    f"{where}: `name` must be a string, got {describe(value)}",
                    location=value.location,
                )
            name = (
                interpolate(value, scope, what="name")
                if isinstance(value.value, str)
                else str(value.value)
            )
            check_name(name, f"{where}: layer name", location=value.location, in_path=True)
        else:
            name = default_name(kind, counters, taken)
        return name


def bind_parameters(
    block: BlockDef,
    entry: LayerEntry,
    path: str,
    scope: Scope,
    spec_params: Mapping[str, Value] | None = None,
) -> dict[str, Value]:
    """Arguments are evaluated in the caller's scope; defaults in the block's own (which sees
    ``spec_params``, the spec's ``params:``, too)."""
    args = entry.args
    if isinstance(args, Scalar) and args.value is None:
        args = Map((), args.location)
    if not isinstance(args, Map):
        raise SpecError(
            f"the arguments of block {block.name!r} must be a mapping of parameters, got {describe(args)}",
            location=args.location,
            layer=path,
        )
    names = [name for name, _ in block.params]
    bound: dict[str, Value] = {}
    for key, value in args.entries:
        name = str(key.value)
        if name not in names:
            known = ", ".join(names) or "none"
            raise SpecError(
                f"unknown parameter {name!r} for block {block.name!r}{did_you_mean(name, names)}; "
                f"its parameters: {known}",
                location=key.location,
                layer=path,
            )
        bound[name] = resolve_deep(value, scope, layer=path, what=f"{block.name}.{name}")
    for name, default in block.params:
        if name in bound:
            continue
        if default is None:
            raise SpecError(
                f"block {block.name!r} needs parameter {name!r} (it has no default)",
                location=entry.kind_location,
                layer=path,
            )
        own = scope_of(scope.in_channels, {**(spec_params or {}), **bound}, block.name)
        bound[name] = resolve_deep(default, own, layer=path, what=f"{block.name}.{name}")
    return bound


def conditional_branch(branch: Map, name: str, path: str, scope: Scope) -> Value | None:
    """A merge branch written ``{if: …, layers: […]}``: its layers, or None when excluded."""
    for key, _ in branch.entries:
        if key.value not in ("if", "layers"):
            raise SpecError(
                f"unknown key {shown(str(key.value))} of branch {name!r}"
                f"{did_you_mean(str(key.value), ['if', 'layers'])}; a branch is a list of "
                "layers, or {if, layers}",
                location=key.location,
                layer=path,
            )
    condition = branch.get("if")
    layers = branch.get("layers")
    if layers is None:
        raise SpecError(
            f"branch {name!r} written as a mapping needs `layers` (and `if`)",
            location=branch.location,
            layer=path,
        )
    if condition is None:
        return layers
    branch_path = f"{path}.{name}"
    return (
        layers
        if _condition(resolve(condition, scope, layer=branch_path, what="if"), branch_path)
        else None
    )


def _condition(value: Value, path: str) -> bool:
    """An ``if:``: true or false (a comparison computes one)."""
    if not isinstance(value, Scalar) or not isinstance(value.value, bool):
        raise SpecError(
            f'must be true or false, e.g. if: "${{n > 1}}", got {describe(value)}',
            location=value.location,
            layer=path,
            field="if",
        )
    return value.value


def default_name(kind: str, counters: dict[str, int], taken: set[str]) -> str:
    """``conv1``, ``conv2``…: the next number for ``kind`` whose name is not taken."""
    count = counters.get(kind, 0)
    while True:
        count += 1
        name = f"{kind}{count}"
        if name not in taken:
            counters[kind] = count
            return name
