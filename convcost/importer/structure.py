"""A `Graph` as a spec: its DAG as nested sequences and merge blocks with named branches.

The decomposition walks back from the output. A layer follows the sequence that computes its
input; a merge node opens a block at its immediate dominator (the tensor every path to the
merge passes through: the fork), with one branch per input, in the order the merge reads them
(concat's channel order), each the sequence from the fork to that input (``[]`` when the input
is the fork itself). Branches recurse, so a fork inside a branch becomes a nested block.

Every node then appears once in the spec exactly when the graph is series-parallel; a node
reached a second time is one whose output feeds two places that do not sit in one block (a
tensor used inside one merge block's branch and again outside it), and is named in the error.
Walking back meets the most downstream such node first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

from convcost.errors import ModelError
from convcost.importer.blocks import compress
from convcost.importer.fields import complete, tidy
from convcost.importer.graph import INPUT, Graph, Node
from convcost.importer.writer import (
    Document,
    Entry,
    Layer,
    Merge,
    Value,
    common_prefix,
    unique,
    write,
)
from convcost.limits import MAX_NAME_LENGTH, MAX_NESTING
from convcost.valueclasses import replace

__all__ = ["spec_names", "to_spec"]


def to_spec(graph: Graph, *, flat: bool = False, source: str | None = None) -> str:
    """The YAML text of a spec computing what ``graph`` computes.

    With ``flat``, every layer is written out under its name; otherwise repeated subgraphs
    become reusable blocks and ``repeat:``. ``source`` (a file name) goes into the header.
    Raises `ModelError` naming the node where the graph is not series-parallel.
    """
    layers, left_out = _Structurer(graph).entries()
    header = [f"{graph.name}: imported by convcost import" + (f" from {source}" if source else "")]
    header.extend(graph.notes)
    if left_out:
        first = left_out[0]
        header.append(
            f"left out: {len(left_out)} node(s) whose output does not reach the model's "
            f"output, the first {_node(first)}"
        )
    document = Document(
        name=_model_name(graph.name),
        input_shape=graph.input_shape,
        layers=tuple(layers),
        header=tuple(header),
    )
    if not flat:
        document = compress(document)
    return write(
        replace(
            document,
            layers=tidy(document.layers),
            blocks=tuple(
                (name, replace(block, layers=tidy(block.layers))) for name, block in document.blocks
            ),
        )
    )


def _model_name(name: str) -> str:
    """The graph's name as a spec name: printable, trimmed, at most 128 characters."""
    printable = "".join(c if c.isprintable() else "_" for c in name).strip()
    return printable[:MAX_NAME_LENGTH].strip() or "model"


def _node(node: Node) -> str:
    """A node as error messages name it: ``node "name" (OpType)``."""
    return f"node {_named(node)}"


def _named(node: Node) -> str:
    """A node's source name (quoted, cut past 200 characters) and operator."""
    name = node.origin.name if len(node.origin.name) <= 200 else node.origin.name[:200] + "…"
    return f"{json.dumps(name)} ({node.origin.op_type})"


MAX_MERGE_NESTING = (MAX_NESTING - 6) // 3
"""How deep merge blocks may nest in a spec: each takes three levels of YAML (the entry, its
branches, a branch's list) below the top two (the spec, `layers`), and the deepest layer needs
four (the entry, its fields, a list per axis, an axis's padding pair): 19."""

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


class _Structurer:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.nodes: dict[str, Node] = {}
        for node in graph.nodes:
            for tensor in node.inputs:
                if tensor != INPUT and tensor not in self.nodes:
                    raise ModelError(
                        f"{_node(node)} reads {json.dumps(tensor)}, not produced before it"
                    )
            self.nodes[node.name] = node
        if graph.output != INPUT and graph.output not in self.nodes:
            raise ModelError(f"the model's output {json.dumps(graph.output)} is not a node")
        self.live = self._live()
        self.idom, self.depth = self._dominators()
        self.consumers: dict[str, list[Node]] = {}
        for node in graph.nodes:
            if node.name in self.live:
                for tensor in dict.fromkeys(node.inputs):
                    self.consumers.setdefault(tensor, []).append(node)
        self.names = spec_names(node.name for node in graph.nodes)
        self.visited: set[str] = set()

    def entries(self) -> tuple[list[Entry], list[Node]]:
        """The spec's layers, and the nodes left out (not on the way to the output)."""
        if self.graph.output == INPUT:
            raise ModelError("the model has no layers: its output is its input")
        layers = self._sequence(INPUT, self.graph.output, 0)
        left_out = [node for node in self.graph.nodes if node.name not in self.live]
        return layers, left_out

    def _live(self) -> set[str]:
        live: set[str] = set()
        stack = [self.graph.output]
        while stack:
            tensor = stack.pop()
            if tensor == INPUT or tensor in live:
                continue
            live.add(tensor)
            node = self.nodes[tensor]
            if not node.inputs:
                raise ModelError(f"{_node(node)} reads no tensor")
            stack.extend(node.inputs)
        return live

    def _dominators(self) -> tuple[dict[str, str], dict[str, int]]:
        """Each live node's immediate dominator; nodes come in topological order."""
        idom: dict[str, str] = {}
        depth = {INPUT: 0}

        def meet(a: str, b: str) -> str:
            while a != b:
                if depth[a] >= depth[b]:
                    a = idom[a]
                else:
                    b = idom[b]
            return a

        for node in self.graph.nodes:
            if node.name not in self.live:
                continue
            dominator = node.inputs[0]
            for tensor in node.inputs[1:]:
                dominator = meet(dominator, tensor)
            idom[node.name] = dominator
            depth[node.name] = depth[dominator] + 1
        return idom, depth

    def _sequence(self, start: str, end: str, nesting: int) -> list[Entry]:
        """The entries computing tensor ``end`` from tensor ``start``, which dominates it."""
        if nesting > MAX_MERGE_NESTING:
            raise ModelError(
                f"{_node(self.nodes[end])}: merge blocks nest more than {MAX_MERGE_NESTING} deep "
                f"here, and a spec nests lists and mappings at most {MAX_NESTING} levels deep"
            )
        backwards: list[Entry] = []
        tensor = end
        while tensor != start:
            node = self.nodes[tensor]
            self._visit(node)
            if node.merge is None:
                backwards.append(self._layer(node))
                tensor = node.inputs[0]
            else:
                fork = self.idom[tensor]
                bodies = [self._sequence(fork, each, nesting + 1) for each in node.inputs]
                backwards.append(self._merge(node, bodies))
                tensor = fork
        backwards.reverse()
        return backwards

    def _visit(self, node: Node) -> None:
        if node.name in self.visited:
            readers = [_named(reader) for reader in self.consumers[node.name]]
            if len(readers) == 1:  # concat(a, a, b): a twice, with b from elsewhere
                where = f"twice by {readers[0]}, whose other inputs fork further up"
            else:
                where = (
                    f"by {', '.join(readers[:-1])} and {readers[-1]}, which do not meet in one "
                    "merge block"
                )
            raise ModelError(
                f"{_node(node)}: the graph is not series-parallel here: its output is read "
                f"{where} (a spec's branches each start from the block's input)"
            )
        self.visited.add(node.name)

    def _layer(self, node: Node) -> Layer:
        assert node.layer is not None, node
        assert len(node.layer) == 1, node
        ((kind, fields),) = node.layer.items()
        assert isinstance(fields, Mapping), node
        return Layer(
            kind=kind,
            fields=complete(kind, {str(key): _value(value) for key, value in fields.items()}),
            name=self.names[node.name],
            comment=_comment(node),
        )

    def _merge(self, node: Node, bodies: list[list[Entry]]) -> Merge:
        assert node.merge is not None
        names = branch_names(node.merge, self.names[node.name], bodies)
        return Merge(
            kind=node.merge,
            branches=tuple((name, tuple(body)) for name, body in zip(names, bodies, strict=True)),
            name=self.names[node.name],
            comment=_comment(node),
        )


def _value(value: object) -> Value:
    if isinstance(value, list | tuple):
        return [_value(item) for item in value]
    return value


def _comment(node: Node) -> str:
    """The source node, as a trailing comment: its name, and its operator unless the name
    ends with it (``/layer1/layer1.0/conv1/Conv``)."""
    name, op_type = node.origin.name, node.origin.op_type
    return name if name.endswith(op_type) else f"{name} ({op_type})"


def spec_names(names: Iterable[str]) -> dict[str, str]:
    """A spec name for each node name: ``[A-Za-z0-9_-]`` (a dot separates a path), unique."""
    result: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        clean = _UNSAFE.sub("_", name)[: MAX_NAME_LENGTH - 8] or "layer"
        clean = unique(clean, taken)
        taken.add(clean)
        result[name] = clean
    return result


def branch_names(kind: str, merge_name: str, bodies: list[list[Entry]]) -> list[str]:
    """Readable, stable branch names: an identity branch is ``shortcut`` in an add and
    ``identity`` otherwise; any other is its first layer's name without the prefix it shares
    with the other branches' first layers and the merge (``layer1_0_conv1`` → ``conv1``)."""
    firsts = [body[0].name or body[0].kind for body in bodies if body]
    prefix = common_prefix([*firsts, merge_name])
    names: list[str] = []
    for body in bodies:
        if not body:
            stem = "shortcut" if kind == "add" else "identity"
        else:
            first = body[0].name or body[0].kind
            stem = first[len(prefix) :] or first
        names.append(unique(stem, names))
    return names
