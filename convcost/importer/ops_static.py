"""Shape arithmetic the TorchScript exporter leaves in a graph, evaluated on small integers.

``x.chunk(2, dim=1)`` exports as Slice nodes whose starts are computed from the input's shape:
Shape → Gather → Add → Div → Mul. Those values are known before the model runs; this module
computes them (a few elements each) so that a Slice can be read as a channel split.
"""

from __future__ import annotations

import itertools
import math
import struct
from collections.abc import Callable

from convcost.errors import ModelError
from convcost.importer.onnx_proto import NodeProto
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


def _flat_index(shape: tuple[int, ...], index: tuple[int, ...]) -> int:
    flat = 0
    for size, i in zip(shape, index, strict=True):
        flat = flat * size + i
    return flat


def axis_indices(size: int, start: int, end: int, step: int) -> range:
    """The indices ONNX's Slice takes on one axis (negative and out-of-range bounds clamped)."""
    start, end = start + size if start < 0 else start, end + size if end < 0 else end
    if step > 0:
        return range(max(0, min(start, size)), max(0, min(end, size)), step)
    return range(max(-1, min(start, size - 1)), max(-1, min(end, size - 1)), step)


def _slice(
    source: Source, node: NodeProto, data: Value, bounds: list[Value | None]
) -> Value | None:
    shape = source.shapes.get(str(node.input[0]), (len(data),))
    if math.prod(shape) != len(data) or None in bounds[:2]:
        return None
    starts, ends = bounds[0] or (), bounds[1] or ()
    axes = bounds[2] if len(bounds) > 2 and bounds[2] is not None else range(len(starts))
    steps = bounds[3] if len(bounds) > 3 and bounds[3] is not None else (1,) * len(starts)
    picks = [range(size) for size in shape]
    for raw_axis, start, end, step in zip(axes, starts, ends, steps, strict=True):
        if step == 0:
            return None
        axis = int(raw_axis) % len(shape)
        picks[axis] = axis_indices(shape[axis], int(start), int(end), int(step))
    if math.prod(len(p) for p in picks) > MAX_CONSTANT_ELEMENTS:
        return None
    return tuple(data[_flat_index(shape, index)] for index in itertools.product(*picks))


def _transpose(source: Source, node: NodeProto, data: Value, perm: list[int]) -> Value | None:
    shape = source.shapes.get(str(node.input[0]))
    if shape is None or math.prod(shape) != len(data) or sorted(perm) != list(range(len(shape))):
        return None
    out_shape = tuple(shape[p] for p in perm)
    values = []
    for index in itertools.product(*(range(size) for size in out_shape)):
        source_index = [0] * len(shape)
        for out_axis, axis in enumerate(perm):
            source_index[axis] = index[out_axis]
        values.append(data[_flat_index(shape, tuple(source_index))])
    return tuple(values)


def _fill(tensor: object) -> float | None:
    """ConstantOfShape's fill value (a one-element tensor attribute; 0 when absent)."""
    if tensor is None:
        return 0.0
    for field in ("float_data", "int64_data", "int32_data", "double_data"):
        values = list(getattr(tensor, field, ()))
        if values:
            return float(values[0])
    raw = bytes(getattr(tensor, "raw_data", b""))
    codes = {1: "<f", 6: "<i", 7: "<q", 11: "<d"}
    code = codes.get(int(getattr(tensor, "data_type", 0)))
    if code is None or len(raw) != struct.calcsize(code):
        return None
    return float(struct.unpack(code, raw)[0])


def known_value(source: Source, node: NodeProto, tensor: str) -> Value | None:
    if tensor in source.values:
        return source.values[tensor]
    proto = source.tensor_proto(tensor)
    if proto is None or math.prod(int(d) for d in proto.dims) > MAX_SHAPE_ELEMENTS:
        return None
    try:
        return source.numbers(node, tensor)
    except ModelError:  # unreadable here (external data absent): an error only where needed
        return None


MAX_SHAPE_ELEMENTS = 64
"""Constants this many elements or fewer take part in shape arithmetic (larger: weights)."""

SHAPE_ONLY = frozenset({"Constant", "Shape", "Size"})
"""Operators whose output is known before the model runs, whatever they read.
(CastLike reads its second input for the element type only.)"""


def fold(source: Source) -> set[str]:
    """The static tensors (constants, and what is computed from them and from shapes alone),
    with the values of those that are computable recorded in ``source.values``."""
    static = set(source.initializers) | set(source.constants)
    for node in source.nodes:
        op = str(node.op_type)
        data = [str(t) for t in node.input[: 1 if op == "CastLike" else None] if t]
        if op in SHAPE_ONLY or all(t in static for t in data):
            static.update(str(t) for t in node.output)
            evaluate(source, node)
    return static


def evaluate(source: Source, node: NodeProto) -> None:
    """Record the value of a static node's output in ``source.values`` when it is computable."""
    attrs = attributes(node)
    inputs = [known_value(source, node, str(name)) if name else None for name in node.input]
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
    elif op == "ConstantOfShape":
        filled = attrs.get("value")
        count = math.prod(int(v) for v in inputs[0] or ())
        if count <= MAX_CONSTANT_ELEMENTS:
            fill = _fill(filled)
            result = None if fill is None else (fill,) * count
    elif op == "Slice":
        result = _slice(source, node, inputs[0] or (), inputs[1:])
    elif op == "Transpose":
        default = list(reversed(range(len(source.shapes.get(str(node.input[0]), ())))))
        result = _transpose(source, node, inputs[0] or (), list(attrs.get("perm", default)))  # type: ignore[call-overload]
    elif op == "Concat" and None not in inputs:
        result = tuple(v for value in inputs for v in value or ())
    elif op in _ARITHMETIC and len(inputs) == 2 and inputs[1] is not None:
        try:
            result = _broadcast(_ARITHMETIC[op], inputs[0] or (), inputs[1])
        except ZeroDivisionError:
            result = None
    if result is not None and len(result) <= MAX_CONSTANT_ELEMENTS and node.output:
        source.values[str(node.output[0])] = result
