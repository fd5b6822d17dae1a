"""Shape arithmetic the TorchScript exporter leaves in a graph, evaluated on small integers.

``x.chunk(2, dim=1)`` exports as Slice nodes whose starts are computed from the input's shape:
Shape → Gather → Add → Div → Mul. Those values are known before the model runs; this module
computes them (a few elements each) so that a Slice can be read as a channel split.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from convcost.importer.ops_graph import MAX_CONSTANT_ELEMENTS, Source, attributes

Value = tuple[float, ...]


def _broadcast(op: Callable[[float, float], float], a: Value, b: Value) -> Value | None:
    if len(a) == len(b):
        return tuple(op(x, y) for x, y in zip(a, b, strict=True))
    if len(a) == 1:
        return tuple(op(a[0], y) for y in b)
    if len(b) == 1:
        return tuple(op(x, b[0]) for x in a)
    return None


def _divide(x: float, y: float) -> float:
    if y == 0:
        raise ZeroDivisionError
    if x == int(x) and y == int(y):
        return float(math.trunc(x / y)) if abs(x) < 2**53 else float(int(x) // int(y))
    return x / y


_ARITHMETIC: dict[str, Callable[[float, float], float]] = {
    "Add": lambda x, y: x + y,
    "Sub": lambda x, y: x - y,
    "Mul": lambda x, y: x * y,
    "Div": _divide,
}


def _value(source: Source, node: Any, tensor: str) -> Value | None:
    if tensor in source.values:
        return source.values[tensor]
    if source.is_constant(tensor):
        return source.numbers(node, tensor)
    return None


def fold(source: Source) -> set[str]:
    """The static tensors (constants, and what is computed from them and from shapes alone),
    with the values of those that are computable recorded in ``source.values``."""
    static = set(source.initializers) | set(source.constants)
    for node in source.nodes:
        data = [str(t) for t in node.input if t]
        if node.op_type in ("Constant", "Shape") or all(t in static for t in data):
            static.update(str(t) for t in node.output)
            evaluate(source, node)
    return static


def evaluate(source: Source, node: Any) -> None:
    """Record the value of a static node's output in ``source.values`` when it is computable."""
    attrs = attributes(node)
    inputs = [_value(source, node, str(name)) if name else None for name in node.input]
    result: Value | None = None
    op = str(node.op_type)
    if op == "Shape" and node.input[0] in source.shapes:
        shape = source.shapes[str(node.input[0])]
        start, end = int(attrs.get("start", 0)), int(attrs.get("end", len(shape)))  # type: ignore[call-overload]
        result = tuple(float(d) for d in shape[start:end])
    elif None in inputs[:1] or not inputs:
        return
    elif op in ("Identity", "Cast", "Squeeze", "Unsqueeze", "Reshape", "Floor", "Ceil"):
        result = inputs[0]
    elif op == "Gather" and len(inputs) == 2 and inputs[1] is not None:
        data, indices = inputs[0] or (), inputs[1]
        if int(attrs.get("axis", 0)) == 0 and all(-len(data) <= i < len(data) for i in indices):  # type: ignore[call-overload]
            result = tuple(data[int(i)] for i in indices)
    elif op == "Concat" and None not in inputs:
        result = tuple(v for value in inputs for v in value or ())
    elif op in _ARITHMETIC and len(inputs) == 2 and inputs[1] is not None:
        try:
            result = _broadcast(_ARITHMETIC[op], inputs[0] or (), inputs[1])
        except ZeroDivisionError:
            result = None
    if result is not None and len(result) <= MAX_CONSTANT_ELEMENTS and node.output:
        source.values[str(node.output[0])] = result
