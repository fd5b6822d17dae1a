"""Build a :class:`Network` from a spec: expand blocks, repeats and merges, resolve every shape.

Layer fields are read here rather than in the loader because a block's body sees its
parameters and ``in_channels``, which are known only when the block is used.

The expansion is bounded before it is allocated (:mod:`convcost.limits`): blocks nest at most
:data:`MAX_BLOCK_DEPTH` deep and groups :data:`MAX_NETWORK_DEPTH` deep, and the network has at
most ``spec.limits.max_layers`` nodes. Every node counts as one: each layer, each merge, each
use of a block, each ``repeat`` group (a ``separable`` is a group of two layers: three).
Before an entry is built its size is bounded from below (:mod:`convcost.expansion`), and a
repeat whose repetition leaves the shape unchanged projects the rest from the one it built, so
a spec of 10⁹ layers is refused after building almost nothing.
"""

from __future__ import annotations

from convcost.errors import Location, ResourceLimitError, ShapeError, SpecError
from convcost.expansion import ENTRY_KEYS, Sizes, known_integers
from convcost.fields import (
    Args,
    MissingField,
    Scope,
    check_name,
    did_you_mean,
    int_value,
    interpolate,
    resolve,
    resolve_deep,
)
from convcost.gcpause import paused_gc
from convcost.layers import Layer, LayerShapeError, Separable, Shape
from convcost.layers.registry import KINDS, MERGE_KINDS
from convcost.limits import MAX_BLOCK_DEPTH, MAX_NETWORK_DEPTH
from convcost.network import (
    Branch,
    GroupKind,
    GroupNode,
    LayerNode,
    MergeKind,
    MergeNode,
    Network,
    Node,
)
from convcost.spec import BlockDef, Spec, Variant
from convcost.tree import Map, Scalar, Seq, Value, describe


def build(
    spec: Spec, variant: Variant | None = None, *, input_shape: Shape | None = None
) -> Network:
    """Build one variant of ``spec`` (the first by default), optionally at another input shape."""
    chosen = variant or spec.variants[0]
    shape = input_shape or chosen.input_shape
    with paused_gc():
        nodes, _ = _Builder(spec).sequence(
            chosen.layers, shape, "", Scope(in_channels=shape[0]), ()
        )
    name = chosen.name if spec.has_variants else spec.name
    return Network(name=name, input_shape=shape, nodes=tuple(nodes))


class _Entry:
    """One item of a layer list, read: its kind, arguments, name and repeat count."""

    __slots__ = ("args", "key", "kind", "kind_location", "name", "raw", "repeat")

    def __init__(self, raw: Map, key: Scalar, args: Value, name: str, repeat: int | None) -> None:
        self.raw = raw
        self.key = key
        self.kind = str(key.value)
        self.kind_location = key.location
        """Shared by every layer the entry makes (each repetition of a ``repeat``)."""
        self.args = args
        self.name = name
        self.repeat = repeat

    @property
    def location(self) -> Location:
        return self.raw.location

    @property
    def repeat_location(self) -> Location | None:
        value = self.raw.get("repeat")
        return None if value is None else value.location


_PARSED_CACHE = 4096
"""Distinct layers whose parsed fields a build keeps (a long stack repeats a few)."""


class _Builder:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.kinds = sorted([*KINDS, *MERGE_KINDS, *(block.name for block in spec.blocks)])
        self.known_kinds = frozenset(self.kinds)
        self.parsed: dict[object, tuple[Layer | Separable, Shape | None]] = {}
        """Parsed layers (and output shapes) by kind, input shape and field values: identical
        layers are parsed once (:func:`_content`)."""
        self.limit = spec.limits.max_layers
        self.count = 0
        """Nodes built so far."""
        self.depth = 0
        """Groups (block uses, repeats, merges) around the entry being built."""
        self.sizes = Sizes(spec)

    def sequence(
        self, entries: Seq, shape: Shape, prefix: str, scope: Scope, stack: tuple[str, ...]
    ) -> tuple[list[Node], Shape]:
        nodes: list[Node] = []
        taken: set[str] = set()
        counters: dict[str, int] = {}
        for index, raw in enumerate(entries):
            if scope.block is None and scope.in_channels != shape[0]:
                # outside any block, in_channels is what arrives at each entry
                scope = Scope(in_channels=shape[0])
            entry = self._entry(raw, index, prefix, scope, counters, taken)
            path = f"{prefix}.{entry.name}" if prefix else entry.name
            if entry.repeat is not None or entry.kind in MERGE_KINDS:
                self._check_size(entry, path, scope)  # a block use is checked once bound
            if entry.repeat is None:
                node = self._node(entry, path, shape, scope, stack)
            else:
                node = self._repeat(entry, path, shape, scope, stack)
            nodes.append(node)
            shape = node.output_shape
        return nodes, shape

    def _entry(
        self,
        raw: Value,
        index: int,
        prefix: str,
        scope: Scope,
        counters: dict[str, int],
        taken: set[str],
    ) -> _Entry:
        if (
            not isinstance(raw, Map)
            or len(raw.entries) != 1
            or raw.entries[0][0].value in ENTRY_KEYS
        ):
            return self._full_entry(raw, index, prefix, scope, counters, taken)
        # the common entry, a kind alone: `- conv: {…}`
        key, args = raw.entries[0]
        if key.value not in self.known_kinds:
            return self._full_entry(raw, index, prefix, scope, counters, taken)
        name = _default_name(str(key.value), counters, taken)
        taken.add(name)
        return _Entry(raw, key, args, name, None)

    def _full_entry(
        self,
        raw: Value,
        index: int,
        prefix: str,
        scope: Scope,
        counters: dict[str, int],
        taken: set[str],
    ) -> _Entry:
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
                "(an entry holds one kind plus optional `name` and `repeat`)",
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
        repeat_value = raw.get("repeat")
        repeat = None
        if repeat_value is not None:
            resolved = resolve(repeat_value, scope, layer=name, what="repeat")
            repeat = int_value(resolved, minimum=1, layer=name, what="repeat")
        return _Entry(raw, key, args, name, repeat)

    def _check_size(self, entry: _Entry, path: str, scope: Scope) -> None:
        """Refuse an entry that cannot fit in what is left of ``max_layers``, before building it."""
        known = known_integers(scope.names())
        size = self.sizes.entry(entry.kind, entry.args, entry.repeat, known)
        if self.count + size > self.limit:
            raise self._too_many(self.count + size, entry, path)

    def _add(self, nodes: int, entry: _Entry, path: str) -> None:
        """Count ``nodes`` about to be made for ``entry``; refuse past the limit."""
        self.count += nodes
        if self.count > self.limit:
            raise self._too_many(self.count, entry, path)

    def _too_many(self, count: int, entry: _Entry, path: str) -> ResourceLimitError:
        where = entry.repeat_location if entry.repeat is not None else None
        return ResourceLimitError(
            f"the network expands to at least {count:,} layers here, more than the limit of {self.limit:,} (raise it with --max-layers; every layer, merge, block use and repeat counts as one)",
            location=where or entry.kind_location,
            layer=path,
            field="repeat" if where else None,
        )

    def _enter(self, entry: _Entry, path: str) -> None:
        """One more group around what is built next; refuse past :data:`MAX_NETWORK_DEPTH`."""
        self.depth += 1
        if self.depth > MAX_NETWORK_DEPTH:
            raise SpecError(
                f"the network nests more than {MAX_NETWORK_DEPTH} groups deep here (block uses, repeats and merges inside each other)",
                location=entry.kind_location,
                layer=_shortened(path),
            )

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
            if name in taken:
                raise SpecError(
                    f"{where}: duplicate layer name {name!r} in this list", location=value.location
                )
        else:
            name = _default_name(kind, counters, taken)
        taken.add(name)
        return name

    def _repeat(
        self, entry: _Entry, path: str, shape: Shape, scope: Scope, stack: tuple[str, ...]
    ) -> Node:
        assert entry.repeat is not None
        self._add(1, entry, path)
        self._enter(entry, path)
        children: list[Node] = []
        current = shape
        for index in range(entry.repeat):
            child_scope = Scope(in_channels=current[0], params=scope.params, block=scope.block)
            before = self.count
            child = self._node(entry, f"{path}.{index}", current, child_scope, stack)
            children.append(child)
            left = entry.repeat - index - 1
            if left and child.output_shape == current:
                # the next repetitions get the same input, so they build the same nodes
                projected = self.count + (self.count - before) * left
                if projected > self.limit:
                    raise self._too_many(projected, entry, path)
            current = child.output_shape
        self.depth -= 1
        return GroupNode(
            path=path,
            group=GroupKind.REPEAT,
            label="repeat",
            children=tuple(children),
            input_shape=shape,
            output_shape=current,
            location=entry.location,
        )

    def _node(
        self, entry: _Entry, path: str, shape: Shape, scope: Scope, stack: tuple[str, ...]
    ) -> Node:
        if entry.kind in MERGE_KINDS:
            return self._merge(entry, path, shape, scope, stack)
        block = self.sizes.blocks.get(entry.kind)
        if block is not None:
            return self._block(block, entry, path, shape, scope, stack)
        args = entry.args
        if isinstance(args, Scalar) and args.value is None:
            mapping = None
        elif isinstance(args, Map):
            mapping = args
        else:
            raise SpecError(
                f"the arguments of {entry.kind} must be a mapping (write `{entry.kind}: {{}}` for none), "
                f"got {describe(args)}",
                location=args.location,
                layer=path,
            )
        key = _parse_key(entry.kind, args, shape, scope)
        cached = self.parsed.get(key)
        try:
            if cached is None:
                parsed = self._parse(entry, mapping, path, shape, scope)
                out = None if isinstance(parsed, Separable) else parsed.output_shape(shape)
                if len(self.parsed) < _PARSED_CACHE:
                    self.parsed[key] = (parsed, out)
            else:
                parsed, out = cached
            if isinstance(parsed, Separable):
                self._add(3, entry, path)
                return self._separable(parsed, entry, path, shape)
        except LayerShapeError as exc:
            raise self._shape_error(exc, entry, path) from None
        assert out is not None
        self.count += 1  # _add(1, …), inlined: the one call made for every layer
        if self.count > self.limit:
            raise self._too_many(self.count, entry, path)
        return LayerNode(
            path=path,
            layer=parsed,
            input_shape=shape,
            output_shape=out,
            location=entry.kind_location,
        )

    def _parse(
        self, entry: _Entry, mapping: Map | None, path: str, shape: Shape, scope: Scope
    ) -> Layer | Separable:
        kind = KINDS[entry.kind]
        reader = Args(
            mapping,
            kind=entry.kind,
            scope=scope,
            layer=path,
            location=entry.kind_location,
            rank=len(shape) - 1,
        )
        try:
            parsed = kind.parse(reader, shape)
        except MissingField:
            reader.finish(kind.field_names)  # `kernal: 3` explains a missing kernel
            raise
        reader.finish(kind.field_names)
        return parsed

    def _shape_error(self, exc: LayerShapeError, entry: _Entry, path: str) -> ShapeError:
        field = f"{entry.kind}.{exc.field}" if exc.field else None
        return ShapeError(exc.message, location=entry.kind_location, layer=path, field=field)

    def _separable(self, parsed: Separable, entry: _Entry, path: str, shape: Shape) -> GroupNode:
        children: list[Node] = []
        current = shape
        for name, layer in (("depthwise", parsed.depthwise), ("pointwise", parsed.pointwise)):
            out = layer.output_shape(current)
            children.append(
                LayerNode(
                    path=f"{path}.{name}",
                    layer=layer,
                    input_shape=current,
                    output_shape=out,
                    location=entry.kind_location,
                )
            )
            current = out
        return GroupNode(
            path=path,
            group=GroupKind.SEPARABLE,
            label="separable",
            children=tuple(children),
            input_shape=shape,
            output_shape=current,
            location=entry.kind_location,
        )

    def _merge(
        self, entry: _Entry, path: str, shape: Shape, scope: Scope, stack: tuple[str, ...]
    ) -> MergeNode:
        merge = MergeKind(entry.kind)
        if not isinstance(entry.args, Map) or len(entry.args) == 0:
            raise SpecError(
                f"{entry.kind} needs a mapping of named branches, each a list of layers ([] is the identity), "
                f"got {describe(entry.args)}",
                location=entry.args.location,
                layer=path,
            )
        self._add(1, entry, path)
        self._enter(entry, path)
        branches = []
        for key, raw_layers in entry.args.entries:
            name = str(key.value)
            layers = raw_layers
            check_name(name, "branch name", location=key.location, layer=path, in_path=True)
            if isinstance(layers, Scalar) and layers.value is None:
                layers = Seq((), layers.location)
            if not isinstance(layers, Seq):
                raise SpecError(
                    f"branch {name!r} must be a list of layers ([] is the identity), got {describe(layers)}",
                    location=layers.location,
                    layer=path,
                )
            nodes, out = self.sequence(layers, shape, f"{path}.{name}", scope, stack)
            branches.append(
                Branch(name=name, path=f"{path}.{name}", nodes=tuple(nodes), output_shape=out)
            )
        self.depth -= 1
        output = _merged_shape(merge, branches, path, entry.kind_location)
        return MergeNode(
            path=path,
            merge=merge,
            branches=tuple(branches),
            input_shape=shape,
            output_shape=output,
            location=entry.kind_location,
        )

    def _block(
        self,
        block: BlockDef,
        entry: _Entry,
        path: str,
        shape: Shape,
        scope: Scope,
        stack: tuple[str, ...],
    ) -> GroupNode:
        if block.name in stack:
            cycle = " → ".join([*stack[stack.index(block.name) :], block.name])
            raise SpecError(
                f"block {block.name!r} uses itself: {cycle}",
                location=entry.kind_location,
                layer=path,
            )
        if len(stack) >= MAX_BLOCK_DEPTH:
            chain = [*stack, block.name]
            shown = " → ".join([*chain[:3], "…", *chain[-2:]])
            raise SpecError(
                f"blocks nest more than {MAX_BLOCK_DEPTH} deep here: {shown} ({len(chain)} blocks, each used inside the one before)",
                location=entry.kind_location,
                layer=_shortened(path),
            )
        params = self._bind(block, entry, path, scope)
        body_scope = Scope(in_channels=shape[0], params=params, block=block.name)
        size = self.sizes.block_use(block, known_integers(body_scope.names()))
        if self.count + size > self.limit:
            raise self._too_many(self.count + size, entry, path)
        self._add(1, entry, path)
        self._enter(entry, path)
        nodes, out = self.sequence(block.layers, shape, path, body_scope, (*stack, block.name))
        self.depth -= 1
        return GroupNode(
            path=path,
            group=GroupKind.BLOCK,
            label=block.name,
            children=tuple(nodes),
            input_shape=shape,
            output_shape=out,
            location=entry.kind_location,
        )

    def _bind(self, block: BlockDef, entry: _Entry, path: str, scope: Scope) -> dict[str, Value]:
        """Arguments are evaluated in the caller's scope; defaults in the block's own."""
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
            own = Scope(in_channels=scope.in_channels, params=dict(bound), block=block.name)
            bound[name] = resolve_deep(default, own, layer=path, what=f"{block.name}.{name}")
        return bound


def _parse_key(kind: str, args: Value, shape: Shape, scope: Scope) -> object:
    """What parsing a layer depends on: its kind, input shape and field values (with their
    types: ``1``, ``1.0`` and ``true`` differ), and the scope when a field holds a ``$``."""
    dollars: list[bool] = []
    content = _content(args, dollars)
    if not dollars:
        return (kind, shape, content)
    params = tuple((name, _content(value, dollars)) for name, value in scope.params.items())
    return (kind, shape, content, scope.in_channels, params)


def _content(value: Value, dollars: list[bool]) -> object:
    """A value without its locations, as a key; a string with a ``$`` appends to ``dollars``."""
    if isinstance(value, Scalar):
        raw = value.value
        if type(raw) is str and "$" in raw:
            dollars.append(True)
        return (type(raw), raw)
    if isinstance(value, Seq):
        return ("list", tuple([_content(item, dollars) for item in value.items]))
    return ("map", tuple([(key.value, _content(item, dollars)) for key, item in value.entries]))


def _default_name(kind: str, counters: dict[str, int], taken: set[str]) -> str:
    """``conv1``, ``conv2``…: the next number for ``kind`` whose name is not taken."""
    count = counters.get(kind, 0)
    while True:
        count += 1
        name = f"{kind}{count}"
        if name not in taken:
            counters[kind] = count
            return name


def _shortened(path: str) -> str:
    """A path deep enough to pass a nesting bound, as its first and last three names."""
    names = path.split(".")
    return path if len(names) <= 6 else ".".join([*names[:3], "…", *names[-3:]])


def _merged_shape(merge: MergeKind, branches: list[Branch], path: str, location: Location) -> Shape:
    shapes = [branch.output_shape for branch in branches]

    def mismatch(rule: str) -> ShapeError:
        listed = ", ".join(f"{branch.name} → {list(branch.output_shape)}" for branch in branches)
        return ShapeError(
            f"the branches of {merge.value} disagree: {listed}; {rule}",
            location=location,
            layer=path,
        )

    first = shapes[0]
    if any(len(shape) != len(first) for shape in shapes):
        raise mismatch("all branches need the same rank")
    if merge is MergeKind.CONCAT:
        if any(shape[1:] != first[1:] for shape in shapes):
            raise mismatch("concat needs equal sizes on every axis but channels")
        return (sum(shape[0] for shape in shapes), *first[1:])
    if merge is MergeKind.ADD:
        if any(shape != first for shape in shapes):
            raise mismatch("add needs equal shapes")
        return first
    result = list(first)
    for shape in shapes[1:]:
        for axis, (a, b) in enumerate(zip(result, shape, strict=True)):
            if a != b and 1 not in (a, b):
                raise mismatch(
                    "multiply needs broadcastable shapes (each axis equal, or 1 in one branch)"
                )
            result[axis] = max(a, b)
    return tuple(result)
