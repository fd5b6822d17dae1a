"""Named tensors: outputs read by name (``from:``, merge inputs), and which names are visible.

A tensor is known by a **key**: the path of the node that made it (``cat1.down.enc2``), or ``""``
for the network's input. The builder resolves every name a spec writes to a key, so the built
network says which tensor each node reads (``source`` on nodes and branches) and every walker
keeps those tensors until their readers have run (:mod:`convcost.dag`).

The scoping rules (docs/spec-format.md, *Named tensors*):

- a name is an entry **before** the reference in its own list, or before it in an enclosing
  list: a merge's branches see what precedes the merge, outwards up to the network's
  ``layers:`` or the block's body (a block's body sees only its own entries: it is defined
  apart from its uses);
- ``input`` is the input of the list the reference is in: the network's, the block use's, or
  for a branch the merge block's input;
- dots step into an earlier entry: ``down.enc2`` (an entry of block use ``down``), ``stage.0``
  (a repetition), ``cat1.up`` (a merge's branch, its output), ``cat1.up.conv1``;
- after ``repeat``, the entry's name is the last repetition's output;
- a name visible at two levels, or ``input`` next to an entry named ``input``, is ambiguous;
  sibling branches do not see each other (they are not before one another).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from convcost.errors import SpecError
from convcost.expansion import ENTRY_KEYS
from convcost.layers import Shape
from convcost.layers.registry import KIND_NAMES
from convcost.names import did_you_mean
from convcost.network import Branch, GroupNode, LayerNode, MergeNode, Node
from convcost.substitution import Scope, interpolate
from convcost.tree import Map, Scalar, Seq, Value, describe

INPUT = "input"
"""The name of a list's input."""

_SHOWN_NAMES = 12
"""Visible names an unknown-name message lists before it cuts the rest."""
_SEARCHED = 20_000
"""Nodes searched for a name not visible (``enc2`` written for ``cat1.down.enc2``)."""


class Frame:
    """One layer list being built: the names defined in it so far. The builder sets
    ``building``, ``index``, ``entries`` and ``current`` as it goes (inline: it does so for
    every entry)."""

    __slots__ = (
        "building",
        "current",
        "entries",
        "index",
        "inherit",
        "input_key",
        "input_shape",
        "prefix",
        "raw",
    )

    def __init__(
        self, raw: Seq, prefix: str, input_key: str, input_shape: Shape, inherit: bool
    ) -> None:
        self.raw = raw
        self.prefix = prefix
        self.input_key = input_key
        self.input_shape = input_shape
        self.inherit = inherit
        """Whether the enclosing list's names are visible (a merge's branch)."""
        self.entries: dict[str, Node] = {}
        self.current = input_key
        """The key of the tensor arriving at the next entry."""
        self.building = ""
        """The name of the entry being built."""
        self.index = -1
        """The index of the entry being built."""


class References:
    """The builder's table of names, one frame per layer list being built."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.reads: list[str] = []
        """Every key read by name, in build order (:attr:`convcost.network.Network.reads`)."""
        self.merge_input_keys: dict[str, str] = {}
        """A merge block's path → the key of its input (the output of an identity branch)."""
        self.merging: dict[str, list[Branch]] = {}
        """A merge block's path → its branches built so far."""
        self._children: dict[int, dict[str, Node]] = {}
        """A group's children by name, by the group's ``id`` (the network keeps it alive)."""

    @contextmanager
    def frame(self, raw: Seq, prefix: str, shape: Shape, *, inherit: bool) -> Iterator[None]:
        """A list at ``prefix`` whose input is the tensor arriving here (``inherit``: a branch,
        which sees the enclosing lists)."""
        self.open(raw, prefix, shape, inherit=inherit)
        try:
            yield
        finally:
            self.frames.pop()

    def open(self, raw: Seq, prefix: str, shape: Shape, *, inherit: bool) -> None:
        """What :meth:`frame` opens, for a caller that pops it itself (a merge of thousands of
        branches: a context manager costs more than the frame)."""
        key = self.frames[-1].current if self.frames else ""
        self.frames.append(Frame(raw, prefix, key, shape, inherit))

    @property
    def current(self) -> str:
        return self.frames[-1].current

    @current.setter
    def current(self, key: str) -> None:
        self.frames[-1].current = key

    def source(self, raw: Map, scope: Scope, layer: str) -> tuple[str, Shape] | None:
        """The tensor an entry's ``from:`` names (its key and shape), or None without one."""
        value = raw.get("from")
        if value is None:
            return None
        key, shape = self.resolve(value, scope, layer=layer, field="from")
        self.current = key
        return key, shape

    def branch(self, name: str, value: Scalar, scope: Scope, merge: str, kind: str) -> Branch:
        """The branch ``name`` of merge block ``merge``, written as the name ``value``."""
        key, shape = self.resolve(value, scope, layer=merge, field=f"{kind}.{name}")
        return Branch(name=name, path=f"{merge}.{name}", nodes=(), output_shape=shape, source=key)

    def resolve(self, value: Value, scope: Scope, *, layer: str, field: str) -> tuple[str, Shape]:
        """The key and shape of the tensor ``value`` names, seen from the innermost list."""
        text = _text(value, scope, layer=layer, field=field)
        location = value.location
        head, *rest = text.split(".")

        def error(message: str) -> SpecError:
            return SpecError(message, location=location, layer=layer, field=field)

        visible = self._visible()
        found = [(frame, frame.entries[head]) for frame in visible if head in frame.entries]
        if head == INPUT and not rest:
            if found:
                node = found[0][1]
                raise error(
                    f"ambiguous name 'input': an entry is named input ({node.path}, line "
                    f"{node.location.line}), and input is also the input of this list; give "
                    "that entry another `name:`"
                )
            frame = self.frames[-1]
            self.reads.append(frame.input_key)
            return frame.input_key, frame.input_shape
        if len(found) > 1:
            listed = " and ".join(f"{node.path} (line {node.location.line})" for _, node in found)
            raise error(
                f"ambiguous name {head!r}: it names {listed}, both visible here; give one of "
                "them another `name:`"
            )
        if not found:
            raise error(self._unknown(head, text, visible))
        item: Node | Branch = found[0][1]
        key, shape = item.path, item.output_shape
        walked = head
        for part in rest:
            key, shape, item = self._step(item, part, walked, error)
            walked = f"{walked}.{part}"
        self.reads.append(key)
        return key, shape

    def _visible(self) -> list[Frame]:
        """The frames whose names the innermost list sees, innermost first."""
        visible = []
        for frame in reversed(self.frames):
            visible.append(frame)
            if not frame.inherit:
                break
        return visible

    def _step(
        self, node: Node | Branch, part: str, walked: str, error: Callable[[str], SpecError]
    ) -> tuple[str, Shape, Node | Branch]:
        if isinstance(node, GroupNode):
            children = self._children.get(id(node))
            if children is None:  # once per group: a repeat may have a million children
                children = {child.path.rsplit(".", 1)[-1]: child for child in node.children}
                self._children[id(node)] = children
            child = children.get(part)
            if child is not None:
                return child.path, child.output_shape, child
            names = list(children)
        elif isinstance(node, MergeNode):
            for branch in node.branches:
                if branch.name == part:
                    return self._branch_key(node, branch), branch.output_shape, branch
            names = [branch.name for branch in node.branches]
        elif isinstance(node, Branch):
            for child in node.nodes:
                if child.path == f"{node.path}.{part}":
                    return child.path, child.output_shape, child
            names = [child.path.rsplit(".", 1)[-1] for child in node.nodes]
        else:
            raise error(f"{walked!r} is a layer: there is no {part!r} inside it")
        raise error(
            f"{walked!r} has no {part!r}{did_you_mean(part, names)}; inside it: "
            f"{_listed(names) or 'nothing'}"
        )

    def _branch_key(self, merge: MergeNode, branch: Branch) -> str:
        if branch.source is not None:
            return branch.source
        if branch.nodes:
            return branch.nodes[-1].path
        return self.merge_input_keys[merge.path]

    def _unknown(self, head: str, text: str, visible: list[Frame]) -> str:
        """Why ``head`` names nothing visible: a cycle, a later entry, a nested one, or a typo."""
        for frame in visible:
            if frame.building == head:
                what = (
                    "this entry's own output"
                    if frame is visible[0]
                    else "an entry this one is inside"
                )
                return (
                    f"{head!r} is {what}: a layer reads only outputs made before it, so this "
                    "would be a cycle"
                )
        for frame in visible:
            line = _later(frame, head)
            if line:
                return (
                    f"{head!r} is defined later (line {line}): a layer reads only outputs made "
                    "before it (a forward reference)"
                )
        names = sorted({INPUT, *(name for frame in visible for name in frame.entries)})
        sibling = self._sibling(head, visible)
        if sibling:
            return (
                f"unknown tensor {text!r}: {sibling}, which this branch does not see (the "
                f"branches of a merge run side by side); visible here: {_listed(names)}"
            )
        nested = _nested(head, visible)
        hint = f"; did you mean {nested!r}?" if nested else did_you_mean(text, names)
        if text in KIND_NAMES:
            hint += f" ({text} is a layer kind: layers are a list, `[{{{text}: {{}}}}]`)"
        return f"unknown tensor {text!r}{hint}; visible here: {_listed(names)}"

    def _sibling(self, head: str, visible: list[Frame]) -> str:
        """Where ``head`` is in an earlier branch of a merge this reference is inside
        (``'r' is in branch a of concat1``), or ``""``."""
        for frame in visible:
            merge = f"{frame.prefix}.{frame.building}" if frame.prefix else frame.building
            for branch in self.merging.get(merge, ()):
                for node in branch.nodes:
                    if node.path == f"{branch.path}.{head}":
                        return f"{head!r} is in branch {branch.name} of {merge}"
        return ""


def _text(value: Value, scope: Scope, *, layer: str, field: str) -> str:
    if (
        isinstance(value, Scalar)
        and isinstance(value.value, str | int)
        and not isinstance(value.value, bool)
        and value.value != ""
    ):
        if isinstance(value.value, str) and "$" in value.value:
            return interpolate(value, scope, layer=layer, what=field)
        return str(value.value)
    raise SpecError(
        f"must name an earlier output (a layer, merge or block use, or input), got {describe(value)}",
        location=value.location,
        layer=layer,
        field=field,
    )


def _listed(names: list[str]) -> str:
    if len(names) <= _SHOWN_NAMES:
        return ", ".join(names)
    return ", ".join(names[:_SHOWN_NAMES]) + f", … ({len(names)} names)"


def _later(frame: Frame, name: str) -> int:
    """The line of an entry after the one being built named ``name`` (explicitly, or by its
    default name ``conv3``), or 0."""
    counters: dict[str, int] = {}
    taken: set[str] = set()
    for index, raw in enumerate(frame.raw.items):
        if not isinstance(raw, Map):
            continue
        kinds = [key for key, _ in raw.entries if key.value not in ENTRY_KEYS]
        given = raw.get("name")
        if isinstance(given, Scalar) and given.value is not None:
            entry = str(given.value)
        elif len(kinds) == 1:
            kind = str(kinds[0].value)
            count = counters.get(kind, 0)
            while f"{kind}{count + 1}" in taken:
                count += 1
            counters[kind] = count + 1
            entry = f"{kind}{count + 1}"
        else:
            continue
        taken.add(entry)
        if entry == name and index > frame.index:
            return raw.location.line
    return 0


def _nested(head: str, visible: list[Frame]) -> str:
    """The path, relative to the list it starts in, of an entry named ``head`` inside an
    earlier visible entry (``cat1.down.enc2`` for ``enc2``), or ``""``."""
    searched = 0
    for frame in visible:
        cut = len(frame.prefix) + 1 if frame.prefix else 0
        work: list[Node | Branch] = list(frame.entries.values())
        while work and searched < _SEARCHED:
            item = work.pop(0)
            searched += 1
            if item.path.endswith(f".{head}") and not isinstance(item, Branch):
                return item.path[cut:]
            if isinstance(item, GroupNode):
                work.extend(item.children)
            elif isinstance(item, MergeNode):
                work.extend(item.branches)
            elif isinstance(item, Branch):
                work.extend(item.nodes)
            else:
                assert isinstance(item, LayerNode)
    return ""


def merge_inputs(kind: str, args: Value, layer: str) -> list[tuple[Scalar, Value]] | None:
    """A merge's branches as (name, value) pairs: a mapping's entries, or for a list of names
    (``concat: [up3, enc2]``) each name as its branch's; None when ``args`` is neither."""
    if isinstance(args, Map) and len(args):
        return list(args.entries)
    if not isinstance(args, Seq) or not len(args):
        return None
    pairs: list[tuple[Scalar, Value]] = []
    for index, item in enumerate(args.items):
        if not isinstance(item, Scalar) or item.value is None:
            raise SpecError(
                f"{kind} written as a list names its inputs, earlier outputs (`{kind}: [a, b]`); "
                f"item {index} is {describe(item)}: for branches of layers write a mapping of "
                "branch names to layer lists",
                location=item.location,
                layer=layer,
            )
        pairs.append((Scalar(str(item.value), item.location, item.text), item))
    return pairs
