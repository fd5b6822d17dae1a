"""The built network: a tree of typed nodes with every shape resolved."""

from __future__ import annotations

import enum

from convcost.errors import Location, ShapeError
from convcost.layers import Layer, Shape
from convcost.valueclasses import dataclass


class MergeKind(enum.Enum):
    CONCAT = "concat"
    ADD = "add"
    MULTIPLY = "multiply"


class GroupKind(enum.Enum):
    BLOCK = "block"
    """A use of a reusable block from ``blocks:``."""
    REPEAT = "repeat"
    """An entry with ``repeat:``; its children are named 0, 1, …"""
    SEPARABLE = "separable"
    """A ``separable`` conv: its depthwise and pointwise rows."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerNode:
    path: str
    layer: Layer
    input_shape: Shape
    output_shape: Shape
    location: Location
    source: str | None = None
    """The named tensor the layer reads (``from:``), by its key (:mod:`convcost.tensors`);
    ``None``: the output of the node before it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Branch:
    name: str
    path: str
    nodes: tuple[Node, ...]
    """Empty for the identity branch."""
    output_shape: Shape
    source: str | None = None
    """The named tensor the branch is (a merge input written as a name), by its key; ``None``:
    the branch reads the merge block's input."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeNode:
    path: str
    merge: MergeKind
    branches: tuple[Branch, ...]
    input_shape: Shape
    output_shape: Shape
    location: Location
    source: str | None = None
    """As :attr:`LayerNode.source`: the named tensor every branch that is not a name reads."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupNode:
    path: str
    group: GroupKind
    label: str
    """The block's name, ``repeat`` or ``separable``."""
    children: tuple[Node, ...]
    input_shape: Shape
    output_shape: Shape
    location: Location
    source: str | None = None
    """As :attr:`LayerNode.source`: the named tensor the group's first child reads."""


Node = LayerNode | MergeNode | GroupNode


@dataclass(frozen=True, slots=True, kw_only=True)
class Network:
    name: str
    input_shape: Shape
    nodes: tuple[Node, ...]
    reads: tuple[str, ...] = ()
    """The keys of the named tensors nodes read by name (``from:``, merge inputs), one per
    read, in build order; empty when every node reads the one before it (no DAG)."""

    @property
    def output_shape(self) -> Shape:
        return self.nodes[-1].output_shape if self.nodes else self.input_shape


def merged_shape(merge: MergeKind, branches: list[Branch], path: str, location: Location) -> Shape:
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
