"""The built network: a tree of typed nodes with every shape resolved."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from convcost.errors import Location
from convcost.layers import Layer, Shape


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Branch:
    name: str
    path: str
    nodes: tuple[Node, ...]
    """Empty for the identity branch."""
    output_shape: Shape


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeNode:
    path: str
    merge: MergeKind
    branches: tuple[Branch, ...]
    input_shape: Shape
    output_shape: Shape
    location: Location


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


Node = LayerNode | MergeNode | GroupNode


@dataclass(frozen=True, slots=True, kw_only=True)
class Network:
    name: str
    input_shape: Shape
    nodes: tuple[Node, ...]

    @property
    def output_shape(self) -> Shape:
        return self.nodes[-1].output_shape if self.nodes else self.input_shape
