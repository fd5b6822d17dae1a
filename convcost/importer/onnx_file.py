"""An ONNX file read without the ``onnx`` package: the file is mapped into memory (``mmap``)
and only the bytes of the fields convcost uses are copied out, so an embedded weight is
skipped by its length, never read (`convcost.importer.onnx_decode` decodes the messages inside
a graph; `convcost.importer.wire` the protobuf format).

Nesting is bounded by the schema (model, graph, node, attribute, tensor, entry): submessages
convcost does not use (subgraphs, functions, training info) are skipped whole, by length.
"""

from __future__ import annotations

import mmap
from pathlib import Path

from convcost.importer.onnx_decode import (
    entry,
    integer,
    length,
    node,
    string,
    tensor,
)
from convcost.importer.onnx_proto import (
    Dim,
    GraphProto,
    ModelProto,
    NodeProto,
    OperatorSetId,
    TensorProto,
    ValueInfoProto,
)
from convcost.importer.wire import Buffer, fields

__all__ = ["entry", "load", "model"]


def load(path: Path) -> ModelProto:
    """The model in the file at ``path`` (raises `WireError`, `OSError`)."""
    with path.open("rb") as stream:
        size = stream.seek(0, 2)
        if size == 0:
            return ModelProto()
        with mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return model(buf, 0, size)


def model(buf: Buffer, start: int, end: int) -> ModelProto:
    ir_version = functions = 0
    opsets: list[OperatorSetId] = []
    graph_proto = None
    for number, wire, at, stop in fields(buf, start, end):
        if number == 1:
            ir_version = integer(number, wire, at, "the model")
        elif number == 8:
            length(number, wire, at, "the model")
            opsets.append(_opset(buf, at, stop))
        elif number == 7:
            length(number, wire, at, "the model")
            graph_proto = graph(buf, at, stop)
        elif number == 25:
            length(number, wire, at, "the model")
            functions += 1
    return ModelProto(
        ir_version=ir_version,
        opset_import=tuple(opsets),
        graph=graph_proto,
        functions=functions,
    )


def _opset(buf: Buffer, start: int, end: int) -> OperatorSetId:
    domain, version = "", 0
    for number, wire, at, stop in fields(buf, start, end):
        if number == 1:
            domain = string(buf, number, wire, at, stop, "an opset import")
        elif number == 2:
            version = integer(number, wire, at, "an opset import")
    return OperatorSetId(domain, version)


def graph(buf: Buffer, start: int, end: int) -> GraphProto:
    name = ""
    nodes: list[NodeProto] = []
    initializers: list[TensorProto] = []
    values: dict[int, list[ValueInfoProto]] = {11: [], 12: []}  # not 13, value_info: unused
    for number, wire, at, stop in fields(buf, start, end):
        if number == 2:
            name = string(buf, number, wire, at, stop, "the graph")
        elif number == 1:
            length(number, wire, at, "the graph")
            nodes.append(node(buf, at, stop))
        elif number == 5:
            length(number, wire, at, "the graph")
            initializers.append(tensor(buf, at, stop))
        elif number in values:
            length(number, wire, at, "the graph")
            values[number].append(value_info(buf, at, stop))
    return GraphProto(
        name=name,
        node=tuple(nodes),
        initializer=tuple(initializers),
        input=tuple(values[11]),
        output=tuple(values[12]),
    )


def value_info(buf: Buffer, start: int, end: int) -> ValueInfoProto:
    """A ValueInfoProto: its name and, for a tensor type, element type and shape."""
    name, is_tensor, elem_type = "", False, 0
    shape: tuple[Dim, ...] | None = None
    for number, wire, at, stop in fields(buf, start, end):
        if number == 1:
            name = string(buf, number, wire, at, stop, "a value")
        elif number == 2:  # TypeProto
            length(number, wire, at, "a value")
            for kind, kind_wire, kind_at, kind_stop in fields(buf, at, stop):
                if kind == 1:  # tensor_type
                    length(kind, kind_wire, kind_at, "a type")
                    is_tensor = True
                    elem_type, shape = _tensor_type(buf, kind_at, kind_stop, shape)
    return ValueInfoProto(name=name, tensor=is_tensor, elem_type=elem_type, shape=shape)


def _tensor_type(
    buf: Buffer, start: int, end: int, shape: tuple[Dim, ...] | None
) -> tuple[int, tuple[Dim, ...] | None]:
    elem_type = 0
    for number, wire, at, stop in fields(buf, start, end):
        if number == 1:
            elem_type = integer(number, wire, at, "a tensor type")
        elif number == 2:
            length(number, wire, at, "a tensor type")
            dims: list[Dim] = []
            for field, dim_wire, dim_at, dim_stop in fields(buf, at, stop):
                if field == 1:
                    length(field, dim_wire, dim_at, "a shape")
                    dims.append(_dim(buf, dim_at, dim_stop))
            shape = (*(shape or ()), *dims)
    return elem_type, shape


def _dim(buf: Buffer, start: int, end: int) -> Dim:
    """A dimension: its ``dim_value``, else its ``dim_param`` (``""`` when neither is set)."""
    dim: Dim = ""
    for number, wire, at, stop in fields(buf, start, end):
        if number == 1:
            dim = integer(number, wire, at, "a dimension")
        elif number == 2:
            dim = string(buf, number, wire, at, stop, "a dimension")
    return dim
