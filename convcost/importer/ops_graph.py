"""The ONNX graph as the reader sees it: nodes indexed by tensor, shapes, attributes, constants.

Weights are never read: a weight is known by its initializer's ``dims``. Only small constants
(a Clip bound, Pad's pads, Slice's starts, Split's sizes, ReduceMean's axes) are decoded, from
the initializer's fields or, for external data, by offset and length from the data file.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

from convcost.errors import ModelError
from convcost.importer.onnx_proto import NodeProto, TensorProto
from convcost.valueclasses import dataclass, field

MAX_CONSTANT_ELEMENTS = 4096
"""A constant the reader decodes has at most this many elements (small vectors only)."""

_FORMATS: Mapping[int, tuple[str, int, str]] = {
    # TensorProto.DataType: (struct code, bytes, the typed field holding the values)
    1: ("f", 4, "float_data"),  # FLOAT
    2: ("B", 1, "int32_data"),  # UINT8
    3: ("b", 1, "int32_data"),  # INT8
    5: ("h", 2, "int32_data"),  # INT16
    6: ("i", 4, "int32_data"),  # INT32
    7: ("q", 8, "int64_data"),  # INT64
    9: ("?", 1, "int32_data"),  # BOOL
    10: ("e", 2, "int32_data"),  # FLOAT16 (typed field holds the bits)
    11: ("d", 8, "double_data"),  # DOUBLE
}

_EXTERNAL = 1
"""TensorProto.DataLocation.EXTERNAL."""


def node_label(node: NodeProto) -> str:
    """How a message names a node: its name, or its first output when it has none."""
    outputs = getattr(node, "output", ())
    return str(node.name) or (str(outputs[0]) if outputs else "")


@dataclass(slots=True)
class Source:
    """An ONNX graph indexed for conversion; shapes include the batch axis."""

    file: str
    """The model file's name, as messages show it."""
    directory: Path
    """Where external data files are found."""
    nodes: Sequence[NodeProto]
    producers: dict[str, int]
    """Each tensor's producing node index."""
    consumers: dict[str, list[int]]
    """Each tensor's consuming node indices, in graph order."""
    shapes: dict[str, tuple[int, ...]]
    """Every tensor's shape that is known: inferred, initializers' dims, graph inputs."""
    initializers: dict[str, TensorProto]
    constants: dict[str, TensorProto]
    """Tensors a ``Constant`` node holds (its ``value`` attribute)."""
    outputs: frozenset[str]
    """The graph's output tensors."""
    values: dict[str, tuple[float, ...]] = field(default_factory=dict)
    """Small shape computations' values (`convcost.importer.ops_static`), flattened."""
    types: dict[str, int] = field(default_factory=dict)
    """Each tensor's element type (a TensorProto.DataType) where inference found it."""
    opset: int = 0
    """The version of the default (``ai.onnx``) operator set the model imports; 0 if none."""
    hint: str | None = ""
    """What an unknown shape's error adds: how to get ONNX's inference where convcost's has no
    rule for an operator and the ``onnx`` package is not installed (None: it was asked)."""

    def fail(self, node: NodeProto, message: str) -> ModelError:
        op_type = getattr(node, "op_type", "initializer")
        return ModelError(f'{self.file}: node "{node_label(node)}" ({op_type}): {message}')

    def shape(self, node: NodeProto, tensor: str) -> tuple[int, ...]:
        """A tensor's shape, which shape inference must have found."""
        shape = self.shapes.get(tensor)
        if shape is None:
            raise self.fail(node, f"the shape of tensor {tensor!r} is unknown{self.hint or ''}")
        return shape

    def users(self, tensor: str) -> list[NodeProto]:
        """The nodes reading a tensor (the graph's output counts as a reader with no node)."""
        return [self.nodes[i] for i in self.consumers.get(tensor, [])]

    def only_user(self, tensor: str) -> NodeProto | None:
        """The single node reading a tensor, if exactly one does and it is not a graph output."""
        users = self.consumers.get(tensor, [])
        if len(users) != 1 or tensor in self.outputs:
            return None
        return self.nodes[users[0]]

    def producer(self, tensor: str) -> NodeProto | None:
        index = self.producers.get(tensor)
        return None if index is None else self.nodes[index]

    def tensor_proto(self, tensor: str) -> TensorProto | None:
        """The TensorProto holding a constant, through ``Identity`` copies; None if computed."""
        seen = 0
        while seen < 64:
            if tensor in self.initializers:
                return self.initializers[tensor]
            if tensor in self.constants:
                return self.constants[tensor]
            node = self.producer(tensor)
            if node is None or node.op_type != "Identity":
                return None
            tensor = str(node.input[0])
            seen += 1
        return None

    def is_constant(self, tensor: str) -> bool:
        return self.tensor_proto(tensor) is not None

    def numbers(self, node: NodeProto, tensor: str) -> tuple[float, ...]:
        """A small constant's values (ints as floats are exact up to 2**53)."""
        if tensor in self.values:
            return self.values[tensor]
        proto = self.tensor_proto(tensor)
        if proto is None:
            raise self.fail(node, f"input {tensor!r} must be a constant (an initializer)")
        count = 1
        for dim in proto.dims:
            count *= int(dim)
        if count > MAX_CONSTANT_ELEMENTS:
            raise self.fail(node, f"the constant {tensor!r} has {count} elements, expected a few")
        fmt = _FORMATS.get(int(proto.data_type))
        if fmt is None:
            raise self.fail(node, f"the constant {tensor!r} has an unsupported data type")
        code, size, field = fmt
        if int(proto.data_location) == _EXTERNAL:
            raw = self._external(node, proto, count * size)
        elif proto.raw_data:
            raw = bytes(proto.raw_data)
        else:
            values = list(getattr(proto, field))
            if code == "e":
                raw = struct.pack(f"<{len(values)}H", *values)
            else:
                return tuple(float(v) for v in values)
        if len(raw) != count * size:
            raise self.fail(
                node, f"the constant {tensor!r} holds {len(raw)} bytes, not {count * size}"
            )
        return tuple(float(v) for v in struct.unpack(f"<{count}{code}", raw))

    def ints(self, node: NodeProto, tensor: str) -> tuple[int, ...]:
        values = self.numbers(node, tensor)
        if any(v != int(v) for v in values):
            raise self.fail(node, f"the constant {tensor!r} must hold integers")
        return tuple(int(v) for v in values)

    def _external(self, node: NodeProto, proto: TensorProto, length: int) -> bytes:
        info = {str(entry.key): str(entry.value) for entry in proto.external_data}
        location = info.get("location", "")
        offset = int(info.get("offset", "0") or 0)
        path = (self.directory / location).resolve()
        if not location or self.directory.resolve() not in (path, *path.parents):
            raise self.fail(
                node, f"external data location {location!r} is outside the model's folder"
            )
        try:
            with path.open("rb") as stream:
                stream.seek(offset)
                return stream.read(length)
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise self.fail(node, f"cannot read external data {location!r}: {reason}") from None


def attributes(node: NodeProto) -> dict[str, object]:
    """A node's attributes as Python values (strings decoded; a subgraph's value is None)."""
    values: dict[str, object] = {}
    for attribute in node.attribute:
        kind = attribute.type
        value: object
        if kind == 1:  # AttributeProto.FLOAT, INT, STRING, TENSOR, FLOATS, INTS, STRINGS
            value = attribute.f
        elif kind == 2:
            value = attribute.i
        elif kind == 3:
            value = attribute.s.decode("utf-8", "replace")
        elif kind == 4:
            value = attribute.t
        elif kind == 6:
            value = list(attribute.floats)
        elif kind == 7:
            value = list(attribute.ints)
        elif kind == 8:
            value = [s.decode("utf-8", "replace") for s in attribute.strings]
        else:
            value = None
        values[attribute.name] = value
    return values


def int_list(values: object, name: str) -> tuple[int, ...]:
    if not isinstance(values, list | tuple) or not all(isinstance(v, int) for v in values):
        raise ValueError(f"attribute {name} must be a list of integers")
    return tuple(int(v) for v in values)
