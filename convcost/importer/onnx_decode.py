"""The messages inside an ONNX graph, decoded from protobuf bytes: nodes, their attributes,
tensors (`convcost.importer.onnx_file` decodes the graph and model around them).

Every decoder takes the buffer and the span of its message and copies out only the fields
convcost uses; `WireError` says where the bytes are not a well-formed message.
"""

from __future__ import annotations

import math

from convcost.importer.onnx_proto import AttributeProto, NodeProto, StringEntry, TensorProto
from convcost.importer.ops_graph import MAX_CONSTANT_ELEMENTS
from convcost.importer.wire import (
    FIXED32,
    FIXED64,
    LENGTH,
    VARINT,
    Buffer,
    WireError,
    fields,
    fixed,
    packed_fixed,
    packed_varints,
    signed,
    text,
)

SMALL = MAX_CONSTANT_ELEMENTS
"""A tensor of at most this many elements has its values decoded (the importer's constants)."""

_MAX_SMALL_BYTES = 16 * SMALL
"""The most bytes a small tensor's data takes (16 B per element: complex128, or a varint):
a longer data field, in a file whose dims lie, is never copied out of it."""


def wrong(number: int, wire: int, at: int, message: str) -> WireError:
    return WireError(f"at byte {at}, field {number} of {message} has wire type {wire}")


def length(number: int, wire: int, at: int, message: str) -> None:
    if wire != LENGTH:
        raise wrong(number, wire, at, message)


def string(buf: Buffer, number: int, wire: int, at: int, stop: int, message: str) -> str:
    if wire != LENGTH:
        raise wrong(number, wire, at, message)
    return text(buf, at, stop)


def integer(number: int, wire: int, at: int, message: str) -> int:
    if wire != VARINT:
        raise wrong(number, wire, at, message)
    return signed(at)


def _ints(buf: Buffer, number: int, wire: int, at: int, stop: int, into: list[int]) -> None:
    """A repeated int field: one varint, or a packed run of them."""
    if wire == VARINT:
        into.append(signed(at))
    elif wire == LENGTH:
        into.extend(packed_varints(buf, at, stop))
    else:
        raise WireError(f"at byte {at}, repeated int field {number} has wire type {wire}")


def _floats(
    buf: Buffer, number: int, wire: int, at: int, stop: int, code: str, into: list[float]
) -> None:
    """A repeated float (``code`` ``f``) or double (``d``) field: one value, or a packed run."""
    if wire == LENGTH:
        into.extend(packed_fixed(buf, at, stop, code))
    elif wire == (FIXED32 if code == "f" else FIXED64):
        into.append(fixed(buf, at, code))
    else:
        raise WireError(f"at byte {at}, repeated float field {number} has wire type {wire}")


def entry(buf: Buffer, start: int, end: int) -> StringEntry:
    key = value = ""
    for number, wire, at, stop in fields(buf, start, end):
        if number == 1:
            key = string(buf, number, wire, at, stop, "a string entry")
        elif number == 2:
            value = string(buf, number, wire, at, stop, "a string entry")
    return StringEntry(key, value)


def tensor(buf: Buffer, start: int, end: int) -> TensorProto:
    """A TensorProto; its data is decoded only when it is small (`SMALL` elements)."""
    name, data_type, location = "", 0, 0
    dims: list[int] = []
    external: list[StringEntry] = []
    spans: list[tuple[int, int, int, int]] = []
    for number, wire, at, stop in fields(buf, start, end):
        if number == 1:
            _ints(buf, number, wire, at, stop, dims)
        elif number == 2:
            data_type = integer(number, wire, at, "a tensor")
        elif number == 14:
            location = integer(number, wire, at, "a tensor")
        elif number == 8:
            name = string(buf, number, wire, at, stop, "a tensor")
        elif number == 13:
            length(number, wire, at, "a tensor")
            external.append(entry(buf, at, stop))
        elif number in (4, 5, 7, 9, 10):  # float, int32, int64, raw, double data: later
            spans.append((number, wire, at, stop))
    raw, floats, doubles = b"", list[float](), list[float]()
    int32s, int64s = list[int](), list[int]()
    if all(d >= 0 for d in dims) and math.prod(dims) <= SMALL:
        for number, wire, at, stop in spans:
            if stop - at > _MAX_SMALL_BYTES:  # more bytes than its dims allow: not read
                continue
            if number == 9:
                length(number, wire, at, "a tensor")
                raw = bytes(buf[at:stop])
            elif number == 5:
                _ints(buf, number, wire, at, stop, int32s)
            elif number == 7:
                _ints(buf, number, wire, at, stop, int64s)
            else:
                _floats(
                    buf,
                    number,
                    wire,
                    at,
                    stop,
                    "f" if number == 4 else "d",
                    floats if number == 4 else doubles,
                )
    return TensorProto(
        name=name,
        dims=tuple(dims),
        data_type=data_type,
        data_location=location,
        external_data=tuple(external),
        raw_data=raw,
        float_data=tuple(floats),
        int32_data=tuple((v & 0xFFFF_FFFF) - ((v & 0x8000_0000) << 1) for v in int32s),
        int64_data=tuple(int64s),
        double_data=tuple(doubles),
    )


def attribute(buf: Buffer, start: int, end: int) -> AttributeProto:
    """An AttributeProto (a subgraph, sparse tensor or type value is skipped)."""
    name, kind, f, i, s, t = "", 0, 0.0, 0, b"", None
    floats: list[float] = []
    ints: list[int] = []
    strings: list[bytes] = []
    for number, wire, at, stop in fields(buf, start, end):
        if number == 1:
            name = string(buf, number, wire, at, stop, "an attribute")
        elif number == 20:
            kind = integer(number, wire, at, "an attribute")
        elif number == 2:
            if wire != FIXED32:
                raise wrong(number, wire, at, "an attribute")
            f = fixed(buf, at, "f")
        elif number == 3:
            i = integer(number, wire, at, "an attribute")
        elif number == 4:
            length(number, wire, at, "an attribute")
            s = bytes(buf[at:stop])
        elif number == 5:
            length(number, wire, at, "an attribute")
            t = tensor(buf, at, stop)
        elif number == 7:
            _floats(buf, number, wire, at, stop, "f", floats)
        elif number == 8:
            _ints(buf, number, wire, at, stop, ints)
        elif number == 9:
            length(number, wire, at, "an attribute")
            strings.append(bytes(buf[at:stop]))
    return AttributeProto(
        name=name,
        type=kind,
        f=f,
        i=i,
        s=s,
        t=t,
        floats=tuple(floats),
        ints=tuple(ints),
        strings=tuple(strings),
    )


def node(buf: Buffer, start: int, end: int) -> NodeProto:
    name = op_type = domain = ""
    inputs: list[str] = []
    outputs: list[str] = []
    attributes: list[AttributeProto] = []
    metadata: list[StringEntry] = []
    for number, wire, at, stop in fields(buf, start, end):
        if number == 1:
            inputs.append(string(buf, number, wire, at, stop, "a node"))
        elif number == 2:
            outputs.append(string(buf, number, wire, at, stop, "a node"))
        elif number == 3:
            name = string(buf, number, wire, at, stop, "a node")
        elif number == 4:
            op_type = string(buf, number, wire, at, stop, "a node")
        elif number == 7:
            domain = string(buf, number, wire, at, stop, "a node")
        elif number == 5:
            length(number, wire, at, "a node")
            attributes.append(attribute(buf, at, stop))
        elif number == 9:
            length(number, wire, at, "a node")
            metadata.append(entry(buf, at, stop))
    return NodeProto(
        name=name,
        op_type=op_type,
        domain=domain,
        input=tuple(inputs),
        output=tuple(outputs),
        attribute=tuple(attributes),
        metadata_props=tuple(metadata),
    )
