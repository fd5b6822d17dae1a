"""One forward pass: walk a prepared network's nodes in order, run each layer (or a conv with
the layers fused into it), merge branches, time every layer and check each real shape."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, assert_never

import numpy as np

from convcost.dag import Kept, branch_input
from convcost.errors import ExecutionError
from convcost.execution import LayerRun
from convcost.executor import kernels
from convcost.executor.ops.base import Array
from convcost.executor.stages import Epilogue, Stage, combine_into, concatenate
from convcost.network import GroupNode, LayerNode, MergeKind, MergeNode, Node

if TYPE_CHECKING:
    from convcost.executor.prepared import Prepared, Progress


class Runner:
    """One forward pass of a prepared network (:meth:`run`), recording a :class:`LayerRun`
    per layer and merge in ``runs``. Arrays are handed from layer to layer in a one-element
    box that the callee empties (:meth:`sequence`), so that memory use is what
    :mod:`convcost.executor.memory` walks: no array outlives its last reader."""

    def __init__(self, prepared: Prepared, batch: int, progress: Progress | None) -> None:
        self.steps = prepared.steps
        self.batch = batch
        self.total = len(prepared.steps) + count_merges(prepared.network.nodes)
        self.progress = progress
        self.runs: list[LayerRun] = []
        self.network = prepared.network
        self.fusions = prepared.fusions
        self.prologues = prepared.prologues
        self.kept: Kept[Array] | None = None
        """The arrays of named tensors (a DAG's), each dropped after its last reader."""

    def run(self, x: Array, owned: bool) -> tuple[Array, bool]:
        network = self.network
        if network.reads:
            self.kept = Kept(network, x)
            owned = owned and not self.kept.readers[""]
        box = [x]
        del x  # the first layer may free it
        return self.sequence(network.nodes, box, owned)

    def sequence(
        self, nodes: tuple[Node, ...], box: list[Array], owned: bool
    ) -> tuple[Array, bool]:
        """Run ``nodes`` on the array in ``box``, taken out of it: a caller's frame must not
        keep an array alive after the layer that reads it last (a group's input, held by the
        frames around the group for all of it, kept ResNet-50's block inputs alive: 22 MiB
        above the estimate at batch 8)."""
        x = box.pop()
        kept = self.kept
        index = 0
        while index < len(nodes):
            node = nodes[index]
            if kept is not None and node.source is not None:
                # a named tensor: read, never overwritten, unless this is its last reader
                x, owned = kept.take(node.source)[0], False
            before = self.prologues.get(node.path) if isinstance(node, LayerNode) else None
            chain = self.fusions.get(node.path) if isinstance(node, LayerNode) else None
            if before is not None:
                run, conv = before
                after = self.fusions.get(conv.path, ())
                x, owned = self.fused(conv, after, x, owned, run)
                last: Node = after[-1] if after else conv
                index += len(run) + 1 + len(after)
            elif chain is not None and isinstance(node, LayerNode):
                x, owned = self.fused(node, chain, x, owned)
                last = chain[-1]
                index += 1 + len(chain)
            else:
                box.append(x)
                del x  # a group takes it out of the box (see above)
                x, owned = self.node(node, box, owned)
                last = node
                index += 1
            if kept is not None and kept.keep(last.path, x):
                owned = False  # the readers to come need it as it is
        return x, owned

    def fused(
        self,
        node: LayerNode,
        chain: tuple[LayerNode, ...],
        x: Array,
        owned: bool,
        before: tuple[LayerNode, ...] = (),
    ) -> tuple[Array, bool]:
        """``node`` with the stages of ``before`` applied to each band of its input and those
        of ``chain`` to each band of its output; its wall time is divided among them in
        proportion to the thread time each part took, and every layer's shape is checked (the
        layers before on the input, which they do not reshape)."""
        step = self.steps[node.path]
        assert step.fused is not None
        epilogue = Epilogue(
            [self._stage(after) for after in chain],
            node.output_shape[0],
            [self._stage(earlier) for earlier in before],
        )
        kernels.take_macs()
        start = time.perf_counter()
        y, owned = step.fused(x, owned, epilogue)
        seconds = time.perf_counter() - start
        macs = kernels.take_macs()
        shares = iter(epilogue.shares())
        for earlier in before:
            share = seconds * next(shares)
            self.check(earlier, earlier.output_shape, x, share, 0, self._params(earlier))
        self.check(node, node.output_shape, y, seconds * next(shares), macs, step.params)
        for after in chain:
            share = seconds * next(shares)
            self.check(after, after.output_shape, y, share, 0, self._params(after))
        return y, owned

    def _stage(self, node: LayerNode) -> Stage:
        factory = self.steps[node.path].stage
        assert factory is not None
        return factory()

    def _params(self, node: LayerNode) -> int:
        return self.steps[node.path].params

    def node(self, node: Node, box: list[Array], owned: bool) -> tuple[Array, bool]:
        """Run ``node`` on the array in ``box`` (a group passes the box on: see
        :meth:`sequence`)."""
        match node:
            case LayerNode():
                x = box.pop()
                step = self.steps[node.path]
                kernels.take_macs()
                start = time.perf_counter()
                y, owned = step.forward(x, owned)
                seconds = time.perf_counter() - start
                self.check(node, node.output_shape, y, seconds, kernels.take_macs(), step.params)
                return y, owned
            case GroupNode():
                return self.sequence(node.children, box, owned)
            case MergeNode():
                x = box.pop()
                # branches read the block input: none of them may overwrite it
                outputs = [
                    self.sequence(branch.nodes, [branch_input(self.kept, branch, x)], False)
                    for branch in node.branches
                ]
                start = time.perf_counter()
                y, owned = merge(node.merge, outputs)
                self.check(node, node.output_shape, y, time.perf_counter() - start, 0, 0)
                return y, owned
            case _:
                assert_never(node)

    def check(
        self,
        node: LayerNode | MergeNode,
        predicted: tuple[int, ...],
        y: Array,
        seconds: float,
        macs: int,
        params: int,
    ) -> None:
        actual = kernels.sample_shape(y)
        if actual != predicted:
            raise ExecutionError(
                f"the real output shape {list(actual)} differs from the predicted {list(predicted)}",
                location=node.location,
                layer=node.path,
            )
        self.runs.append(
            LayerRun(path=node.path, shape=actual, seconds=seconds, macs=macs, params=params)
        )
        if self.progress is not None:
            self.progress(node.path, len(self.runs), self.total)


def count_merges(nodes: tuple[Node, ...]) -> int:
    count = 0
    for node in nodes:
        match node:
            case LayerNode():
                pass
            case GroupNode():
                count += count_merges(node.children)
            case MergeNode():
                count += 1 + sum(count_merges(branch.nodes) for branch in node.branches)
            case _:
                assert_never(node)
    return count


def merge(merge: MergeKind, outputs: list[tuple[Array, bool]]) -> tuple[Array, bool]:
    """The merged array, and whether the caller owns it."""
    arrays = [array for array, _ in outputs]
    match merge:
        case MergeKind.CONCAT:
            return concatenate(arrays), True
        case MergeKind.ADD | MergeKind.MULTIPLY:
            if len(arrays) == 1:
                return outputs[0]
            shape = np.broadcast_shapes(*(array.shape for array in arrays))
            combine = np.add if merge is MergeKind.ADD else np.multiply
            # accumulate into a branch output the branch owns and that has the full shape
            owner = next(
                (i for i, (array, owned) in enumerate(outputs) if owned and array.shape == shape),
                None,
            )
            if owner is None:
                result, owned = arrays[0], False
                rest = arrays[1:]
            else:
                result, owned = arrays[owner], True
                rest = arrays[:owner] + arrays[owner + 1 :]
            for other in rest:
                if owned and np.broadcast_shapes(result.shape, other.shape) == result.shape:
                    combine_into(combine, result, other)
                else:
                    # a new array: the first product of borrowed inputs, or a broadcast that
                    # grows (a [C,1,W] and a [C,H,1] make a [C,H,W])
                    result, owned = combine(result, other), True
            return result, True
        case _:
            assert_never(merge)
