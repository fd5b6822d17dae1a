"""The part of an ONNX ``ModelProto`` the importer reads, decoded from the file's bytes.

The classes mirror onnx.proto's messages and keep their field names (``node.op_type``,
``tensor.dims``), so code reads as it would on the ``onnx`` package's objects; they hold only
the fields convcost uses. A weight's bytes are never decoded nor copied: a tensor's values
are read only when its ``dims`` say it has at most `convcost.importer.onnx_decode.SMALL`
elements (a Reshape's target, a
Clip bound, Pad's pads); of a larger one, only its name, dims, type and where its data lives.
Subgraphs (If, Loop, Scan bodies) and model-local functions are skipped: convcost has no
layer for those nodes. Field numbers are onnx.proto's (onnx 1.x, IR version ≤ 11).

They are NamedTuples: typed and immutable as frozen dataclasses are, at a quarter of their
cost to define (this module is imported by every command on a ``.onnx`` file).
"""

from __future__ import annotations

from typing import NamedTuple

Dim = int | str
"""A value's dimension: its ``dim_value``, or its ``dim_param`` (``""`` when neither is set)."""


class StringEntry(NamedTuple):
    """A StringStringEntryProto: node metadata, a tensor's external-data location."""

    key: str
    value: str


class TensorProto(NamedTuple):
    """An initializer or a constant: its values only when it is small (a few thousand
    elements, `convcost.importer.onnx_decode.SMALL`)."""

    name: str = ""
    dims: tuple[int, ...] = ()
    data_type: int = 0
    data_location: int = 0
    """0 DEFAULT (in the file), 1 EXTERNAL (``external_data`` names the file and offset)."""
    external_data: tuple[StringEntry, ...] = ()
    raw_data: bytes = b""
    float_data: tuple[float, ...] = ()
    int32_data: tuple[int, ...] = ()
    int64_data: tuple[int, ...] = ()
    double_data: tuple[float, ...] = ()


class AttributeProto(NamedTuple):
    """A node attribute; ``type`` is AttributeProto.AttributeType (1 FLOAT … 8 STRINGS)."""

    name: str = ""
    type: int = 0
    f: float = 0.0
    i: int = 0
    s: bytes = b""
    t: TensorProto | None = None
    floats: tuple[float, ...] = ()
    ints: tuple[int, ...] = ()
    strings: tuple[bytes, ...] = ()


class NodeProto(NamedTuple):
    name: str = ""
    op_type: str = ""
    domain: str = ""
    input: tuple[str, ...] = ()
    output: tuple[str, ...] = ()
    attribute: tuple[AttributeProto, ...] = ()
    metadata_props: tuple[StringEntry, ...] = ()


class ValueInfoProto(NamedTuple):
    """A graph input, output or value_info: a tensor's name, element type and shape."""

    name: str = ""
    tensor: bool = False
    """Whether its type is a tensor type (not a sequence, map, …)."""
    elem_type: int = 0
    shape: tuple[Dim, ...] | None = None
    """None when the type has no shape (its rank is unknown)."""


class GraphProto(NamedTuple):
    name: str = ""
    node: tuple[NodeProto, ...] = ()
    initializer: tuple[TensorProto, ...] = ()
    input: tuple[ValueInfoProto, ...] = ()
    output: tuple[ValueInfoProto, ...] = ()
    """(``value_info``, the shapes an exporter recorded, is not read: convcost infers them.)"""


class OperatorSetId(NamedTuple):
    domain: str = ""
    version: int = 0


class ModelProto(NamedTuple):
    ir_version: int = 0
    opset_import: tuple[OperatorSetId, ...] = ()
    graph: GraphProto | None = None
    functions: int = 0
    """How many model-local functions it defines (their bodies are not read)."""
