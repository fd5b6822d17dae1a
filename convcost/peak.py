"""Peak inference memory: the most activation elements alive at one time.

The network runs in spec order, one layer at a time, each merge block's branches one after
the other in file order (see "Peak memory" in docs/cost-model.md). A tensor is alive from the
moment its producer allocates it until its last reader has finished:

- a layer allocates its output while its input is still alive (no layer works in place);
- a layer whose ``view`` is set (``identity``, ``dropout``, ``flatten``, ``split``) returns a
  view of its input (as in PyTorch at inference): it allocates nothing and keeps the input's
  buffer alive instead;
- a merge block's input stays alive until the last of its branches has read it; an identity
  branch (a residual shortcut) holds it until the merge;
- every branch output stays alive until the merge step, which allocates the merged output
  (``concat``, ``add`` and ``multiply`` alike) and then frees them;
- the network input counts from the start, the final output until the end;
- in a DAG, a tensor read by name (``from:``, a merge input written as a name) holds one
  reference per reader, so it lives until its last reader has run, wherever that is; the
  tensor before a node that reads a named one instead is released then (if nothing else
  holds it, it dies there), and so is a merge block's input when every branch is a name.
"""

from __future__ import annotations

from typing import assert_never

from convcost.dag import Kept, branch_input
from convcost.layers import elements
from convcost.network import GroupNode, LayerNode, MergeNode, Network, Node
from convcost.valueclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Peak:
    elements: int
    """Activation elements alive at the peak, per sample."""
    path: str
    """The layer (or merge step) whose output allocation reached the peak; ``input`` if none."""


def peak_activations(network: Network) -> Peak:
    """The peak of live activation elements for one sample (multiply by the batch)."""
    tracker = _Tracker()
    tracker.run(network)
    return Peak(elements=tracker.peak, path=tracker.peak_path)


def live_elements(network: Network) -> tuple[int, dict[str, int]]:
    """Live activation elements per sample along the same walk: at the start (the input
    alone), and right after each layer or merge step allocates its output, or while a view
    runs (by path). Their highest point is :func:`peak_activations`' by construction."""
    tracker = _Tracker()
    tracker.live_at = {}
    tracker.run(network)
    return tracker.live_at["input"], tracker.live_at


class _Tracker:
    """Buffers with reference counts: a buffer is freed when its last reference is released."""

    def __init__(self) -> None:
        self.sizes: dict[int, int] = {}
        self.references: dict[int, int] = {}
        self.live = 0
        self.peak = 0
        self.peak_path = "input"
        self.next_id = 0
        self.kept: Kept[int] | None = None
        """The buffers of named tensors (a DAG's), one reference held for each reader."""
        self.live_at: dict[str, int] | None = None
        """When set (:func:`live_elements`), the live elements after each path's step."""

    def run(self, network: Network) -> None:
        buffer = self.allocate(elements(network.input_shape), "input")
        if network.reads:
            self.kept = Kept(network, buffer)
            self.hold(buffer, "")
        self.sequence(network.nodes, buffer)

    def allocate(self, size: int, path: str) -> int:
        buffer = self.next_id
        self.next_id += 1
        self.sizes[buffer] = size
        self.references[buffer] = 1
        self.live += size
        if self.live > self.peak:
            self.peak, self.peak_path = self.live, path
        if self.live_at is not None:
            self.live_at[path] = self.live
        return buffer

    def release(self, buffer: int, count: int = 1) -> None:
        self.references[buffer] -= count
        if self.references[buffer] == 0:
            self.live -= self.sizes.pop(buffer)
            del self.references[buffer]

    def hold(self, buffer: int, key: str) -> None:
        """Keep ``buffer`` as the named tensor ``key``: one more reference per reader."""
        assert self.kept is not None
        readers = self.kept.keep(key, buffer)
        if readers:
            self.references[buffer] += readers

    def sequence(self, nodes: tuple[Node, ...], buffer: int) -> int:
        """Run ``nodes`` on one reference to ``buffer``; returns one reference to the result."""
        if self.kept is not None:
            for node in nodes:
                if node.source is not None:
                    self.release(buffer)  # not read by this node: dead unless held
                    buffer, _ = self.kept.take(node.source)  # the reference held for it
                buffer = self.node(node, buffer)
                self.hold(buffer, node.path)
            return buffer
        layer, sizes, references = self.layer, self.sizes, self.references
        for node in nodes:
            if type(node) is not LayerNode:
                buffer = self.node(node, buffer)
            elif self.live_at is None and references[buffer] == 1 and not node.layer.view:
                # allocate(…) then release(buffer), inlined: a stack's every layer
                size = elements(node.output_shape)
                live = self.live + size
                if live > self.peak:
                    self.peak, self.peak_path = live, node.path
                self.live = live - sizes.pop(buffer)
                del references[buffer]
                buffer = self.next_id
                self.next_id += 1
                sizes[buffer] = size
                references[buffer] = 1
            else:
                buffer = layer(node, buffer)
        return buffer

    def layer(self, node: LayerNode, buffer: int) -> int:
        if node.layer.view:
            if self.live_at is not None:  # allocates nothing: what is alive when it runs
                self.live_at[node.path] = self.live
            return buffer
        out = self.allocate(elements(node.output_shape), node.path)
        self.release(buffer)
        return out

    def node(self, node: Node, buffer: int) -> int:
        match node:
            case LayerNode():
                return self.layer(node, buffer)
            case GroupNode():
                return self.sequence(node.children, buffer)
            case MergeNode():
                # one reference per branch: the input lives until the last branch has read it
                reading = sum(branch.source is None for branch in node.branches)
                if reading:
                    self.references[buffer] += reading - 1
                else:
                    self.release(buffer)  # every branch is a named tensor
                outputs = [
                    self.sequence(branch.nodes, branch_input(self.kept, branch, buffer))
                    for branch in node.branches
                ]
                merged = self.allocate(elements(node.output_shape), node.path)
                for output in outputs:
                    self.release(output)
                return merged
            case _:
                assert_never(node)
