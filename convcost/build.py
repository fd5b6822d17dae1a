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

from typing import cast

from convcost.calls import called_from
from convcost.entries import (
    EntryReader,
    LayerEntry,
    bind_parameters,
    conditional_branch,
    default_name,
)
from convcost.errors import Location, ResourceLimitError, ShapeError, SpecError
from convcost.expansion import Sizes, known_integers
from convcost.fields import Args, MissingField
from convcost.gcpause import paused_gc
from convcost.layers import Layer, LayerShapeError, Separable, Shape
from convcost.layers.registry import KINDS, MERGE_KINDS
from convcost.limits import MAX_BLOCK_DEPTH, MAX_NETWORK_DEPTH
from convcost.names import check_name, plain_name
from convcost.network import (
    Branch,
    GroupKind,
    GroupNode,
    LayerNode,
    MergeKind,
    MergeNode,
    Network,
    Node,
    merged_shape,
)
from convcost.plainyaml import LineMap
from convcost.references import References, merge_inputs
from convcost.spec import BlockDef, Spec, Variant
from convcost.substitution import Scope, scope_of
from convcost.tree import Map, Scalar, Seq, Value, describe, location_at
from convcost.valueclasses import replace, slot_setters


def build(
    spec: Spec, variant: Variant | None = None, *, input_shape: Shape | None = None
) -> Network:
    """Build one variant of ``spec`` (the first by default), optionally at another input shape."""
    chosen = variant or spec.variants[0]
    shape = input_shape or chosen.input_shape
    builder = _Builder(spec)
    with paused_gc(), builder.references.frame(chosen.layers, "", shape, inherit=False):
        nodes, _ = builder.sequence(
            chosen.layers, shape, "", scope_of(shape[0], builder.globals), ()
        )
    name = chosen.name if spec.has_variants else spec.name
    reads = tuple(builder.references.reads)
    return Network(name=name, input_shape=shape, nodes=tuple(nodes), reads=reads)


_NODE_SLOTS = slot_setters(
    LayerNode, "path", "layer", "input_shape", "output_shape", "location", "source"
)
"""The slot setters of :class:`LayerNode`'s fields, in declaration order."""


def _layer_node(
    path: str, layer: Layer, input_shape: Shape, output_shape: Shape, location: Location
) -> LayerNode:
    """``LayerNode(path=path, layer=layer, …)`` through its slots' descriptors, as
    :func:`convcost.report.layer_report` makes a report: a frozen dataclass's ``__init__``
    sets each field through ``object.__setattr__``, and the build makes one node per layer."""
    node = object.__new__(LayerNode)
    set_path, set_layer, set_input, set_output, set_location, set_source = _NODE_SLOTS
    set_path(node, path)
    set_layer(node, layer)
    set_input(node, input_shape)
    set_output(node, output_shape)
    set_location(node, location)
    set_source(node, None)
    return node


_BRANCH_SLOTS = slot_setters(Branch, "name", "path", "nodes", "output_shape", "source")
"""The slot setters of :class:`Branch`'s fields, in declaration order."""


def _branch(name: str, path: str, nodes: tuple[Node, ...], output_shape: Shape) -> Branch:
    """``Branch(name=name, path=path, nodes=nodes, output_shape=output_shape)`` through its
    slots, as :func:`_layer_node` (a concat of 10,000 branches makes 10,000)."""
    branch = object.__new__(Branch)
    set_name, set_path, set_nodes, set_output, set_source = _BRANCH_SLOTS
    set_name(branch, name)
    set_path(branch, path)
    set_nodes(branch, nodes)
    set_output(branch, output_shape)
    set_source(branch, None)
    return branch


_GROUP_SLOTS = slot_setters(
    GroupNode,
    *("path", "group", "label", "children", "input_shape", "output_shape", "location", "source"),
)
_MERGE_SLOTS = slot_setters(
    MergeNode,
    *("path", "merge", "branches", "input_shape", "output_shape", "location", "source"),
)


def _group_node(
    path: str,
    group: GroupKind,
    label: str,
    children: tuple[Node, ...],
    input_shape: Shape,
    output_shape: Shape,
    location: Location,
) -> GroupNode:
    """``GroupNode(path=path, group=group, …)`` through its slots, as :func:`_layer_node` (a
    network has a few dozen: a value class would compile its ``__init__`` for them)."""
    node = object.__new__(GroupNode)
    (
        set_path,
        set_group,
        set_label,
        set_children,
        set_input,
        set_output,
        set_location,
        set_source,
    ) = _GROUP_SLOTS
    set_path(node, path)
    set_group(node, group)
    set_label(node, label)
    set_children(node, children)
    set_input(node, input_shape)
    set_output(node, output_shape)
    set_location(node, location)
    set_source(node, None)
    return node


def _merge_node(
    path: str,
    merge: MergeKind,
    branches: tuple[Branch, ...],
    input_shape: Shape,
    output_shape: Shape,
    location: Location,
) -> MergeNode:
    """``MergeNode(path=path, merge=merge, …)`` through its slots, as :func:`_group_node`."""
    node = object.__new__(MergeNode)
    set_path, set_merge, set_branches, set_input, set_output, set_location, set_source = (
        _MERGE_SLOTS
    )
    set_path(node, path)
    set_merge(node, merge)
    set_branches(node, branches)
    set_input(node, input_shape)
    set_output(node, output_shape)
    set_location(node, location)
    set_source(node, None)
    return node


_UNKNOWN: tuple[None, None] = (None, None)
"""What :attr:`_Builder.parsed` holds for a layer not parsed yet."""

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
        self.templates: dict[int, tuple[object, bool]] = {}
        """The content of each one-line mapping's template (:class:`LineMap`), by its id, and
        whether it holds a ``$``."""
        self.plain_kinds = frozenset(KINDS) - frozenset(MERGE_KINDS) - {b.name for b in spec.blocks}
        """Kinds that are layers: neither merges nor the spec's blocks."""
        self.limit = spec.limits.max_layers
        self.count = 0
        """Nodes built so far."""
        self.depth = 0
        """Groups (block uses, repeats, merges) around the entry being built."""
        self.sizes = Sizes(spec)
        self.entries = EntryReader(self.kinds, self.known_kinds)
        self.references = References()
        """Names visible to ``from:`` and merge inputs (:mod:`convcost.references`)."""
        self.globals = spec.param_values()
        """The spec's ``params:``, seen by every entry (a block's own parameters shadow them)."""

    def sequence(
        self, entries: Seq, shape: Shape, prefix: str, scope: Scope, stack: tuple[str, ...]
    ) -> tuple[list[Node], Shape]:
        nodes: list[Node] = []
        taken: set[str] = set()
        counters: dict[str, int] = {}
        names = self.references.frames[-1]  # this list's, opened by the caller
        for index, raw in enumerate(entries):
            if scope.block is None and scope.in_channels != shape[0]:
                # outside any block, in_channels is what arrives at each entry
                scope = scope_of(shape[0], scope.params)
            if type(raw) is Map or type(raw) is LineMap:
                known = self._known_layer(raw, index, prefix, shape, scope, counters, taken)
                if known is not None:
                    nodes.append(known)
                    shape = known.output_shape
                    continue
            entry = self.entries.read(raw, index, prefix, scope, counters, taken)
            if not entry.included:
                continue  # `if: false`, `repeat: 0`
            path = f"{prefix}.{entry.name}" if prefix else entry.name
            names.building, names.index = entry.name, index
            source = None
            if len(entry.raw.entries) > 1:  # `- conv: {…}` alone has no `from:`
                source = self.references.source(entry.raw, scope, path)
            if source is not None:
                shape = source[1]
            if entry.repeat is not None or entry.kind in MERGE_KINDS:
                self._check_size(entry, path, scope)  # a block use is checked once bound
            if entry.repeat is None:
                node = self._node(entry, path, shape, scope, stack)
            else:
                node = self._repeat(entry, path, shape, scope, stack)
            if source is not None:
                node = replace(node, source=source[0])
            names.entries[entry.name] = node  # visible to the entries after it
            names.current = node.path
            nodes.append(node)
            shape = node.output_shape
        return nodes, shape

    def _known_layer(
        self,
        raw: Map,
        index: int,
        prefix: str,
        shape: Shape,
        scope: Scope,
        counters: dict[str, int],
        taken: set[str],
    ) -> LayerNode | None:
        """The node of ``- conv: {…}`` (or ``- {conv: {…}}``) written on one line, when that layer was parsed on this
        shape before: what :meth:`EntryReader.read` and :meth:`_node` do for it, without the
        entry (a stack's every line); ``None`` for any other item."""
        if type(raw) is LineMap:  # `- {conv: {…}}`: read from its line's template, no entries made
            pairs = raw.template[2]
            if len(pairs) != 1:
                return None
            key_template, template = pairs[0]
            kind = key_template[2]
            if type(kind) is not str or kind not in self.plain_kinds or template[0] != "m":
                return None
            known = self.templates.get(id(template))
            if known is None:  # its template not read yet
                return None
            content, dollar = known
            if content is None:
                return None
            line_key = (
                _scoped_key(kind, shape, content, scope) if dollar else (kind, shape, content)
            )
            location = location_at(raw.file, raw.line, key_template[1] + 1)  # the key's
        else:
            if len(raw.entries) != 1:
                return None
            key, args = raw.entries[0]
            kind = key.value
            if type(args) is not LineMap or type(kind) is not str or kind not in self.plain_kinds:
                return None
            line_key = self._line_key(kind, args, shape, scope)
            location = key.location
        layer, out = self.parsed.get(line_key, _UNKNOWN)
        if out is None:  # not parsed yet, or a separable
            return None
        name = default_name(kind, counters, taken)
        taken.add(name)
        path = f"{prefix}.{name}" if prefix else name
        names = self.references.frames[-1]
        names.building, names.index = name, index
        self.count += 1
        if self.count > self.limit:
            key, args = raw.entries[0]
            raise self._too_many(self.count, LayerEntry(raw, key, args, name, None), path)
        node = _layer_node(path, cast(Layer, layer), shape, out, location)  # out: a Layer's
        names.entries[name] = node  # visible to the entries after it
        names.current = path
        return node

    def _check_size(self, entry: LayerEntry, path: str, scope: Scope) -> None:
        """Refuse an entry that cannot fit in what is left of ``max_layers``, before building it."""
        known = known_integers(scope.names())
        size = self.sizes.entry(entry.kind, entry.args, entry.repeat, known)
        if self.count + size > self.limit:
            raise self._too_many(self.count + size, entry, path)

    def _add(self, nodes: int, entry: LayerEntry, path: str) -> None:
        """Count ``nodes`` about to be made for ``entry``; refuse past the limit."""
        self.count += nodes
        if self.count > self.limit:
            raise self._too_many(self.count, entry, path)

    def _too_many(self, count: int, entry: LayerEntry, path: str) -> ResourceLimitError:
        where = entry.repeat_location if entry.repeat is not None else None
        return ResourceLimitError(
            f"the network expands to at least {count:,} layers here, more than the limit of {self.limit:,} (raise it with --max-layers; every layer, merge, block use and repeat counts as one)",
            location=where or entry.kind_location,
            layer=path,
            field="repeat" if where else None,
        )

    def _enter(self, entry: LayerEntry, path: str) -> None:
        """One more group around what is built next; refuse past :data:`MAX_NETWORK_DEPTH`."""
        self.depth += 1
        if self.depth > MAX_NETWORK_DEPTH:
            raise _names_chain(
                SpecError(
                    f"the network nests more than {MAX_NETWORK_DEPTH} groups deep here (block uses, repeats and merges inside each other)",
                    location=entry.kind_location,
                    layer=_shortened(path),
                )
            )

    def _repeat(
        self, entry: LayerEntry, path: str, shape: Shape, scope: Scope, stack: tuple[str, ...]
    ) -> Node:
        assert entry.repeat is not None
        self._add(1, entry, path)
        self._enter(entry, path)
        children: list[Node] = []
        current = shape
        built: _Built | None = None  # the last repetition built, while it can be copied
        references = self.references
        for index in range(entry.repeat):
            if index:
                references.current = children[-1].path  # `input` of a repetition
            before = self.count
            child = None
            if built is not None and built.input_shape == current:
                child = self._copied(built, f"{path}.{index}", entry, path)
            if child is None:
                child_scope = scope_of(current[0], scope.params, scope.block)
                reads, arriving = len(references.reads), references.current
                child = self._node(entry, f"{path}.{index}", current, child_scope, stack)
                # reading no tensor by name, it depends only on its input shape and scope
                built = (
                    _Built(child, current, self.count - before, arriving)
                    if len(references.reads) == reads
                    else None
                )
            children.append(child)
            left = entry.repeat - index - 1
            if left and child.output_shape == current:
                # the next repetitions get the same input, so they build the same nodes
                projected = self.count + (self.count - before) * left
                if projected > self.limit:
                    raise self._too_many(projected, entry, path)
            current = child.output_shape
        self.depth -= 1
        return _group_node(
            path,
            GroupKind.REPEAT,
            "repeat",
            tuple(children),
            shape,
            current,
            entry.location,
        )

    def _copied(self, built: _Built, path: str, entry: LayerEntry, repeat: str) -> Node | None:
        """Repetition ``path`` as a copy of ``built`` (same input shape, same scope: the same
        nodes at other paths), or None when it must be built (a merge whose input is outside
        the repetition). The builder's record of each merge's input follows the copy."""
        node = built.node
        if type(node) is LayerNode:  # a layer repeated: no merge inside
            self._add(1, entry, repeat)
            return _layer_node(path, node.layer, node.input_shape, node.output_shape, node.location)
        old = node.path
        old_input, new_input = built.input_key, self.references.current
        keys = self.references.merge_input_keys
        moved: dict[str, str] = {}

        def key_of(key: str) -> str:
            if key == old_input:
                return new_input
            if key == old or key.startswith(f"{old}."):
                return path + key[len(old) :]
            raise _Uncopyable

        def copy(node: Node) -> Node:
            at = path + node.path[len(old) :]
            if node.source is not None:
                raise _Uncopyable
            if type(node) is LayerNode:
                return _layer_node(
                    at, node.layer, node.input_shape, node.output_shape, node.location
                )
            if type(node) is GroupNode:
                return _group_node(
                    at,
                    node.group,
                    node.label,
                    tuple(map(copy, node.children)),
                    node.input_shape,
                    node.output_shape,
                    node.location,
                )
            assert type(node) is MergeNode
            moved[at] = key_of(keys[node.path])
            branches = []
            for branch in node.branches:
                if branch.source is not None:
                    raise _Uncopyable
                nodes = tuple(map(copy, branch.nodes))
                branches.append(
                    _branch(branch.name, path + branch.path[len(old) :], nodes, branch.output_shape)
                )
            return _merge_node(
                at,
                node.merge,
                tuple(branches),
                node.input_shape,
                node.output_shape,
                node.location,
            )

        try:
            node = copy(node)
        except _Uncopyable:
            return None
        keys.update(moved)
        self._add(built.nodes, entry, repeat)
        return node

    def _node(
        self, entry: LayerEntry, path: str, shape: Shape, scope: Scope, stack: tuple[str, ...]
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
        if type(args) is LineMap:
            key = self._line_key(entry.kind, args, shape, scope)
        else:
            key = _parse_key(entry.kind, args, shape, scope)
        cached = None if key is None else self.parsed.get(key)
        try:
            if cached is None:
                parsed = self._parse(entry, mapping, path, shape, scope)
                out = None if isinstance(parsed, Separable) else parsed.output_shape(shape)
                if key is not None and len(self.parsed) < _PARSED_CACHE:
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
        return _layer_node(path, parsed, shape, out, entry.kind_location)

    def _line_key(self, kind: str, args: LineMap, shape: Shape, scope: Scope) -> object | None:
        """:func:`_parse_key` of a mapping written on one line, its content read once per
        distinct line (the mappings of a repeated line share their template)."""
        known = self.templates.get(id(args.template))  # the tree keeps every template alive
        if known is None:
            dollars: list[bool] = []
            try:
                known = (_content(args, dollars, [_KEY_NODES]), bool(dollars))
            except _TooLarge:  # a line of more than 10,000 values
                known = (None, False)
            if len(self.templates) >= _PARSED_CACHE:
                self.templates.clear()
            self.templates[id(args.template)] = known
        content, dollar = known
        if content is None:
            return None
        return _scoped_key(kind, shape, content, scope) if dollar else (kind, shape, content)

    def _parse(
        self, entry: LayerEntry, mapping: Map | None, path: str, shape: Shape, scope: Scope
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

    def _shape_error(self, exc: LayerShapeError, entry: LayerEntry, path: str) -> ShapeError:
        field = f"{entry.kind}.{exc.field}" if exc.field else None
        return ShapeError(exc.message, location=entry.kind_location, layer=path, field=field)

    def _separable(
        self, parsed: Separable, entry: LayerEntry, path: str, shape: Shape
    ) -> GroupNode:
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
        return _group_node(
            path,
            GroupKind.SEPARABLE,
            "separable",
            tuple(children),
            shape,
            current,
            entry.kind_location,
        )

    def _merge(
        self, entry: LayerEntry, path: str, shape: Shape, scope: Scope, stack: tuple[str, ...]
    ) -> MergeNode:
        merge = MergeKind(entry.kind)
        pairs = merge_inputs(entry.kind, entry.args, path)
        if pairs is None:
            raise SpecError(
                f"{entry.kind} needs a mapping of named branches, each a list of layers ([] is the identity), "
                f"got {describe(entry.args)}",
                location=entry.args.location,
                layer=path,
            )
        self._add(1, entry, path)
        self._enter(entry, path)
        branches: list[Branch] = []
        references = self.references
        references.merge_input_keys[path] = references.current
        references.merging[path] = branches  # for a sibling's message
        named = isinstance(entry.args, Map)
        for key, raw_layers in pairs:
            name = str(key.value)
            if named and not plain_name(name):
                check_name(name, "branch name", location=key.location, layer=path, in_path=True)
            if isinstance(raw_layers, Scalar) and raw_layers.value is not None:  # a named input
                branches.append(references.branch(name, raw_layers, scope, path, entry.kind))
                continue
            chosen = (  # `{if: "${…}", layers: […]}`: a conditional branch
                conditional_branch(raw_layers, name, path, scope)
                if isinstance(raw_layers, Map)
                else raw_layers
            )
            if chosen is None:
                continue
            layers = chosen
            if isinstance(layers, Scalar) and layers.value is None:
                layers = Seq((), layers.location)
            if not isinstance(layers, Seq):
                raise SpecError(
                    f"branch {name!r} must be a list of layers ([] is the identity), got {describe(layers)}",
                    location=layers.location,
                    layer=path,
                )
            branch_path = f"{path}.{name}"
            references.open(layers, branch_path, shape, inherit=True)  # references.frame(…)
            try:
                nodes, out = self.sequence(layers, shape, branch_path, scope, stack)
            finally:
                references.frames.pop()
            branches.append(_branch(name, branch_path, tuple(nodes), out))
        self.depth -= 1
        if not branches:
            raise SpecError(
                f"every branch of this {entry.kind} is excluded by its `if`: keep at least one",
                location=entry.kind_location,
                layer=path,
            )
        output = merged_shape(merge, branches, path, entry.kind_location)
        if all(branch.source is not None for branch in branches):
            shape = branches[0].output_shape  # reads only named inputs: its first is its input
        return _merge_node(
            path,
            merge,
            tuple(branches),
            shape,
            output,
            entry.kind_location,
        )

    def _block(
        self,
        block: BlockDef,
        entry: LayerEntry,
        path: str,
        shape: Shape,
        scope: Scope,
        stack: tuple[str, ...],
    ) -> GroupNode:
        if block.name in stack:
            cycle = " → ".join([*stack[stack.index(block.name) :], block.name])
            raise _names_chain(
                SpecError(
                    f"block {block.name!r} uses itself: {cycle}",
                    location=entry.kind_location,
                    layer=path,
                )
            )
        if len(stack) >= MAX_BLOCK_DEPTH:
            chain = [*stack, block.name]
            shown = " → ".join([*chain[:3], "…", *chain[-2:]])
            raise _names_chain(
                SpecError(
                    f"blocks nest more than {MAX_BLOCK_DEPTH} deep here: {shown} ({len(chain)} blocks, each used inside the one before)",
                    location=entry.kind_location,
                    layer=_shortened(path),
                )
            )
        params = bind_parameters(block, entry, path, scope, self.globals)
        body_scope = scope_of(shape[0], {**self.globals, **params}, block.name)
        size = self.sizes.fixed_block_use(block)
        if size is None:
            size = self.sizes.block_use(block, known_integers(body_scope.names()))
        if self.count + size > self.limit:
            raise self._too_many(self.count + size, entry, path)
        self._add(1, entry, path)
        self._enter(entry, path)
        try:
            with self.references.frame(block.layers, path, shape, inherit=False):
                nodes, out = self.sequence(
                    block.layers, shape, path, body_scope, (*stack, block.name)
                )
        except SpecError as error:
            called_from(error, block, entry.kind_location, params)
            raise
        self.depth -= 1
        return _group_node(
            path,
            GroupKind.BLOCK,
            block.name,
            tuple(nodes),
            shape,
            out,
            entry.kind_location,
        )


class _Built:
    """A repetition as built: copied for the next ones on the same input shape (a stage's
    identical blocks), which then cost a node each instead of a parse of every entry."""

    __slots__ = ("input_key", "input_shape", "node", "nodes")

    def __init__(self, node: Node, input_shape: Shape, nodes: int, input_key: str) -> None:
        self.node = node
        self.input_shape = input_shape
        self.nodes = nodes
        """The nodes it counts (:attr:`_Builder.count`)."""
        self.input_key = input_key
        """The tensor it reads (the previous repetition's output, or the repeat's input)."""


class _Uncopyable(Exception):
    """A repetition that must be built: it holds a merge whose input is outside it."""


def _names_chain(error: SpecError) -> SpecError:
    """An error whose message names the nesting itself: no block uses are added to it."""
    error.names_chain = True
    return error


_KEY_NODES = 10_000
"""Values a parse key holds at most: a layer with larger fields (an alias standing for millions
of values, when ``max_yaml_nodes`` is raised) is parsed without one, so the key costs no more
than this to make and to hash."""


class _TooLarge(Exception):
    """A value past :data:`_KEY_NODES`: no key."""


def _parse_key(kind: str, args: Value, shape: Shape, scope: Scope) -> object | None:
    """What parsing a layer depends on: its kind, input shape and field values (with their
    types: ``1``, ``1.0`` and ``true`` differ), and the scope when a field holds a ``$``;
    ``None`` for fields too large to key (the layer is then parsed on its own)."""
    dollars: list[bool] = []
    try:
        content = _content(args, dollars, [_KEY_NODES])
    except _TooLarge:
        return None
    if not dollars:
        return (kind, shape, content)
    return _scoped_key(kind, shape, content, scope)


def _scoped_key(kind: str, shape: Shape, content: object, scope: Scope) -> object | None:
    """The key of a layer whose fields hold a ``$``: the scope's values are part of it."""
    budget = [_KEY_NODES]
    try:
        params = tuple((name, _content(value, [], budget)) for name, value in scope.params.items())
    except _TooLarge:
        return None
    return (kind, shape, content, scope.in_channels, params)


def _content(value: Value, dollars: list[bool], budget: list[int]) -> object:
    """A value without its locations, as a key; a string with a ``$`` appends to ``dollars``;
    each value takes one from ``budget`` (:class:`_TooLarge` once it is spent)."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooLarge
    if isinstance(value, Scalar):
        raw = value.value
        if type(raw) is str and "$" in raw:
            dollars.append(True)
        return (type(raw), raw)
    if isinstance(value, Seq):
        return ("list", tuple([_content(item, dollars, budget) for item in value.items]))
    return (
        "map",
        tuple([(key.value, _content(item, dollars, budget)) for key, item in value.entries]),
    )


def _shortened(path: str) -> str:
    """A path deep enough to pass a nesting bound, as its first and last three names."""
    names = path.split(".")
    return path if len(names) <= 6 else ".".join([*names[:3], "…", *names[-3:]])
