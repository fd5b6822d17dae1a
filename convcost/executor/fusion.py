"""Which layers run fused: the elementwise layers a conv applies to each band of its output
(:func:`fusions`) or of its input (:func:`prologues`), planned once per prepared network."""

from __future__ import annotations

from collections.abc import Iterator
from typing import assert_never

from convcost.executor.ops.base import PreparedLayer
from convcost.network import GroupNode, LayerNode, MergeNode, Network, Node


def fusions(network: Network, steps: dict[str, PreparedLayer]) -> dict[str, tuple[LayerNode, ...]]:
    """Producer path → the layers fused into it: the run of layers right after a layer that
    can take an epilogue (:attr:`PreparedLayer.fused`) in the same sequence, each an
    elementwise stage (:attr:`PreparedLayer.stage`) reading the one before it, none of whose
    inputs anything else reads by name (only the last output may be a named tensor)."""
    reads = set(network.reads)
    found: dict[str, tuple[LayerNode, ...]] = {}

    for nodes in sequences(network.nodes):
        for index, node in enumerate(nodes):
            if not isinstance(node, LayerNode):
                continue
            if steps[node.path].fused is None or node.path in reads:
                continue
            chain: list[LayerNode] = []
            for after in nodes[index + 1 :]:
                if (
                    not isinstance(after, LayerNode)
                    or after.source is not None
                    or steps[after.path].stage is None
                ):
                    break
                chain.append(after)
                if after.path in reads:
                    break
            if chain:
                found[node.path] = tuple(chain)
    return found


def prologues(
    network: Network, steps: dict[str, PreparedLayer]
) -> dict[str, tuple[tuple[LayerNode, ...], LayerNode]]:
    """First layer's path → (the elementwise layers, the 1×1 conv) for each run of elementwise
    stages right before a conv that applies them to its input bands
    (:attr:`PreparedLayer.prologue`) and not already fused after a conv (:func:`fusions`):
    DenseNet's batchnorm and ReLU before each 1×1 conv. The run's outputs are never
    materialised, so none may be read by name, and only its first layer may read one."""
    reads = set(network.reads)
    after = {node.path for chain in fusions(network, steps).values() for node in chain}
    found: dict[str, tuple[tuple[LayerNode, ...], LayerNode]] = {}

    def stage(node: Node) -> bool:
        return (
            isinstance(node, LayerNode)
            and steps[node.path].stage is not None
            and node.path not in after
            and node.path not in reads
        )

    for nodes in sequences(network.nodes):
        index = 0
        while index < len(nodes):
            node = nodes[index]
            if not isinstance(node, LayerNode):
                index += 1
                continue
            end = index
            while end < len(nodes) and stage(nodes[end]):
                end += 1
                if end < len(nodes) and nodes[end].source is not None:
                    break
            conv = nodes[end] if end < len(nodes) else None
            if (
                end > index
                and isinstance(conv, LayerNode)
                and conv.source is None
                and steps[conv.path].prologue
            ):
                run = tuple(n for n in nodes[index:end] if isinstance(n, LayerNode))
                found[node.path] = (run, conv)
            index = max(end, index + 1)
    return found


def sequences(nodes: tuple[Node, ...]) -> Iterator[tuple[Node, ...]]:
    """``nodes`` and every sequence inside them (a group's children, a merge's branches), each
    a run in which one node's output is the next one's input unless it reads a named tensor."""
    stack = [nodes]
    while stack:
        current = stack.pop()
        yield current
        for node in reversed(current):
            match node:
                case LayerNode():
                    pass
                case GroupNode():
                    stack.append(node.children)
                case MergeNode():
                    stack.extend(branch.nodes for branch in reversed(node.branches))
                case _:
                    assert_never(node)
