"""What a fused pattern is (`Fusion`) and the small graph walks every pattern uses
(`convcost.importer.fusions`, `convcost.importer.fusions_layout`)."""

from __future__ import annotations

import math

from convcost.importer.onnx_proto import NodeProto
from convcost.importer.ops_graph import Source, attributes
from convcost.importer.ops_result import Out
from convcost.valueclasses import dataclass


@dataclass(frozen=True, slots=True)
class Fusion:
    """Several ONNX nodes that become the layers of `out`."""

    members: tuple[int, ...]
    """The fused nodes' indices, in graph order; the layers are emitted at the first."""
    out: Out
    label: str
    """The pattern, as a node's origin names it: e.g. ``Mul·Sigmoid``."""
    named: int | None = None
    """The member the layer is named after; None for the first."""


def constant_near(source: Source, node: NodeProto, tensor: str, value: float) -> bool:
    if not source.is_constant(tensor):
        return False
    numbers = source.numbers(node, tensor)
    return len(numbers) == 1 and math.isclose(numbers[0], value, rel_tol=1e-6)


def other_input(node: NodeProto, tensor: str) -> str | None:
    """A binary node's input other than `tensor`, if `tensor` is one of its two inputs."""
    inputs = [str(name) for name in node.input]
    if len(inputs) != 2 or tensor not in inputs:
        return None
    inputs.remove(tensor)
    return inputs[0]


def only_reader(source: Source, tensor: str, op_type: str) -> NodeProto | None:
    """The single reader of `tensor`, if it is an `op_type` node (else None)."""
    user = source.only_user(tensor)
    return user if user is not None and user.op_type == op_type else None


def index_of(source: Source, node: NodeProto) -> int:
    return source.producers[str(node.output[0])]


def perm(node: NodeProto) -> list[int]:
    """A Transpose's permutation ([] when it has none: the reversal)."""
    perm = attributes(node).get("perm", [])
    return [int(axis) for axis in perm] if isinstance(perm, list) else []
