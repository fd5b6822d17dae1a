"""The graph an imported model becomes before it is a spec: convcost layers joined by tensors.

This is the contract between the two halves of `convcost import`:

- the reader (`convcost.importer.onnx_reader`) turns an ONNX graph into a `Graph`: each node is
  one convcost layer (a mapping as a spec would hold it, such as ``{"conv": {"out": 64,
  "kernel": 3}}``) or one merge (``concat``, ``add``, ``multiply``), fused from one or more ONNX
  nodes, in topological order;
- the structurer (`convcost.importer.structure`) turns that DAG into a spec's nesting of
  sequences and merge blocks with named branches, finds repeated blocks, and writes the YAML.

Every node has exactly one output tensor, named by the node; the graph's input is `INPUT`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from convcost.valueclasses import dataclass, field

INPUT = ""
"""The name a node lists in `inputs` for the graph's input tensor."""

Merge = Literal["concat", "add", "multiply"]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a node came from in the source model, for error messages and comments."""

    name: str
    """The first fused source node's name (an ONNX node name), as the file spells it."""
    op_type: str
    """Its operator, e.g. ``Conv``; fused patterns name the pattern, e.g. ``Mul·Sigmoid``."""


@dataclass(frozen=True, slots=True)
class Node:
    """One convcost layer or merge, with the tensors it reads."""

    name: str
    """A unique, sanitised convcost layer name (``[A-Za-z0-9_.-]``, at most 128 characters)."""
    origin: Origin
    inputs: tuple[str, ...]
    """Producing nodes' names (or `INPUT`), in the order the operator reads them."""
    layer: Mapping[str, object] | None = None
    """The layer entry's kind and fields, e.g. ``{"relu": {}}``; None for a merge."""
    merge: Merge | None = None
    """Set for a merge node (with two or more inputs); then `layer` is None."""


@dataclass(frozen=True, slots=True)
class Graph:
    """A model as convcost layers: nodes in topological order, one input, one output."""

    name: str
    input_shape: tuple[int, ...]
    """The input's shape without the batch axis, e.g. ``(3, 224, 224)``."""
    nodes: tuple[Node, ...]
    output: str
    """The node whose tensor is the model's output."""
    notes: tuple[str, ...] = field(default_factory=tuple)
    """Facts every report on the model should carry, e.g. that batchnorm was folded."""
